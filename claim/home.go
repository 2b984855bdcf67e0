package claim

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/harborpoint/concord/replica"
)

// Store is what a home keeps claims in: one value per name with a revision,
// read with Get and written only by compare-and-set — the two methods of
// [replica.Store] with the same contract, so every replica store (the
// in-memory one, NATS JetStream KV, SQLite, PostgreSQL) serves as a home.
//
// A home store must be linearizable per key: a compare-and-set that
// succeeds must see every compare-and-set that succeeded before it. A single
// SQL primary, or a JetStream KV bucket on a replicated stream (Raft), is; a
// bucket that is a mirror, or one merged across regions, is not. Claims are
// never deleted, so the store must not lose or expire keys either: a name
// that vanished would restart its fencing tokens at 1.
type Store interface {
	// Get returns the value and revision of key; an absent key returns a
	// nil value, revision 0 and no error.
	Get(ctx context.Context, key string) (value []byte, rev uint64, err error)
	// CompareAndSet stores value under key if the key's revision is rev (0:
	// absent) and returns the new revision; a different revision is an
	// error wrapping replica.ErrRevisionMismatch.
	CompareAndSet(ctx context.Context, key string, value []byte, rev uint64) (uint64, error)
}

// DefaultMargin is the margin a pending claim is given past its deadline
// when Options.Margin is zero.
const DefaultMargin = 5 * time.Second

// Options configures a [Home]. The zero Options is valid.
type Options struct {
	// Margin is added to a pending claim's Until before another claimant
	// may take it over: set it to at least the clock skew between the
	// processes that claim (and their pauses). Zero means [DefaultMargin].
	Margin time.Duration
	// Now reads the wall clock. Nil means time.Now.
	Now func() time.Time
	// Observer is told the outcome of every call. Nil means none.
	Observer Observer
	// Timeout bounds each call to the home store; zero means only the
	// caller's context does. A call that runs out of time fails with
	// ErrUnavailable.
	Timeout time.Duration
	// MaxAttempts bounds compare-and-set retries when other claimants keep
	// winning; then the call fails with ErrUnavailable wrapping
	// replica.ErrContention. Zero means 100.
	MaxAttempts int
}

// Home hands out exclusive, fenced claims on names, with one linearizable
// compare-and-set on its store per change. It is the single place where a
// name's claim lives: claims are never merged across regions, so every
// process that claims a name must use the same home for it (such as the
// cabin's home region).
//
// A Home holds no state of its own beyond its options: it is safe for
// concurrent use, and any number of Home values, in any number of
// processes, may share a store. Make one with [NewHome].
type Home struct {
	store    Store
	margin   time.Duration
	now      func() time.Time
	obs      Observer
	timeout  time.Duration
	attempts int
}

// NewHome returns a home over store.
func NewHome(store Store, opts Options) (*Home, error) {
	if store == nil {
		return nil, fmt.Errorf("%w: nil store", ErrInvalid)
	}
	if opts.Margin < 0 || opts.Timeout < 0 || opts.MaxAttempts < 0 {
		return nil, fmt.Errorf("%w: negative option", ErrInvalid)
	}
	h := &Home{store: store, margin: opts.Margin, now: opts.Now, obs: opts.Observer, timeout: opts.Timeout, attempts: opts.MaxAttempts}
	if h.margin == 0 {
		h.margin = DefaultMargin
	}
	if h.now == nil {
		h.now = time.Now
	}
	if h.attempts == 0 {
		h.attempts = 100
	}
	return h, nil
}

// Margin returns the margin added to a pending claim's deadline.
func (h *Home) Margin() time.Duration { return h.margin }

// Get returns the claim on name as the home holds it.
func (h *Home) Get(ctx context.Context, name string) (Claim, error) {
	if err := checkName(name); err != nil {
		return Claim{}, err
	}
	ctx, cancel := h.bound(ctx)
	defer cancel()
	c, _, err := h.load(ctx, name)
	return c, err
}

