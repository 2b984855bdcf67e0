package resolve

import (
	"errors"
	"fmt"
	"iter"

	"github.com/harborpoint/concord/policy"
	"github.com/harborpoint/concord/version"
)

// Siblings is the replicated state of one record: a sibling clock whose
// values are branches (a record value, the stamp of the write that made it
// and its field stamps). Replicas exchange Siblings; [Resolver.Apply] merges
// them.
type Siblings[T any] = version.Clock[Branch[T]]

// Class is how an incoming version relates to the local one. The zero Class
// is invalid.
type Class int8

// The four classes of an incoming version.
const (
	_ Class = iota
	// IncomingWins: the incoming version descends from the local one; it
	// is the new truth.
	IncomingWins
	// StaleWrite: the local version already descends from the incoming
	// one; nothing changes.
	StaleWrite
	// ConcurrentConflict: neither descends from the other; the resolver
	// runs over the siblings.
	ConcurrentConflict
	// Duplicate: the incoming version is the local one.
	Duplicate
)

// String returns the class's name, as used in logs and metrics:
// "incoming-wins", "stale-write", "concurrent-conflict" or "duplicate".
func (c Class) String() string {
	switch c {
	case IncomingWins:
		return "incoming-wins"
	case StaleWrite:
		return "stale-write"
	case ConcurrentConflict:
		return "concurrent-conflict"
	case Duplicate:
		return "duplicate"
	default:
		return fmt.Sprintf("Class(%d)", int8(c))
	}
}

// Classify says how incoming relates to local.
func Classify[T any](local, incoming Siblings[T]) Class {
	switch incoming.Compare(local) {
	case version.After:
		return IncomingWins
	case version.Before:
		return StaleWrite
	case version.Equal:
		return Duplicate
	default:
		return ConcurrentConflict
	}
}

// Outcome is the result of applying a write or a replicated version to a
// record's local state.
type Outcome[T any] struct {
	// State is the record's new state, to be stored. It keeps every sibling
	// no write has superseded, whether or not they could be merged.
	State Siblings[T]
	// Class says how the incoming version related to the local one.
	Class Class
	// Dot is the new write's dot (only for [Resolver.Write]).
	Dot version.Dot
	// Resolution is set when the state holds one sibling, or several that
	// the policies merged: the value a reader sees.
	Resolution *Resolution[T]
	// Conflict is set when the state holds siblings that a policy or rule
	// refused to merge.
	//
	// Neither is set when a replicated version changed nothing (Class
	// StaleWrite or Duplicate): the state is the local one, unread.
	Conflict *ConflictRequiresRetry

	entity   string
	met      bool // concurrent branches met in this step
	incoming int  // the siblings of the replicated version, for the events
}

// Events returns what an observer is told of this outcome, once it is
// stored (or found to change nothing): a [StaleDropped] or
// [DuplicateDropped] event for a replicated version already held; and, when
// concurrent branches met in this step, either a [Conflict] event or an
// [AutoResolved] event followed by a [PolicyFired] event for each decision
// (and a [SkewWindow] event for each decision inside the skew window).
//
// The outcome's resolution is computed once; Events only reads it. A caller
// that retries (a compare-and-set loop) reports the outcome it stored, so
// every event is told once.
func (o *Outcome[T]) Events() iter.Seq[Event] {
	return func(yield func(Event) bool) {
		switch o.Class {
		case StaleWrite:
			yield(Event{Kind: StaleDropped, Entity: o.entity, Siblings: o.incoming})
			return
		case Duplicate:
			yield(Event{Kind: DuplicateDropped, Entity: o.entity, Siblings: o.incoming})
			return
		}
		if !o.met {
			return
		}
		n := o.State.Len()
		if c := o.Conflict; c != nil {
			d := Decision{Entity: o.entity, Field: c.Field, Rule: c.Rule,
				Decision: policy.Decision{Policy: c.Policy, Outcome: policy.Rejected, Reason: c.Reason}}
			yield(Event{Kind: Conflict, Entity: o.entity, Field: d.Field + d.Rule, Policy: c.Policy, Siblings: n, Decision: &d})
			return
		}
		if o.Resolution == nil || !yield(Event{Kind: AutoResolved, Entity: o.entity, Siblings: n}) {
			return
		}
		ds := o.Resolution.Decisions()
		for i := range ds {
			d := &ds[i]
			if !yield(Event{Kind: PolicyFired, Entity: o.entity, Field: d.Field + d.Rule, Policy: d.Policy, Siblings: n, Decision: d}) {
				return
			}
			if d.InSkewWindow && !yield(Event{Kind: SkewWindow, Entity: o.entity, Field: d.Field, Policy: d.Policy, Siblings: n, Decision: d}) {
				return
			}
		}
	}
}

