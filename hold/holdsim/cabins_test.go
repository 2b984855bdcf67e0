package holdsim

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/harborpoint/concord/claim"
	"github.com/harborpoint/concord/hold"
	"github.com/harborpoint/concord/internal/proof"
	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/sim"
)

// defaultCabinHistories is the size of the cabin campaign of a plain `go
// test` (a few seconds); CONCORD_PROOF_SCALE multiplies it.
const defaultCabinHistories = 20

// cabinMutantBudget is how many histories a cabin mutant may survive.
const cabinMutantBudget = 200

// cabinMutant is a broken variant of the cross-record system.
type cabinMutant struct {
	name   string
	target sim.Check
	hooks  cabinHooks
}

func cabinMutants() []cabinMutant {
	return []cabinMutant{
		{"confirm without claiming", sim.CrossRecord, cabinHooks{confirm: confirmWithoutClaim}},
		{"home store without compare-and-set", sim.CrossRecord, cabinHooks{blindHome: true}},
		{"one claim store per region, not one home", sim.CrossRecord, cabinHooks{homePerRegion: true}},
		{"no sweeper", sim.CrossRecord, cabinHooks{sweep: func(*cabinHistory, *cabinRegion, string) error { return nil }}},
	}
}

// confirmWithoutClaim is the confirmation of the hold alone, as before
// claims: the lifecycle's conditional write, no cabin claimed.
func confirmWithoutClaim(h *cabinHistory, r *cabinRegion, id, token, booking string) (replica.Record[hold.Hold], error) {
	return r.rep.Update(context.Background(), id, token, func(v *hold.Hold, _ replica.Write) error {
		return v.Confirm(booking, r.now())
	})
}

// runCabinMutant runs histories of m until one fails, up to max, then
// again with every check but the target muted.
func runCabinMutant(m cabinMutant, seed uint64, max int) sim.MutantResult {
	cfg := CabinConfig{Seed: seed, Histories: max}
	rep, err := runCabins(cfg, m.hooks)
	res := sim.MutantResult{Name: m.name, Runs: rep.Histories, Target: m.target}
	if err != nil || len(rep.Failures) == 0 {
		return res
	}
	res.Caught, res.Seed = true, rep.Failures[0].Seed
	for _, c := range sim.Checks() {
		if rep.Violations[c] > 0 {
			res.By = append(res.By, c)
		}
	}
	alone := m.hooks
	alone.mute = func(c sim.Check) bool { return c != m.target }
	arep, err := runCabins(cfg, alone)
	res.TargetAlone = err == nil && len(arep.Failures) > 0
	return res
}

// TestCabinCampaign runs the cross-record workload over many seeded
// histories, and every mutant until a history catches it.
// CONCORD_PROOF_SCALE multiplies the number of histories (20 by default,
// about a second; a tenth under -race):
//
//	CONCORD_PROOF_SCALE=100 go test ./hold/holdsim -run TestCabinCampaign -v -timeout 1h
func TestCabinCampaign(t *testing.T) {
	n := proof.Histories(t, defaultCabinHistories)
	rep, err := RunCabins(CabinConfig{Seed: 1, Histories: n, KeepGoing: n > defaultCabinHistories})
	if err != nil {
		t.Fatal(err)
	}
	for i, m := range cabinMutants() {
		rep.Mutants = append(rep.Mutants, runCabinMutant(m, 1+uint64(i)*1000, cabinMutantBudget))
	}
	t.Logf("\n%s", rep.String())
	if !rep.OK() {
		t.Errorf("the cabin campaign failed a check")
		for _, f := range rep.Failures {
			t.Logf("rerun: sim.ReproduceCabins(sim.CabinConfig{Seed: %d, Steps: %d})", f.Seed, f.Steps)
		}
	}
	c := rep.Confirms
	if c.Confirmed == 0 || c.Claimed == 0 || c.Unavailable == 0 || rep.Faults.LostReplies == 0 || rep.Writes.WhileCut == 0 {
		t.Errorf("the campaign did not exercise every path: %+v %+v", c, rep.Faults)
	}
	// Every mutant — above all confirming without claiming — is caught by
	// the cross-record check, even with every other check muted.
	for _, m := range rep.Mutants {
		if !m.Caught || !m.TargetAlone {
			t.Errorf("mutant %q: caught %v by %v in %d histories; by %v alone: %v", m.Name, m.Caught, m.By, m.Runs, m.Target, m.TargetAlone)
		}
	}
}

