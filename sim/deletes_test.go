package sim_test

import (
	"testing"
	"time"

	"github.com/harborpoint/concord/hold"
	"github.com/harborpoint/concord/hold/holdsim"
	"github.com/harborpoint/concord/internal/proof"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/sim"
)

// TestDeletesAreExercised: the hold workload deletes, expires, re-creates,
// reaps and goes over the record limit often enough that the checks of
// deletes and limits are not vacuous, and every check holds.
func TestDeletesAreExercised(t *testing.T) {
	rep, err := sim.Run(sim.Config{Seed: 21, Histories: proof.Histories(t, 24)}, holdsim.Workload())
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || rep.Loss.Lost != 0 {
		t.Fatalf("%s", rep.String())
	}
	if rep.Deletes.FinalTombstones != 0 {
		t.Fatalf("%d tombstones left after the final heal", rep.Deletes.FinalTombstones)
	}
	if sim.RaceEnabled {
		return // too few histories to count on every kind of event
	}
	d, o := rep.Deletes, rep.Oversize
	for what, n := range map[string]int{
		"deletes": rep.Writes.Delete, "expiries": rep.Labels[holdsim.LabelExpire], "re-creations": d.Recreations,
		"tombstones reaped": d.Reaped, "deletes reaped (ledger)": rep.Loss.Reaped, "writes deleted (ledger)": rep.Loss.Deleted,
		"deletes concurrent with an update": d.ConcurrentConflict,
		"writes refused as too large":       o.Writes, "merges over the limit": o.Merges,
	} {
		if n == 0 {
			t.Errorf("no %s in %d histories", what, rep.Histories)
		}
	}
	t.Logf("%d histories: %d deletes, %d expiries, %d re-creations, %d tombstones reaped, %d deletes concurrent with an update; %d writes too large, %d merges over the limit",
		rep.Histories, rep.Writes.Delete, rep.Labels[holdsim.LabelExpire], d.Recreations, d.Reaped, d.ConcurrentConflict, o.Writes, o.Merges)
}

// TestDeclaredOnDeleteIsChecked: with update-wins or delete-wins declared
// (and the resolver doing what it declares), a delete concurrent with an
// update reads as declared and every check holds. Delete-wins runs without
// the hold's invariants: it may discard a concurrent confirmation, which is
// why the hold declares a conflict.
func TestDeclaredOnDeleteIsChecked(t *testing.T) {
	for _, on := range []resolve.OnDelete{resolve.UpdateWins, resolve.DeleteWins} {
		w := holdsim.Workload()
		w.NewResolver = func() *resolve.Resolver[hold.Hold] {
			return hold.Resolver(resolve.Options{SkewWindow: time.Second, OnDelete: on})
		}
		if on == resolve.DeleteWins {
			w.Invariant = nil
		}
		rep, err := sim.Run(sim.Config{Seed: 31, Histories: proof.Histories(t, 10)}, w)
		if err != nil {
			t.Fatal(err)
		}
		if !rep.OK() {
			t.Fatalf("%v: %s", on, rep.String())
		}
		d := rep.Deletes
		won, lost := d.ConcurrentUpdateWon, d.ConcurrentDeleteWon
		if on == resolve.DeleteWins {
			won, lost = lost, won
		}
		if lost != 0 || won == 0 && !sim.RaceEnabled {
			t.Errorf("%v: deletes concurrent with an update: conflict %d, delete won %d, update won %d",
				on, d.ConcurrentConflict, d.ConcurrentDeleteWon, d.ConcurrentUpdateWon)
		}
		t.Logf("%v, %d histories: deletes concurrent with an update: conflict %d, delete won %d, update won %d",
			on, rep.Histories, d.ConcurrentConflict, d.ConcurrentDeleteWon, d.ConcurrentUpdateWon)
	}
}