// Apply merges a replicated version of a record (another replica's state)
// into the local state, and resolves the siblings that result. Applying the
// same versions in any order, grouping or number of times gives the same
// state. A version already held (stale or duplicate) changes nothing and is
// not resolved again. Apply notifies no one: see [Outcome.Events].
func (r *Resolver[T]) Apply(local, incoming Siblings[T]) Outcome[T] {
	class := Classify(local, incoming)
	switch class {
	case StaleWrite, Duplicate:
		return Outcome[T]{State: local, Class: class, entity: r.entity, incoming: incoming.Len()}
	case IncomingWins:
		return r.outcome(syncStates(local, incoming), class, incoming.Len() > 1)
	default:
		return r.outcome(syncStates(local, incoming), class, true)
	}
}

// syncStates merges two states. A branch that becomes a sibling of others needs
// what its writer had seen (Branch.Seen); a state of one sibling, as stored,
// need not carry it, for the state's own context says it (see withSeen).
func syncStates[T any](local, incoming Siblings[T]) Siblings[T] {
	s := local.Sync(incoming)
	if s.Len() > 1 && (local.Len() == 1 || incoming.Len() == 1) {
		s = withSeen(local).Sync(withSeen(incoming))
	}
	return s
}

// withSeen returns s, with its branch's Seen filled in when s holds one
// live branch that lacks it. The history of a state of one sibling is that
// sibling's, so its writer had seen exactly the state's context less the
// sibling's own dot.
func withSeen[T any](s Siblings[T]) Siblings[T] {
	if s.Len() != 1 {
		return s
	}
	var own Branch[T]
	for b := range s.Siblings() {
		own = b.Value
	}
	if own.Deleted || !own.Seen.IsZero() {
		return s
	}
	seen := seenOf(s.Join(), own.Stamp.Dot)
	if seen.IsZero() {
		return s
	}
	return version.Map(s, func(b Branch[T]) Branch[T] {
		b.Seen = seen
		return b
	})
}

// seenOf returns the context of the write d whose causal history is
// history: history less d itself.
func seenOf(history version.Vector, d version.Dot) version.Vector {
	dots := make([]version.Dot, 0, history.Len())
	for id, n := range history.All() {
		if id == d.ID {
			n = min(n, d.Counter-1)
		}
		if n > 0 {
			dots = append(dots, version.Dot{ID: id, Counter: n})
		}
	}
	v, err := version.NewVector(dots...)
	if err != nil {
		return version.Vector{} // not reached: the dots come from a vector
	}
	return v
}

// Change is a client's write, for [Resolver.Write].
type Change[T any] struct {
	// Context is the causal context the writer read (the token it was
	// handed): the write supersedes exactly the siblings it covers.
	Context version.Vector
	// Base is the record the new value was built from — the [Resolution]
	// the writer read, as &res.Branch — with its field stamps: a field the
	// new value leaves equal to Base's keeps Base's stamp for it, every
	// other field takes the write's stamp. Nil means the record that the
	// siblings Context covers resolve to; if they cannot be merged, a field
	// is left unchanged only where every one of them holds a value equal to
	// the new one (it keeps the latest of their stamps); if Context covers
	// no sibling, every field is new. A write that settles branches
	// passes their [Resolver.Agreement].
	Base *Branch[T]
	// Replica is where the write is made; it names the write's dot.
	Replica version.ID
	// Time is the write's hybrid-logical-clock time.
	Time version.Timestamp
	// Value builds the new record from the write's dot (so that values such
	// as add-wins sets can record it). It is called once, if the write is
	// made. A delete leaves it nil.
	Value func(version.Dot) T
	// Delete makes the write a tombstone (see [Branch.Deleted]): it
	// supersedes the siblings Context covers and leaves no value.
	Delete bool
}

