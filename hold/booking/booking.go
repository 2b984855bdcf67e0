package booking

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/harborpoint/concord/claim"
	"github.com/harborpoint/concord/hold"
	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/version"
)

// Records is the region's store of holds the desk writes through: a
// *replica.Replica[hold.Hold], over any store (with replica.Options.Peers
// when the other regions' copies sit beside it, as on NATS JetStream).
type Records interface {
	Get(ctx context.Context, key string) (replica.Record[hold.Hold], error)
	Update(ctx context.Context, key, token string, fn func(h *hold.Hold, w replica.Write) error) (replica.Record[hold.Hold], error)
	ResolveConflict(ctx context.Context, key, token string, v hold.Hold) (replica.Record[hold.Hold], error)
}

// DefaultPendingFor is Options.PendingFor when it is zero.
const DefaultPendingFor = 30 * time.Second

// Options configures a [Desk]. The zero Options is valid.
type Options struct {
	// Name returns the claim name of a hold's cabin. Nil means [CabinName].
	Name func(hold.Hold) string
	// PendingFor is how long a confirmation may take between claiming the
	// cabin and committing the booking — the time to capture a payment.
	// Past it (plus the home's margin) the claim may be taken over and the
	// confirmation is fenced. Zero means [DefaultPendingFor].
	PendingFor time.Duration
	// BeforeCommit, if set, runs after the cabin is claimed and before the
	// booking is committed: where a payment is captured. An error stops
	// the confirmation, releases the claim and is returned as is.
	BeforeCommit func(ctx context.Context, h hold.Hold, booking string) error
	// Now reads the wall clock for the hold's expiry and the claim's
	// deadline. Nil means time.Now.
	Now func() time.Time
	// MaxAttempts bounds the retries of the write that records a decided
	// booking on the hold, when other writes of the hold keep coming
	// first. Zero means 20.
	MaxAttempts int
}

// CabinName is the default claim name of a hold: "cabin/" and its cabin.
// A deployment that sells a cabin once per sailing names the sailing too,
// such as "cabin/C14/sailing/2027-03-14".
func CabinName(h hold.Hold) string { return "cabin/" + h.Cabin }

// Desk confirms and releases one region's holds under the cabins' claims.
// It is safe for concurrent use; make one with [New].
type Desk struct {
	recs       Records
	home       *claim.Home
	name       func(hold.Hold) string
	pendingFor time.Duration
	before     func(context.Context, hold.Hold, string) error
	now        func() time.Time
	attempts   int
}

// New returns the desk of the region recs, claiming cabins at home.
func New(recs Records, home *claim.Home, opts Options) (*Desk, error) {
	if recs == nil || home == nil {
		return nil, errors.New("booking: nil records or home")
	}
	if opts.PendingFor < 0 || opts.MaxAttempts < 0 {
		return nil, errors.New("booking: negative option")
	}
	d := &Desk{recs: recs, home: home, name: opts.Name, pendingFor: opts.PendingFor, before: opts.BeforeCommit, now: opts.Now, attempts: opts.MaxAttempts}
	if d.name == nil {
		d.name = CabinName
	}
	if d.pendingFor == 0 {
		d.pendingFor = DefaultPendingFor
	}
	if d.now == nil {
		d.now = time.Now
	}
	if d.attempts == 0 {
		d.attempts = 20
	}
	return d, nil
}

// Confirm turns hold id into booking, with the token the client read
// (If-Match), in four steps:
//
//  1. check the hold as this region holds it: the token is current
//     ([*replica.PreconditionFailed] if not), the hold has no open conflict,
//     and it may be confirmed now (a [*hold.TransitionError] if not);
//  2. claim its cabin at the home, pending for PendingFor — a cabin held by
//     another hold fails with [claim.ErrClaimed] (a [*claim.ClaimedError]
//     naming it), an unreachable home with [claim.ErrUnavailable];
//  3. run Options.BeforeCommit, then commit the booking at the home: the
//     decision, after which the cabin is this hold's for good;
//  4. write the hold confirmed in this region.
//
// A retry after ErrUnavailable — whose confirmation may or may not have
// been decided — with the same token and booking completes it: a cabin
// already committed to the hold is not claimed again, its decided booking
// is written. Extends, notes and agencies made meanwhile are kept.
func (d *Desk) Confirm(ctx context.Context, id, token, booking string) (replica.Record[hold.Hold], error) {
	rec, err := d.check(ctx, id, token, booking)
	var te *hold.TransitionError
	if errors.As(err, &te) && !errors.Is(err, hold.ErrNoBooking) {
		return d.decidedBefore(ctx, rec, booking, err)
	}
	if err != nil {
		return replica.Record[hold.Hold]{}, err
	}
	name := d.name(rec.Value)
	c, err := d.home.Acquire(ctx, name, id, d.now().Add(d.pendingFor))
	if err != nil {
		return replica.Record[hold.Hold]{}, err
	}
	if c.State == claim.StatePending {
		if c, err = d.commit(ctx, rec.Value, name, c.Token, booking); err != nil {
			return replica.Record[hold.Hold]{}, err
		}
	}
	return d.finish(ctx, id, c, booking)
}

// finish is step 4 of Confirm: the booking c records written on the hold,
// and an error if it is not booking.
func (d *Desk) finish(ctx context.Context, id string, c claim.Claim, booking string) (replica.Record[hold.Hold], error) {
	out, err := d.apply(ctx, id, c)
	if err == nil && c.Data != booking {
		err = &hold.TransitionError{Hold: id, Action: "confirm", From: hold.Confirmed, Err: hold.ErrIllegalTransition}
	}
	return out, err
}

