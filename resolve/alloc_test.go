package resolve_test

import (
	"slices"
	"testing"

	"github.com/harborpoint/concord/internal/merge"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

// TestMergeAllocations pins what a merge of two branches allocates through
// the by-value merge of the test hook: the union policy's merged set and
// the merged field stamps (the branches' fields come from different
// writes) — two, with or without what the writers had seen. The six
// decisions, with the two stamps they name, ride in the resolution (they
// took a third allocation of 176 bytes before, and a slice of 112 bytes a
// decision before that). Neither the caller's branches nor the
// resolution may move to the heap: the fold once kept a reference to the
// branches in its pooled accumulator (one allocation of every branch per
// merge), and the test hook once boxed the branches and the resolution in
// interfaces (two more).
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
// read every write starts from) allocates: nothing. Its Version is the
// clock's own context, shared (it was built for each read: one allocation),
// and the resolution is returned by value (it once built it on the heap and
// copied it out: two allocations).
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
	if a > 0 {
		t.Errorf("Resolve of one branch allocates %v times, want none", a)
	}
}

// TestResolveTwoAllocations pins what resolving two concurrent siblings
// allocates, the merge a reader pays: the branches taken out of the clock,
// the union policy's merged set and the merged field stamps — three; the
// merged Version is the synced clock's context, shared (it was a fourth,
// built from the clock). The resolution, with its six decisions, is resolved in
// place on the caller's stack (it was a fifth allocation, of 416 bytes,
// copied out; and the decisions once a sixth).
func TestResolveTwoAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector's sync.Pool drops items at random")
	}
	r := ticketResolver()
	s := twoSiblings(t)
	var (
		res resolve.Resolution[ticket]
		err error
	)
	a := testing.AllocsPerRun(100, func() {
		res, err = r.Resolve(s)
	})
	if err != nil || res.Merged != 2 || res.Decided() != 6 {
		t.Fatal(res, err)
	}
	if a > 3 {
		t.Errorf("Resolve of two siblings allocates %v times, want at most 3", a)
	}
}

// TestMergeIntoForgetsTheLastMerge checks the hook's merge into a kept
// resolution (internal/merge.Into, the benchmarks' loop) against the
// by-value merge: each merge's resolution is the by-value one, whatever the
// kept resolution held before — a merge that decided nothing after one that
// decided six keeps none of their decisions, and a refused merge leaves it
// zero.
func TestMergeIntoForgetsTheLastMerge(t *testing.T) {
	r := ticketResolver()
	two := twoTickets()
	inputs := [][]resolve.Branch[ticket]{two, two[:1], two, two[1:], two}
	var kept resolve.Resolution[ticket]
	for k, bs := range inputs {
		want, err := merge.Branches(r, bs)
		if err != nil {
			t.Fatal(err)
		}
		if err := merge.Into(r, bs, &kept); err != nil {
			t.Fatal(err)
		}
		if !kept.Value.Equal(want.Value) || kept.Stamp != want.Stamp || kept.Merged != want.Merged ||
			!slices.Equal(kept.Fields, want.Fields) || !slices.Equal(kept.Decisions(), want.Decisions()) {
			t.Errorf("merge %d into the kept resolution: %+v\nwant %+v", k, kept, want)
		}
	}
	if err := merge.Into(r, nil, &kept); err == nil {
		t.Fatal("a merge of no branches: no error")
	}
	if kept.Merged != 0 || kept.Decided() != 0 {
		t.Errorf("a refused merge left %+v in the kept resolution", kept)
	}
}
