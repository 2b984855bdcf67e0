//go:build race

package proof

// Race is true when the tests run under the race detector.
const Race = true
