package holdsim_test

import (
	"testing"

	"github.com/harborpoint/concord/hold/holdsim"
	"github.com/harborpoint/concord/sim"
)

// TestSettlingOverADeleteTakesItsOwnStamps is the history that found a
// defect in settling a conflict of a delete with updates: the settlement
// (ResolveConflict, at tokyo) kept one live branch's note, which the other
// live branch did not share, yet the note kept that branch's older stamp,
// because the base of a write over a tombstone was the merge of the live
// branches rather than what they agree on; a later blind note stamped
// between the two then won at every replica, and check Values saw the
// settlement's note lost. Restarts of a durable store create the
// branches.
func TestSettlingOverADeleteTakesItsOwnStamps(t *testing.T) {
	rep, err := sim.Run(sim.Config{Seed: 258, Histories: 1, Durable: true, Restarts: 5, Steps: 200, Shrink: sim.ShrinkNone}, holdsim.Workload())
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() {
		t.Fatalf("%s", rep.String())
	}
}
