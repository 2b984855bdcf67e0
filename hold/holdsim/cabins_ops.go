package holdsim

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/harborpoint/concord/claim"
	"github.com/harborpoint/concord/hold"
	"github.com/harborpoint/concord/hold/booking"
	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/sim"
)

// errNoRoute is what a region cut off from the home store gets.
var errNoRoute = errors.New("sim: no route to the home store")

// errReplyLost is what a confirming process that died after the home's
// write would have seen, had it lived.
var errReplyLost = errors.New("sim: reply lost, the process died")

// homeLink is one region's route to the cabins' home store.
type homeLink struct {
	store *replica.MemoryStore
	cut   bool
	// loseAt counts down the compare-and-sets of a confirmation; the one
	// that brings it to 0 is written and its reply lost.
	loseAt int
	// blind (a mutant) writes whatever the revision.
	blind bool
	// race, if set, runs once between the read of the next
	// compare-and-set's key and its write: a concurrent claimant.
	race func()
}

// Get implements claim.Store.
func (l *homeLink) Get(ctx context.Context, key string) ([]byte, uint64, error) {
	if l.cut {
		return nil, 0, errNoRoute
	}
	return l.store.Get(ctx, key)
}

// CompareAndSet implements claim.Store.
func (l *homeLink) CompareAndSet(ctx context.Context, key string, value []byte, rev uint64) (uint64, error) {
	if l.cut {
		return 0, errNoRoute
	}
	if f := l.race; f != nil {
		l.race = nil
		f()
	}
	if l.blind {
		_, rev, _ = l.store.Get(ctx, key)
	}
	n, err := l.store.CompareAndSet(ctx, key, value, rev)
	if err == nil && l.loseAt > 0 {
		if l.loseAt--; l.loseAt == 0 {
			return 0, errReplyLost
		}
	}
	return n, err
}

// --- faults ---

func (h *cabinHistory) partition() {
	i := h.rng.IntN(len(h.regions))
	j := (i + 1 + h.rng.IntN(len(h.regions)-1)) % len(h.regions)
	if h.cut[i][j] {
		return
	}
	h.cut[i][j], h.cut[j][i] = true, true
	h.rep.Faults.Partitions++
	h.logf("partition %v | %v", h.regions[i].name, h.regions[j].name)
}

func (h *cabinHistory) healOne() {
	var links [][2]int
	for i := range h.regions {
		for j := i + 1; j < len(h.regions); j++ {
			if h.cut[i][j] {
				links = append(links, [2]int{i, j})
			}
		}
	}
	if len(links) == 0 {
		return
	}
	l := links[h.rng.IntN(len(links))]
	h.cut[l[0]][l[1]], h.cut[l[1]][l[0]] = false, false
	h.rep.Faults.Heals++
	h.logf("heal %v | %v", h.regions[l[0]].name, h.regions[l[1]].name)
	h.antiEntropy(h.regions[l[0]], h.regions[l[1]], "after heal")
}

func (h *cabinHistory) cutHome(r *cabinRegion, cut bool) {
	if r.link.cut == cut {
		return
	}
	r.link.cut = cut
	if cut {
		h.rep.Faults.HomeCuts++
		h.logf("%v loses its route to the home", r.name)
		return
	}
	h.rep.Faults.HomeHeals++
	h.logf("%v reaches the home again", r.name)
}

// --- replication ---

// replicate sends region r's copy of hold id to each connected region,
// each with some chance (the rest learn it by anti-entropy).
func (h *cabinHistory) replicate(r *cabinRegion, id string) {
	data, err := r.rep.Export(h.ctx, id)
	if errors.Is(err, replica.ErrNotFound) {
		return // a sweep of a hold this region has not heard of yet
	}
	if err != nil {
		h.violate(sim.Errors, "export %v %s: %v", r.name, id, err)
		return
	}
	for _, o := range h.regions {
		if o == r || h.rng.Float64() >= 0.6 || h.cut[r.idx][o.idx] {
			continue
		}
		if _, err := o.rep.Apply(h.ctx, id, data); err != nil {
			h.violate(sim.Errors, "apply %s at %v: %v", id, o.name, err)
		}
	}
}

func (h *cabinHistory) antiEntropy(a, b *cabinRegion, why string) {
	if h.cut[a.idx][b.idx] {
		return
	}
	if err := replica.AntiEntropy(h.ctx, a.rep, b.rep); err != nil {
		h.violate(sim.Errors, "anti-entropy %v ⇄ %v: %v", a.name, b.name, err)
	}
	h.logf("anti-entropy %v ⇄ %v (%s)", a.name, b.name, why)
}

// syncAll runs anti-entropy between every connected pair, twice.
func (h *cabinHistory) syncAll(why string) {
	for range 2 {
		for i := range h.regions {
			for j := i + 1; j < len(h.regions); j++ {
				h.antiEntropy(h.regions[i], h.regions[j], why)
			}
		}
	}
}

// --- clients ---

