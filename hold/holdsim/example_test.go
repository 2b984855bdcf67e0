package holdsim_test

import (
	"fmt"

	"github.com/harborpoint/concord/hold/holdsim"
	"github.com/harborpoint/concord/sim"
)

// A small campaign of Harbor Point's cabin holds: ten seeded histories over
// three replicas, with every fault at its default rate.
func ExampleWorkload() {
	rep, err := sim.Run(sim.Config{Seed: 42, Histories: 10, Replicas: 3}, holdsim.Workload())
	if err != nil {
		panic(err)
	}
	fmt.Println("histories:", rep.Histories, "steps:", rep.Steps)
	fmt.Println("every check held:", rep.OK())
	fmt.Println("acknowledged writes lost:", rep.Loss.Lost)
	// Output:
	// histories: 10 steps: 1000
	// every check held: true
	// acknowledged writes lost: 0
}

// Join states the hold's merge rules plainly for check sim.Values: the
// status field (0) of concurrent holds, confirmed absorbing and released
// versus active refused.
func ExampleJoin() {
	fmt.Println(holdsim.Join(0, []string{"active", "confirmed", "released"}))
	fmt.Println(holdsim.Join(0, []string{"active", "released"}))
	fmt.Println(holdsim.Join(1, []string{"", "B-1"}))
	// Output:
	// confirmed true
	//  false
	// B-1 true
}
