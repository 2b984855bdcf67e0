package replica_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/harborpoint/concord/hold"
	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

// sharedRegion is one region of a bucket shared the way adapters/nats shares
// one: every region writes its own store, and reads every other region's
// store as its peers' copies.
type sharedRegion struct {
	name  string
	store *replica.MemoryStore
	rep   *replica.Replica[hold.Hold]
	peers *storePeers
}

// storePeers is a Peers over other regions' stores.
type storePeers struct {
	names  []string
	stores []replica.Store
	calls  int
}

func (p *storePeers) Copies(ctx context.Context, key string) ([]replica.Copy, error) {
	p.calls++
	var out []replica.Copy
	for i, s := range p.stores {
		data, rev, err := s.Get(ctx, key)
		if err != nil {
			return nil, err
		}
		if rev != 0 {
			out = append(out, replica.Copy{From: p.names[i] + "." + key, Data: data})
		}
	}
	return out, nil
}

// sharedRegions makes regions that each see the others' stores as peers,
// counting their events in counters.
func sharedRegions(t require.TestingT, counters *resolve.Counters, names ...string) []*sharedRegion {
	res := hold.Resolver(resolve.Options{})
	out := make([]*sharedRegion, len(names))
	for i, n := range names {
		out[i] = &sharedRegion{name: n, store: replica.NewMemoryStore(), peers: &storePeers{}}
	}
	for i, r := range out {
		for j, o := range out {
			if i != j {
				r.peers.names = append(r.peers.names, o.name)
				r.peers.stores = append(r.peers.stores, o.store)
			}
		}
		opts := replica.Options[hold.Hold]{CommandKeys: hold.CommandKeys, Peers: r.peers}
		if counters != nil {
			opts.Observer = counters
		}
		rep, err := replica.New(version.MustID(r.name), r.store, res, opts)
		require.NoError(t, err)
		r.rep = rep
	}
	return out
}

// TestPeersMergeOnRead: a region reads, writes and deduplicates commands
// with the other regions' copies merged first; copies it covers cost no
// write and no event.
func TestPeersMergeOnRead(t *testing.T) {
	counters := &resolve.Counters{}
	rs := sharedRegions(t, counters, "lisbon", "baltimore")
	lis, bal := rs[0].rep, rs[1].rep
	h := hold.New("H-1", "C1", "web", time.Unix(1e9, 0))
	created, err := lis.Create(bg, "H-1", h)
	require.NoError(t, err)

	// Baltimore has never applied anything: its read merges Lisbon's copy
	// and stores the merge under its own key.
	got, err := bal.Get(bg, "H-1")
	require.NoError(t, err)
	require.Equal(t, created.Token, got.Token)
	_, rev, err := rs[1].store.Get(bg, "H-1")
	require.NoError(t, err)
	require.NotZero(t, rev)

	// A second read finds the copies covered: nothing written, no event.
	events := counters.Total(resolve.DuplicateDropped) + counters.Total(resolve.StaleDropped) + counters.Total(resolve.AutoResolved)
	_, err = bal.Get(bg, "H-1")
	require.NoError(t, err)
	_, rev2, err := rs[1].store.Get(bg, "H-1")
	require.NoError(t, err)
	require.Equal(t, rev, rev2)
	require.Equal(t, events, counters.Total(resolve.DuplicateDropped)+counters.Total(resolve.StaleDropped)+counters.Total(resolve.AutoResolved))

	// Create sees the other region's record.
	_, err = bal.Create(bg, "H-1", h)
	require.ErrorIs(t, err, replica.ErrExists)

	// A command applied in Lisbon is not applied again in Baltimore.
	extend := func(v *hold.Hold, _ replica.Write) error { return v.Extend(v.ExpiresAt.Add(time.Minute)) }
	first, replayed, err := lis.Command(bg, "H-1", "extend-1", extend)
	require.NoError(t, err)
	require.False(t, replayed)
	again, replayed, err := bal.Command(bg, "H-1", "extend-1", extend)
	require.NoError(t, err)
	require.True(t, replayed)
	require.Equal(t, first.Value.ExpiresAt, again.Value.ExpiresAt)

	// A token read before Lisbon's latest write is stale in Baltimore too.
	_, err = bal.Update(bg, "H-1", created.Token, func(v *hold.Hold, _ replica.Write) error { return v.Release() })
	require.ErrorIs(t, err, replica.ErrPreconditionFailed)

	// A delete in one region is read in the other.
	cur, err := bal.Get(bg, "H-1")
	require.NoError(t, err)
	_, err = bal.Delete(bg, "H-1", cur.Token)
	require.NoError(t, err)
	_, err = lis.Get(bg, "H-1")
	require.ErrorIs(t, err, replica.ErrDeleted)
}

