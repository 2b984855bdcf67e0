package resolve

import (
	"errors"
	"fmt"

	"github.com/harborpoint/concord/policy"
	"github.com/harborpoint/concord/version"
)

// Siblings is the replicated state of one record: a sibling clock whose
// values are branches (a record value and the stamp of the write that made
// it). Replicas exchange Siblings; [Resolver.Apply] merges them.
type Siblings[T any] = version.Clock[policy.Branch[T]]

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
	Conflict *ConflictRequiresRetry[T]
}

// Apply merges a replicated version of a record (another replica's state)
// into the local state, and resolves the siblings that result. Applying the
// same versions in any order, grouping or number of times gives the same
// state. The observer is told of stale and duplicate versions, automatic
// resolutions, their decisions, and conflicts.
func (r *Resolver[T]) Apply(local, incoming Siblings[T]) Outcome[T] {
	class := Classify(local, incoming)
	switch class {
	case StaleWrite:
		r.observe(Event{Kind: StaleDropped, Entity: r.entity, Siblings: incoming.Len()})
		return r.outcome(local, class, false)
	case Duplicate:
		r.observe(Event{Kind: DuplicateDropped, Entity: r.entity, Siblings: incoming.Len()})
		return r.outcome(local, class, false)
	case IncomingWins:
		return r.outcome(local.Sync(incoming), class, incoming.Len() > 1)
	default:
		return r.outcome(local.Sync(incoming), class, true)
	}
}

// Write applies a client's write at replica at: value is built from the new
// write's dot (so that values such as add-wins sets can record it), stamped
// with the hybrid-logical-clock time ts, and supersedes exactly the siblings
// that ctx — the context the client read — covers. A write whose context
// covers every sibling is IncomingWins; one made from an older context leaves
// the siblings it did not see and is ConcurrentConflict.
func (r *Resolver[T]) Write(local Siblings[T], ctx version.Vector, at version.ID, ts version.Timestamp, value func(version.Dot) T) (Outcome[T], error) {
	state, dot, err := local.UpdateWith(ctx, at, func(d version.Dot) policy.Branch[T] {
		return policy.Branch[T]{Value: value(d), Stamp: version.Stamp{Time: ts, Dot: d}}
	})
	if err != nil {
		return Outcome[T]{State: local}, fmt.Errorf("resolve: %s: write at %v: %w", r.entity, at, err)
	}
	class := IncomingWins
	if state.Len() > 1 {
		class = ConcurrentConflict
	}
	o := r.outcome(state, class, state.Len() > 1)
	o.Dot = dot
	return o, nil
}

// ErrNotFound is returned by Resolve for a record with no value.
var ErrNotFound = errors.New("resolve: record has no value")

// Resolve returns the value a reader sees: the single sibling, or the merge
// of several. It fails with [ErrNotFound] for an empty state and with a
// [*ConflictRequiresRetry] (whose Context covers every sibling) when the
// siblings cannot be merged. It does not notify the observer.
func (r *Resolver[T]) Resolve(s Siblings[T]) (Resolution[T], error) {
	res, conflict := r.resolve(s)
	switch {
	case conflict != nil:
		return Resolution[T]{}, conflict
	case res == nil:
		return Resolution[T]{}, fmt.Errorf("resolve: %s: %w", r.entity, ErrNotFound)
	}
	return *res, nil
}

func (r *Resolver[T]) resolve(s Siblings[T]) (*Resolution[T], *ConflictRequiresRetry[T]) {
	switch s.Len() {
	case 0:
		return nil, nil
	case 1:
		for b := range s.Siblings() {
			return &Resolution[T]{Value: b.Value.Value, Stamp: b.Value.Stamp, Merged: 1, Version: s.Join()}, nil
		}
	}
	res, err := r.fold(canonical(s.Values(), true))
	if err != nil {
		var c *ConflictRequiresRetry[T]
		if !errors.As(err, &c) {
			c = &ConflictRequiresRetry[T]{Entity: r.entity, Reason: err.Error(), Err: err}
		}
		c.Context = s.Join()
		return nil, c
	}
	res.Version = s.Join()
	return &res, nil
}

// outcome resolves state and, when observe is set (the state holds newly
// met concurrent branches), tells the observer what happened.
func (r *Resolver[T]) outcome(state Siblings[T], class Class, observe bool) Outcome[T] {
	res, conflict := r.resolve(state)
	o := Outcome[T]{State: state, Class: class, Resolution: res, Conflict: conflict}
	if !observe || state.Len() < 2 {
		return o
	}
	if conflict != nil {
		d := Decision{Entity: r.entity, Field: conflict.Field, Rule: conflict.Rule,
			Decision: policy.Decision{Policy: conflict.Policy, Outcome: policy.Rejected, Reason: conflict.Reason}}
		r.observe(Event{Kind: Conflict, Entity: r.entity, Field: d.Field + d.Rule, Policy: conflict.Policy, Siblings: state.Len(), Decision: &d})
		return o
	}
	r.observe(Event{Kind: AutoResolved, Entity: r.entity, Siblings: state.Len()})
	for i := range res.Decisions {
		d := &res.Decisions[i]
		if d.Outcome == policy.Same {
			continue
		}
		r.observe(Event{Kind: PolicyFired, Entity: r.entity, Field: d.Field + d.Rule, Policy: d.Policy, Siblings: state.Len(), Decision: d})
		if d.InSkewWindow {
			r.observe(Event{Kind: SkewWindow, Entity: r.entity, Field: d.Field, Policy: d.Policy, Siblings: state.Len(), Decision: d})
		}
	}
	return o
}

func (r *Resolver[T]) observe(e Event) {
	if r.obs != nil {
		r.obs.Observe(e)
	}
}
