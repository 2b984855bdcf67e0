package hold

import (
	"time"

	"github.com/harborpoint/concord/policy"
	"github.com/harborpoint/concord/resolve"
)

// Entity is the entity type name of holds in decisions and metrics.
const Entity = "hold"

// Lifecycle is the state machine that merges concurrent statuses:
// confirmed is absorbing (it beats active and released), and released
// versus active is refused — blindly choosing one could reopen a hold that
// another workflow ended, or end one a customer is still paying for.
var Lifecycle = mustLifecycle()

func mustLifecycle() *policy.StateMachine[Status] {
	m, err := policy.NewStateMachine(policy.StateMachineSpec[Status]{
		Name:      "lifecycle",
		States:    []Status{Active, Released, Confirmed},
		Absorbing: []Status{Confirmed},
		Rules: []policy.Rule[Status]{
			policy.RejectRule(Released, Active, "released vs active: retry from the current version"),
		},
	})
	if err != nil {
		panic(err)
	}
	return m
}

// laterExpiry merges expiries to the later one: two concurrent extends of
// one active hold keep the longer one.
type laterExpiry struct{}

func (laterExpiry) Name() string { return "later-expiry" }

// Equal implements policy.Equaler: expiries are equal when they name the
// same instant.
func (laterExpiry) Equal(a, b time.Time) bool { return a.Equal(b) }

// MergeInto implements [policy.Policy].
func (p laterExpiry) MergeInto(out *policy.Branch[time.Time], d *policy.Decision, a, b *policy.Branch[time.Time]) error {
	switch c := a.Value.Compare(b.Value); {
	case c == 0:
		w := a
		if b.Stamp.Compare(a.Stamp) > 0 {
			w = b
		}
		*out, *d = *w, policy.Decision{Policy: p.Name(), Outcome: policy.Same, Reason: "equal expiry"}
		return nil
	case c < 0:
		a, b = b, a
	}
	*out, *d = *a, policy.Decision{Policy: p.Name(), Outcome: policy.Picked, Winner: a.Stamp, Loser: b.Stamp, Reason: "later expiry"}
	return nil
}

// LaterExpiry is the expiry field's policy: the later time wins.
func LaterExpiry() policy.Policy[time.Time] { return laterExpiry{} }

// Resolver returns the hold's resolver:
//
//   - id, cabin: write-once (a differing value is a conflict);
//   - status: [Lifecycle] — confirmed absorbing, released vs active refused;
//   - expires_at: later expiry — but a confirmed branch keeps its own expiry
//     (rule "confirmed-keeps-terms");
//   - booking_id: write-once — two confirmations with different bookings
//     cannot be merged: "one confirmed owner per cabin" needs coordination,
//     so they go to review, never silently to one of them;
//   - note: last writer wins, by stamp;
//   - agencies: set union;
//   - commands: the union of the applied idempotency keys, each with the
//     time of the write that applied it, within policy.DefaultHorizon: a
//     key is forgotten 24 hours after it was applied, or once 1,024 newer
//     ones are kept (a retry after that is a new command).
//
// opts configures the resolver, such as the clock skew within which note
// decisions are flagged.
func Resolver(opts resolve.Options) *resolve.Resolver[Hold] {
	fields := []resolve.Field[Hold]{
		resolve.Bind("id", func(h *Hold) *string { return &h.ID }, policy.Once[string]()),
		resolve.Bind("cabin", func(h *Hold) *string { return &h.Cabin }, policy.Once[string]()),
		resolve.Bind("status", func(h *Hold) *Status { return &h.Status }, policy.Policy[Status](Lifecycle)),
		resolve.Bind("expires_at", func(h *Hold) *time.Time { return &h.ExpiresAt }, LaterExpiry()),
		resolve.Bind("booking_id", func(h *Hold) *string { return &h.BookingID }, policy.Once[string]()),
		resolve.Bind("note", func(h *Hold) *string { return &h.Note }, policy.LWW[string]()),
		resolve.Bind("agencies", func(h *Hold) *policy.Set[string] { return &h.Agencies }, policy.Union[string]()),
		resolve.Bind("commands", func(h *Hold) *policy.Applied { return &h.Commands }, policy.AppliedKeys(policy.DefaultHorizon)),
	}
	rules := []resolve.RecordRule[Hold]{{Name: "confirmed-keeps-terms", Apply: confirmedKeepsTerms}}
	r, err := resolve.New(Entity, fields, rules, opts)
	if err != nil {
		panic(err) // the declaration above is fixed; a failure is a bug
	}
	return r
}

// confirmedKeepsTerms: when exactly one side is confirmed, the merged hold
// keeps the confirmed side's expiry — the terms that were paid for — rather
// than an extension made concurrently on a branch that never got paid.
func confirmedKeepsTerms(out *Hold, a, b resolve.Branch[Hold]) (string, error) {
	ac, bc := a.Value.Status == Confirmed, b.Value.Status == Confirmed
	switch {
	case ac && !bc:
		if !out.ExpiresAt.Equal(a.Value.ExpiresAt) {
			out.ExpiresAt = a.Value.ExpiresAt
			return "confirmed branch keeps its expiry", nil
		}
	case bc && !ac:
		if !out.ExpiresAt.Equal(b.Value.ExpiresAt) {
			out.ExpiresAt = b.Value.ExpiresAt
			return "confirmed branch keeps its expiry", nil
		}
	}
	return "", nil
}
