package policy

import (
	"errors"
	"fmt"

	"github.com/harborpoint/concord/version"
)

// Branch is one concurrent branch's value of a field, with the stamp of the
// write that last changed that field (a write that left the field equal kept
// its older stamp; see package resolve). A merged branch carries the stamp
// its result came from: the winner's for [Picked], the later of the two for
// [Same] and [Combined].
type Branch[F any] struct {
	Value F
	Stamp version.Stamp
}

// Policy merges the values of two concurrent branches of one field.
//
// A policy that merges automatically must be a join: [Merge](p, a, b) equals
// Merge(p, b, a) (commutative), Merge(p, Merge(p, a, b), c) equals
// Merge(p, a, Merge(p, b, c)) (associative), Merge(p, a, a) equals a
// (idempotent), and the result depends on nothing but a and b
// (deterministic). Then every replica that merges the same branches, in any
// order or grouping, reaches the same value. Package policytest checks these
// laws for your own policies.
//
// A policy that cannot decide returns an error wrapping [ErrRejected]
// (usually a [*Rejection]); it never guesses.
type Policy[F any] interface {
	// Name identifies the policy in decisions and metrics, such as "lww".
	Name() string
	// MergeInto merges *a and *b into *out and describes the merge in *d.
	// On error *out is unspecified and *d describes the refusal. It must
	// not modify *a or *b (build new values; do not append to theirs) and
	// must not keep the pointers. The branches are passed by pointer so
	// that package resolve merges large field values without copying them
	// or allocating; call [Merge] to merge by value.
	MergeInto(out *Branch[F], d *Decision, a, b *Branch[F]) error
}

// Merge returns p's merge of a and b and the decision describing it: the
// by-value form of [Policy.MergeInto], for tests, tools and one-off calls.
func Merge[F any](p Policy[F], a, b Branch[F]) (Branch[F], Decision, error) {
	var (
		out Branch[F]
		d   Decision
	)
	err := p.MergeInto(&out, &d, &a, &b)
	return out, d, err
}

// Equaler is an optional interface a [Policy] may implement to say when two
// values of its field are equal. Package resolve uses the equality of a
// field's binding to decide whether a write changed the field (and so
// whether the field takes the write's stamp). Equal must be an equivalence
// under which equal values are interchangeable, and the policy must merge
// values it calls equal as [Same], keeping the later stamp, as every
// built-in does.
//
// Every built-in policy whose values can be compared implements it ([LWW],
// which accepts any type, does not; a binding then uses the type's own
// Equal method or ==).
type Equaler[F any] interface {
	Equal(a, b F) bool
}

// Replaceable is an optional interface a [Policy] implements to say that
// merging its field keeps the value of the branch with the later stamp: a
// write simply replaces the value, and a concurrent write with an earlier
// stamp is discarded. [LWW] implements it. A replica accepts blind writes —
// writes made without reading the record — only of fields whose policy
// reports Replaceable, and package resolvetest checks that such a field
// never loses a change to a stale copy of it. Package resolve decides such a
// field by causality first: a value that a later write saw and replaced
// loses whatever the stamps, so the policy orders only values whose writers
// never saw each other.
type Replaceable interface {
	Replaceable() bool
}

// Verdict says how a policy settled a pair of branches: the Outcome of a
// [Decision]. (A record's outcome — the state a write or a replicated
// version leaves — is resolve.Outcome.)
type Verdict int8

// The verdicts of a merge. The zero Verdict is invalid.
const (
	_        Verdict = iota
	Same             // the branches held equal values; nothing to decide
	Picked           // one branch's value won; Decision.Winner names it
	Combined         // the result combines both branches' values
	Rejected         // the policy refused to merge (see ErrRejected)
)

// String returns the verdict's name, such as "picked".
func (o Verdict) String() string {
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
		return fmt.Sprintf("Verdict(%d)", int8(o))
	}
}

// Decision records what a policy did with a pair of branches: a value a
// caller can log, store or show to an operator.
type Decision struct {
	Policy  string  // the policy's Name
	Outcome Verdict // how the pair was settled
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
