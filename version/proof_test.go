package version_test

import (
	"flag"
	"strconv"
	"sync/atomic"
	"testing"

	"pgregory.net/rapid"

	"github.com/harborpoint/concord/internal/proof"
)

// raceDivisor is how much fewer histories the proof tests check under the
// race detector.
const raceDivisor = 2

// histories returns how many histories a proof test checks: base times
// CONCORD_PROOF_SCALE (see internal/proof), divided by raceDivisor under
// the race detector, at least 1.
func histories(t testing.TB, base int) int {
	return proof.Size(t, base, raceDivisor)
}

// rapidChecks returns the number of checks one rapid.Check call performs.
func rapidChecks() int {
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

// checkN runs prop on at least n random histories (in rounds of rapid.Check,
// each with its own seed) and logs how many ran to completion. It returns
// that count.
func checkN(t *testing.T, n int, prop func(*rapid.T)) int64 {
	t.Helper()
	var done atomic.Int64
	counted := func(rt *rapid.T) {
		prop(rt)
		done.Add(1)
	}
	per := rapidChecks()
	for round := 0; done.Load() < int64(n); round++ {
		rapid.Check(t, counted)
		if t.Failed() || round > n { // no progress is impossible, but never loop forever
			break
		}
	}
	t.Logf("checked %d histories (asked for %d, %d per rapid.Check round)", done.Load(), n, per)
	return done.Load()
}
