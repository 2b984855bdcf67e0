package sim_test

import (
	"errors"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/harborpoint/concord/hold"
	"github.com/harborpoint/concord/hold/holdsim"
	"github.com/harborpoint/concord/internal/proof"
	"github.com/harborpoint/concord/policy"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/sim"
)

// campaignHistories is the size of the campaign of a plain `go test`, a
// smoke run of a few seconds on one core; CONCORD_PROOF_SCALE multiplies it
// (.ci/run runs it 30 times larger: 3,600 histories) and the race detector
// divides it (see internal/proof).
const campaignHistories = 120

// mutantBudget is how many histories a mutant may survive before the test
// calls it missed.
const mutantBudget = 300

// raceMutantBudget is how many histories of each mutant run under the race
// detector.
const raceMutantBudget = 8

func envInt(t *testing.T, name string, def int) int {
	t.Helper()
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		t.Fatalf("%s=%q: want a count", name, s)
	}
	return n
}

// TestCampaign runs the hold workload over many seeded histories and every
// mutant, and logs one summary. Environment:
//
//	CONCORD_PROOF_SCALE    multiplies the default size (120 histories; 12 under -race)
//	CONCORD_SIM_HISTORIES  histories to run, overriding the scaled default
//	CONCORD_SIM_SEED       seed of the first history (default 1)
//	CONCORD_SIM_STEPS      steps per history (default 100)
//	CONCORD_SIM_REPLICAS   replicas, 2 to 5 (default: drawn per history)
//	CONCORD_SIM_WORKERS    goroutines (default 1)
//
// A large campaign keeps going after a failure, to count them all:
//
//	CONCORD_SIM_HISTORIES=100000 CONCORD_SIM_WORKERS=2 go test ./sim -run TestCampaign -v -timeout 2h
func TestCampaign(t *testing.T) {
	def := proof.Histories(t, campaignHistories)
	cfg := sim.Config{
		Seed:      uint64(envInt(t, "CONCORD_SIM_SEED", 1)),
		Histories: envInt(t, "CONCORD_SIM_HISTORIES", def),
		Steps:     envInt(t, "CONCORD_SIM_STEPS", 0),
		Replicas:  envInt(t, "CONCORD_SIM_REPLICAS", 0),
		Workers:   envInt(t, "CONCORD_SIM_WORKERS", 1),
	}
	cfg.KeepGoing = cfg.Histories > def
	rep, err := sim.Run(cfg, holdsim.Workload())
	if err != nil {
		t.Fatal(err)
	}
	// A campaign larger than the default one (CONCORD_PROOF_SCALE, as in
	// .ci/run, or CONCORD_SIM_HISTORIES) also searches for every mutant from
	// its own seeds; the default run leaves that to
	// TestMutantsAreCaughtByTheirTargetCheck, which starts at the seeds
	// known to catch them. Under the race detector the search finds no more
	// races and would double the package's time.
	for i, m := range mutants() {
		if sim.RaceEnabled || cfg.Histories <= campaignHistories {
			break
		}
		res, _ := runMutant(m, cfg.Seed+uint64(i)*1000, mutantBudget)
		rep.Mutants = append(rep.Mutants, res)
	}
	t.Logf("\n%s", rep.String())
	if !rep.OK() {
		t.Errorf("the campaign failed a check")
		for _, f := range rep.Failures {
			t.Logf("rerun: CONCORD_SIM_SEED=%d CONCORD_SIM_STEPS=%d CONCORD_SIM_HISTORIES=1 CONCORD_SIM_REPLICAS=%d go test ./sim -run 'TestCampaign$' -v (the prefix; sim.Reproduce with Skip: %v replays the shrunk history)",
				f.Seed, f.Steps, cfg.Replicas, f.Skipped)
		}
	}
	if rep.Loss.Lost != 0 {
		t.Errorf("%d acknowledged writes lost", rep.Loss.Lost)
	}
	for _, m := range rep.Mutants {
		if !m.Caught {
			t.Errorf("mutant %q survived %d histories", m.Name, m.Runs)
		}
	}
}

// mutantSeeds is, for each mutant, the first seed of its search (from
// 7+1000i, i its place in mutants()) at which its target check alone
// catches it: TestMutantsAreCaughtByTheirTargetCheck starts there, so a
// plain `go test` runs one history of each where the search would run up
// to a hundred. A mutant missing here, or a workload change that moves the
// histories, falls back to searching onward from that seed (the test logs
// the seed that caught it: pin that one).
var mutantSeeds = map[string]uint64{
	"merge drops a concurrent sibling":                                          7,
	"LWW tiebreak differs between replicas":                                     1007,
	"anti-entropy skips a key":                                                  2007,
	"update ignores the client's context":                                       3017,
	"replica reuses dots after losing its state":                                4012,
	"lifecycle and booking merged last-writer-wins":                             5010,
	"update writes with an empty context":                                       6007,
	"review queue's token built from sibling dots only":                         7012,
	"apply does not move the clock past remote stamps":                          8007,
	"a lost compare-and-set acknowledged as success":                            9007,
	"a command does not record its idempotency key":                             10010,
	"a confirmed branch does not keep its terms":                                11014,
	"released vs active merged to released":                                     12026,
	"reap before every member acknowledged":                                     13019,
	"horizon not consulted when a late version arrives":                         14100,
	"delete written with an empty context":                                      15007,
	"update-wins ignoring the delete's context":                                 16011,
	"delete concurrent with an update settled update-wins, declared a conflict": 17010,
	"a stale delete is not refused":                                             18030,
	"acknowledgements never sent":                                               19008,
	"a store whose delete frees nothing":                                        20007,
}

