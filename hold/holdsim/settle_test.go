package holdsim_test

import (
	"strings"
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

// TestSettlingARecordLimitItemTakesItsOwnStamps is the shrunk history 1778
// of the campaign at thirty times its size (issue 19), in which a
// settlement of a merge refused for size kept a stale note stamp. Lisbon's
// long note ("bignote", lisbon:1) and baltimore's release (baltimore:3)
// merge over the record limit at baltimore, which queues both branches;
// lisbon then edits the note blind ("c4 draft 372", lisbon:2), and
// baltimore's client settles the queue's item with baltimore's branch and
// its empty note (baltimore:5). The settlement changed the note — the
// long note was a branch it replaced — but its base was baltimore's stored
// branch alone, so the note kept the stamp of the create that wrote it,
// which lisbon's draft had replaced: the draft won at both replicas, where
// the plain model of the ledger says the settlement's later note does
// (replica's TestRecordLimitSettlementTakesItsOwnStamps is the same
// defect, made small).
func TestSettlingARecordLimitItemTakesItsOwnStamps(t *testing.T) {
	skip := []int{2, 4, 5, 6, 9, 10, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 26, 27, 29, 31, 32, 33, 34, 35,
		36, 38, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 59, 61, 62, 63, 65, 73, 74,
		75, 76, 77, 78, 79, 80, 81, 82, 83, 84, 85, 86, 87, 88, 89, 90, 92, 93, 97}
	cfg := sim.Config{Seed: 1778, Histories: 1, Steps: 98, Skip: skip}
	viol, history, err := sim.Reproduce(cfg, holdsim.Workload())
	if err != nil {
		t.Fatal(err)
	}
	// The history still makes the settlement the test is about.
	for _, want := range []string{"merge over the record limit", `blind H-3 "note" → ack lisbon:2`, `resolve H-3 "settle`} {
		if !strings.Contains(history, want) {
			t.Fatalf("the history no longer holds %q: the workload changed; find the history again\n%s", want, history)
		}
	}
	if len(viol) != 0 {
		t.Fatalf("%v\n%s", viol, history)
	}
}

// TestSettlingRecordLimitItemsAcrossARestart is the shrunk history 1545 of
// the campaign at thirty times its size, which failed when state format 6
// (applied keys in the branch header) was first merged — the same defect as
// history 1778, which format 6's smaller states moved to this history, not
// one of the format: tokyo holds sydney's note ("c3 draft 186", sydney:3)
// and settles a merge refused for size with it (tokyo:2); lisbon settles
// its own with c1's long note (lisbon:6), concurrently and earlier. With
// tokyo's stored branch alone as its base, the settlement kept the note's
// older stamp, and lisbon's long note won at lisbon's next incarnation
// after the heal, where the plain model says tokyo's later settlement
// does. It passes since the settlement's base is the agreement of every
// branch it replaces, and fails without it.
func TestSettlingRecordLimitItemsAcrossARestart(t *testing.T) {
	skip := []int{1, 2, 3, 4, 5, 6, 15, 16, 17, 18, 20, 22, 23, 24, 25, 26, 28, 29, 30, 31, 33, 34, 37, 38, 39, 40,
		41, 42, 49, 64, 65, 68, 69, 70, 73, 74, 76, 78, 81, 83, 84, 85, 86, 87, 88, 89, 90, 97}
	cfg := sim.Config{Seed: 1545, Histories: 1, Steps: 99, Skip: skip}
	viol, history, err := sim.Reproduce(cfg, holdsim.Workload())
	if err != nil {
		t.Fatal(err)
	}
	// The history still makes the settlements the test is about.
	for _, want := range []string{"merge over the record limit", `@lisbon resolve H-3 "settle`, `@tokyo resolve H-3 "settle`,
		"as lisbon#1"} {
		if !strings.Contains(history, want) {
			t.Fatalf("the history no longer holds %q: the workload changed; find the history again\n%s", want, history)
		}
	}
	if len(viol) != 0 {
		t.Fatalf("%v\n%s", viol, history)
	}
}
