// Package claimtest helps test a claim home and the code that uses one, the
// way replica/storetest helps test a replica.Store.
//
//   - [RaceAcquire] checks that a store serves as the home of package
//     claim: owners racing for one name through one or several Home values
//     over it (several processes) get exactly one winner a round, with the
//     next fencing token; the losers are told who holds the name, and a
//     loser's commit is refused. Run it on every claim.Store a deployment
//     uses (package claim runs it on replica.MemoryStore, the SQLite and
//     PostgreSQL adapters on theirs).
//   - [Link] is a claim.Store that can be cut off from the home it reaches,
//     or lose the reply of its next compare-and-set — the faults that make
//     a claim call fail with claim.ErrUnavailable — for tests of code that
//     must survive them.
package claimtest
