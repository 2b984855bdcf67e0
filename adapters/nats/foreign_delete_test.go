package nats_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/harborpoint/concord/hold"
	"github.com/harborpoint/concord/replica"
)

// TestForeignRemovalOfACopy: a KV delete marker or purge made outside
// concord (with the nats.go KV API) on a region's copy of another region's
// key changes nothing: the watchers ignore the markers (nothing applied or
// skipped), every region reads the record as it was, and the next writes
// converge everywhere.
func TestForeignRemovalOfACopy(t *testing.T) {
	c, lis, bal, _ := lisbonAndBaltimore(t)
	lisKV, balKV := c.nodes["lisbon"].kv, c.nodes["baltimore"].kv
	ctx := c.ctx()
	if _, err := lis.Create(ctx, "H-1", hold.New("H-1", "C1", "desk", at(14, 10, 0))); err != nil {
		t.Fatal(err)
	}
	want := converged(t, 10*time.Second, "H-1", lis, bal)[0]
	eventually(t, 10*time.Second, func() error { // baltimore's merged copy reached lisbon
		_, err := lisKV.Get(ctx, "baltimore.H-1")
		return err
	})
	steps := []struct {
		name   string
		remove func() error
		writer *regionOf
	}{
		{"purge of lisbon's copy of baltimore's key", func() error { return lisKV.Purge(ctx, "baltimore.H-1") }, bal},
		{"delete marker on baltimore's copy of lisbon's key", func() error { return balKV.Delete(ctx, "lisbon.H-1") }, lis},
	}
	for i, s := range steps {
		skipped := lis.region.WatchStats().Skipped + bal.region.WatchStats().Skipped
		if err := s.remove(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		for _, r := range []*regionOf{lis, bal} {
			got, err := r.Get(ctx, "H-1")
			if err != nil || got.Token != want.Token || !got.Value.Equal(want.Value) {
				t.Fatalf("%s: %s reads %v, %v; want %v", s.name, r.name, got.Value, err, want.Value)
			}
		}
		until := at(14, 20+i, 0)
		if _, err := s.writer.Update(ctx, "H-1", want.Token, func(h *hold.Hold, _ replica.Write) error { return h.Extend(until) }); err != nil {
			t.Fatalf("%s: %s: %v", s.name, s.writer.name, err)
		}
		want = converged(t, 10*time.Second, "H-1", lis, bal)[0]
		if !want.Value.ExpiresAt.Equal(until) {
			t.Fatalf("%s: converged on %v", s.name, want.Value)
		}
		if now := lis.region.WatchStats().Skipped + bal.region.WatchStats().Skipped; now != skipped {
			t.Fatalf("%s: the watchers skipped %d values", s.name, now-skipped)
		}
	}
}

// TestForeignRemovalOfOwnKey: a KV delete marker or purge made outside
// concord on a region's own key is the loss of that region's state of the
// record. The region must not take the record back from another region's
// copy: that copy holds writes of this replica ID that it no longer knows
// it issued, and its next write would issue one of them again for a
// different value. So, as documented, its reads and writes of the record
// fail with *replica.UnissuedDotError (wrapping replica.ErrMalformed) and
// write nothing; its watcher skips the other region's later versions of the
// key (logged, counted); the other region keeps every write and goes on
// serving and writing the record; and a replica of the region under a new
// incarnation (version.ID.Next) reads the record back and writes it again.
func TestForeignRemovalOfOwnKey(t *testing.T) {
	c, lis, bal, clock := lisbonAndBaltimore(t)
	lisNode := c.nodes["lisbon"]
	ctx := c.ctx()
	removals := map[string]func(key string) error{
		"H-2": func(key string) error { return lisNode.kv.Delete(ctx, key) },
		"H-3": func(key string) error { return lisNode.kv.Purge(ctx, key) },
	}
	for key, remove := range removals {
		if _, err := lis.Create(ctx, key, hold.New(key, "C1", "desk", at(14, 10, 0))); err != nil {
			t.Fatal(err)
		}
		want := converged(t, 10*time.Second, key, lis, bal)[0]
		eventually(t, 10*time.Second, func() error {
			_, err := lisNode.kv.Get(ctx, "baltimore."+key)
			return err
		})
		if err := remove("lisbon." + key); err != nil {
			t.Fatal(err)
		}
		var ue *replica.UnissuedDotError
		if _, err := lis.Get(ctx, key); !errors.As(err, &ue) || !errors.Is(err, replica.ErrMalformed) {
			t.Fatalf("%s: lisbon reads %v", key, err)
		}
		_, err := lis.Update(ctx, key, want.Token, func(h *hold.Hold, _ replica.Write) error { return h.Extend(at(14, 30, 0)) })
		if !errors.As(err, &ue) {
			t.Fatalf("%s: lisbon writes: %v", key, err)
		}
		if _, rev, err := lis.region.Store().Get(ctx, key); err != nil || rev != 0 {
			t.Fatalf("%s: lisbon's key was written: revision %d, %v", key, rev, err)
		}
		// Baltimore still has the record and writes it; lisbon's watcher
		// skips the new version it cannot take.
		skipped := lis.region.WatchStats().Skipped
		got, err := bal.Get(ctx, key)
		if err != nil || got.Token != want.Token {
			t.Fatalf("%s: baltimore reads %v, %v", key, got, err)
		}
		if _, err := bal.Update(ctx, key, got.Token, func(h *hold.Hold, _ replica.Write) error { return h.Extend(at(14, 40, 0)) }); err != nil {
			t.Fatal(err)
		}
		eventually(t, 10*time.Second, func() error {
			if lis.region.WatchStats().Skipped == skipped {
				return errors.New("lisbon's watcher has not seen baltimore's write")
			}
			return nil
		})
	}
	// Recovery: lisbon's replica under its next incarnation.
	next, err := lis.ID().Next()
	if err != nil {
		t.Fatal(err)
	}
	lis2 := c.region(lisNode, clock, next)
	for key := range removals {
		// Baltimore's last write reaches lisbon's node asynchronously: wait
		// for it rather than read once (under -race it once came late).
		var got replica.Record[hold.Hold]
		eventually(t, 10*time.Second, func() error {
			var err error
			got, err = lis2.Get(ctx, key)
			if err != nil || !got.Value.ExpiresAt.Equal(at(14, 40, 0)) {
				return fmt.Errorf("%s: lisbon's next incarnation reads %v, %v", key, got.Value, err)
			}
			return nil
		})
		until := at(14, 50, 0)
		if _, err := lis2.Update(ctx, key, got.Token, func(h *hold.Hold, _ replica.Write) error { return h.Extend(until) }); err != nil {
			t.Fatalf("%s: lisbon's next incarnation writes: %v", key, err)
		}
		if recs := converged(t, 10*time.Second, key, lis2, bal); !recs[0].Value.ExpiresAt.Equal(until) {
			t.Fatalf("%s: converged on %v", key, recs[0].Value)
		}
	}
}