// Write applies a client's write c to local: the new value, stamped with
// c.Time and a fresh dot of c.Replica, supersedes exactly the siblings that
// c.Context covers, and each field carries the stamp of the write that last
// changed it (see [Change.Base]). Fields whose policy is a
// [policy.Normalizer] are normalized first (a set of idempotency keys is
// pruned to its horizon). A write whose context covers every sibling is
// IncomingWins; one made from an older context leaves the siblings it did
// not see and is ConcurrentConflict.
func (r *Resolver[T]) Write(local Siblings[T], c Change[T]) (Outcome[T], error) {
	base := c.Base
	if base == nil {
		base = r.coveredBase(local, c.Context)
	}
	if local.Len() == 1 {
		for b := range local.Siblings() {
			if !c.Context.Contains(b.Dot) {
				local = withSeen(local) // the write leaves it a sibling
			}
		}
	}
	state, dot, err := local.UpdateWith(c.Context, c.Replica, func(d version.Dot) Branch[T] {
		st := version.Stamp{Time: c.Time, Dot: d}
		if c.Delete {
			return Branch[T]{Stamp: st, Deleted: true}
		}
		v := c.Value(d)
		r.normalize(&v)
		return Branch[T]{Value: v, Stamp: st, Fields: r.fieldStamps(base, &v, st), Seen: c.Context}
	})
	if err != nil {
		return Outcome[T]{State: local}, fmt.Errorf("resolve: %s: write at %v: %w", r.entity, c.Replica, err)
	}
	class := IncomingWins
	if state.Len() > 1 {
		class = ConcurrentConflict
	}
	o := r.outcome(state, class, state.Len() > 1)
	o.Dot = dot
	return o, nil
}

// normalize brings the fields of a written value whose policies are
// normalizers (policy.Normalizer) into their canonical form, such as a
// bounded set of idempotency keys.
func (r *Resolver[T]) normalize(v *T) {
	for _, f := range r.fields {
		if f.normalize != nil {
			f.normalize(v)
		}
	}
}

// fieldStamps returns the field stamps of a write of v stamped st built from
// base: base's stamp for each field v leaves equal, st for the others. A
// zero stamp in base marks a field with no base value.
func (r *Resolver[T]) fieldStamps(base *Branch[T], v *T, st version.Stamp) []version.Stamp {
	if base == nil {
		return nil
	}
	var out []version.Stamp
	for i, f := range r.fields {
		bs := base.FieldStamp(i)
		if bs == (version.Stamp{}) || !f.equal(v, &base.Value) {
			bs = st
		}
		if bs != st && out == nil {
			out = make([]version.Stamp, len(r.fields))
			for j := range i {
				out[j] = st
			}
		}
		if out != nil {
			out[i] = bs
		}
	}
	return out
}

// coveredBase returns the base of a write with context seen that named no
// base: the resolution of the siblings of local that seen covers; when they
// cannot be merged, their agreement (see [Change.Base]); nil when seen covers
// none.
func (r *Resolver[T]) coveredBase(local Siblings[T], seen version.Vector) *Branch[T] {
	var covered []Branch[T]
	tomb := false
	for s := range local.Siblings() {
		// A tombstone is no base: a write over it re-creates the record.
		if seen.Contains(s.Dot) {
			if s.Value.Deleted {
				tomb = true
			} else {
				covered = append(covered, s.Value)
			}
		}
	}
	if len(covered) == 0 {
		return nil
	}
	// A write over a delete concurrent with updates settles a conflict even
	// when the live branches would merge: it keeps only what they agree on.
	if !tomb {
		var res Resolution[T]
		if err := r.fold(canonical(covered, true), &res); err == nil {
			return &res.Branch
		}
	}
	return r.agreement(covered)
}

// Agreement returns the base of a write that settles branches, for
// [Change.Base]: what they agree on, and nothing else. A field every live
// branch holds an equal value of keeps, in a write that leaves it equal, the
// stamp a merge of theirs would keep; every other field is the write's own
// change and takes the write's stamp, even where the write keeps one
// branch's value, because another branch it replaces held something else.
// Tombstones are no base; it returns nil when no branch is live (every field
// of the write is new).
//
// It is the base [Resolver.Write] takes by itself for branches it holds and
// cannot merge. A write that settles branches the caller holds elsewhere —
// a review queue's, whose merge was refused before it was stored — or
// that settles branches it could merge but chose for itself, passes it.
func (r *Resolver[T]) Agreement(branches []Branch[T]) *Branch[T] {
	live := make([]Branch[T], 0, len(branches))
	for _, b := range branches {
		if !b.Deleted {
			live = append(live, b)
		}
	}
	if len(live) == 0 {
		return nil
	}
	return r.agreement(live)
}

