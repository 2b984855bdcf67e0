package resolve_test

import (
	"slices"
	"testing"

	"github.com/harborpoint/concord/policy"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

// TestAgreement: the base of a settlement keeps a stamp only for the fields
// every live branch holds an equal value of — the latest of theirs, in any
// order of the branches —; the other fields have none, so a write takes its
// own stamp for them. A tombstone is no base: it changes nothing, and
// tombstones alone give no base at all.
func TestAgreement(t *testing.T) {
	r := ticketResolver()
	stamp := func(name string, sec int64) version.Stamp {
		return version.Stamp{Time: at(sec), Dot: version.Dot{ID: version.MustID(name), Counter: 1}}
	}
	a := resolve.Branch[ticket]{Value: ticket{Title: "leak", Tags: policy.NewSet("x"), Priority: 1, Owner: "ana"}, Stamp: stamp("a", 1)}
	b := resolve.Branch[ticket]{Value: ticket{Title: "leak", Tags: policy.NewSet("y"), Priority: 1, Owner: "bo"}, Stamp: stamp("b", 2)}
	c := resolve.Branch[ticket]{Value: ticket{Title: "leak", Tags: policy.NewSet("x"), Priority: 1, Owner: "ana"}, Stamp: stamp("c", 3),
		Fields: []version.Stamp{stamp("a", 1), stamp("c", 3), stamp("c", 3), stamp("c", 3), stamp("c", 3), stamp("c", 3)}}
	tomb := resolve.Branch[ticket]{Stamp: stamp("d", 4), Deleted: true}
	// title: equal everywhere, latest stamp b's; tags and owner: b differs;
	// priority, urgent, estimate: equal, latest c's.
	want := []version.Stamp{stamp("b", 2), {}, stamp("c", 3), {}, stamp("c", 3), stamp("c", 3)}
	orders := [][]resolve.Branch[ticket]{{a, b, c}, {c, b, a}, {b, tomb, a, c}, {tomb, c, a, b}}
	for _, bs := range orders {
		base := r.Agreement(bs)
		if base == nil {
			t.Fatalf("no base of %d branches", len(bs))
		}
		got := make([]version.Stamp, len(want))
		for i := range got {
			got[i] = base.FieldStamp(i)
		}
		if !slices.Equal(got, want) {
			t.Errorf("field stamps %v, want %v", got, want)
		}
	}
	if base := r.Agreement([]resolve.Branch[ticket]{tomb}); base != nil {
		t.Errorf("tombstones alone gave a base: %+v", base)
	}
	if base := r.Agreement(nil); base != nil {
		t.Errorf("no branches gave a base: %+v", base)
	}
}
