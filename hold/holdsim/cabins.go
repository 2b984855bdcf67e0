package holdsim

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/harborpoint/concord/claim"
	"github.com/harborpoint/concord/hold"
	"github.com/harborpoint/concord/hold/booking"
	"github.com/harborpoint/concord/internal/splitmix"
	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/sim"
	"github.com/harborpoint/concord/version"
)

// CabinConfig says how many cross-record histories [RunCabins] runs and how
// hostile their world is. The zero CabinConfig is valid: one history of
// [DefaultCabinSteps] steps over 2 to 4 regions, three cabins with three
// holds each, and [DefaultCabinFaults].
type CabinConfig struct {
	// Seed is the seed of the first history; history i runs with Seed+i.
	Seed uint64
	// Histories is the number of histories. Zero means 1.
	Histories int
	// Regions is the number of regions, 2 to 4. Zero means a number drawn
	// from each history's seed.
	Regions int
	// Cabins is the number of cabins, each sold again on every sailing.
	// Zero means 3.
	Cabins int
	// HoldsPerCabin is the number of holds on each cabin per sailing. Zero
	// means 3.
	HoldsPerCabin int
	// Steps is the number of steps before the final heal. Zero means
	// [DefaultCabinSteps].
	Steps int
	// Faults are the fault rates. Nil means [DefaultCabinFaults].
	Faults *CabinFaults
	// KeepGoing keeps running after a failing history; by default RunCabins
	// stops at the first one and shrinks it.
	KeepGoing bool
}

// DefaultCabinSteps is the length of a cabin history when
// CabinConfig.Steps is 0.
const DefaultCabinSteps = 150

// CabinFaults are the rates of the faults of a cabin history: per step for
// links and routes, per confirmation for the rest. The zero CabinFaults
// injects nothing.
type CabinFaults struct {
	Partition float64 // a random link between two regions is cut
	Heal      float64 // a cut link heals; anti-entropy follows
	HomeCut   float64 // a region loses its route to the cabins' home store
	HomeHeal  float64 // a region's route to the home comes back
	// LostReply: the confirming process dies right after the home wrote its
	// claim, or its commit (one or the other at random): the client gets
	// ErrUnavailable and nothing more happens.
	LostReply float64
	// Stall: the confirming process stalls between its claim and its
	// commit past the claim's deadline and the margin, while another
	// region confirms another hold on the cabin.
	Stall float64
	// Race: between the home's read and its compare-and-set of a claim,
	// another region confirms another hold on the cabin.
	Race float64
	// Retry: a client whose confirmation got ErrUnavailable retries it
	// later, with the same token and booking, at any region.
	Retry float64
	// MaxSkew bounds each region's clock offset. Safety does not depend on
	// it; it is kept below the margin so that healthy confirmations are not
	// fenced.
	MaxSkew time.Duration
}

// DefaultCabinFaults returns the fault rates used when CabinConfig.Faults is
// nil.
func DefaultCabinFaults() CabinFaults {
	return CabinFaults{Partition: 0.04, Heal: 0.06, HomeCut: 0.05, HomeHeal: 0.08,
		LostReply: 0.2, Stall: 0.05, Race: 0.1, Retry: 0.5, MaxSkew: time.Second}
}

// epoch is the simulated time at which every cabin history starts.
var epoch = time.Date(2026, 11, 26, 14, 0, 0, 0, time.UTC)

// regionNames name the simulated regions.
var regionNames = []string{"lisbon", "baltimore", "tokyo", "sydney"}

// maxKept bounds the violations kept per history (all are counted).
const maxKept = 20

// The claim timing of the simulated desks.
const (
	cabinPendingFor = 3 * time.Second
	cabinMargin     = 2 * time.Second
)

// CabinReport is the summary of a cabin campaign.
type CabinReport struct {
	FirstSeed, LastSeed uint64
	Histories, Steps    int
	// Confirms counts confirmations by outcome.
	Confirms CabinConfirms
	// Writes counts the other acknowledged writes of holds, and those made
	// by a region cut off from the home.
	Writes CabinWrites
	// Claims counts the outcomes the homes reported, summed over regions.
	Claims map[claim.Kind]int
	// Faults counts the faults injected.
	Faults CabinFaultCounts
	// Violations counts violations by check; every entry must be 0.
	Violations map[sim.Check]int
	// Failures are the failing histories, shrunk.
	Failures []sim.Failure
	// Mutants are filled in by callers that ran broken variants.
	Mutants []sim.MutantResult
}

