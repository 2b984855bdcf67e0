// Package proof sizes the long property campaigns of concord's tests: a
// default that keeps `go test ./...` quick, scaled by the environment
// variable CONCORD_PROOF_SCALE for longer soaks (CONCORD_PROOF_SCALE=20 runs
// twenty times as many histories) and reduced under the race detector.
package proof

import (
	"flag"
	"os"
	"strconv"
	"sync/atomic"
	"testing"

	"pgregory.net/rapid"
)

// raceDivisor is how much fewer histories a campaign checks under the race
// detector, which slows the tests down about tenfold.
const raceDivisor = 10

// Scale returns the multiplier read from CONCORD_PROOF_SCALE (default 1).
func Scale(t testing.TB) float64 {
	s, ok := os.LookupEnv("CONCORD_PROOF_SCALE")
	if !ok || s == "" {
		return 1
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f <= 0 {
		t.Fatalf("CONCORD_PROOF_SCALE=%q: want a positive number", s)
	}
	return f
}

// Histories returns how many histories a campaign checks: base times the
// scale, divided by raceDivisor under the race detector, at least 1.
func Histories(t testing.TB, base int) int {
	n := int(float64(base) * Scale(t))
	if raceEnabled {
		n /= raceDivisor
	}
	return max(n, 1)
}

// Check runs prop on at least n random histories, in rounds of rapid.Check
// (each with its own seed, rapid's default number of checks per round),
// logs how many ran to completion and returns that count.
func Check(t *testing.T, n int, prop func(*rapid.T)) int64 {
	t.Helper()
	var done atomic.Int64
	counted := func(rt *rapid.T) {
		prop(rt)
		done.Add(1)
	}
	for round := 0; done.Load() < int64(n); round++ {
		rapid.Check(t, counted)
		if t.Failed() || round > n { // no progress is impossible, but never loop forever
			break
		}
	}
	t.Logf("checked %d histories (asked for %d, %d per rapid.Check round)", done.Load(), n, checksPerRound())
	return done.Load()
}

// checksPerRound returns the number of checks one rapid.Check performs.
func checksPerRound() int {
	checks := 100
	if f := flag.Lookup("rapid.checks"); f != nil {
		if n, err := strconv.Atoi(f.Value.String()); err == nil && n > 0 {
			checks = n
		}
	}
	if testing.Short() {
		checks = max(checks/5, 1)
	}
	return checks
}
