package resolve

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"

	"github.com/harborpoint/concord/policy"
	"github.com/harborpoint/concord/version"
)

// Field binds one field of record type T to the policy that merges it. Build
// one with [Bind].
type Field[T any] struct {
	name   string
	policy string
	merge  func(out *T, acc *fieldState[T], b *policy.Branch[T], i int, d *policy.Decision) (version.Stamp, error)
	copy   func(dst, src *T)
}

// Name returns the field's name, as used in decisions and metrics.
func (f Field[T]) Name() string { return f.name }

// Policy returns the name of the field's policy.
func (f Field[T]) Policy() string { return f.policy }

// Copy sets the field in dst to its value in src, leaving dst's other fields
// alone. It is how a replica applies a blind write of one field.
func (f Field[T]) Copy(dst, src *T) {
	if f.copy != nil {
		f.copy(dst, src)
	}
}

// Bind binds the field that get points to in a T to policy p. The accessor is
// an ordinary function, checked by the compiler:
//
//	resolve.Bind("note", func(h *Hold) *string { return &h.Note }, policy.LWW[string](policy.LWWOptions{}))
//
// get must return a pointer into the record it is given and nothing else.
func Bind[T, F any](name string, get func(*T) *F, p policy.Policy[F]) Field[T] {
	f := Field[T]{name: name}
	if get == nil || p == nil {
		return f // New reports the missing parts
	}
	f.policy = p.Name()
	f.copy = func(dst, src *T) { *get(dst) = *get(src) }
	// The policy merges through pointers: hand it three branches that live
	// in the (pooled) accumulator, so nothing escapes per call and nothing
	// large is copied through the interface.
	f.merge = func(out *T, a *fieldState[T], b *policy.Branch[T], i int, d *policy.Decision) (version.Stamp, error) {
		sc, _ := a.scratch[i].(*[3]policy.Branch[F])
		if sc == nil {
			sc = new([3]policy.Branch[F])
			a.scratch[i] = sc
		}
		sc[0] = policy.Branch[F]{Value: *get(&a.value), Stamp: a.stamps[i]}
		sc[1] = policy.Branch[F]{Value: *get(&b.Value), Stamp: b.Stamp}
		err := p.MergeInto(&sc[2], d, &sc[0], &sc[1])
		if err == nil {
			*get(out) = sc[2].Value
		}
		st := sc[2].Stamp
		*sc = [3]policy.Branch[F]{} // keep no values alive in the pool
		return st, err
	}
	return f
}

// Rule is a record-level rule: it sees two whole branches and the record their
// fields merged into, and may adjust that record (return a reason) or refuse
// the merge (return an error, usually a [*policy.Rejection]). Rules run after
// the field policies, in the order given, so they can enforce invariants that
// live across fields, like "a confirmed hold keeps its own expiry".
//
// Like a field policy, a rule must keep the merge a join: the same result
// whatever the order and grouping of the branches.
type Rule[T any] struct {
	// Name identifies the rule in decisions and metrics.
	Name string
	// Apply adjusts out, the field-merged record of branches a and b. It
	// returns a reason when it changed something, "" when it did not.
	Apply func(out *T, a, b policy.Branch[T]) (reason string, err error)
}

// Options configures a [Resolver]. The zero Options is valid: no observer, no
// logging.
type Options struct {
	// Observer is told of every resolution, conflict, stale and duplicate
	// write and skew-window decision. Nil means none.
	Observer Observer
	// Logger receives a debug record for every decision. Nil means none.
	Logger *slog.Logger
}

// Resolver merges concurrent branches of records of type T with per-field
// policies and record-level rules. Build one with [New]. A Resolver is
// immutable after New and safe for concurrent use.
type Resolver[T any] struct {
	entity string
	fields []Field[T]
	rules  []Rule[T]
	obs    Observer
	log    *slog.Logger
	states sync.Pool // *fieldState[T], reused across merges
}

// ErrInvalidResolver is wrapped by the error New returns for a bad declaration.
var ErrInvalidResolver = errors.New("resolve: invalid resolver")

// New returns a resolver for records of entity type entity (a name such as
// "hold", used in metrics). Every field of T that should survive a merge
// needs a binding: a field without one takes the value of the branch with the
// greatest stamp (whole-record last-writer-wins), which is deterministic but
// rarely what a field that matters needs.
func New[T any](entity string, fields []Field[T], rules []Rule[T], opts Options) (*Resolver[T], error) {
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
		if f.merge == nil {
			problems = append(problems, fmt.Errorf("field %q has no accessor or no policy", f.name))
		}
	}
	for i, r := range rules {
		if r.Name == "" || r.Apply == nil {
			problems = append(problems, fmt.Errorf("rule %d needs a name and a function", i))
		}
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%w for %q: %w", ErrInvalidResolver, entity, errors.Join(problems...))
	}
	return &Resolver[T]{
		entity: entity,
		fields: slices.Clone(fields),
		rules:  slices.Clone(rules),
		obs:    opts.Observer,
		log:    opts.Logger,
	}, nil
}

