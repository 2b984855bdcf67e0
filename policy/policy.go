package policy

import (
	"errors"
	"fmt"

	"github.com/harborpoint/concord/version"
)

// Branch is one concurrent branch's value of a field, with the stamp of the
// write that produced it. A merged branch carries the greater of its inputs'
// stamps.
type Branch[F any] struct {
	Value F
	Stamp version.Stamp
}

// Policy merges the values of two concurrent branches of one field.
//
// A policy that merges automatically must be a join: Merge(a, b) equals
// Merge(b, a) (commutative), Merge(Merge(a, b), c) equals Merge(a, Merge(b, c))
// (associative), Merge(a, a) equals a (idempotent), and the result depends on
// nothing but a and b (deterministic). Then every replica that merges the
// same branches, in any order or grouping, reaches the same value.
//
// A policy that cannot decide returns an error wrapping [ErrRejected]
// (usually a [*Rejection]); it never guesses. Merge must not modify the
// values it is given; it returns new ones.
type Policy[F any] interface {
	// Name identifies the policy in decisions and metrics, such as "lww".
	Name() string
	// Merge returns the merge of a and b and a decision describing it.
	Merge(a, b Branch[F]) (Branch[F], Decision, error)
}

// Merger is an optional fast path a [Policy] may implement: the same merge
// as Merge, reading the branches and writing the result and the decision
// through pointers, so that large branches and decisions are not copied on
// every call. Package resolve uses it when a bound policy implements it.
// MergeInto must set *out and *d exactly as Merge would return them (on
// error, *out is unspecified and *d describes the refusal), and must not
// keep the pointers. Every built-in policy implements it, and its Merge calls
// MergeInto, so the two paths are one implementation.
type Merger[F any] interface {
	MergeInto(out *Branch[F], d *Decision, a, b *Branch[F]) error
}

// Outcome says how a policy settled a pair of branches.
type Outcome int8

// Outcomes of a merge. The zero Outcome is invalid.
const (
	_        Outcome = iota
	Same             // the branches held equal values; nothing to decide
	Picked           // one branch's value won; Decision.Winner names it
	Combined         // the result combines both branches' values
	Rejected         // the policy refused to merge (see ErrRejected)
)

// String returns the outcome's name.
func (o Outcome) String() string {
	switch o {
	case Same:
		return "same"
	case Picked:
		return "picked"
	case Combined:
		return "combined"
	case Rejected:
		return "rejected"
	default:
		return fmt.Sprintf("Outcome(%d)", int8(o))
	}
}

// Decision records what a policy did with a pair of branches: a value a
// caller can log, store or show to an operator.
type Decision struct {
	Policy  string  // the policy's Name
	Outcome Outcome // how the pair was settled
	// Winner is the stamp of the winning branch when Outcome is Picked.
	Winner version.Stamp
	// Loser is the stamp of the losing branch when Outcome is Picked.
	Loser version.Stamp
	// Reason explains the decision in words, such as
	// "confirmed is absorbing" or "later stamp".
	Reason string
	// InSkewWindow reports a last-writer-wins decision between stamps
	// closer in time than the configured clock-skew window: the order was
	// decided by timestamps that clock skew could have inverted.
	InSkewWindow bool
}

// ErrRejected is matched by errors.Is for every refusal to merge.
var ErrRejected = errors.New("policy: merge rejected")

// Rejection is the error a policy returns when it refuses to merge two
// branches. errors.Is(err, ErrRejected) is true for it.
type Rejection struct {
	Policy string // the policy that refused
	Reason string // why, in words
}

// Error implements the error interface.
func (r *Rejection) Error() string {
	return fmt.Sprintf("policy: %s rejected the merge: %s", r.Policy, r.Reason)
}

// Is makes errors.Is(err, ErrRejected) true.
func (r *Rejection) Is(target error) bool { return target == ErrRejected }

// later returns the greater of two stamps.
func later(a, b version.Stamp) version.Stamp {
	if a.Compare(b) >= 0 {
		return a
	}
	return b
}
