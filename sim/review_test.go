package sim_test

import (
	"testing"

	"github.com/harborpoint/concord/hold/holdsim"
	"github.com/harborpoint/concord/sim"
)

// TestReviewTokensAfterAnotherWriter replays the histories in which the
// campaigns at thirty times their default size found a review queue
// handing out a token it then refused (check Review): a merge refused for
// size was in a replica's review queue when a second Replica value over the
// same store wrote the key, and the first kept the token of the state
// before that write. Each history must now hold every check.
func TestReviewTokensAfterAnotherWriter(t *testing.T) {
	for _, tc := range []struct {
		name string
		run  func() (sim.Report, error)
	}{
		{"growth seed 165", func() (sim.Report, error) {
			return sim.Run(sim.Config{Seed: 165, Histories: 1, Keys: 2}, bagWorkload())
		}},
		{"durable restarts seed 1874", func() (sim.Report, error) {
			return sim.Run(sim.Config{Seed: 1874, Histories: 1, Steps: 200, Durable: true, Restarts: 5}, holdsim.Workload())
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep, err := tc.run()
			if err != nil {
				t.Fatal(err)
			}
			if !rep.OK() {
				t.Fatalf("\n%s", rep.String())
			}
		})
	}
}