// clientOp makes one client operation at a random region on a random hold.
func (h *cabinHistory) clientOp() {
	r := h.regions[h.rng.IntN(len(h.regions))]
	hd := h.current[h.rng.IntN(len(h.current))]
	switch x := h.rng.IntN(100); {
	case x < 10 && len(h.retries) > 0:
		a := h.retries[0]
		h.retries = h.retries[1:]
		h.confirm(r, a.hold, a.token, a.booking, true)
	case x < 50:
		hd = h.activeAt(r, hd)
		h.bookings++
		h.confirm(r, hd, h.tokenFor(r, hd.id), fmt.Sprintf("B-%d", h.bookings), false)
	case x < 65:
		h.extend(r, hd.id)
	case x < 75:
		h.note(r, hd.id)
	case x < 83:
		h.release(r, hd.id)
	case x < 93:
		h.sweep(r, hd.id)
	default:
		h.read(r, hd.id)
	}
}

// activeAt returns, most of the time, a hold region r sees active — a
// client confirms a hold it is looking at — and otherwise hd.
func (h *cabinHistory) activeAt(r *cabinRegion, hd cabinHold) cabinHold {
	var active []cabinHold
	for _, o := range h.current {
		if rec, err := r.rep.Get(h.ctx, o.id); err == nil && rec.Conflict == nil && rec.Value.Status == hold.Active {
			active = append(active, o)
		}
	}
	if pick := h.rng.IntN(max(len(active), 1)); len(active) > 0 && h.rng.IntN(5) > 0 {
		return active[pick]
	}
	return hd
}

// read reads hold id at r into the clients' cache of tokens.
func (h *cabinHistory) read(r *cabinRegion, id string) string {
	rec, err := r.rep.Get(h.ctx, id)
	if errors.Is(err, replica.ErrNotFound) {
		return "" // not replicated here yet: the client sends no token
	}
	if err != nil {
		h.violate(sim.Errors, "read %s at %v: %v", id, r.name, err)
		return ""
	}
	h.tokens[id] = rec.Token
	return rec.Token
}

// tokenFor is the token a client sends: mostly a fresh read, sometimes
// one read earlier, possibly elsewhere (stale).
func (h *cabinHistory) tokenFor(r *cabinRegion, id string) string {
	if tok, ok := h.tokens[id]; ok && h.rng.IntN(4) == 0 {
		return tok
	}
	return h.read(r, id)
}

// confirm makes one confirmation of hd at r and records what its client
// was told.
func (h *cabinHistory) confirm(r *cabinRegion, hd cabinHold, token, bk string, retry bool) {
	f := &h.s.faults
	lose, which, stall, race, again := h.rng.Float64(), 1+h.rng.IntN(2), h.rng.Float64(), h.rng.Float64(), h.rng.Float64()
	if lose < f.LostReply {
		r.link.loseAt = which // 1: the claim's write, 2: the commit's
	}
	h.stall = stall < f.Stall && !h.stalling
	if race < f.Race && !h.stalling {
		r.link.race = func() { h.interlope(hd, "races inside the home's compare-and-set of") }
	}
	var err error
	if h.hooks.confirm != nil {
		_, err = h.hooks.confirm(h, r, hd.id, token, bk)
	} else {
		_, err = r.desk.Confirm(h.ctx, hd.id, token, bk)
	}
	if r.link.loseAt == 0 && lose < f.LostReply {
		h.rep.Faults.LostReplies++
	}
	r.link.loseAt, r.link.race, h.stall = 0, nil, false
	a := &cabinAttempt{step: h.step, region: r.name, hold: hd, token: token, booking: bk, err: err}
	a.outcome = h.outcomeOf(a)
	h.attempts = append(h.attempts, a)
	c := &h.rep.Confirms
	c.Attempts++
	if retry {
		c.Retries++
	}
	switch a.outcome {
	case attemptConfirmed:
		c.Confirmed++
		h.replicate(r, hd.id)
	case attemptClaimed:
		c.Claimed++
	case attemptUnavailable:
		c.Unavailable++
		if again < f.Retry {
			h.retries = append(h.retries, a)
		}
	case attemptFenced:
		c.Fenced++
	default:
		c.Refused++
	}
	h.logf("%v confirm %s %s (retry %v) → %v", r.name, hd.id, bk, retry, errOr(err, "confirmed"))
}

func errOr(err error, ok string) string {
	if err == nil {
		return ok
	}
	return err.Error()
}

// outcomeOf classifies what a confirmation's client was told; an error the
// protocol does not name is a violation: the client was not told why.
func (h *cabinHistory) outcomeOf(a *cabinAttempt) attemptOutcome {
	var (
		ce *claim.ClaimedError
		pf *replica.PreconditionFailed
		te *hold.TransitionError
	)
	switch err := a.err; {
	case err == nil:
		return attemptConfirmed
	case errors.As(err, &ce):
		if ce.Current.Owner == a.hold.id || ce.Current.Owner == "" {
			h.violate(sim.CrossRecord, "confirm %s %s: refused as claimed by %q", a.hold.id, a.booking, ce.Current.Owner)
		}
		return attemptClaimed
	case errors.Is(err, claim.ErrUnavailable):
		return attemptUnavailable
	case errors.Is(err, claim.ErrFenced), errors.Is(err, claim.ErrNotOwner):
		return attemptFenced
	case errors.As(err, &pf), errors.As(err, &te), errors.Is(err, resolve.ErrConflict),
		errors.Is(err, replica.ErrNotFound), errors.Is(err, replica.ErrPreconditionRequired):
		return attemptRefused
	}
	h.violate(sim.CrossRecord, "confirm %s %s at %v: not told why it failed: %v", a.hold.id, a.booking, a.region, a.err)
	return attemptRefused
}