// TestConfirmWithoutClaimingSellsACabinTwice: the mutant does not only
// confirm holds the home never committed; it ends with two holds on one
// cabin confirmed — the double booking of the lesson — and the check says so.
func TestConfirmWithoutClaimingSellsACabinTwice(t *testing.T) {
	s := &cabinSettings{CabinConfig: CabinConfig{Cabins: 3, HoldsPerCabin: 3, Steps: DefaultCabinSteps}, faults: DefaultCabinFaults()}
	for seed := uint64(1); seed <= 20; seed++ {
		h := newCabinHistory(s, &cabinHooks{confirm: confirmWithoutClaim}, seed, s.Steps, false)
		h.run()
		for _, v := range h.viol {
			if v.Check == sim.CrossRecord && strings.Contains(v.Message, "are all confirmed") {
				t.Logf("seed %d: %s", seed, v)
				return
			}
		}
	}
	t.Fatal("confirming without claiming never confirmed two holds on one cabin")
}

// TestCabinHistoriesReplay: the same seed gives the same history and the
// same report; a mutant's failure replays from its seed and shrunk length.
func TestCabinHistoriesReplay(t *testing.T) {
	cfg := CabinConfig{Seed: 42, Steps: 120}
	v1, log1, err := ReproduceCabins(cfg)
	if err != nil {
		t.Fatal(err)
	}
	v2, log2, _ := ReproduceCabins(cfg)
	if log1 != log2 || !reflect.DeepEqual(v1, v2) || strings.Count(log1, "\n") < 120 {
		t.Fatal("two replays of one seed differ, or the history is short")
	}
	r1, _ := RunCabins(CabinConfig{Seed: 5, Histories: 5})
	r2, _ := RunCabins(CabinConfig{Seed: 5, Histories: 5})
	if !reflect.DeepEqual(r1, r2) {
		t.Fatal("two runs of one campaign differ")
	}
	rep, _ := runCabins(CabinConfig{Seed: 1, Histories: cabinMutantBudget}, cabinMutants()[0].hooks)
	if len(rep.Failures) != 1 {
		t.Fatalf("want one failure of the mutant, got %d", len(rep.Failures))
	}
	f := rep.Failures[0]
	h := newCabinHistory(&cabinSettings{CabinConfig: CabinConfig{Cabins: 3, HoldsPerCabin: 3, Steps: f.Steps}, faults: DefaultCabinFaults()},
		&cabinHooks{confirm: confirmWithoutClaim}, f.Seed, f.Steps, true)
	h.run()
	if !reflect.DeepEqual(h.viol, f.Violations) || !strings.Contains(f.String(), "VIOLATION cross-record") {
		t.Fatalf("the failure does not replay:\n%v\n%v", h.viol, f.Violations)
	}
}

func TestCabinConfigIsValidated(t *testing.T) {
	for _, cfg := range []CabinConfig{{Regions: 1}, {Regions: 5}, {Steps: -1}, {Faults: &CabinFaults{Stall: 2}}, {Faults: &CabinFaults{MaxSkew: -1}}} {
		if _, err := RunCabins(cfg); !errors.Is(err, sim.ErrInvalidConfig) {
			t.Errorf("%+v: %v", cfg, err)
		}
	}
}

// TestCabinsWithoutFaults: with no faults every confirmation is decided at
// once, and nothing is ever unavailable.
func TestCabinsWithoutFaults(t *testing.T) {
	rep, err := RunCabins(CabinConfig{Seed: 3, Histories: 8, Faults: &CabinFaults{}})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || rep.Confirms.Unavailable+rep.Confirms.Fenced != 0 || rep.Claims[claim.TakenOver] != 0 {
		t.Fatalf("%s", rep.String())
	}
}
