package sim_test

import (
	"testing"

	"github.com/harborpoint/concord/hold/holdsim"
	"github.com/harborpoint/concord/sim"
)

// FuzzHistory searches the seed space: every history, of any length over
// any number of replicas, must pass every check. The decoders of replicated
// and stored records are fuzzed where they live (version.FuzzDecodeClock,
// replica's Apply fuzzer); this fuzzer drives them with the states a faulty
// network really produces.
func FuzzHistory(f *testing.F) {
	for _, seed := range []uint64{1, 2, 42, 1 << 40, 0xdeadbeef} {
		f.Add(seed, uint8(80), uint8(1))
	}
	f.Fuzz(func(t *testing.T, seed uint64, steps, replicas uint8) {
		cfg := sim.Config{Seed: seed, Histories: 1, Steps: int(steps)%200 + 1, Replicas: int(replicas)%4 + 2}
		rep, err := sim.Run(cfg, holdsim.Workload())
		if err != nil {
			t.Fatal(err)
		}
		if !rep.OK() {
			t.Fatalf("\n%s", rep.String())
		}
	})
}
