//go:build race

package sim

// raceEnabled is true under the race detector, which slows the simulation
// about tenfold; the default campaign then runs fewer histories.
const raceEnabled = true
