//go:build race

package rangesync

// raceEnabled is true under the race detector, which slows the tests about
// tenfold; the model and property tests then draw smaller sets.
const raceEnabled = true
