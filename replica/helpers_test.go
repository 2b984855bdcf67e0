package replica_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"

	"github.com/harborpoint/concord/hold"
	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

// tb is what the helpers need from *testing.T, *testing.B and *rapid.T.
type tb interface {
	Helper()
	Fatalf(format string, args ...any)
}

// nonFatal adapts a *testing.T for use off the test's goroutine: Fatalf
// reports the failure and lets the goroutine go on.
type nonFatal struct{ *testing.T }

func (n nonFatal) Fatalf(format string, args ...any) { n.Errorf(format, args...) }

// cluster is a set of hold replicas, each over its own MemoryStore, sharing
// one resolver and one set of counters.
type cluster struct {
	res      *resolve.Resolver[hold.Hold]
	counters *resolve.Counters
	ids      []version.ID
	stores   []*replica.MemoryStore
	rs       []*replica.Replica[hold.Hold]
}

func newCluster(t tb, names ...string) *cluster {
	t.Helper()
	c := &cluster{counters: &resolve.Counters{}}
	c.res = hold.Resolver(resolve.Options{})
	for _, n := range names {
		c.ids = append(c.ids, version.MustID(n))
		c.stores = append(c.stores, replica.NewMemoryStore())
		c.rs = append(c.rs, nil)
		c.restart(t, len(c.rs)-1)
	}
	return c
}