// CabinConfirms counts confirmations by outcome.
type CabinConfirms struct {
	Attempts    int // confirmations made, retries included
	Retries     int // retries of a confirmation that got ErrUnavailable
	Confirmed   int // succeeded
	Claimed     int // refused: another hold has the cabin (ErrClaimed)
	Unavailable int // the home out of reach, or the reply lost (ErrUnavailable)
	Fenced      int // lost the claim while stalled (ErrFenced, ErrNotOwner)
	Refused     int // refused by the hold itself: stale token, open conflict, expired, not active
}

// CabinWrites counts acknowledged writes other than confirmations.
type CabinWrites struct {
	Extends, Notes, Releases int
	// WhileCut are those made by a region cut off from the home.
	WhileCut int
	// Sweeps are Reconcile calls that completed.
	Sweeps int
}

// CabinFaultCounts counts the faults injected.
type CabinFaultCounts struct {
	Partitions, Heals, HomeCuts, HomeHeals, LostReplies, Stalls, Races int
}

// OK reports whether no check failed.
func (r *CabinReport) OK() bool {
	for _, n := range r.Violations {
		if n > 0 {
			return false
		}
	}
	return len(r.Failures) == 0
}

func (r *CabinReport) add(o *CabinReport) {
	if r.Histories == 0 {
		r.FirstSeed = o.FirstSeed
	}
	r.LastSeed = o.LastSeed
	r.Histories += o.Histories
	r.Steps += o.Steps
	c, oc := &r.Confirms, o.Confirms
	c.Attempts, c.Retries, c.Confirmed, c.Claimed = c.Attempts+oc.Attempts, c.Retries+oc.Retries, c.Confirmed+oc.Confirmed, c.Claimed+oc.Claimed
	c.Unavailable, c.Fenced, c.Refused = c.Unavailable+oc.Unavailable, c.Fenced+oc.Fenced, c.Refused+oc.Refused
	w, ow := &r.Writes, o.Writes
	w.Extends, w.Notes, w.Releases, w.WhileCut, w.Sweeps = w.Extends+ow.Extends, w.Notes+ow.Notes, w.Releases+ow.Releases, w.WhileCut+ow.WhileCut, w.Sweeps+ow.Sweeps
	f, of := &r.Faults, o.Faults
	f.Partitions, f.Heals, f.HomeCuts, f.HomeHeals = f.Partitions+of.Partitions, f.Heals+of.Heals, f.HomeCuts+of.HomeCuts, f.HomeHeals+of.HomeHeals
	f.LostReplies, f.Stalls, f.Races = f.LostReplies+of.LostReplies, f.Stalls+of.Stalls, f.Races+of.Races
	if r.Claims == nil {
		r.Claims = map[claim.Kind]int{}
	}
	for k, n := range o.Claims {
		r.Claims[k] += n
	}
	if r.Violations == nil {
		r.Violations = map[sim.Check]int{}
	}
	for _, ch := range sim.Checks() {
		r.Violations[ch] += o.Violations[ch]
	}
	r.Failures = append(r.Failures, o.Failures...)
}