// agreement returns the base that conflicting branches agree on: the first
// branch's value, where a field every branch holds an equal value of carries
// the stamp a merge would keep of theirs (the latest, of those live for a
// replaceable field: see fieldState.live), and every other field the zero
// stamp (no base).
func (r *Resolver[T]) agreement(bs []Branch[T]) *Branch[T] {
	base := &Branch[T]{Value: bs[0].Value, Fields: make([]version.Stamp, len(r.fields))}
	for _, b := range bs {
		base.Stamp = later(base.Stamp, b.Stamp)
	}
	for i, f := range r.fields {
		st := bs[0].FieldStamp(i)
		for _, b := range bs[1:] {
			if !f.equal(&b.Value, &base.Value) {
				st = version.Stamp{}
				break
			}
			st = r.keep(bs, i, st, b.FieldStamp(i))
		}
		base.Fields[i] = st
	}
	return base
}

// keep returns the stamp of field i a merge of branches bs keeps of two
// equal values stamped a and b: the later, of those live if field i is
// replaceable and only one of them is.
func (r *Resolver[T]) keep(bs []Branch[T], i int, a, b version.Stamp) version.Stamp {
	if r.fields[i].replaceable && a.Dot != b.Dot {
		if la, lb := live(bs, i, a.Dot), live(bs, i, b.Dot); la != lb {
			if la {
				return a
			}
			return b
		}
	}
	return later(a, b)
}

// Resolve returns the value a reader sees: the single sibling, or the merge
// of several. It fails with a [*ConflictRequiresRetry] (whose Context covers
// every sibling) when the siblings cannot be merged. An empty state holds no
// record — a caller tells it by s.Len() == 0 (the replica answers
// replica.ErrNotFound) — and Resolve refuses it with a plain error. It
// notifies no one.
func (r *Resolver[T]) Resolve(s Siblings[T]) (Resolution[T], error) {
	if s.Len() == 1 {
		// Every write's read: returned by value, not moved to the heap.
		for b := range s.Siblings() {
			return Resolution[T]{Branch: b.Value, Merged: 1, Version: s.Join()}, nil
		}
	}
	// Resolved in place: the resolution, a few hundred bytes with its
	// decisions, stays on the caller's stack (outcome keeps one on the heap).
	var res Resolution[T]
	ok, conflict := r.resolveInto(s, &res)
	switch {
	case conflict != nil:
		return Resolution[T]{}, conflict
	case !ok:
		return Resolution[T]{}, fmt.Errorf("resolve: %s: no siblings to resolve", r.entity)
	}
	return res, nil
}

// resolve is resolveInto a new resolution, or nil for no siblings or a
// conflict.
func (r *Resolver[T]) resolve(s Siblings[T]) (*Resolution[T], *ConflictRequiresRetry) {
	if s.Len() == 0 {
		return nil, nil
	}
	res := new(Resolution[T])
	if ok, c := r.resolveInto(s, res); !ok {
		return nil, c
	}
	return res, nil
}

// resolveInto resolves s into *res, which must be the zero Resolution, and
// reports whether s held a record; on a conflict it leaves *res zero.
func (r *Resolver[T]) resolveInto(s Siblings[T], res *Resolution[T]) (bool, *ConflictRequiresRetry) {
	switch s.Len() {
	case 0:
		return false, nil
	case 1:
		for b := range s.Siblings() {
			*res = Resolution[T]{Branch: b.Value, Merged: 1, Version: s.Join()}
			return true, nil
		}
	}
	if hasTombstone(s) {
		if c := r.resolveDeletes(canonical(s.Values(), true), res); c != nil {
			c.Context = s.Join()
			return false, c
		}
		res.Version = s.Join()
		return true, nil
	}
	if err := r.fold(canonical(s.Values(), true), res); err != nil {
		c := r.asConflict(err)
		c.Context = s.Join()
		return false, c
	}
	res.Version = s.Join()
	return true, nil
}

// asConflict returns a merge's error as a conflict.
func (r *Resolver[T]) asConflict(err error) *ConflictRequiresRetry {
	var c *ConflictRequiresRetry
	if !errors.As(err, &c) {
		c = &ConflictRequiresRetry{Entity: r.entity, Reason: err.Error(), Err: err}
	}
	return c
}

// outcome resolves state; met says that concurrent branches met in this
// step, so that its events report the merge.
func (r *Resolver[T]) outcome(state Siblings[T], class Class, met bool) Outcome[T] {
	res, conflict := r.resolve(state)
	// Concurrent deletes agree: they meet silently.
	silent := res != nil && res.Deleted && res.Decided() == 0
	return Outcome[T]{State: state, Class: class, Resolution: res, Conflict: conflict,
		entity: r.entity, met: met && state.Len() > 1 && !silent}
}