// restart replaces replica i by a new Replica with the same ID over the same
// store, as a process restart that kept its store would.
func (c *cluster) restart(t tb, i int) {
	t.Helper()
	r, err := replica.New(c.ids[i], c.stores[i], c.res, replica.Options[hold.Hold]{
		CommandKeys: hold.CommandKeys, Observer: c.counters,
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	c.rs[i] = r
}

// heal runs anti-entropy among all pairs until a session between any two
// finds nothing to exchange, and fails if that takes more than a few rounds.
func (c *cluster) heal(t tb) {
	t.Helper()
	for round := 0; round < 5; round++ {
		for i := range c.rs {
			for j := i + 1; j < len(c.rs); j++ {
				if err := replica.AntiEntropy(context.Background(), c.rs[i], c.rs[j]); err != nil {
					t.Fatalf("AntiEntropy(%v, %v): %v", c.ids[i], c.ids[j], err)
				}
			}
		}
		if c.quiescent(t) {
			return
		}
	}
	t.Fatalf("replicas did not become quiescent after 5 rounds of anti-entropy")
}

// quiescent reports whether every pair of replicas agrees: a session
// between them takes one round trip and exchanges no state.
func (c *cluster) quiescent(t tb) bool {
	t.Helper()
	for _, a := range c.rs {
		for _, b := range c.rs {
			if a == b {
				continue
			}
			rep, err := a.Sync(context.Background(), replica.Local(b))
			if err != nil {
				t.Fatalf("Sync: %v", err)
			}
			if rep.Rounds != 1 || rep.Sent+rep.Received+rep.Skipped > 0 {
				return false
			}
		}
	}
	return true
}

// storeKeys lists every key of a store.
func storeKeys(t tb, st replica.Store) []string {
	t.Helper()
	var keys []string
	for after := ""; ; {
		page, err := st.Scan(context.Background(), after, 100)
		if err != nil {
			t.Fatalf("Scan: %v", err)
		}
		for _, e := range page {
			keys = append(keys, e.Key)
		}
		if len(page) < 100 {
			return keys
		}
		after = page[len(page)-1].Key
	}
}

// view is what a replica shows of one key, in comparable form.
type view struct {
	Found    bool
	Token    string
	Value    string // hold.Hold in a canonical text form ("" on a conflict)
	Branches string // every branch's stamp and value
	Conflict string // field/rule and reason of an open conflict
}

func holdText(h hold.Hold) string {
	return fmt.Sprintf("%s|%s|%s|%d|%s|%q|%v|%v", h.ID, h.Cabin, h.Status, h.ExpiresAt.UnixNano(), h.BookingID, h.Note, h.Agencies, h.Commands)
}

func viewOf(t tb, r *replica.Replica[hold.Hold], key string) view {
	t.Helper()
	rec, err := r.Get(context.Background(), key)
	if err != nil && !errors.Is(err, replica.ErrDeleted) {
		return view{}
	}
	v := view{Found: true, Token: rec.Token}
	switch {
	case rec.Deleted:
		v.Value = "deleted"
	case rec.Conflict == nil:
		v.Value = holdText(rec.Value)
	default:
		v.Conflict = rec.Conflict.Field + "/" + rec.Conflict.Rule + ": " + rec.Conflict.Reason
	}
	for _, b := range rec.Branches {
		v.Branches += fmt.Sprintf("[%v %t %s]", b.Stamp, b.Deleted, holdText(b.Value))
	}
	return v
}

// queueOf returns a replica's review queue by key, without the local
// FirstSeen times.
func queueOf(r *replica.Replica[hold.Hold]) map[string]string {
	q := map[string]string{}
	for _, it := range r.Conflicts() {
		s := fmt.Sprintf("%s %s/%s %s %s", it.Entity, it.Field, it.Rule, it.Reason, it.Token)
		for _, b := range it.Branches {
			s += " " + b.Stamp.String()
		}
		q[it.Key] = s
	}
	return q
}

// checkConverged checks that every replica shows the same record for every
// key and has the same review queue, and that each replica's queue lists
// exactly the keys it reads as conflicted.
func (c *cluster) checkConverged(t tb) {
	t.Helper()
	keys := map[string]bool{}
	for _, st := range c.stores {
		for _, k := range storeKeys(t, st) {
			keys[k] = true
		}
	}
	for _, k := range slices.Sorted(maps.Keys(keys)) {
		want := viewOf(t, c.rs[0], k)
		for i, r := range c.rs[1:] {
			if got := viewOf(t, r, k); got != want {
				t.Fatalf("key %s: %v reads\n%+v\nbut %v reads\n%+v", k, c.ids[0], want, c.ids[i+1], got)
			}
		}
	}
	q0 := queueOf(c.rs[0])
	for i, r := range c.rs {
		q := queueOf(r)
		if !maps.Equal(q0, q) {
			t.Fatalf("review queues differ: %v has %v, %v has %v", c.ids[0], q0, c.ids[i], q)
		}
		for k := range keys {
			_, queued := q[k]
			if conflicted := viewOf(t, r, k).Conflict != ""; queued != conflicted {
				t.Fatalf("%v: key %s: in review queue %v, but conflicted %v", c.ids[i], k, queued, conflicted)
			}
		}
	}
}

// ledger records acknowledged writes: for each key, the dots of the writes
// a replica acknowledged, and the context each write was made with.
type ledger struct {
	mu   sync.Mutex
	dots map[string]map[version.Dot]version.Vector
}

func newLedger() *ledger { return &ledger{dots: map[string]map[version.Dot]version.Vector{}} }

// ack records the write that rec, the record a write returned, is the result
// of. Every local write's context covers the record's siblings, so the
// record holds exactly one branch: the write's own.
func (l *ledger) ack(t tb, key string, rec replica.Record[hold.Hold]) version.Dot {
	t.Helper()
	if len(rec.Branches) != 1 {
		t.Fatalf("%s: a local write returned %d branches, want 1", key, len(rec.Branches))
	}
	d := rec.Branches[0].Stamp.Dot
	// The write's context is the record's context without its own dot.
	seen := rec.Context
	var dots []version.Dot
	for id, n := range seen.All() {
		if id == d.ID {
			n = d.Counter - 1
		}
		if n > 0 {
			dots = append(dots, version.Dot{ID: id, Counter: n})
		}
	}
	wseen, err := version.NewVector(dots...)
	if err != nil {
		t.Fatalf("NewVector: %v", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	m := l.dots[key]
	if m == nil {
		m = map[version.Dot]version.Vector{}
		l.dots[key] = m
	}
	if _, dup := m[d]; dup {
		t.Fatalf("%s: dot %v acknowledged twice", key, d)
	}
	m[d] = wseen
	return d
}

// check verifies, against the final state of every key (the same at every
// replica after healing), that no acknowledged write vanished: each is a
// sibling, or covered by the context of another acknowledged write; and
// that the final context covers exactly the acknowledged dots — nothing
// covered that was never issued, nothing issued that is not covered.
func (l *ledger) check(t tb, r *replica.Replica[hold.Hold]) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	for key, acked := range l.dots {
		s, err := r.State(context.Background(), key)
		if err != nil {
			t.Fatalf("State(%s): %v", key, err)
		}
		for d := range acked {
			if !s.Covers(d) {
				t.Fatalf("%s: acknowledged write %v vanished: not covered by the final state %v", key, d, s)
			}
			if _, sibling := s.Get(d); sibling {
				continue
			}
			overwritten := false
			for w, seen := range acked {
				if w != d && seen.Contains(d) {
					overwritten = true
					break
				}
			}
			if !overwritten {
				t.Fatalf("%s: acknowledged write %v is no sibling and no acknowledged write saw it", key, d)
			}
		}
		for _, d := range s.Dots() {
			if _, ok := acked[d]; !ok {
				t.Fatalf("%s: sibling %v was never acknowledged", key, d)
			}
		}
		for id, n := range s.Join().All() {
			for c := uint64(1); c <= n; c++ {
				if _, ok := acked[version.Dot{ID: id, Counter: c}]; !ok {
					t.Fatalf("%s: final context %v covers %v:%d, which no acknowledged write issued", key, s.Join(), id, c)
				}
			}
		}
	}
}

// sortedKeys returns a set's keys in order.
func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