// String returns the summary, one topic a line.
func (r *CabinReport) String() string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	p("concord sim, cabins: %d histories, %d steps, seeds %d..%d", r.Histories, r.Steps, r.FirstSeed, r.LastSeed)
	c := r.Confirms
	p("confirmations: %d (retries %d): confirmed %d, refused: cabin claimed %d, home unavailable %d, fenced %d, by the hold %d",
		c.Attempts, c.Retries, c.Confirmed, c.Claimed, c.Unavailable, c.Fenced, c.Refused)
	w := r.Writes
	p("other writes: extends %d, notes %d, releases %d, of which %d by a region cut off from the home; sweeps %d", w.Extends, w.Notes, w.Releases, w.WhileCut, w.Sweeps)
	var ks []string
	for _, k := range claim.Kinds() {
		ks = append(ks, fmt.Sprintf("%s %d", k, r.Claims[k]))
	}
	p("claim outcomes: %s", strings.Join(ks, ", "))
	f := r.Faults
	p("faults: partitions %d (heals %d), cut from the home %d (restored %d), lost replies %d, stalls past the margin %d, races inside a compare-and-set %d",
		f.Partitions, f.Heals, f.HomeCuts, f.HomeHeals, f.LostReplies, f.Stalls, f.Races)
	var vs []string
	for _, ch := range sim.Checks() {
		vs = append(vs, fmt.Sprintf("%s %d", ch, r.Violations[ch]))
	}
	p("violations: %s", strings.Join(vs, ", "))
	for _, m := range r.Mutants {
		by := "NOT CAUGHT"
		if m.Caught {
			by = fmt.Sprintf("%v (seed %d, %d runs); target %s alone: %v", m.By, m.Seed, m.Runs, m.Target, m.TargetAlone)
		}
		p("mutant %s: %s", m.Name, by)
	}
	for i, fl := range r.Failures {
		if i == 3 {
			p("... and %d more failures", len(r.Failures)-3)
			break
		}
		b.WriteString(fl.String())
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// cabinSettings is a CabinConfig with its defaults filled in.
type cabinSettings struct {
	CabinConfig
	faults CabinFaults
}

func (c CabinConfig) settle() (cabinSettings, error) {
	s := cabinSettings{CabinConfig: c, faults: DefaultCabinFaults()}
	var problems []error
	if c.Histories < 0 || c.Cabins < 0 || c.HoldsPerCabin < 0 || c.Steps < 0 {
		problems = append(problems, errors.New("negative count"))
	}
	if c.Regions != 0 && (c.Regions < 2 || c.Regions > 4) {
		problems = append(problems, fmt.Errorf("regions %d, want 2 to 4", c.Regions))
	}
	if c.Faults != nil {
		s.faults = *c.Faults
		f := s.faults
		for _, p := range []float64{f.Partition, f.Heal, f.HomeCut, f.HomeHeal, f.LostReply, f.Stall, f.Race, f.Retry} {
			if p < 0 || p > 1 {
				problems = append(problems, fmt.Errorf("fault rate %v outside 0..1", p))
			}
		}
		if f.MaxSkew < 0 {
			problems = append(problems, errors.New("negative MaxSkew"))
		}
	}
	if len(problems) > 0 {
		return s, fmt.Errorf("%w: %w", sim.ErrInvalidConfig, errors.Join(problems...))
	}
	for _, d := range []struct {
		p *int
		v int
	}{{&s.Histories, 1}, {&s.Cabins, 3}, {&s.HoldsPerCabin, 3}, {&s.Steps, DefaultCabinSteps}} {
		if *d.p == 0 {
			*d.p = d.v
		}
	}
	return s, nil
}

// RunCabins runs cfg.Histories histories of Harbor Point's cross-record
// workload and returns their summary. Several holds share each cabin, and
// every cabin is sold again on each sailing (every 30 steps);
// clients in every region confirm them through a [booking.Desk] (claiming
// the cabin at one home store), extend them, edit their notes, release
// them, and sweep (Desk.Reconcile), while links between regions are cut
// and healed, regions lose their route to the home, confirming processes
// die right after their claim or their commit was written, stall past the
// claim's margin, and race another confirmation inside the home's
// compare-and-set. At the end every link and route heals, the clock
// passes every claim's deadline, anti-entropy runs between every pair,
// every region sweeps every hold, and anti-entropy runs again.
//
// Check [sim.CrossRecord] runs after every step and at the end;
// [sim.Convergence] compares the regions' holds at the end; [sim.Errors]
// catches a write other than a confirmation refused for want of the home
// (extends, notes and releases must stay available) and any other
// unexpected error.
//
// A history is deterministic in its seed; a failing one is shrunk to its
// shortest failing prefix and reported with its events, and
// [ReproduceCabins] replays one.
func RunCabins(cfg CabinConfig) (CabinReport, error) { return runCabins(cfg, cabinHooks{}) }

func runCabins(cfg CabinConfig, hooks cabinHooks) (CabinReport, error) {
	s, err := cfg.settle()
	if err != nil {
		return CabinReport{}, err
	}
	total := CabinReport{Violations: map[sim.Check]int{}, Claims: map[claim.Kind]int{}}
	for i := range s.Histories {
		seed := s.Seed + uint64(i)
		h := newCabinHistory(&s, &hooks, seed, s.Steps, false)
		h.run()
		if len(h.viol) > 0 {
			h.rep.Failures = []sim.Failure{shrinkCabins(&s, &hooks, seed, s.Steps)}
		}
		total.add(&h.rep)
		if len(h.viol) > 0 && !s.KeepGoing {
			break
		}
	}
	return total, nil
}

// ReproduceCabins replays the first history of cfg (seeded cfg.Seed) with
// every event logged, and returns its violations and its history.
func ReproduceCabins(cfg CabinConfig) ([]sim.Violation, string, error) {
	s, err := cfg.settle()
	if err != nil {
		return nil, "", err
	}
	h := newCabinHistory(&s, &cabinHooks{}, s.Seed, s.Steps, true)
	h.run()
	return h.viol, strings.Join(h.log, "\n") + "\n", nil
}

// shrinkCabins finds the shortest failing prefix by bisection and replays
// it with logging.
func shrinkCabins(s *cabinSettings, hooks *cabinHooks, seed uint64, steps int) sim.Failure {
	fails := func(n int, logging bool) *cabinHistory {
		h := newCabinHistory(s, hooks, seed, n, logging)
		h.run()
		if len(h.viol) == 0 {
			return nil
		}
		return h
	}
	lo, hi := 0, steps
	for lo < hi {
		mid := (lo + hi) / 2
		if fails(mid, false) != nil {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	h := fails(hi, true)
	if h == nil {
		hi = steps
		h = fails(hi, true)
	}
	return sim.Failure{Seed: seed, Steps: hi, OrigSteps: steps, Replicas: len(h.regions), Violations: h.viol, History: strings.Join(h.log, "\n") + "\n"}
}

// cabinHooks replace parts of the system with broken variants, for this
// package's tests only.
type cabinHooks struct {
	// confirm makes a confirmation instead of Desk.Confirm.
	confirm func(h *cabinHistory, r *cabinRegion, id, token, booking string) (replica.Record[hold.Hold], error)
	// blindHome makes the home store's writes ignore the revision.
	blindHome bool
	// homePerRegion gives every region a claim store of its own.
	homePerRegion bool
	// sweep reconciles a hold instead of Desk.Reconcile.
	sweep func(h *cabinHistory, r *cabinRegion, id string) error
	// mute ignores the violations of some checks.
	mute func(sim.Check) bool
}

// cabinHold is one hold of the workload.
type cabinHold struct{ id, cabin string }

// cabinRegion is one region: its replica of holds, its route to the home
// and its desk.
type cabinRegion struct {
	idx    int
	name   string
	rep    *replica.Replica[hold.Hold]
	link   *homeLink
	desk   *booking.Desk
	offset time.Duration
	h      *cabinHistory
}

// now is the region's clock: true time plus its offset.
func (r *cabinRegion) now() time.Time { return r.h.now.Add(r.offset) }

// cabinAttempt is one confirmation and what its client was told.
type cabinAttempt struct {
	step    int
	region  string
	hold    cabinHold
	token   string
	booking string
	outcome attemptOutcome
	err     error
}

type attemptOutcome int8

const (
	attemptConfirmed attemptOutcome = iota + 1
	attemptClaimed
	attemptUnavailable
	attemptFenced
	attemptRefused
)

// definite reports whether the client was told the confirmation did not
// happen (ErrUnavailable leaves it open).
func (o attemptOutcome) definite() bool { return o != attemptUnavailable && o != attemptConfirmed }

// cabinHistory is one simulated run.
type cabinHistory struct {
	s        *cabinSettings
	hooks    *cabinHooks
	seed     uint64
	steps    int
	rng      *rand.Rand
	ctx      context.Context
	now      time.Time
	step     int
	regions  []*cabinRegion
	cut      [][]bool
	store    *replica.MemoryStore // the cabins' home store
	truth    *claim.Home          // reads the home store directly, for the checks
	counters claim.Counters
	holds    []cabinHold // every hold of every sailing
	cabins   []string    // every cabin of every sailing, such as "C2s3"
	current  []cabinHold // the holds of the latest sailing, which clients work on
	sailing  int
	tokens   map[string]string // the token a client last read of each hold
	attempts []*cabinAttempt
	retries  []*cabinAttempt
	bookings int
	idem     int
	stall    bool // the next BeforeCommit stalls
	stalling bool // a stall or a race is running its interloper

	rep     CabinReport
	viol    []sim.Violation
	seen    map[string]bool
	logging bool
	log     []string
}

func newCabinHistory(s *cabinSettings, hooks *cabinHooks, seed uint64, steps int, logging bool) *cabinHistory {
	h := &cabinHistory{
		s: s, hooks: hooks, seed: seed, steps: steps, logging: logging,
		rng: rand.New(rand.NewPCG(splitmix.Mix(seed), splitmix.Mix(seed^0x5bd1e9955bd1e995))),
		ctx: context.Background(), now: epoch, store: replica.NewMemoryStore(),
		tokens: map[string]string{}, seen: map[string]bool{},
	}
	h.rep = CabinReport{FirstSeed: seed, LastSeed: seed, Histories: 1, Violations: map[sim.Check]int{}, Claims: map[claim.Kind]int{}}
	h.truth, _ = claim.NewHome(h.store, claim.Options{Margin: cabinMargin, Now: func() time.Time { return h.now }})
	n := s.Regions
	if n == 0 {
		n = 2 + h.rng.IntN(3)
	}
	for i := range n {
		h.regions = append(h.regions, h.newRegion(i))
		h.cut = append(h.cut, make([]bool, n))
	}
	h.logf("start: seed %d, %d regions, %d cabins with %d holds each per sailing, a sailing every %d steps", seed, n, s.Cabins, s.HoldsPerCabin, sailingEvery)
	return h
}

// sailingEvery is the number of steps between two sailings: each sailing
// sells every cabin again, to new holds.
const sailingEvery = 30

// openSailing puts every cabin on sale for the next sailing: new holds,
// each created in a random region and replicated from there.
func (h *cabinHistory) openSailing() {
	h.sailing++
	h.current = h.current[:0]
	for c := range h.s.Cabins {
		cabin := fmt.Sprintf("C%ds%d", c+1, h.sailing)
		h.cabins = append(h.cabins, cabin)
		for k := range h.s.HoldsPerCabin {
			hd := cabinHold{id: fmt.Sprintf("H-%ds%d-%d", c+1, h.sailing, k+1), cabin: cabin}
			h.holds = append(h.holds, hd)
			h.current = append(h.current, hd)
			r := h.regions[h.rng.IntN(len(h.regions))]
			expires := h.now.Add(time.Duration(20+h.rng.IntN(40)) * time.Second)
			if _, err := r.rep.Create(h.ctx, hd.id, hold.New(hd.id, hd.cabin, r.name+"-desk", expires)); err != nil {
				h.violate(sim.Errors, "create %s: %v", hd.id, err)
			}
			h.logf("%v creates %s on %s until t+%.0fs", r.name, hd.id, hd.cabin, expires.Sub(epoch).Seconds())
			h.replicate(r, hd.id)
		}
	}
}

// newRegion builds region i: a replica of holds over its own store, a
// route to the home store, and a desk.
func (h *cabinHistory) newRegion(i int) *cabinRegion {
	r := &cabinRegion{idx: i, name: regionNames[i], h: h, link: &homeLink{store: h.store, blind: h.hooks.blindHome}}
	if h.hooks.homePerRegion {
		r.link.store = replica.NewMemoryStore()
	}
	if max := h.s.faults.MaxSkew; max > 0 {
		r.offset = time.Duration((h.rng.Float64()*2 - 1) * float64(max))
	}
	rep, err := replica.New(version.MustID(r.name), replica.NewMemoryStore(), hold.Resolver(resolve.Options{}), replica.Options[hold.Hold]{
		Codec: hold.Codec{}, Clock: version.NewHLC(version.HLCOptions{Now: r.now}, version.Timestamp{}), CommandKeys: hold.CommandKeys, Now: r.now,
	})
	if err != nil {
		panic(err) // fixed arguments: a failure is a bug
	}
	home, err := claim.NewHome(r.link, claim.Options{Margin: cabinMargin, Now: r.now, Observer: &h.counters})
	if err != nil {
		panic(err)
	}
	r.rep = rep
	r.desk, err = booking.New(rep, home, booking.Options{PendingFor: cabinPendingFor, Now: r.now, BeforeCommit: h.beforeCommit})
	if err != nil {
		panic(err)
	}
	return r
}

func (h *cabinHistory) logf(format string, args ...any) {
	if h.logging {
		h.log = append(h.log, fmt.Sprintf("%4d t+%06.3fs  ", h.step, h.now.Sub(epoch).Seconds())+fmt.Sprintf(format, args...))
	}
}

func (h *cabinHistory) violate(c sim.Check, format string, args ...any) {
	if h.hooks.mute != nil && h.hooks.mute(c) {
		return
	}
	msg := fmt.Sprintf(format, args...)
	if h.seen[msg] {
		return
	}
	h.seen[msg] = true
	h.rep.Violations[c]++
	if len(h.viol) < maxKept {
		h.viol = append(h.viol, sim.Violation{Check: c, Step: h.step, Message: msg})
	}
	h.logf("VIOLATION %s: %s", c, msg)
}

// run creates the holds, runs the steps, heals everything and checks.
func (h *cabinHistory) run() {
	h.openSailing()
	for range h.steps {
		h.runStep()
	}
	h.finish()
	h.rep.Steps = h.steps
	for k, n := range h.counters.Snapshot() {
		h.rep.Claims[k] += int(n)
	}
}

func (h *cabinHistory) runStep() {
	h.step++
	h.now = h.now.Add(time.Duration(1+h.rng.IntN(400)) * time.Millisecond)
	f := &h.s.faults
	partition, heal, homeCut, homeHeal := h.rng.Float64(), h.rng.Float64(), h.rng.Float64(), h.rng.Float64()
	if partition < f.Partition {
		h.partition()
	}
	if heal < f.Heal {
		h.healOne()
	}
	if homeCut < f.HomeCut {
		h.cutHome(h.regions[h.rng.IntN(len(h.regions))], true)
	}
	if homeHeal < f.HomeHeal {
		h.cutHome(h.regions[h.rng.IntN(len(h.regions))], false)
	}
	if h.step%sailingEvery == 0 {
		h.openSailing()
	}
	h.clientOp()
	if h.step%10 == 0 {
		a := h.rng.IntN(len(h.regions))
		b := (a + 1 + h.rng.IntN(len(h.regions)-1)) % len(h.regions)
		h.antiEntropy(h.regions[a], h.regions[b], "periodic")
	}
	h.checkCabins(h.cabins[len(h.cabins)-h.s.Cabins:])
}

// finish heals every link and route, lets every pending retry run, moves
// the clock past every claim's deadline, and sweeps.
func (h *cabinHistory) finish() {
	h.step = h.steps + 1
	h.logf("— heal —")
	for i := range h.regions {
		for j := i + 1; j < len(h.regions); j++ {
			h.cut[i][j], h.cut[j][i] = false, false
		}
		h.regions[i].link.cut = false
	}
	retries := h.retries
	h.retries = nil
	for _, a := range retries {
		h.confirm(h.regions[h.rng.IntN(len(h.regions))], a.hold, a.token, a.booking, true)
	}
	h.now = h.now.Add(cabinPendingFor + cabinMargin + 2*h.s.faults.MaxSkew + time.Second)
	h.syncAll("final")
	for _, r := range h.regions {
		for _, hd := range h.holds {
			h.sweep(r, hd.id)
		}
	}
	h.syncAll("final, after the sweep")
	h.checkCabins(h.cabins)
	h.checkConverged()
	h.checkTold()
	h.checkLeaks()
}
