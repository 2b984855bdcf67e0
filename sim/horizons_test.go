package sim_test

import (
	"strings"
	"testing"

	"github.com/harborpoint/concord/hold/holdsim"
	"github.com/harborpoint/concord/sim"
)

// TestRestartsOverAHorizonStoreKeepTheirHorizons replays three
// histories of the campaigns at thirty times their size that failed once
// reaped horizons became durable (replica.HorizonStore, which the
// MemoryStore is): a replica reaps a key's tombstone, crashes with its
// state and restarts over its store with its ID; a client then creates the
// key there. The replica had read the horizon back from its store, so the
// create supersedes the delete (its context covers the tombstone), as the
// library promises; the simulator's model had dropped the horizon at the
// restart, as when horizons lived only in the Replica value, and reported
// the create as a resurrection (no-resurrection) and its context as wrong
// (model). The model now keeps a node's horizons across a boot over a
// HorizonStore.
func TestRestartsOverAHorizonStoreKeepTheirHorizons(t *testing.T) {
	for _, c := range []struct {
		name string
		cfg  sim.Config
	}{
		{"campaign history 281, memory-only replicas", sim.Config{Seed: 281, Histories: 1, Steps: 90, Skip: []int{
			1, 2, 3, 6, 7, 8, 9, 10, 11, 13, 15, 16, 17, 18, 19, 21, 22, 23, 24, 25, 26, 27, 28, 30, 31, 32, 33, 34, 35,
			36, 38, 39, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64,
			65, 66, 67, 68, 69, 70, 71, 72, 73, 74, 75, 76, 77, 78, 81, 82, 83, 84, 85, 86, 87}}},
		{"durable campaign history 259", sim.Config{Seed: 259, Histories: 1, Steps: 67, Durable: true, Restarts: 4, Skip: []int{
			7, 9, 10, 13, 14, 15, 17, 18, 19, 22, 23, 24, 25, 26, 27, 31, 32, 33, 34, 35, 36, 38, 39, 40, 41, 43, 45, 46,
			49, 50, 51, 52, 53, 54, 57, 58, 59, 60, 61, 62, 63, 65, 67}}},
		// TestDurableRestartsAfterReapingKeepTheirID's history 2697, which
		// .ci/run named as what kept the campaigns at six: the same model
		// defect (lisbon restarts at step 150, creates H-2 at 152).
		{"reaping durable campaign history 2697", sim.Config{Seed: 2697, Histories: 1, Steps: 200, Durable: true, Restarts: 5}},
	} {
		t.Run(c.name, func(t *testing.T) {
			viol, history, err := sim.Reproduce(c.cfg, holdsim.Workload())
			if err != nil {
				t.Fatal(err)
			}
			// The history still reaps, restarts with the horizons and
			// creates the reaped key again at the restarted replica.
			for _, want := range []string{"reaps the tombstone of", "restarts over its store with its ID and its reaped horizons", `create H-`} {
				if !strings.Contains(history, want) {
					t.Fatalf("the history no longer holds %q: the workload changed; find the history again\n%s", want, history)
				}
			}
			if len(viol) != 0 {
				t.Fatalf("%v\n%s", viol, history)
			}
		})
	}
}
