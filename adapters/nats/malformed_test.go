package nats_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	concordnats "github.com/harborpoint/concord/adapters/nats"
	"github.com/harborpoint/concord/hold"
	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/version"
)

// syncBuffer is a bytes.Buffer safe for the watcher's goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestMalformedValues puts a foreign value under another region's key and a
// corrupt one under the local region's key. Reads and writes of the
// foreign copy fail with an error wrapping replica.ErrMalformed that names
// its bucket key; the local one is quarantined by the replica; nothing is
// written over either, and the watcher logs the foreign value and goes on.
func TestMalformedValues(t *testing.T) {
	c := newCluster(t, "lisbon", "baltimore")
	lisNode, balNode := c.nodes["lisbon"], c.nodes["baltimore"]
	var logs syncBuffer
	lis := c.regionWith(lisNode, nil, version.MustID("lisbon"), replica.Options[hold.Hold]{}, &logs)
	lis.run(t)
	ctx := c.ctx()
	bal := c.openRegion(balNode, nil)

	// Another program writes JSON into Baltimore's namespace; a damaged
	// record sits under Lisbon's own key.
	_, err := balNode.kv.Put(ctx, "baltimore.H-9", []byte(`{"id":"H-9","status":"active"}`))
	must(t, err)
	corruptRev, err := lisNode.kv.Put(ctx, "lisbon.H-10", []byte{2, 1, 6, 'l', 'i', 's', 'b', 'o', 'n', 0, 9, 1, 200})
	must(t, err)

	eventually(t, 10*time.Second, func() error {
		_, err := lis.Get(ctx, "H-9")
		if !errors.Is(err, replica.ErrMalformed) {
			return errors.Join(errPending, err)
		}
		return nil
	})
	for _, op := range []func() error{
		func() error { _, err := lis.Get(ctx, "H-9"); return err },
		func() error { _, err := lis.Create(ctx, "H-9", hold.New("H-9", "C9", "web", time.Now())); return err },
	} {
		if err := op(); !errors.Is(err, replica.ErrMalformed) || !strings.Contains(err.Error(), "baltimore.H-9") {
			t.Errorf("H-9: %v, want an error wrapping replica.ErrMalformed naming baltimore.H-9", err)
		}
	}
	if _, err := lisNode.kv.Get(ctx, "lisbon.H-9"); !errors.Is(err, jetstream.ErrKeyNotFound) {
		t.Errorf("lisbon.H-9 was written: %v", err)
	}
	e, err := lisNode.kv.Get(ctx, "baltimore.H-9")
	must(t, err)
	if !strings.HasPrefix(string(e.Value()), `{"id":"H-9"`) {
		t.Errorf("baltimore.H-9 changed: %q", e.Value())
	}

	_, getErr := lis.Get(ctx, "H-10")
	_, _, cmdErr := lis.Command(ctx, "H-10", "k1", func(h *hold.Hold, _ replica.Write) error { return nil })
	_, updErr := lis.Update(ctx, "H-10", version.MustVector("lisbon:1").Token(), func(h *hold.Hold, _ replica.Write) error { return nil })
	for _, err := range []error{getErr, cmdErr, updErr} {
		if !errors.Is(err, replica.ErrQuarantined) {
			t.Errorf("H-10: %v, want replica.ErrQuarantined", err)
		}
	}
	if q := lis.Quarantined(); len(q) != 1 || q[0].Key != "H-10" || q[0].Revision != corruptRev {
		t.Errorf("quarantined %+v, want H-10 at revision %d", q, corruptRev)
	}
	e, err = lisNode.kv.Get(ctx, "lisbon.H-10")
	must(t, err)
	if e.Revision() != corruptRev {
		t.Errorf("lisbon.H-10 was rewritten: revision %d, want %d", e.Revision(), corruptRev)
	}

	// The watcher logged the foreign value and still applies good ones.
	_, err = bal.Create(ctx, "H-11", hold.New("H-11", "C11", "web", time.Now().Add(time.Hour)))
	must(t, err)
	watched(t, lis, "H-11", &logs)
	if !strings.Contains(logs.String(), "baltimore.H-9") {
		t.Errorf("the watcher did not log the foreign value:\n%s", logs.String())
	}
}