// decidedBefore handles a confirmation the hold's lifecycle refuses (it
// expired, or was released, since an earlier attempt whose outcome the
// client never learned): if the home committed the cabin to the hold, that
// attempt was decided and its booking is written; otherwise the refusal
// stands.
func (d *Desk) decidedBefore(ctx context.Context, rec replica.Record[hold.Hold], booking string, refusal error) (replica.Record[hold.Hold], error) {
	c, err := d.home.Get(ctx, d.name(rec.Value))
	if err != nil || c.State != claim.StateCommitted || c.Owner != rec.Key {
		return replica.Record[hold.Hold]{}, refusal
	}
	return d.finish(ctx, rec.Key, c, booking)
}

// check is step 1 of Confirm: the hold as this region holds it, and
// whether it may be confirmed with booking now.
func (d *Desk) check(ctx context.Context, id, token, booking string) (replica.Record[hold.Hold], error) {
	if token == "" {
		return replica.Record[hold.Hold]{}, fmt.Errorf("booking: %q: %w", id, replica.ErrPreconditionRequired)
	}
	want, err := version.ParseToken(token, version.Limits{})
	if err != nil {
		return replica.Record[hold.Hold]{}, fmt.Errorf("booking: %q: %w", id, err)
	}
	rec, err := d.recs.Get(ctx, id)
	switch {
	case err != nil:
		return rec, err
	case !rec.Context.Equal(want):
		pf := &replica.PreconditionFailed{Key: id, Given: token, Current: rec.Token, Context: rec.Context}
		for _, b := range rec.Branches {
			pf.Stamps = append(pf.Stamps, b.Stamp)
		}
		return rec, pf
	case rec.Conflict != nil:
		return rec, rec.Conflict
	}
	h := rec.Value
	return rec, h.Confirm(booking, d.now())
}

// commit is step 3 of Confirm: BeforeCommit, then the decision at the home.
// A BeforeCommit error gives the cabin back.
func (d *Desk) commit(ctx context.Context, h hold.Hold, name string, token uint64, booking string) (claim.Claim, error) {
	if d.before != nil {
		if err := d.before(ctx, h, booking); err != nil {
			_, _ = d.home.Abandon(ctx, name, h.ID, token) // a lapse frees it if this fails
			return claim.Claim{}, err
		}
	}
	return d.home.Commit(ctx, name, h.ID, token, booking)
}

// Release ends hold id with the token the client read, in this region,
// whether or not the home is reachable: releases stay available under a
// partition. Then it gives back the cabin's claim if the hold holds it
// pending (a confirmation that never committed). If the home had already
// committed a booking to the hold — a confirmation that raced this release
// and was decided first — the booking is written over the release, as the
// hold's lifecycle merges a confirmation with a concurrent release, and
// Release fails with a [*hold.TransitionError]. When the home is
// unreachable, that check is left to [Desk.Reconcile]; the release still
// succeeds, after waiting for the home at most its claim.Options.Timeout
// (set one on a home across a WAN).
func (d *Desk) Release(ctx context.Context, id, token string) (replica.Record[hold.Hold], error) {
	rec, err := d.recs.Update(ctx, id, token, func(h *hold.Hold, _ replica.Write) error { return h.Release() })
	if err != nil {
		return rec, err
	}
	name := d.name(rec.Value)
	c, err := d.home.Get(ctx, name)
	if err == nil && c.Owner == id && c.State == claim.StatePending {
		// Abandon, not Release: the confirmation may commit in between.
		c, err = d.home.Abandon(ctx, name, id, c.Token) // a lapse frees it if this fails
	}
	if err != nil || c.Owner != id || c.State != claim.StateCommitted {
		return rec, nil
	}
	out, err := d.apply(ctx, id, c)
	if err != nil {
		return rec, err
	}
	return out, &hold.TransitionError{Hold: id, Action: "release", From: hold.Confirmed, Err: hold.ErrIllegalTransition}
}

// Reconcile repairs what a crash or a partition left between hold id's
// record in this region and its cabin's claim, and returns the claim:
//
//   - a booking committed to the hold and not yet written is written
//     (rolled forward);
//   - a claim pending for the hold after the hold was released is given
//     back;
//   - a pending claim past its deadline plus the margin, whoever holds it,
//     is freed (claim.Home.Reconcile).
//
// A sweeper calls it for every hold of the region, now and then and after
// a partition heals; it changes nothing when there is nothing to repair.
func (d *Desk) Reconcile(ctx context.Context, id string) (claim.Claim, error) {
	rec, err := d.recs.Get(ctx, id)
	if err != nil {
		return claim.Claim{}, err
	}
	h := rec.Value
	if rec.Conflict != nil {
		h = rec.Branches[0].Value // the cabin is write-once: any branch names it
	}
	name := d.name(h)
	c, err := d.home.Get(ctx, name)
	switch {
	case err != nil:
		return c, err
	case c.Owner == id && c.State == claim.StateCommitted:
		_, err = d.apply(ctx, id, c)
		return c, err
	case c.Owner == id && rec.Conflict == nil && h.Status == hold.Released:
		c, err = d.home.Abandon(ctx, name, id, c.Token)
		if err == nil && c.State == claim.StateCommitted {
			_, err = d.apply(ctx, id, c) // committed in between: roll it forward
		}
		return c, err
	}
	return d.home.Reconcile(ctx, name)
}