// TestMutantsAreCaughtByTheirTargetCheck: each mutant is caught by the check
// written for it even with every other check turned off, so no check leans
// on another. Each mutant starts at its pinned seed (mutantSeeds) and may
// run up to mutantBudget histories. Under the race detector, which slows
// histories tenfold, it runs at most raceMutantBudget histories of each
// mutant, all checks on (see runMutant), and asks for no verdict: the
// verdicts are the plain run's. CONCORD_SIM_SEED=N searches instead from
// N+1000i, as the pinned seeds were found (with N=7).
func TestMutantsAreCaughtByTheirTargetCheck(t *testing.T) {
	seed := uint64(envInt(t, "CONCORD_SIM_SEED", 7))
	_, search := os.LookupEnv("CONCORD_SIM_SEED")
	for i, m := range mutants() {
		start := seed + uint64(i)*1000
		if pinned, ok := mutantSeeds[m.name]; ok && !search {
			start = pinned
		}
		if sim.RaceEnabled {
			res, _ := runMutant(m, start, raceMutantBudget)
			t.Logf("%s: caught %v by %v after %d histories", m.name, res.Caught, res.By, res.Runs)
			continue
		}
		res, _ := runMutant(m, start, mutantBudget)
		t.Logf("%s: caught by %v after %d histories from seed %d (first catch at seed %d)", m.name, res.By, res.Runs, start, res.Seed)
		if !res.Caught || !res.TargetAlone {
			t.Errorf("mutant %q: caught %v by %v; by %v alone: %v", m.name, res.Caught, res.By, m.target, res.TargetAlone)
		}
	}
}

// TestHistoriesReplayFromTheirSeed: the same seed gives the same history,
// event for event, and the same report.
func TestHistoriesReplayFromTheirSeed(t *testing.T) {
	cfg := sim.Config{Seed: 99, Histories: 1, Steps: 150}
	v1, log1, err := sim.Reproduce(cfg, holdsim.Workload())
	if err != nil {
		t.Fatal(err)
	}
	v2, log2, _ := sim.Reproduce(cfg, holdsim.Workload())
	if log1 != log2 || !reflect.DeepEqual(v1, v2) {
		t.Fatal("two replays of one seed differ")
	}
	if n := strings.Count(log1, "\n"); n < 150 {
		t.Fatalf("history has %d events, want at least one a step", n)
	}
	r1, _ := sim.Run(sim.Config{Seed: 5, Histories: 8}, holdsim.Workload())
	r2, _ := sim.Run(sim.Config{Seed: 5, Histories: 8, Workers: 3}, holdsim.Workload())
	if !reflect.DeepEqual(r1, r2) {
		t.Fatalf("reports differ with workers:\n%s\n%s", r1.String(), r2.String())
	}
}

