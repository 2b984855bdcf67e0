package sim_test

import (
	"context"
	"errors"
	"time"

	"github.com/harborpoint/concord/hold"
	"github.com/harborpoint/concord/hold/holdsim"
	"github.com/harborpoint/concord/policy"
	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/sim"
	"github.com/harborpoint/concord/version"
)

// A mutant is a deliberately broken variant of the system, wired in
// through sim's test-only hooks (export_test.go): nothing here is reachable from
// production code. Every mutant must make some check fail.
type mutant struct {
	name   string
	target sim.Check // the check written to catch it (others may fire too)
	apply  func(w *sim.Workload[hold.Hold])
}

func mutants() []mutant {
	return append([]mutant{
		{"merge drops a concurrent sibling", sim.NoLoss, func(w *sim.Workload[hold.Hold]) { sim.SetHooks(w, sim.Hooks[hold.Hold]{Apply: dropSiblingMerge}) }},
		{"LWW tiebreak differs between replicas", sim.Convergence, func(w *sim.Workload[hold.Hold]) {
			sim.SetHooks(w, sim.Hooks[hold.Hold]{Resolver: func(i int) *resolve.Resolver[hold.Hold] {
				if i%2 == 1 {
					return holdResolver(earlierWins{policy.LWW[string]()}, hold.Lifecycle, policy.Once[string]())
				}
				return w.NewResolver()
			}})
		}},
		{"anti-entropy skips a key", sim.Convergence, func(w *sim.Workload[hold.Hold]) {
			sim.SetHooks(w, sim.Hooks[hold.Hold]{Skip: func(key string) bool { return key == "H-1" }})
		}},
		{"update ignores the client's context", sim.NoLoss, func(w *sim.Workload[hold.Hold]) { sim.SetHooks(w, sim.Hooks[hold.Hold]{Update: ignoreContextUpdate}) }},
		{"replica reuses dots after losing its state", sim.DotReuse, func(w *sim.Workload[hold.Hold]) {
			sim.SetHooks(w, sim.Hooks[hold.Hold]{RestartID: func(old version.ID) (version.ID, error) { return old, nil }})
		}},
		{"lifecycle and booking merged last-writer-wins", sim.Invariant, func(w *sim.Workload[hold.Hold]) {
			sim.SetHooks(w, sim.Hooks[hold.Hold]{Resolver: func(int) *resolve.Resolver[hold.Hold] {
				return holdResolver(policy.LWW[string](), policy.LWW[hold.Status](), policy.LWW[string]())
			}})
		}},
		{"update writes with an empty context", sim.Bounds, func(w *sim.Workload[hold.Hold]) { sim.SetHooks(w, sim.Hooks[hold.Hold]{Update: emptyContextUpdate}) }},
		{"review queue's token built from sibling dots only", sim.Review, func(w *sim.Workload[hold.Hold]) {
			sim.SetHooks(w, sim.Hooks[hold.Hold]{Conflicts: siblingDotsToken})
		}},
		{"apply does not move the clock past remote stamps", sim.Clock, func(w *sim.Workload[hold.Hold]) { sim.SetHooks(w, sim.Hooks[hold.Hold]{Apply: applyWithoutClock}) }},
		{"a lost compare-and-set acknowledged as success", sim.NoLoss, func(w *sim.Workload[hold.Hold]) {
			sim.SetHooks(w, sim.Hooks[hold.Hold]{Store: func(_ int, s replica.Store) replica.Store { return &lossyStore{Store: s} }})
		}},
		{"a command does not record its idempotency key", sim.AtMostOnce, func(w *sim.Workload[hold.Hold]) {
			w.CommandKeys = func(*hold.Hold) *policy.Applied { return &policy.Applied{} }
		}},
		{"a confirmed branch does not keep its terms", sim.Values, func(w *sim.Workload[hold.Hold]) {
			sim.SetHooks(w, sim.Hooks[hold.Hold]{Resolver: func(int) *resolve.Resolver[hold.Hold] {
				return holdResolverRules(policy.LWW[string](), hold.Lifecycle, policy.Once[string](), policy.DefaultHorizon, false)
			}})
		}},
		{"released vs active merged to released", sim.Values, func(w *sim.Workload[hold.Hold]) {
			sim.SetHooks(w, sim.Hooks[hold.Hold]{Resolver: func(int) *resolve.Resolver[hold.Hold] {
				return holdResolver(policy.LWW[string](), releasedWins, policy.Once[string]())
			}})
		}},
	}, deleteMutants()...)
}

