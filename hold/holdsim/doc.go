// Package holdsim runs Harbor Point's cabin holds through the fault-injection
// simulator of package [sim]: [Workload] is the hold's workload (clients
// create, note, extend, touch, confirm and release holds, a sweeper expires
// them, released holds are deleted and deleted ones re-created, a few notes
// go over the record limit, and clients settle review queues),
// [Invariant] checks the hold's domain rules after every step, and
// [Project] and [Join] give check sim.Values a plain model of every field's
// merge: the note last-writer-wins, agencies by union, the status, booking
// and terms by joins written out from package hold's rules.
//
// [RunCabins] runs the cross-record workload: several holds on each cabin,
// confirmed through package hold/booking (a claim on the cabin at one home
// store) in every region while links are cut, regions lose the home,
// confirming processes die between their claim and their write or stall
// past the claim's margin, and another confirmation races inside the home's
// compare-and-set; check sim.CrossRecord says that no cabin is ever
// confirmed to two holds, that every refused confirmation was told why and
// none acknowledged is lost, and that no claim is left behind.
//
// It lives beside package hold so that sim stays domain-free; it is also the
// model to copy for your own record type:
//
//	report, err := sim.Run(sim.Config{Seed: 1, Histories: 1000}, holdsim.Workload())
//	if err != nil || !report.OK() {
//		t.Fatal(err, report.String())
//	}
package holdsim
