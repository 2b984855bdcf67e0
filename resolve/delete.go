package resolve

import (
	"fmt"

	"github.com/harborpoint/concord/policy"
	"github.com/harborpoint/concord/version"
)

// OnDelete is what a resolver does when a delete is concurrent with an
// update of the same record: a tombstone branch (see [Branch.Deleted]) meets
// a live one. The zero OnDelete is [DeleteConflicts].
type OnDelete int8

// The three ways to settle a delete concurrent with an update.
const (
	// DeleteConflicts refuses to choose: the record holds both branches
	// and resolves to a [*ConflictRequiresRetry] (rule "delete") until a
	// write that saw both settles it. It is the default because neither
	// side may vanish silently: a confirmed hold deleted in one region
	// while it was confirmed in another must reach a person.
	DeleteConflicts OnDelete = iota
	// DeleteWins resolves to the tombstone: the concurrent update is
	// discarded, recorded as a decision.
	DeleteWins
	// UpdateWins resolves to the merge of the live branches (the Dynamo
	// shopping cart's choice): the concurrent delete is discarded, recorded
	// as a decision. Only an update the delete did not see wins; a delete
	// made after seeing an update (its context covers it) removes it.
	UpdateWins
)

// String returns "delete-conflicts", "delete-wins" or "update-wins".
func (o OnDelete) String() string {
	switch o {
	case DeleteConflicts:
		return "delete-conflicts"
	case DeleteWins:
		return "delete-wins"
	case UpdateWins:
		return "update-wins"
	default:
		return fmt.Sprintf("OnDelete(%d)", int8(o))
	}
}

// DeleteRule is the Rule name of the decisions and conflicts of a delete
// concurrent with an update.
const DeleteRule = "delete"

// resolveDeletes resolves siblings of which at least one is a tombstone:
// bs are every branch, in canonical order. All tombstones resolve to a
// deleted record silently (two concurrent deletes agree); a mix of
// tombstones and live branches is settled by the resolver's OnDelete. It
// resolves into *res, which must be the zero Resolution, and leaves it zero
// on a conflict.
func (r *Resolver[T]) resolveDeletes(bs []Branch[T], res *Resolution[T]) *ConflictRequiresRetry {
	var live, dead []Branch[T]
	for _, b := range bs {
		if b.Deleted {
			dead = append(dead, b)
		} else {
			live = append(live, b)
		}
	}
	tomb := Branch[T]{Deleted: true}
	for _, b := range dead {
		tomb.Stamp = later(tomb.Stamp, b.Stamp)
	}
	if len(live) == 0 {
		*res = Resolution[T]{Branch: tomb, Merged: len(dead)}
		return nil
	}
	newest := version.Stamp{}
	for _, b := range live {
		newest = later(newest, b.Stamp)
	}
	switch r.onDelete {
	case DeleteWins:
		*res = Resolution[T]{Branch: tomb, Merged: len(bs), by: r}
		more := &res.more
		res.trail.add(decided{at: atDelete, outcome: policy.Picked, winner: res.trail.ref(tomb.Stamp, more),
			loser: res.trail.ref(newest, more), reason: reasonDeleteWins}, more)
		return nil
	case UpdateWins:
		if err := r.fold(canonical(live, true), res); err != nil {
			return r.asConflict(err)
		}
		more := &res.more
		res.trail.add(decided{at: atDelete, outcome: policy.Picked, winner: res.trail.ref(res.Stamp, more),
			loser: res.trail.ref(tomb.Stamp, more), reason: reasonUpdateWins}, more)
		res.Merged = len(bs)
		return nil
	default:
		rej := &policy.Rejection{Policy: DeleteConflicts.String(), Reason: "a delete is concurrent with an update"}
		c := r.conflict(bs, rej)
		c.Rule, c.Policy, c.Reason = DeleteRule, rej.Policy, rej.Reason
		return c
	}
}

// hasTombstone reports whether any sibling of s is a tombstone.
func hasTombstone[T any](s Siblings[T]) bool {
	for b := range s.Siblings() {
		if b.Value.Deleted {
			return true
		}
	}
	return false
}