// beforeCommit is every desk's BeforeCommit: when the confirmation is to
// stall, the clock jumps past its claim's deadline and the margin, and
// another region confirms another hold on the cabin meanwhile.
func (h *cabinHistory) beforeCommit(_ context.Context, hd hold.Hold, _ string) error {
	if !h.stall || h.stalling {
		return nil
	}
	h.stall = false
	h.now = h.now.Add(cabinPendingFor + cabinMargin + 2*h.s.faults.MaxSkew + time.Millisecond)
	h.rep.Faults.Stalls++
	h.interlope(cabinHold{id: hd.ID, cabin: hd.Cabin}, "stalls past its claim's deadline and the margin:")
	return nil
}

// interlope confirms, at a random region, another hold on hd's cabin, in
// the middle of hd's confirmation.
func (h *cabinHistory) interlope(hd cabinHold, what string) {
	if h.stalling {
		return
	}
	h.stalling = true
	defer func() { h.stalling = false }()
	if what[0] == 'r' {
		h.rep.Faults.Races++
	}
	h.logf("the confirmation of %s %s", hd.id, what)
	var others []cabinHold
	for _, o := range h.current {
		if o.cabin == hd.cabin && o.id != hd.id {
			others = append(others, o)
		}
	}
	r := h.regions[h.rng.IntN(len(h.regions))]
	if len(others) > 0 {
		o := others[h.rng.IntN(len(others))]
		h.bookings++
		h.confirm(r, o, h.read(r, o.id), fmt.Sprintf("B-%d", h.bookings), false)
	}
}

// extend, note and release must work whether or not the region reaches the
// home: an ErrUnavailable from them is a violation.
func (h *cabinHistory) extend(r *cabinRegion, id string) {
	h.idem++
	key := fmt.Sprintf("ext-%d", h.idem)
	by := time.Duration(1+h.rng.IntN(3)) * time.Minute
	_, _, err := r.rep.Command(h.ctx, id, key, func(v *hold.Hold, _ replica.Write) error {
		v.Touch(r.name + "-desk")
		return v.Extend(v.ExpiresAt.Add(by))
	})
	h.wrote(r, id, "extend", err, &h.rep.Writes.Extends)
}

func (h *cabinHistory) note(r *cabinRegion, id string) {
	_, err := r.rep.Blind(h.ctx, id, "note", hold.NoteEdit(fmt.Sprintf("%v note %d", r.name, h.step)))
	h.wrote(r, id, "note", err, &h.rep.Writes.Notes)
}

func (h *cabinHistory) release(r *cabinRegion, id string) {
	_, err := r.desk.Release(h.ctx, id, h.tokenFor(r, id))
	h.wrote(r, id, "release", err, &h.rep.Writes.Releases)
}

// wrote accounts for a write other than a confirmation.
func (h *cabinHistory) wrote(r *cabinRegion, id, what string, err error, count *int) {
	var (
		pf *replica.PreconditionFailed
		te *hold.TransitionError
	)
	switch {
	case err == nil:
		*count++
		if r.link.cut {
			h.rep.Writes.WhileCut++
		}
		h.replicate(r, id)
	case errors.Is(err, claim.ErrUnavailable):
		h.violate(sim.Errors, "%s of %s at %v refused for want of the home: %v", what, id, r.name, err)
	case !errors.As(err, &pf) && !errors.As(err, &te) && !errors.Is(err, resolve.ErrConflict) &&
		!errors.Is(err, replica.ErrNotFound) && !errors.Is(err, replica.ErrPreconditionRequired):
		h.violate(sim.Errors, "%s of %s at %v: %v", what, id, r.name, err)
	}
	h.logf("%v %s %s → %v", r.name, what, id, errOr(err, "ok"))
}

// sweep runs the desk's Reconcile of hold id at r.
func (h *cabinHistory) sweep(r *cabinRegion, id string) {
	var err error
	if h.hooks.sweep != nil {
		err = h.hooks.sweep(h, r, id)
	} else {
		_, err = r.desk.Reconcile(h.ctx, id)
	}
	switch {
	case err == nil:
		h.rep.Writes.Sweeps++
		h.replicate(r, id)
	case errors.Is(err, booking.ErrTwoBookings):
		h.violate(sim.CrossRecord, "sweep of %s at %v: %v", id, r.name, err)
	case !errors.Is(err, claim.ErrUnavailable) && !errors.Is(err, replica.ErrNotFound):
		h.violate(sim.Errors, "sweep of %s at %v: %v", id, r.name, err)
	}
	h.logf("%v sweeps %s → %v", r.name, id, errOr(err, "ok"))
}