// Entity returns the entity type name.
func (r *Resolver[T]) Entity() string { return r.entity }

// Fields returns the field bindings, in order.
func (r *Resolver[T]) Fields() []Field[T] { return slices.Clone(r.fields) }

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
	// Value is the merged record.
	Value T
	// Stamp is the greatest stamp among the merged branches.
	Stamp version.Stamp
	// Version is the causal context of the merged record: it descends from
	// every branch merged, and replicas holding the same siblings report the
	// same Version with the same Value — no replica mints a version of its
	// own to record a merge. Resolve, Apply and Write set it; Merge, which
	// sees branches without their contexts, leaves it zero.
	Version version.Vector
	// Merged is the number of distinct branches merged.
	Merged int
	// Decisions lists, in order, what every policy and rule decided; a
	// field whose branches agreed (outcome Same) decided nothing and is not
	// listed.
	Decisions []Decision
}

// fieldState is the accumulator of a merge: the record so far and the stamp
// each field's value came from.
type fieldState[T any] struct {
	value  T
	out    T                // the merge in progress, kept here so it is not allocated per pair
	in     policy.Branch[T] // the branch being merged in, copied here so the caller's branches stay on its stack
	stamp  version.Stamp    // greatest stamp merged so far
	stamps []version.Stamp  // per field
	next   []version.Stamp  // per field, written by the merge in progress
	// scratch holds, per field, the branches a policy with a pointer fast
	// path (policy.Policy.MergeInto) reads and writes, reused across merges.
	scratch []any
	inline  [16]version.Stamp
}

// Merge merges concurrent branches of one record into one, or returns a
// [*ConflictRequiresRetry] when a policy or rule refuses. Branches with the
// same stamp are the same write and count once. The result does not depend on
// the order of branches. Merge does not notify the observer; [Resolver.Apply]
// does.
func (r *Resolver[T]) Merge(branches []policy.Branch[T]) (Resolution[T], error) {
	if len(branches) == 0 {
		return Resolution[T]{}, fmt.Errorf("resolve: %s: no branches to merge", r.entity)
	}
	if len(branches) <= 4 {
		// Sort a copy on the stack: Merge must not reorder the caller's slice.
		var small [4]policy.Branch[T]
		n := copy(small[:], branches)
		return r.fold(canonical(small[:n], true))
	}
	return r.fold(canonical(branches, false))
}

// MergeInOrder merges branches folding them in exactly the order given, with
// no sorting and no removal of repeats. [Resolver.Merge] folds in stamp
// order; law checkers such as package resolvetest fold in other orders to
// show that the policies are joins — that the order never mattered.
func (r *Resolver[T]) MergeInOrder(branches []policy.Branch[T]) (Resolution[T], error) {
	if len(branches) == 0 {
		return Resolution[T]{}, fmt.Errorf("resolve: %s: no branches to merge", r.entity)
	}
	return r.fold(branches)
}

func (r *Resolver[T]) fold(bs []policy.Branch[T]) (Resolution[T], error) {
	acc := r.state(bs[0])
	defer r.release(acc)
	decisions := make([]Decision, 0, (len(bs)-1)*(len(r.fields)+len(r.rules)))
	// A pair that is refused may still merge once a third branch has been
	// merged in (an absorbing state settles a pair that would be refused on
	// its own), so refused branches wait for another pass; the merge fails
	// only when a whole pass makes no progress.
	pending := bs[1:]
	for len(pending) > 0 {
		var (
			deferred []policy.Branch[T]
			firstErr error
		)
		for i := range pending {
			// merge2 changes acc and decisions only when it succeeds.
			var err error
			decisions, err = r.merge2(acc, &pending[i], decisions)
			if err != nil {
				deferred = append(deferred, pending[i])
				if firstErr == nil {
					firstErr = err
				}
			}
		}
		if len(deferred) == len(pending) {
			return Resolution[T]{}, r.conflict(bs, firstErr)
		}
		pending = deferred
	}
	return Resolution[T]{Value: acc.value, Stamp: acc.stamp, Merged: len(bs), Decisions: decisions}, nil
}

