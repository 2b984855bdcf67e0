package resolve

import (
	"errors"
	"fmt"
	"strings"

	"github.com/harborpoint/concord/policy"
	"github.com/harborpoint/concord/version"
)

// ErrConflict is matched by errors.Is for every [*ConflictRequiresRetry].
var ErrConflict = errors.New("resolve: conflict requires retry")

// ConflictRequiresRetry is the outcome of a merge that a policy or rule
// refused: concurrent branches that no rule may combine, such as a released
// and an active hold. Nothing is chosen: every branch stays as a sibling
// until a write whose context covers them all (Context) replaces them, made
// by a client or an operator that saw every branch.
//
// It is not generic: it names the branches by their stamps, and their values
// come from the record (the replica's Record.Branches, or the siblings), so
// that errors.As finds it without knowing the record type.
// errors.Is(err, ErrConflict) matches it, and errors.Is(err,
// policy.ErrRejected) matches the refusal inside.
type ConflictRequiresRetry struct {
	// Entity is the resolver's entity type.
	Entity string
	// Key is the record's key, when known (the replica fills it in).
	Key string
	// Field is the field whose policy refused, or "" when a rule did.
	Field string
	// Rule is the record rule that refused, or "".
	Rule string
	// Policy is the name of the policy that refused ("rule" for a rule).
	Policy string
	// Reason explains the refusal in words.
	Reason string
	// Stamps are the stamps of every concurrent branch, in stamp order; each
	// Stamp.Dot names the write that made the branch (its sibling dot).
	Stamps []version.Stamp
	// Context covers every branch: a write made with it replaces them all.
	// It is the token a client sends back (as If-Match) to retry.
	Context version.Vector
	// Err is the policy's or rule's error.
	Err error
}

// Error implements the error interface.
func (c *ConflictRequiresRetry) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "resolve: %s", c.Entity)
	if c.Key != "" {
		fmt.Fprintf(&b, " %s", c.Key)
	}
	fmt.Fprintf(&b, ": conflict requires retry: %d branches", len(c.Stamps))
	switch {
	case c.Rule != "":
		fmt.Fprintf(&b, ", rule %s", c.Rule)
	case c.Field != "":
		fmt.Fprintf(&b, ", field %s (%s)", c.Field, c.Policy)
	}
	if c.Reason != "" {
		fmt.Fprintf(&b, ": %s", c.Reason)
	}
	return b.String()
}

// Is reports whether target is ErrConflict.
func (c *ConflictRequiresRetry) Is(target error) bool { return target == ErrConflict }

// Unwrap returns the refusal.
func (c *ConflictRequiresRetry) Unwrap() error { return c.Err }

// Dots returns the dots of the branches' writes, in order.
func (c *ConflictRequiresRetry) Dots() []version.Dot {
	out := make([]version.Dot, len(c.Stamps))
	for i, s := range c.Stamps {
		out[i] = s.Dot
	}
	return out
}

func (r *Resolver[T]) conflict(branches []Branch[T], err error) *ConflictRequiresRetry {
	c := &ConflictRequiresRetry{Entity: r.entity, Stamps: make([]version.Stamp, len(branches)), Err: err}
	for i := range branches {
		c.Stamps[i] = branches[i].Stamp
	}
	var fe *fieldError
	if errors.As(err, &fe) {
		c.Field, c.Rule, c.Policy, c.Err = fe.field, fe.rule, fe.policy, fe.err
	}
	var rej *policy.Rejection
	if errors.As(c.Err, &rej) {
		c.Reason = rej.Reason
	} else {
		c.Reason = c.Err.Error()
	}
	return c
}