// TestPeersMalformedCopy: a copy that is not a state fails the access with
// an error wrapping ErrMalformed that names it, and nothing is written; the
// region's own records are not affected.
func TestPeersMalformedCopy(t *testing.T) {
	rs := sharedRegions(t, nil, "lisbon", "baltimore")
	_, err := rs[1].store.CompareAndSet(bg, "H-9", []byte(`{"id":"H-9"}`), 0)
	require.NoError(t, err)
	for _, op := range []func() error{
		func() error { _, err := rs[0].rep.Get(bg, "H-9"); return err },
		func() error { _, err := rs[0].rep.Create(bg, "H-9", hold.Hold{ID: "H-9"}); return err },
		func() error {
			_, _, err := rs[0].rep.Command(bg, "H-9", "k", func(*hold.Hold, replica.Write) error { return nil })
			return err
		},
	} {
		err := op()
		require.ErrorIs(t, err, replica.ErrMalformed)
		require.Contains(t, err.Error(), "baltimore.H-9")
		requireOnePrefix(t, "malformed copy", err.Error())
	}
	_, rev, err := rs[0].store.Get(bg, "H-9")
	require.NoError(t, err)
	require.Zero(t, rev, "nothing is written")
	_, err = rs[0].rep.Create(bg, "H-10", hold.Hold{ID: "H-10"})
	require.NoError(t, err)
}

// TestPeersPropagateErrors: a peer source that fails fails the access.
func TestPeersPropagateErrors(t *testing.T) {
	down := errors.New("peers: down")
	r, err := replica.New(version.MustID("lisbon"), replica.NewMemoryStore(), hold.Resolver(resolve.Options{}),
		replica.Options[hold.Hold]{Peers: failingPeers{down}})
	require.NoError(t, err)
	_, err = r.Get(bg, "H-1")
	require.ErrorIs(t, err, down)
	_, err = r.Create(bg, "H-1", hold.Hold{ID: "H-1"})
	require.ErrorIs(t, err, down)
}

type failingPeers struct{ err error }

func (f failingPeers) Copies(context.Context, string) ([]replica.Copy, error) { return nil, f.err }

// TestPeersConverge drives regions sharing their stores through random
// writes in random regions, each read in another region: whatever region
// reads a key sees every write any region stored before the read — its
// context descends every region's stored state — and at the end every
// region reads the same token and value for every key.
func TestPeersConverge(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		rs := sharedRegions(t, nil, "lisbon", "baltimore", "faro")
		keys := []string{"H-1", "H-2"}
		for i := range rapid.IntRange(1, 40).Draw(t, "steps") {
			r := rs[rapid.IntRange(0, len(rs)-1).Draw(t, "region")]
			key := rapid.SampledFrom(keys).Draw(t, "key")
			switch rapid.IntRange(0, 3).Draw(t, "op") {
			case 0:
				_, _ = r.rep.Create(bg, key, hold.New(key, "C1", r.name, time.Unix(1e9, 0)))
			case 1:
				_, _, _ = r.rep.Command(bg, key, fmt.Sprintf("c%d", i%5), func(v *hold.Hold, _ replica.Write) error {
					v.Touch(r.name)
					return v.Extend(v.ExpiresAt.Add(time.Minute))
				})
			case 2:
				_, _ = r.rep.Blind(bg, key, "note", hold.NoteEdit(fmt.Sprintf("%s %d", r.name, i)))
			case 3:
				// A conditional write with the token just read.
				if rec, err := r.rep.Get(bg, key); err == nil {
					_, _ = r.rep.Update(bg, key, rec.Token, func(v *hold.Hold, _ replica.Write) error { v.Touch("u"); return nil })
				}
			}
			reader := rs[rapid.IntRange(0, len(rs)-1).Draw(t, "reader")]
			rec, err := reader.rep.Get(bg, key)
			if errors.Is(err, replica.ErrNotFound) {
				continue
			}
			if err != nil {
				t.Fatalf("%s reads %s: %v", reader.name, key, err)
			}
			for _, o := range rs {
				data, rev, err := o.store.Get(bg, key)
				if err != nil || rev == 0 {
					continue
				}
				seen, err := replica.DecodeContext(data, version.Limits{})
				if err != nil {
					t.Fatal(err)
				}
				if !rec.Context.Descends(seen) {
					t.Fatalf("%s reads %s at %v, which misses %s's %v", reader.name, key, rec.Context, o.name, seen)
				}
			}
		}
		for _, key := range keys {
			var first replica.Record[hold.Hold]
			for i, r := range rs {
				rec, err := r.rep.Get(bg, key)
				if errors.Is(err, replica.ErrNotFound) {
					continue
				}
				if err != nil {
					t.Fatal(err)
				}
				if i > 0 && first.Token != "" && (rec.Token != first.Token || !rec.Value.Equal(first.Value)) {
					t.Fatalf("%s reads %s %s %v, %s reads %s %v", r.name, key, rec.Token, rec.Value, rs[0].name, first.Token, first.Value)
				}
				if first.Token == "" {
					first = rec
				}
			}
		}
	})
}
