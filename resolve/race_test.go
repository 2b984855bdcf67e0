//go:build race

package resolve_test

// raceEnabled is true under the race detector, whose sync.Pool drops items
// at random (so a merge may allocate a fresh accumulator).
const raceEnabled = true
