package replica

import (
	"testing"
	"time"

	"github.com/harborpoint/concord/hold"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

// TestRefreshNeverGoesBack: reads of one key race (Get takes no lock), so
// the refreshes of a review item may come in any order; an item is never
// made from a state older than the one it was made from. Here lisbon's
// stored conflict (two confirmations) gains a third branch through alt,
// another Replica value on the store; a's refresh from the newer state is
// followed by one from the older: the item keeps the newer state's token,
// which settles the record.
func TestRefreshNeverGoesBack(t *testing.T) {
	store := NewMemoryStore()
	res := hold.Resolver(resolve.Options{})
	newReplica := func(name string, st Store) *Replica[hold.Hold] {
		r, err := New(version.MustID(name), st, res, Options[hold.Hold]{CommandKeys: hold.CommandKeys})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	a, alt := newReplica("lisbon", store), newReplica("lisbon", store)
	bal, tok := newReplica("baltimore", NewMemoryStore()), newReplica("tokyo", NewMemoryStore())
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	ship := func(from, to *Replica[hold.Hold]) {
		t.Helper()
		data, err := from.Export(bg, "H-1")
		must(err)
		_, err = to.Apply(bg, "H-1", data)
		must(err)
	}
	expires := time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC)
	rec, err := a.Create(bg, "H-1", hold.New("H-1", "C1", "desk", expires))
	must(err)
	ship(a, bal)
	for i, r := range []*Replica[hold.Hold]{a, bal} {
		_, err := r.Update(bg, "H-1", rec.Token, func(h *hold.Hold, _ Write) error {
			return h.Confirm([]string{"B-lis", "B-bal"}[i], expires.Add(-time.Minute))
		})
		must(err)
	}
	ship(bal, a)
	older, err := alt.State(bg, "H-1") // alt has no item for its reads to refresh
	must(err)
	_, err = tok.Create(bg, "H-1", hold.New("H-1", "C1", "desk", expires))
	must(err)
	ship(tok, alt)
	newer, err := alt.State(bg, "H-1")
	must(err)

	a.refresh("H-1", &observed[hold.Hold]{state: newer, join: newer.Join()}, false)
	a.refresh("H-1", &observed[hold.Hold]{state: older, join: older.Join()}, false)
	q := a.Conflicts()
	if len(q) != 1 || !q[0].Context.Equal(newer.Join()) || len(q[0].Branches) != 3 {
		t.Fatalf("after a refresh from an older state: %+v, want the item of %v", q, newer.Join())
	}
	if _, err := a.ResolveConflict(bg, "H-1", q[0].Token, q[0].Branches[0].Value); err != nil {
		t.Fatalf("ResolveConflict with the queue's token: %v", err)
	}
}
