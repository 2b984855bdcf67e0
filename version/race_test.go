//go:build race

package version_test

// raceEnabled is true when the tests run under the race detector, which slows
// them down about tenfold; the proof tests then check fewer histories.
const raceEnabled = true