// canonical returns branches sorted by stamp without repeated writes. It
// copies only when the input is not already in that order, unless owned says
// the caller's slice may be sorted in place.
func canonical[T any](branches []policy.Branch[T], owned bool) []policy.Branch[T] {
	ordered := true
	for i := 1; i < len(branches); i++ {
		if branches[i-1].Stamp.Compare(branches[i].Stamp) >= 0 {
			ordered = false
			break
		}
	}
	if ordered {
		return branches
	}
	bs := branches
	if !owned {
		bs = slices.Clone(branches)
	}
	slices.SortFunc(bs, func(a, b policy.Branch[T]) int { return a.Stamp.Compare(b.Stamp) })
	return slices.CompactFunc(bs, func(a, b policy.Branch[T]) bool { return a.Stamp == b.Stamp })
}

func (r *Resolver[T]) state(b policy.Branch[T]) *fieldState[T] {
	s, _ := r.states.Get().(*fieldState[T])
	if s == nil {
		s = new(fieldState[T])
	}
	s.value, s.stamp = b.Value, b.Stamp
	n := len(r.fields)
	buf := s.inline[:]
	if 2*n > len(buf) {
		buf = make([]version.Stamp, 2*n)
	}
	s.stamps, s.next = buf[:n:n], buf[n:2*n:2*n]
	if len(s.scratch) != n {
		s.scratch = make([]any, n)
	}
	for i := range s.stamps {
		s.stamps[i] = b.Stamp
	}
	return s
}

// release returns an accumulator to the pool, dropping its references so
// that pooled states keep no record values alive.
func (r *Resolver[T]) release(s *fieldState[T]) {
	var zero T
	s.value, s.out = zero, zero
	s.in = policy.Branch[T]{}
	r.states.Put(s)
}

// merge2 merges branch into the accumulator a, appending the decisions
// that decided something to ds. On a refusal it changes neither a nor the
// returned slice's contents below len(ds).
func (r *Resolver[T]) merge2(a *fieldState[T], branch *policy.Branch[T], ds []Decision) ([]Decision, error) {
	// The field accessors are function values, so whatever they are handed
	// escapes: hand them the accumulator's copy of the branch, which lives
	// on the heap already, rather than the caller's.
	b := &a.in
	*b = *branch
	// Fields not bound follow the branch with the greater stamp.
	out := &a.out
	*out = a.value
	if b.Stamp.Compare(a.stamp) > 0 {
		*out = b.Value
	}
	start := len(ds)
	next := a.next[:0]
	for i, f := range r.fields {
		// The policy writes its decision straight into the next slot of ds,
		// which is kept only if the policy decided something.
		if len(ds) == cap(ds) {
			ds = slices.Grow(ds, 1)
		}
		slot := &ds[:len(ds)+1][len(ds)]
		st, err := f.merge(out, a, b, i, &slot.Decision)
		next = append(next, st)
		if err != nil {
			*slot = Decision{}
			return ds[:start], &fieldError{field: f.name, policy: f.policy, err: err}
		}
		if slot.Outcome == policy.Same {
			*slot = Decision{} // keep no references in the spare capacity
			continue
		}
		slot.Entity, slot.Field, slot.Rule, slot.Policy = r.entity, f.name, "", f.policy
		ds = ds[:len(ds)+1]
	}
	for _, rule := range r.rules {
		reason, err := rule.Apply(out, policy.Branch[T]{Value: a.value, Stamp: a.stamp}, *b)
		if err != nil {
			return ds[:start], &fieldError{rule: rule.Name, policy: "rule", err: err}
		}
		if reason != "" {
			ds = append(ds, Decision{Entity: r.entity, Rule: rule.Name,
				Decision: policy.Decision{Policy: "rule", Outcome: policy.Combined, Reason: reason}})
		}
	}
	a.value, a.out = a.out, a.value
	a.stamp = later(a.stamp, b.Stamp)
	copy(a.stamps, next)
	if r.log != nil {
		for _, d := range ds[start:] {
			r.log.Debug("concord decision", "entity", r.entity, "decision", d.String())
		}
	}
	return ds, nil
}

func later(a, b version.Stamp) version.Stamp {
	if a.Compare(b) >= 0 {
		return a
	}
	return b
}

// fieldError says which field or rule refused a merge.
type fieldError struct {
	field, rule, policy string
	err                 error
}

func (e *fieldError) Error() string {
	if e.rule != "" {
		return fmt.Sprintf("rule %s: %v", e.rule, e.err)
	}
	return fmt.Sprintf("field %s (%s): %v", e.field, e.policy, e.err)
}

func (e *fieldError) Unwrap() error { return e.err }
