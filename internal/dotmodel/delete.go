package dotmodel

import "github.com/harborpoint/concord/version"

// Entry is a modelled record value that may be a tombstone: the value of a
// delete is Entry{Deleted: true}.
type Entry[V any] struct {
	Value   V
	Deleted bool
}

// DeleteState is what a reader of a key sees, by the model: nothing, a
// live record, a deleted one, or a delete concurrent with a live write
// (which the entity's delete policy settles).
type DeleteState int8

// The states of a key with deletes.
const (
	Absent DeleteState = iota
	Live
	Deleted
	Mixed
)

// State returns what c's siblings show: Deleted when every sibling is a
// tombstone, Live when none is, Mixed when both kinds are concurrent.
func State[V any](c Clock[Entry[V]]) DeleteState {
	var live, dead int
	for _, s := range c.Siblings {
		if s.Value.Deleted {
			dead++
		} else {
			live++
		}
	}
	switch {
	case live == 0 && dead == 0:
		return Absent
	case dead == 0:
		return Live
	case live == 0:
		return Deleted
	default:
		return Mixed
	}
}

// Stable reports whether a tombstone-only clock is causally stable across
// the clocks of every member: each has seen exactly c's history. A reaped
// key's history must cover every write any member can still send.
func Stable[V any](c Clock[Entry[V]], members []Clock[Entry[V]]) bool {
	if State(c) != Deleted {
		return false
	}
	for _, m := range members {
		if m.Seen.Compare(c.Seen) != version.Equal {
			return false
		}
	}
	return true
}