// emptyContextUpdate checks the token like Update but then writes with an
// empty context, superseding nothing: the record piles up siblings of one
// replica.
func emptyContextUpdate(n sim.Node[hold.Hold], key, token string, fn func(*hold.Hold, replica.Write) error) (replica.Record[hold.Hold], error) {
	ctx := context.Background()
	cur, err := n.Rep.Get(ctx, key)
	if err != nil || cur.Conflict != nil || cur.Token != token {
		return n.Rep.Update(ctx, key, token, fn) // the real code refuses
	}
	st, err := n.Rep.State(ctx, key)
	if err != nil {
		return replica.Record[hold.Hold]{}, err
	}
	ts := n.HLC.Now()
	var fnErr error
	next, _, err := st.UpdateWith(version.Vector{}, n.ID, func(d version.Dot) resolve.Branch[hold.Hold] {
		v := cur.Value
		fnErr = fn(&v, replica.Write{Replica: n.ID, Dot: d, Time: ts})
		return resolve.Branch[hold.Hold]{Value: v, Stamp: version.Stamp{Time: ts, Dot: d}}
	})
	if err = errors.Join(err, fnErr); err != nil {
		return replica.Record[hold.Hold]{}, err
	}
	if err := storeState(n, key, next); err != nil { // holdsim stores JSON
		return replica.Record[hold.Hold]{}, err
	}
	return n.Rep.Get(ctx, key)
}

// dropSiblingMerge is a merge that keeps only one side of a concurrent
// conflict — the one with the later stamp, as a record-level
// last-writer-wins store would — instead of keeping both as siblings.
func dropSiblingMerge(n sim.Node[hold.Hold], key string, data []byte) error {
	ctx := context.Background()
	scratch, err := replica.New(version.MustID("decoder"), replica.NewMemoryStore(), n.NewResolver(), replica.Options[hold.Hold]{})
	if err != nil {
		return err
	}
	if _, err := scratch.Apply(ctx, key, data); err != nil {
		return err
	}
	incoming, _ := scratch.State(ctx, key)
	local, err := n.Rep.State(ctx, key)
	if err != nil || local.Len() == 0 || resolve.Classify(local, incoming) != resolve.ConcurrentConflict {
		_, err := n.Rep.Apply(ctx, key, data)
		return err
	}
	if latest(incoming).Compare(latest(local)) < 0 {
		return nil // the local side is later: the incoming sibling is dropped
	}
	_, rev, err := n.Store.Get(ctx, key)
	if err != nil {
		return err
	}
	if _, err := n.Store.CompareAndSet(ctx, key, data, rev); err != nil {
		return err
	}
	return n.Rep.Rescan(ctx)
}

func latest(s resolve.Siblings[hold.Hold]) version.Stamp {
	var m version.Stamp
	for b := range s.Siblings() {
		if b.Value.Stamp.Compare(m) > 0 {
			m = b.Value.Stamp
		}
	}
	return m
}

// ignoreContextUpdate makes a conditional write with the record's current
// token instead of the client's: a stale client overwrites what it never saw.
func ignoreContextUpdate(n sim.Node[hold.Hold], key, token string, fn func(*hold.Hold, replica.Write) error) (replica.Record[hold.Hold], error) {
	ctx := context.Background()
	if cur, err := n.Rep.Get(ctx, key); err == nil {
		token = cur.Token
	}
	return n.Rep.Update(ctx, key, token, fn)
}