// Acquire claims name for owner, pending until until:
//
//   - a free name is claimed under the next fencing token (Claimed);
//   - a name pending for owner is renewed under the next token, which
//     fences any other attempt of the same owner (Claimed);
//   - a name committed to owner is returned as it is (AlreadyOwner);
//   - a name pending for another owner past its Until plus the margin is
//     taken over under the next token (TakenOver);
//   - a name otherwise held by another owner fails with a [*ClaimedError]
//     (ErrClaimed).
//
// The home store unreachable is ErrUnavailable: the claim may or may not
// have been taken, and Acquire may be called again.
func (h *Home) Acquire(ctx context.Context, name, owner string, until time.Time) (Claim, error) {
	if err := errors.Join(checkName(name), checkOwner(owner)); err != nil {
		return Claim{}, err
	}
	if until.IsZero() {
		return Claim{}, fmt.Errorf("%w: pending claim without a deadline", ErrInvalid)
	}
	return h.change(ctx, name, owner, func(cur Claim, now time.Time) decision {
		take := Claim{Name: name, State: StatePending, Owner: owner, Token: cur.Token + 1, Until: until.UTC(), Since: now}
		switch {
		case cur.State == StateCommitted && cur.Owner == owner:
			return decision{next: cur, kind: AlreadyOwner}
		case cur.State == StatePending && cur.Owner == owner, cur.State == StateFree:
			return decision{next: take, write: true, kind: Claimed}
		case cur.lapsed(now, h.margin):
			return decision{next: take, write: true, kind: TakenOver, holder: cur.Owner}
		}
		return decision{kind: RefusedClaimed, holder: cur.Owner, err: &ClaimedError{Requester: owner, Current: cur}}
	})
}

// Commit records owner's decision on name, with data (such as a booking
// ID): the pending claim it holds under token becomes committed, and is
// never taken over. Committing again with the same data changes nothing;
// with other data it fails with ErrInvalid.
// A claim owner no longer holds under token fails with a [*StaleError]:
// ErrFenced if the name was acquired again since, ErrNotOwner if it was
// released or reconciled. A pending claim past its deadline that nobody
// took over may still be committed.
func (h *Home) Commit(ctx context.Context, name, owner string, token uint64, data string) (Claim, error) {
	if err := errors.Join(checkName(name), checkOwner(owner), checkToken(token)); err != nil {
		return Claim{}, err
	}
	if len(data) > MaxData {
		return Claim{}, fmt.Errorf("%w: data of %d bytes, limit %d", ErrInvalid, len(data), MaxData)
	}
	return h.change(ctx, name, owner, func(cur Claim, now time.Time) decision {
		if d, stale := h.stale(cur, owner, token); stale {
			return d
		}
		if cur.State == StateCommitted {
			if cur.Data != data {
				return decision{err: fmt.Errorf("%w: %q is committed to %s with %q, not %q", ErrInvalid, name, owner, cur.Data, data)}
			}
			return decision{next: cur, kind: Committed}
		}
		next := cur
		next.State, next.Data, next.Until, next.Since = StateCommitted, data, time.Time{}, now
		return decision{next: next, write: true, kind: Committed}
	})
}

// Release frees the claim owner holds on name under token, pending or
// committed; the token is kept, so the next acquisition gets a greater one.
// A claim already freed under token (by this owner or by Reconcile) is
// returned as it is. A claim acquired again since fails with a
// [*StaleError] wrapping ErrFenced.
func (h *Home) Release(ctx context.Context, name, owner string, token uint64) (Claim, error) {
	if err := errors.Join(checkName(name), checkOwner(owner), checkToken(token)); err != nil {
		return Claim{}, err
	}
	return h.change(ctx, name, owner, func(cur Claim, now time.Time) decision {
		return h.release(cur, owner, token, now, true)
	})
}

// Abandon gives up the pending claim owner holds on name under token — what
// a confirmation that will not commit does, or a cleanup on its behalf. It
// is Release, except that a claim committed under token meanwhile (by the
// process that acquired it, racing the cleanup) is left as it is and
// returned without error: the decision was made, and the caller sees it in
// the returned claim's State. Cleanups must abandon, never release: a
// cleanup that read the claim as pending and then released it could free a
// claim committed in between.
func (h *Home) Abandon(ctx context.Context, name, owner string, token uint64) (Claim, error) {
	if err := errors.Join(checkName(name), checkOwner(owner), checkToken(token)); err != nil {
		return Claim{}, err
	}
	return h.change(ctx, name, owner, func(cur Claim, now time.Time) decision {
		return h.release(cur, owner, token, now, false)
	})
}

// release decides a Release (committed too) or an Abandon (pending only).
func (h *Home) release(cur Claim, owner string, token uint64, now time.Time, committed bool) decision {
	if cur.State == StateFree && cur.Token == token {
		return decision{next: cur} // released already
	}
	if d, stale := h.stale(cur, owner, token); stale {
		return d
	}
	if cur.State == StateCommitted && !committed {
		return decision{next: cur}
	}
	return decision{next: Claim{Name: cur.Name, Token: cur.Token, Since: now}, write: true, kind: Released}
}