// watched waits until r's watcher has stored r's own copy of key — which
// only the watcher makes, as nothing reads key in r — and fails with r's
// log if it does not within ten seconds.
func watched(t *testing.T, r *regionOf, key string, logs *syncBuffer) {
	t.Helper()
	eventually(t, 10*time.Second, func() error {
		got, err := r.region.Contexts(context.Background(), key)
		if err != nil {
			return err
		}
		if _, ok := got[r.name]; !ok {
			return fmt.Errorf("%s not applied in %s; copies %v; log:\n%s", key, r.name, got, logs.String())
		}
		return nil
	})
}

// TestStore checks the compare-and-set mapping and key handling of Store.
func TestStore(t *testing.T) {
	c := newCluster(t, "lisbon")
	ctx := c.ctx()
	s, err := concordnats.NewStore(c.nodes["lisbon"].kv, "lisbon")
	must(t, err)
	r1, err := s.CompareAndSet(ctx, "a", []byte("1"), 0)
	must(t, err)
	if _, err := s.CompareAndSet(ctx, "a", []byte("2"), 0); !errors.Is(err, replica.ErrRevisionMismatch) {
		t.Errorf("create over an existing key: %v", err)
	}
	r2, err := s.CompareAndSet(ctx, "a", []byte("2"), r1)
	must(t, err)
	if _, err := s.CompareAndSet(ctx, "a", []byte("3"), r1); !errors.Is(err, replica.ErrRevisionMismatch) {
		t.Errorf("update at a stale revision: %v", err)
	}
	v, rev, err := s.Get(ctx, "a")
	if err != nil || string(v) != "2" || rev != r2 {
		t.Errorf("Get = %q, %d, %v; want 2, %d", v, rev, err, r2)
	}
	if v, rev, err := s.Get(ctx, "missing"); v != nil || rev != 0 || err != nil {
		t.Errorf("Get(missing) = %q, %d, %v", v, rev, err)
	}
	_, err = c.nodes["lisbon"].kv.Put(ctx, "other.b", []byte("x"))
	must(t, err)
	page, err := s.Scan(ctx, "", 10)
	if err != nil || len(page) != 1 || page[0].Key != "a" {
		t.Errorf("Scan = %v, %v; want [a]", page, err)
	}
	if _, _, err := s.Get(ctx, "bad key"); !errors.Is(err, concordnats.ErrInvalidKey) {
		t.Errorf("Get(bad key): %v", err)
	}
	if _, err := concordnats.NewStore(c.nodes["lisbon"].kv, "lis.bon"); !errors.Is(err, concordnats.ErrInvalidRegion) {
		t.Errorf("NewStore(lis.bon): %v", err)
	}
}

// TestOversizeRecordIsSkipped: a peer region with a larger record limit
// writes a record above this region's limit. The watcher skips it, logs
// it, and goes on: a record written after it still arrives.
func TestOversizeRecordIsSkipped(t *testing.T) {
	c := newCluster(t, "lisbon", "baltimore")
	lisNode, balNode := c.nodes["lisbon"], c.nodes["baltimore"]
	var logs syncBuffer
	lis := c.regionWith(lisNode, nil, version.MustID("lisbon"), replica.Options[hold.Hold]{MaxRecordBytes: 16 << 10}, &logs)
	lis.run(t)
	ctx := c.ctx()
	bal := c.openRegion(balNode, nil)

	big := hold.New("H-20", "C20", "web", time.Now().Add(time.Hour))
	big.Note = strings.Repeat("n", 40<<10)
	_, err := bal.Create(ctx, "H-20", big)
	must(t, err)
	_, err = bal.Create(ctx, "H-21", hold.New("H-21", "C21", "web", time.Now().Add(time.Hour)))
	must(t, err)
	watched(t, lis, "H-21", &logs)
	if !strings.Contains(logs.String(), "cannot take") || !strings.Contains(logs.String(), "baltimore.H-20") {
		t.Errorf("the watcher did not log the oversized record:\n%s", logs.String())
	}
	if _, err := lisNode.kv.Get(ctx, "lisbon.H-20"); !errors.Is(err, jetstream.ErrKeyNotFound) {
		t.Errorf("lisbon.H-20 was written: %v", err)
	}
}