// earlierWins is last-writer-wins with the tiebreak turned around: the
// earlier stamp wins. It says it is replaceable, as LWW does, so that blind
// writes still reach it.
type earlierWins struct{ policy.Policy[string] }

// Replaceable implements policy.Replaceable.
func (earlierWins) Replaceable() bool { return true }

func (p earlierWins) MergeInto(out *policy.Branch[string], d *policy.Decision, a, b *policy.Branch[string]) error {
	if err := p.Policy.MergeInto(out, d, a, b); err != nil || d.Outcome != policy.Picked {
		return err
	}
	loser := a
	if out.Stamp == a.Stamp {
		loser = b
	}
	d.Winner, d.Loser = d.Loser, d.Winner
	*out = *loser
	return nil
}

// holdResolver is hold.Resolver with other policies for the note, the
// status and the booking.
func holdResolver(note policy.Policy[string], status policy.Policy[hold.Status], booking policy.Policy[string]) *resolve.Resolver[hold.Hold] {
	return holdResolverWith(note, status, booking, policy.DefaultHorizon)
}

// holdResolverWith is holdResolver with the command keys bound within h.
func holdResolverWith(note policy.Policy[string], status policy.Policy[hold.Status], booking policy.Policy[string], h policy.Horizon) *resolve.Resolver[hold.Hold] {
	return holdResolverRules(note, status, booking, h, true)
}

// releasedWins is the hold's lifecycle with released picked over active
// instead of refused.
var releasedWins = func() policy.Policy[hold.Status] {
	m, err := policy.NewStateMachine(policy.StateMachineSpec[hold.Status]{
		Name:      "lifecycle",
		States:    []hold.Status{hold.Active, hold.Released, hold.Confirmed},
		Absorbing: []hold.Status{hold.Confirmed},
		Rules:     []policy.Rule[hold.Status]{policy.PickRule(hold.Released, hold.Active, hold.Released, "released wins")},
	})
	if err != nil {
		panic(err)
	}
	return m
}()

// holdResolverRules is holdResolverWith, with the record rule
// confirmed-keeps-terms only if terms is set.
func holdResolverRules(note policy.Policy[string], status policy.Policy[hold.Status], booking policy.Policy[string], h policy.Horizon, terms bool) *resolve.Resolver[hold.Hold] {
	fields := []resolve.Field[hold.Hold]{
		resolve.Bind("id", func(h *hold.Hold) *string { return &h.ID }, policy.Once[string]()),
		resolve.Bind("cabin", func(h *hold.Hold) *string { return &h.Cabin }, policy.Once[string]()),
		resolve.Bind("status", func(h *hold.Hold) *hold.Status { return &h.Status }, status),
		resolve.Bind("expires_at", func(h *hold.Hold) *time.Time { return &h.ExpiresAt }, hold.LaterExpiry()),
		resolve.Bind("booking_id", func(h *hold.Hold) *string { return &h.BookingID }, booking),
		resolve.Bind("note", func(h *hold.Hold) *string { return &h.Note }, note),
		resolve.Bind("agencies", func(h *hold.Hold) *policy.Set[string] { return &h.Agencies }, policy.Union[string]()),
		resolve.Bind("commands", func(h *hold.Hold) *policy.Applied { return &h.Commands }, policy.AppliedKeys(h)),
	}
	keepTerms := func(out *hold.Hold, a, b resolve.Branch[hold.Hold]) (string, error) {
		ac, bc := a.Value.Status == hold.Confirmed, b.Value.Status == hold.Confirmed
		switch {
		case ac && !bc && !out.ExpiresAt.Equal(a.Value.ExpiresAt):
			out.ExpiresAt = a.Value.ExpiresAt
			return "confirmed branch keeps its expiry", nil
		case bc && !ac && !out.ExpiresAt.Equal(b.Value.ExpiresAt):
			out.ExpiresAt = b.Value.ExpiresAt
			return "confirmed branch keeps its expiry", nil
		}
		return "", nil
	}
	var rules []resolve.RecordRule[hold.Hold]
	if terms {
		rules = append(rules, resolve.RecordRule[hold.Hold]{Name: "confirmed-keeps-terms", Apply: keepTerms})
	}
	r, err := resolve.New(hold.Entity, fields, rules, resolve.Options{SkewWindow: time.Second})
	if err != nil {
		panic(err)
	}
	return r
}