// TestFailureReproducesFromItsSeed: a failure's seed and shrunk length
// replay the same violations, and the printed failure says how.
func TestFailureReproducesFromItsSeed(t *testing.T) {
	w := holdsim.Workload()
	mutants()[3].apply(&w) // update ignores the client's context
	rep, err := sim.Run(sim.Config{Seed: 1, Histories: mutantBudget}, w)
	if err != nil || len(rep.Failures) != 1 {
		t.Fatalf("want one failure, got %d (%v)", len(rep.Failures), err)
	}
	f := rep.Failures[0]
	if f.Steps > f.OrigSteps || f.Steps < 1 {
		t.Fatalf("shrunk to %d of %d steps", f.Steps, f.OrigSteps)
	}
	viol, history, err := sim.Reproduce(sim.Config{Seed: f.Seed, Histories: 1, Steps: f.Steps, Skip: f.Skipped}, w)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(viol, f.Violations) {
		t.Fatalf("replay found %v, the failure %v", viol, f.Violations)
	}
	if shorter, _, _ := sim.Reproduce(sim.Config{Seed: f.Seed, Histories: 1, Steps: f.Steps - 1, Skip: f.Skipped}, w); len(shorter) != 0 && f.Steps > 1 {
		t.Logf("note: the prefix one step shorter also fails (bisection is a heuristic)")
	}
	out := f.String()
	for _, want := range []string{"seed " + strconv.FormatUint(f.Seed, 10), "rerun: sim.Config{Seed: ", "violation step", "history:"} {
		if !strings.Contains(out, want) {
			t.Errorf("failure output lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(history, "VIOLATION") {
		t.Errorf("replayed history does not show the violation")
	}
}

func TestConfigIsValidated(t *testing.T) {
	for _, cfg := range []sim.Config{
		{Replicas: 1}, {Replicas: 6}, {Steps: -1}, {Faults: &sim.Faults{Drop: 2}}, {Faults: &sim.Faults{MaxSkew: -1}},
	} {
		if _, err := sim.Run(cfg, holdsim.Workload()); !errors.Is(err, sim.ErrInvalidConfig) {
			t.Errorf("%+v: err %v, want sim.ErrInvalidConfig", cfg, err)
		}
	}
	if _, err := sim.Run(sim.Config{}, sim.Workload[hold.Hold]{}); !errors.Is(err, sim.ErrInvalidConfig) {
		t.Errorf("empty workload: err %v", err)
	}
}

// TestPerfectNetwork: with no faults nothing is lost, delayed or skewed.
func TestPerfectNetwork(t *testing.T) {
	rep, err := sim.Run(sim.Config{Seed: 3, Histories: 15, Faults: &sim.Faults{}}, holdsim.Workload())
	if err != nil {
		t.Fatal(err)
	}
	f := rep.Faults
	if !rep.OK() || f.Drops+f.Duplicates+f.Partitions+f.Crashes+f.Skews+f.Delays+f.LostReplies+f.Corruptions != 0 || rep.Loss.DiedWithDisk+rep.Loss.DiedWithMemory != 0 {
		t.Fatalf("a perfect network injected faults or failed:\n%s", rep.String())
	}
}

// TestShortCommandHorizon runs holds whose command keys are kept only 10
// seconds (histories last about 15): keys are forgotten during the
// histories, and a retry within the horizon (less twice the clock skew) at
// a replica that has seen the command's first run is still replayed; no
// other check may suffer.
func TestShortCommandHorizon(t *testing.T) {
	w := holdsim.Workload()
	h := policy.Horizon{Age: 10 * time.Second, Keys: 16}
	w.NewResolver = func() *resolve.Resolver[hold.Hold] {
		return holdResolverWith(policy.LWW[string](), hold.Lifecycle, policy.Once[string](), h)
	}
	w.CommandHorizon = h
	// At least 6 histories, under -race too: one may retry no command.
	rep, err := sim.Run(sim.Config{Seed: 11, Histories: max(proof.Histories(t, 12), 6), Steps: 150}, w)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || rep.Loss.Lost != 0 {
		t.Fatalf("%s", rep.String())
	}
	if rep.Clients.Retries == 0 {
		t.Fatal("no command was retried")
	}
	t.Logf("%d histories: %d command retries, %d replayed", rep.Histories, rep.Clients.Retries, rep.Clients.Replayed)
}

// TestShrinkingLeavesOutSteps: a mutant's failure, cut to its shortest
// failing prefix, loses most of its other steps too, and the shorter
// history still fails the same check and replays from its seed, length
// and left-out steps.
func TestShrinkingLeavesOutSteps(t *testing.T) {
	w := holdsim.Workload()
	mutants()[3].apply(&w) // update ignores the client's context
	prefix, err := sim.Run(sim.Config{Seed: 1, Histories: mutantBudget, Shrink: sim.ShrinkPrefix}, w)
	if err != nil || len(prefix.Failures) != 1 {
		t.Fatalf("want one failure, got %d (%v)", len(prefix.Failures), err)
	}
	cfg := sim.Config{Seed: 1, Histories: mutantBudget}
	if sim.RaceEnabled {
		cfg.Shrink = 40 // a tenth of the replays: it still leaves steps out
	}
	rep, _ := sim.Run(cfg, w)
	p, f := prefix.Failures[0], rep.Failures[0]
	if f.Seed != p.Seed || f.Steps != p.Steps || len(f.Skipped) == 0 {
		t.Fatalf("prefix %d steps of seed %d; shrunk %d steps of seed %d, %d left out", p.Steps, p.Seed, f.Steps, f.Seed, len(f.Skipped))
	}
	if f.Violations[0].Check != p.Violations[0].Check {
		t.Fatalf("the shrunk history fails %v, the prefix %v", f.Violations[0].Check, p.Violations[0].Check)
	}
	pe, fe := strings.Count(p.History, "\n"), strings.Count(f.History, "\n")
	if fe >= pe {
		t.Fatalf("the shrunk history has %d events, its prefix %d", fe, pe)
	}
	viol, _, err := sim.Reproduce(sim.Config{Seed: f.Seed, Steps: f.Steps, Skip: f.Skipped}, w)
	if err != nil || !reflect.DeepEqual(viol, f.Violations) {
		t.Fatalf("replay found %v (%v), the failure %v", viol, err, f.Violations)
	}
	t.Logf("seed %d: prefix of %d steps, %d events; %d steps left out, %d events:\n%s", f.Seed, f.Steps, pe, len(f.Skipped), fe, f.String())
}
