package replica

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/harborpoint/concord/hold"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

// afterCAS is a Store that runs a function right after the next successful
// compare-and-set of a key, before the writer indexes what it stored.
type afterCAS struct {
	Store
	key   string
	after func()
}

func (s *afterCAS) CompareAndSet(ctx context.Context, key string, value []byte, rev uint64) (uint64, error) {
	n, err := s.Store.CompareAndSet(ctx, key, value, rev)
	if err == nil && key == s.key && s.after != nil {
		f := s.after
		s.after = nil
		f()
	}
	return n, err
}

// indexHolds reports whether r's index holds key at the context of the
// state its store holds now.
func indexHolds(t *testing.T, r *Replica[hold.Hold], st Store, key string) bool {
	t.Helper()
	data, _, err := st.Get(bg, key)
	if err != nil {
		t.Fatal(err)
	}
	join, err := r.frameContext(data)
	if err != nil {
		t.Fatal(err)
	}
	v, _ := join.AppendBinary(nil)
	return r.ix.x.Has(key, v)
}

// TestAWriteDoesNotIndexOverANewerState: between a's compare-and-set and
// its indexing, another Replica value writes the key and a reads that
// newer state, taking it in. a must not then put its own, older, state
// over it: its index must hold what the store holds, with no read after.
func TestAWriteDoesNotIndexOverANewerState(t *testing.T) {
	res := hold.Resolver(resolve.Options{})
	id := version.MustID("lisbon")
	clock := version.NewHLC(version.HLCOptions{}, version.Timestamp{})
	mem := NewMemoryStore()
	hooked := &afterCAS{Store: mem}
	opts := Options[hold.Hold]{CommandKeys: hold.CommandKeys, Clock: clock}
	a, err := New(id, hooked, res, opts)
	if err != nil {
		t.Fatal(err)
	}
	alt, err := New(id, mem, res, opts)
	if err != nil {
		t.Fatal(err)
	}
	exp := time.Date(2026, 11, 26, 15, 0, 0, 0, time.UTC)
	if _, err := a.Create(bg, "H-1", hold.New("H-1", "C1", "", exp)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.index(bg); err != nil { // the index is built, as by a first session
		t.Fatal(err)
	}
	hooked.key, hooked.after = "H-1", func() {
		if _, err := alt.Blind(bg, "H-1", "note", hold.NoteEdit("newer")); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Get(bg, "H-1"); err != nil { // a takes the newer state in
			t.Fatal(err)
		}
	}
	if _, err := a.Blind(bg, "H-1", "note", hold.NoteEdit("older")); err != nil {
		t.Fatal(err)
	}
	if !indexHolds(t, a, mem, "H-1") {
		t.Fatal("a's index went back to the state a wrote, older than the store's")
	}
}

// beforeCAS is a Store that runs a function right before the next
// compare-and-set of a key: after the writer decided what to store.
type beforeCAS struct {
	Store
	key    string
	before func()
}

func (s *beforeCAS) CompareAndSet(ctx context.Context, key string, value []byte, rev uint64) (uint64, error) {
	if key == s.key && s.before != nil {
		f := s.before
		s.before = nil
		f()
	}
	return s.Store.CompareAndSet(ctx, key, value, rev)
}

// TestTheFirstBuildIndexesWritesAroundIt: a replica that has not
// reconciled yet does not index its writes (the first session's build
// reads every stored state). A write, local or replicated, whose
// compare-and-set comes just before the build starts, just after, or long
// before must be in the index built, at the state stored.
func TestTheFirstBuildIndexesWritesAroundIt(t *testing.T) {
	res := hold.Resolver(resolve.Options{})
	exp := time.Date(2026, 11, 26, 15, 0, 0, 0, time.UTC)
	// A replicated state of H-1 newer than any the receiver holds.
	src, err := New(version.MustID("porto"), NewMemoryStore(), res, Options[hold.Hold]{CommandKeys: hold.CommandKeys})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.Create(bg, "H-1", hold.New("H-1", "C1", "", exp)); err != nil {
		t.Fatal(err)
	}
	replicated, err := src.Export(bg, "H-1")
	if err != nil {
		t.Fatal(err)
	}
	writes := map[string]func(r *Replica[hold.Hold]) error{
		"create": func(r *Replica[hold.Hold]) error {
			_, err := r.Create(bg, "H-1", hold.New("H-1", "C2", "", exp))
			return err
		},
		"apply": func(r *Replica[hold.Hold]) error {
			class, err := r.Apply(bg, "H-1", replicated)
			if err == nil && class != resolve.IncomingWins {
				t.Fatalf("apply: %v", class)
			}
			return err
		},
	}
	for name, write := range writes {
		for _, when := range []string{"before the compare-and-set", "after it", "after the write"} {
			mem := NewMemoryStore()
			hooked := &afterCAS{Store: &beforeCAS{Store: mem}}
			r, err := New(version.MustID("lisbon"), hooked, res, Options[hold.Hold]{CommandKeys: hold.CommandKeys})
			if err != nil {
				t.Fatal(err)
			}
			// The build, started from the writer's hook, goes on beside it:
			// it reads each key under the key's lock, which the writer holds.
			built := make(chan error, 1)
			start := func() {
				go func() { _, _, err := r.index(bg); built <- err }()
				for !r.ix.live.Load() {
					runtime.Gosched()
				}
			}
			switch when {
			case "before the compare-and-set":
				hooked.Store.(*beforeCAS).key, hooked.Store.(*beforeCAS).before = "H-1", start
			case "after it":
				hooked.key, hooked.after = "H-1", start
			}
			if err := write(r); err != nil {
				t.Fatal(err)
			}
			if when == "after the write" {
				if r.ix.x.Len() != 0 {
					t.Fatalf("%s: indexed before any session", name)
				}
				start()
			}
			if err := <-built; err != nil {
				t.Fatal(err)
			}
			if r.ix.x.Len() != 1 || !indexHolds(t, r, mem, "H-1") {
				t.Fatalf("%s, build %s: the index does not hold the state stored", name, when)
			}
		}
	}
}

// TestRescanRebuildsOnlyABuiltIndex: Rescan of a replica that has not
// reconciled rebuilds its review queue and indexes nothing (the first
// session builds the index from the store); once the index is built,
// Rescan takes into it a record another writer stored that this replica
// never read.
func TestRescanRebuildsOnlyABuiltIndex(t *testing.T) {
	res := hold.Resolver(resolve.Options{})
	mem := NewMemoryStore()
	opts := Options[hold.Hold]{CommandKeys: hold.CommandKeys}
	r, err := New(version.MustID("lisbon"), mem, res, opts)
	if err != nil {
		t.Fatal(err)
	}
	other, err := New(version.MustID("lisbon"), mem, res, opts) // another process over the same store
	if err != nil {
		t.Fatal(err)
	}
	exp := time.Date(2026, 11, 26, 15, 0, 0, 0, time.UTC)
	for _, k := range []string{"H-1", "H-2"} {
		if _, err := other.Create(bg, k, hold.New(k, "C1", "", exp)); err != nil {
			t.Fatal(err)
		}
		if k == "H-1" {
			if err := r.Rescan(bg); err != nil {
				t.Fatal(err)
			}
			if r.ix.live.Load() || r.ix.x.Len() != 0 {
				t.Fatalf("Rescan before any session indexed %d records", r.ix.x.Len())
			}
			if _, _, err := r.index(bg); err != nil {
				t.Fatal(err)
			}
			if !indexHolds(t, r, mem, "H-1") {
				t.Fatal("the first build did not index H-1")
			}
		}
	}
	if r.ix.x.Len() != 1 {
		t.Fatalf("the index holds %d records before Rescan, want 1 (H-2 was never read here)", r.ix.x.Len())
	}
	if err := r.Rescan(bg); err != nil {
		t.Fatal(err)
	}
	if r.ix.x.Len() != 2 || !indexHolds(t, r, mem, "H-2") {
		t.Fatal("Rescan of a built index did not take in H-2")
	}
}
