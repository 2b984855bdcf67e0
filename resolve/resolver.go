package resolve

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/harborpoint/concord/policy"
	"github.com/harborpoint/concord/version"
)

// Options configures a [Resolver]. The zero Options is valid: no skew
// window.
type Options struct {
	// SkewWindow is the clock skew the deployment tolerates between
	// replicas — the one place it is configured. A decision of a field
	// whose policy is replaceable (last-writer-wins, see
	// [policy.Replaceable]) between stamps whose wall times are closer than
	// SkewWindow is flagged with Decision.InSkewWindow and counted as a
	// [SkewWindow] event: skew could have inverted their order. Zero or
	// negative flags nothing.
	SkewWindow time.Duration
	// OnDelete says what happens when a delete is concurrent with an
	// update of the same record. The zero value, [DeleteConflicts], keeps
	// both and reports a conflict to review.
	OnDelete OnDelete
}

// Resolver merges concurrent branches of records of type T with per-field
// policies and record-level rules. Build one with [New]. A Resolver is
// immutable after New and safe for concurrent use.
//
// A Resolver computes and never acts: [Resolver.Apply], [Resolver.Write]
// and [Resolver.Resolve] are pure functions of their arguments that notify
// no one, so that a caller may run them again (once per compare-and-set
// attempt, say) and report only the [Outcome] it stored, with
// [Outcome.Events]. A replica does exactly that.
type Resolver[T any] struct {
	entity string
	fields []Field[T]
	rules  []RecordRule[T]
	skew   time.Duration
	// onDelete settles a tombstone concurrent with a live branch.
	onDelete OnDelete
	states   sync.Pool // *fieldState[T], reused across merges
	reasons  reasonTable
	// hook holds the merges internal/resolvehook hands out (see hooks),
	// made once here: a func value of an instantiated generic method is a
	// closure over the instantiation's dictionary, allocated where it is
	// made.
	hook [3]any
}

// ErrInvalidResolver is wrapped by the error New returns for a bad declaration.
var ErrInvalidResolver = errors.New("resolve: invalid resolver")

// New returns a resolver for records of entity type entity (a name such as
// "hold", used in metrics). Every field of T that should survive a merge
// needs a binding: a field without one takes the value of the branch with the
// greatest stamp (whole-record last-writer-wins), which is deterministic but
// rarely what a field that matters needs.
func New[T any](entity string, fields []Field[T], rules []RecordRule[T], opts Options) (*Resolver[T], error) {
	var problems []error
	if entity == "" {
		problems = append(problems, errors.New("empty entity name"))
	}
	seen := map[string]bool{}
	for i, f := range fields {
		switch {
		case f.name == "":
			problems = append(problems, fmt.Errorf("field %d has no name", i))
		case seen[f.name]:
			problems = append(problems, fmt.Errorf("field %q bound twice", f.name))
		}
		seen[f.name] = true
		switch {
		case f.copy == nil:
			problems = append(problems, fmt.Errorf("field %q has no accessor or no policy", f.name))
		case f.equal == nil:
			problems = append(problems, fmt.Errorf("field %q: its values cannot be compared, so a write's changes cannot be told: give its policy an Equal method (policy.Equaler)", f.name))
		}
	}
	for i, r := range rules {
		if r.Name == "" || r.Apply == nil {
			problems = append(problems, fmt.Errorf("rule %d needs a name and a function", i))
		}
	}
	if opts.OnDelete < DeleteConflicts || opts.OnDelete > UpdateWins {
		problems = append(problems, fmt.Errorf("unknown %v", opts.OnDelete))
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%w for %q: %w", ErrInvalidResolver, entity, errors.Join(problems...))
	}
	r := &Resolver[T]{
		entity:   entity,
		fields:   slices.Clone(fields),
		rules:    slices.Clone(rules),
		skew:     opts.SkewWindow,
		onDelete: opts.OnDelete,
		hook:     [3]any{(*Resolver[T]).merge, (*Resolver[T]).inOrder, (*Resolver[T]).mergeTo},
	}
	r.reasons.init()
	return r, nil
}

// Entity returns the entity type name.
func (r *Resolver[T]) Entity() string { return r.entity }

// Fields returns the field bindings, in order.
func (r *Resolver[T]) Fields() []Field[T] { return slices.Clone(r.fields) }

// OnDelete returns what the resolver does with a delete concurrent with an
// update.
func (r *Resolver[T]) OnDelete() OnDelete { return r.onDelete }

// Field returns the binding of the named field.
func (r *Resolver[T]) Field(name string) (Field[T], bool) {
	for _, f := range r.fields {
		if f.name == name {
			return f, true
		}
	}
	return Field[T]{}, false
}

// Decision records what one field policy or record rule did while merging two
// branches: a value a caller can log, store or show.
type Decision struct {
	Entity string // the resolver's entity type
	Field  string // the field, or "" for a record rule
	Rule   string // the record rule, or "" for a field policy
	policy.Decision
}

// String returns a one-line description such as
// "hold.note: lww picked 14:04:53/baltimore:1 over 14:04:52/lisbon:19 (later stamp)".
func (d Decision) String() string {
	where := d.Entity + "." + d.Field
	if d.Rule != "" {
		where = d.Entity + " rule " + d.Rule
	}
	s := fmt.Sprintf("%s: %s %s", where, d.Policy, d.Outcome)
	if d.Outcome == policy.Picked {
		s += fmt.Sprintf(" %v over %v", d.Winner, d.Loser)
	}
	if d.Reason != "" {
		s += " (" + d.Reason + ")"
	}
	if d.InSkewWindow {
		s += " [inside clock-skew window]"
	}
	return s
}

// Resolution is a successful merge of concurrent branches into one record.
type Resolution[T any] struct {
	// Branch is the merged record: its Value, the greatest Stamp among the
	// merged branches, and per field the stamp its merged value came from
	// (the winner's for a Picked field, the later of the two for Same and
	// Combined). A write built from the record passes it as its base (see
	// [Change]).
	Branch[T]
	// Version is the causal context of the merged record: it descends from
	// every branch merged, and replicas holding the same siblings report the
	// same Version with the same Value — no replica mints a version of its
	// own to record a merge.
	Version version.Vector
	// Merged is the number of distinct branches merged.
	Merged int
	// trail records, in order, what every policy and rule decided, in a
	// form that holds no names and no stamps (see [Resolution.Decisions]):
	// the names are by's. It is held by value, so that a merge allocates
	// nothing for its decisions (a merge of a few fields decides a few),
	// and never changed once the Resolution is built. more holds what
	// outgrew it (see trail), nil unless a merge needed it; copies share it.
	trail trail
	more  *trailMore
	by    *Resolver[T]
}

// Decisions lists, in order, what every policy and rule decided; a field
// whose branches agreed (outcome Same) decided nothing and is not listed.
// Each call builds a new slice: a merge records its decisions compactly, so
// that a caller that does not read them pays little for them.
func (res Resolution[T]) Decisions() []Decision {
	if res.trail.n == 0 {
		return nil
	}
	out := make([]Decision, res.trail.n)
	for i := range out {
		out[i] = res.by.decision(res.trail.at(i, res.more), &res.trail, res.more)
	}
	return out
}

// Decided returns the number of decisions the merge recorded:
// len(res.Decisions()), without building them.
func (res Resolution[T]) Decided() int { return int(res.trail.n) }
