package holdsim_test

import (
	"fmt"

	"github.com/harborpoint/concord/hold/holdsim"
	"github.com/harborpoint/concord/sim"
)

// A small cross-record campaign: holds racing for cabins in two regions,
// with every fault at its default rate. No cabin is ever confirmed to two
// holds, and no claim is left behind.
func ExampleRunCabins() {
	rep, err := holdsim.RunCabins(holdsim.CabinConfig{Seed: 42, Histories: 5, Regions: 2})
	if err != nil {
		panic(err)
	}
	fmt.Println("histories:", rep.Histories, "steps:", rep.Steps)
	fmt.Println("confirmed:", rep.Confirms.Confirmed > 0, "refused, cabin claimed:", rep.Confirms.Claimed > 0)
	fmt.Println("cross-record violations:", rep.Violations[sim.CrossRecord])
	fmt.Println("every check held:", rep.OK())
	// Output:
	// histories: 5 steps: 750
	// confirmed: true refused, cabin claimed: true
	// cross-record violations: 0
	// every check held: true
}
