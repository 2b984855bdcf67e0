package claim

import (
	"fmt"

	"github.com/harborpoint/concord/internal/counts"
)

// Kind is the outcome an [Event] reports. The zero Kind is invalid.
type Kind int8

// The outcomes a [Home] reports: one event per call that changes a claim,
// is refused, or finds the home unavailable (none for Get, for invalid
// arguments, or for a call that finds its work done already).
const (
	_ Kind = iota
	// Claimed: Acquire took a free name, or renewed the caller's own
	// pending claim under a new token.
	Claimed
	// AlreadyOwner: Acquire found the name committed to the caller; nothing
	// changed.
	AlreadyOwner
	// RefusedClaimed: Acquire found the name held by another owner
	// (ErrClaimed).
	RefusedClaimed
	// Unavailable: the home store could not be reached or kept losing
	// compare-and-sets (ErrUnavailable).
	Unavailable
	// Committed: Commit recorded the owner's decision.
	Committed
	// Released: the owner released or abandoned its claim.
	Released
	// TakenOver: Acquire took a lapsed pending claim from its owner.
	TakenOver
	// Reconciled: Reconcile freed a lapsed pending claim.
	Reconciled
	// Fenced: Commit or Release came from an owner that no longer holds
	// the claim under its token (ErrFenced, ErrNotOwner).
	Fenced
	numKinds
)

var kindNames = [...]string{
	Claimed: "claimed", AlreadyOwner: "already_owner", RefusedClaimed: "refused_claimed", Unavailable: "unavailable",
	Committed: "committed", Released: "released", TakenOver: "taken_over", Reconciled: "reconciled", Fenced: "fenced",
}

// Kinds lists every valid Kind, in order.
func Kinds() []Kind {
	out := make([]Kind, 0, numKinds-1)
	for k := Claimed; k < numKinds; k++ {
		out = append(out, k)
	}
	return out
}

// String returns the kind's metric-friendly name, such as "refused_claimed".
func (k Kind) String() string {
	if k > 0 && k < numKinds {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", int8(k))
}

// Event is one outcome of a call to a [Home]. Name, Owner and Holder are
// record keys: log them, never use them as metric labels.
type Event struct {
	Kind Kind
	// Name is the claim's name.
	Name string
	// Owner is the caller's owner ("" for Reconcile).
	Owner string
	// Token is the token the outcome is about: the new one for Claimed
	// and TakenOver, the presented one for Fenced, the current one
	// otherwise.
	Token uint64
	// Holder is the other owner: the holder that refused the caller
	// (RefusedClaimed), or the owner whose lapsed claim was taken over or
	// reconciled.
	Holder string
	// Err is the cause of an Unavailable event.
	Err error
}

// Observer is told of every outcome. Implementations must be safe for
// concurrent use and return quickly; they must not call back into the Home.
type Observer interface {
	Observe(Event)
}

// ObserverFunc adapts a function to [Observer].
type ObserverFunc func(Event)

// Observe calls f(e).
func (f ObserverFunc) Observe(e Event) { f(e) }

// Counters is an [Observer] that counts events by kind, for tests and for
// exporters to read. The zero Counters is ready to use; it is safe for
// concurrent use and must not be copied after first use.
type Counters struct {
	m counts.Map[Kind]
}

// Observe counts e.
func (c *Counters) Observe(e Event) { c.m.Add(e.Kind) }

// Get returns the count of events of kind k.
func (c *Counters) Get(k Kind) uint64 { return c.m.Get(k) }

// Snapshot returns a copy of every count.
func (c *Counters) Snapshot() map[Kind]uint64 { return c.m.Snapshot() }
