package replica

import (
	"context"
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
	if err := a.Rescan(bg); err != nil { // the index is live
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