// Reconcile frees the claim on name if it is pending past its Until plus
// the margin — its owner crashed or stalled between claiming and
// committing — and returns the claim as it is then. A sweeper calls it;
// the next Acquire takes such a claim over by itself.
func (h *Home) Reconcile(ctx context.Context, name string) (Claim, error) {
	if err := checkName(name); err != nil {
		return Claim{}, err
	}
	return h.change(ctx, name, "", func(cur Claim, now time.Time) decision {
		if !cur.lapsed(now, h.margin) {
			return decision{next: cur}
		}
		return decision{next: Claim{Name: name, Token: cur.Token, Since: now}, write: true, kind: Reconciled, holder: cur.Owner}
	})
}

// stale reports, as a decision, an owner acting with a token under which it
// no longer holds cur.
func (h *Home) stale(cur Claim, owner string, token uint64) (decision, bool) {
	switch {
	case cur.Token != token:
		return decision{kind: Fenced, err: &StaleError{Owner: owner, Token: token, Current: cur, Err: ErrFenced}}, true
	case !cur.HeldBy(owner, token):
		return decision{kind: Fenced, err: &StaleError{Owner: owner, Token: token, Current: cur, Err: ErrNotOwner}}, true
	}
	return decision{}, false
}

// decision is what a call decides from the current claim: the claim to
// store (if write) or return, the event to report, or the error.
type decision struct {
	next   Claim
	write  bool
	kind   Kind // 0: nothing to report
	holder string
	err    error
}

// change runs plan on the current claim in a compare-and-set loop, and
// reports the outcome once it is final: decided, then stored, then told.
func (h *Home) change(ctx context.Context, name, owner string, plan func(cur Claim, now time.Time) decision) (Claim, error) {
	ctx, cancel := h.bound(ctx)
	defer cancel()
	for range h.attempts {
		cur, rev, err := h.load(ctx, name)
		if err != nil {
			h.unavailable(name, owner, err)
			return Claim{}, err
		}
		d := plan(cur, h.now())
		if d.write {
			_, err = h.store.CompareAndSet(ctx, name, encode(d.next), rev)
			if errors.Is(err, replica.ErrRevisionMismatch) {
				continue
			}
			if err != nil {
				err = fmt.Errorf("%w: write %q: %w", ErrUnavailable, name, err)
				h.unavailable(name, owner, err)
				return Claim{}, err
			}
		}
		h.tell(name, owner, cur, d)
		if d.err != nil {
			return Claim{}, d.err
		}
		return d.next, nil
	}
	err := fmt.Errorf("%w: %q: %w after %d attempts", ErrUnavailable, name, replica.ErrContention, h.attempts)
	h.unavailable(name, owner, err)
	return Claim{}, err
}

// load reads and decodes the claim on name; an absent name is free.
func (h *Home) load(ctx context.Context, name string) (Claim, uint64, error) {
	data, rev, err := h.store.Get(ctx, name)
	if err != nil {
		return Claim{}, 0, fmt.Errorf("%w: read %q: %w", ErrUnavailable, name, err)
	}
	if rev == 0 {
		return Claim{Name: name}, 0, nil
	}
	c, err := decode(name, data)
	return c, rev, err
}

func (h *Home) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	if h.timeout > 0 {
		return context.WithTimeout(ctx, h.timeout)
	}
	return ctx, func() {}
}

func (h *Home) tell(name, owner string, cur Claim, d decision) {
	if h.obs == nil || d.kind == 0 {
		return
	}
	e := Event{Kind: d.kind, Name: name, Owner: owner, Token: d.next.Token, Holder: d.holder}
	if d.err != nil {
		e.Token = cur.Token
		var se *StaleError
		if errors.As(d.err, &se) {
			e.Token = se.Token
		}
	}
	h.obs.Observe(e)
}

func (h *Home) unavailable(name, owner string, err error) {
	if h.obs != nil && errors.Is(err, ErrUnavailable) {
		h.obs.Observe(Event{Kind: Unavailable, Name: name, Owner: owner, Err: err})
	}
}

// checkName accepts the names every home store takes as a key: 1 to
// MaxName ASCII letters, digits and '-', '_', '/', '=', '.', with no '.' at
// either end and no "..".
func checkName(name string) error {
	if name == "" || len(name) > MaxName || name[0] == '.' || name[len(name)-1] == '.' || strings.Contains(name, "..") {
		return fmt.Errorf("%w: name %q", ErrInvalid, name)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-_/=.", c) >= 0) {
			return fmt.Errorf("%w: name %q has byte %q", ErrInvalid, name, c)
		}
	}
	return nil
}

func checkOwner(owner string) error {
	if owner == "" || len(owner) > MaxOwner {
		return fmt.Errorf("%w: owner of %d bytes, want 1 to %d", ErrInvalid, len(owner), MaxOwner)
	}
	return nil
}

func checkToken(token uint64) error {
	if token == 0 {
		return fmt.Errorf("%w: token 0 was never issued", ErrInvalid)
	}
	return nil
}
