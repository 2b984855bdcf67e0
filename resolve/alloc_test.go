package resolve_test

import (
	"testing"

	"github.com/harborpoint/concord/internal/merge"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

// TestMergeAllocations pins what a merge of two branches allocates: the
// union policy's merged set and the merged field stamps (the branches'
// fields come from different writes) — two, with or without what the
// writers had seen. The six decisions are held in the resolution, with the
// two stamps they name: they once took an allocation of their own (of 200
// bytes a decision, then 112, then 32). Neither the caller's branches nor
// the resolution may move to the heap: the fold once kept a reference to
// the branches in its pooled accumulator (one allocation of every branch
// per merge), and the test hook once boxed the branches and the
// resolution in interfaces (two more).
func TestMergeAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector's sync.Pool drops items at random")
	}
	r := ticketResolver()
	plain := twoTickets()
	causal := twoTickets()
	causal[0].Seen = version.MustVector("lisbon:18")
	causal[1].Seen = version.MustVector("lisbon:10")
	for name, bs := range map[string][]resolve.Branch[ticket]{"plain": plain, "causal": causal} {
		var err error
		a := testing.AllocsPerRun(100, func() {
			_, err = merge.Branches(r, bs)
		})
		if err != nil {
			t.Fatal(err)
		}
		if a > 2 {
			t.Errorf("%s: a merge of two branches allocates %v times, want at most 2", name, a)
		}
	}
}

// TestResolveOneAllocations pins what reading a record of one branch (the
// read every write starts from) allocates: its Version, and not the
// resolution, which Resolve returns by value (it once built it on the heap
// and copied it out: two allocations).
func TestResolveOneAllocations(t *testing.T) {
	r := ticketResolver()
	s, _, err := resolve.Siblings[ticket]{}.Update(version.Vector{}, twoTickets()[0], lisbon)
	if err != nil {
		t.Fatal(err)
	}
	var res resolve.Resolution[ticket]
	a := testing.AllocsPerRun(100, func() {
		res, err = r.Resolve(s)
	})
	if err != nil || res.Merged != 1 {
		t.Fatal(res, err)
	}
	if a > 1 {
		t.Errorf("Resolve of one branch allocates %v times, want at most 1 (its Version)", a)
	}
}
