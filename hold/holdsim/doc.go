// Package holdsim runs Harbor Point's cabin holds through the fault-injection
// simulator of package [sim]: [Workload] is the hold's workload (clients
// create, note, extend, touch, confirm and release holds, and settle review
// queues) and [Invariant] checks the hold's domain rules after every step.
//
// It lives beside package hold so that sim stays domain-free; it is also the
// model to copy for your own record type:
//
//	report, err := sim.Run(sim.Config{Seed: 1, Histories: 1000}, holdsim.Workload())
//	if err != nil || !report.OK() {
//		t.Fatal(err, report.String())
//	}
package holdsim