// runMutant runs histories of the mutant until one fails, up to max; then
// again with only the target check on. Under the race detector, which
// slows histories tenfold, it runs the first campaign only: the second
// runs the same code, and takes 70 histories for some mutants.
func runMutant(m mutant, seed uint64, max int) (sim.MutantResult, sim.Report) {
	w := holdsim.Workload()
	m.apply(&w)
	// The mutants need not be shrunk: shrinking costs a dozen replays and
	// more, and TestShrinkingLeavesOutSteps shows it on one mutant.
	cfg := sim.Config{Seed: seed, Histories: max, Shrink: sim.ShrinkNone}
	rep, err := sim.Run(cfg, w)
	res := sim.MutantResult{Name: m.name, Runs: rep.Histories, Target: m.target}
	if err != nil || len(rep.Failures) == 0 {
		return res, rep
	}
	res.Caught, res.Seed = true, rep.Failures[0].Seed
	for _, c := range sim.Checks() {
		if rep.Violations[c] > 0 {
			res.By = append(res.By, c)
		}
	}
	if sim.RaceEnabled {
		return res, rep
	}
	sim.SetHooks(&w, sim.Hooks[hold.Hold]{Mute: func(c sim.Check) bool { return c != m.target }})
	// Muting checks only removes violations, so the histories before the
	// first that caught the mutant pass alone too: start there.
	cfg.Seed, cfg.Histories = res.Seed, max-int(res.Seed-seed)
	alone, err := sim.Run(cfg, w)
	res.TargetAlone = err == nil && len(alone.Failures) > 0
	return res, rep
}

// siblingDotsToken rewrites each review item's context and token as the
// join of its branches' dots alone, forgetting the writes they overwrote:
// the token no longer equals the record's, so it settles nothing.
func siblingDotsToken(items []replica.ReviewItem[hold.Hold]) []replica.ReviewItem[hold.Hold] {
	for i := range items {
		var b version.Builder
		for _, br := range items[i].Branches {
			b.Add(br.Stamp.Dot)
		}
		items[i].Context = b.Vector()
		items[i].Token = items[i].Context.Token()
	}
	return items
}

// applyWithoutClock merges replicated bytes through a second replica over
// the same store whose clock is its own, so the node's clock never observes
// the remote stamps.
func applyWithoutClock(n sim.Node[hold.Hold], key string, data []byte) error {
	ctx := context.Background()
	other, err := replica.New(n.ID, n.Store, n.NewResolver(), replica.Options[hold.Hold]{Clock: version.NewHLC(version.HLCOptions{}, version.Timestamp{})})
	if err != nil {
		return err
	}
	if _, err := other.Apply(ctx, key, data); err != nil {
		return err
	}
	return n.Rep.Rescan(ctx)
}

// lossyStore acknowledges every fifth compare-and-set without storing it,
// returning the revision a real store would have.
type lossyStore struct {
	replica.Store
	n int
}

func (s *lossyStore) CompareAndSet(ctx context.Context, key string, value []byte, rev uint64) (uint64, error) {
	s.n++
	if s.n%5 == 0 {
		if _, cur, err := s.Store.Get(ctx, key); err == nil && cur == rev {
			return rev + 1, nil
		}
	}
	return s.Store.CompareAndSet(ctx, key, value, rev)
}
