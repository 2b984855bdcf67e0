//go:build !race

package rangesync

// raceEnabled is true under the race detector.
const raceEnabled = false
