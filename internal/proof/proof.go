// Package proof sizes the long property and simulation campaigns of
// concord's tests. A plain `go test ./...` runs each at a base size chosen
// to keep the whole core module near half a minute on two cores; the
// environment variable CONCORD_PROOF_SCALE multiplies every campaign for a
// longer soak (.ci/run sets it for one dedicated run):
//
//	CONCORD_PROOF_SCALE=10 go test ./version ./sim
//
// Under the race detector, which slows code about tenfold, campaigns run
// smaller still.
package proof

import (
	"os"
	"strconv"
	"testing"
)

// Env is the environment variable that scales the campaigns.
const Env = "CONCORD_PROOF_SCALE"

// Scale returns the multiplier read from [Env]: 1 when unset. A value that is
// not a positive number fails the test.
func Scale(t testing.TB) float64 {
	t.Helper()
	s, ok := os.LookupEnv(Env)
	if !ok || s == "" {
		return 1
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f <= 0 {
		t.Fatalf("%s=%q: want a positive number", Env, s)
	}
	return f
}

// Size returns how large a campaign runs: base times [Scale], divided by
// raceDivisor under the race detector, and at least 1.
func Size(t testing.TB, base, raceDivisor int) int {
	t.Helper()
	n := int(float64(base) * Scale(t))
	if Race && raceDivisor > 1 {
		n /= raceDivisor
	}
	return max(n, 1)
}
