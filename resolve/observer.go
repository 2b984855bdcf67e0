package resolve

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/harborpoint/concord/internal/counts"
	"github.com/harborpoint/concord/version"
)

// Kind is the kind of an [Event]. The zero Kind is invalid.
type Kind int8

// The events an [Observer] is told of.
const (
	_ Kind = iota
	// AutoResolved: concurrent branches of a record merged by policy, one
	// event per record; each field policy or rule that decided something
	// adds a PolicyFired event.
	AutoResolved
	// PolicyFired: a field policy or record rule picked or combined values
	// during an automatic resolution. Field and Policy say which.
	PolicyFired
	// Conflict: a policy or rule refused; the branches stay as siblings
	// (ConflictRequiresRetry).
	Conflict
	// SentToReview: a conflict entered a review queue.
	SentToReview
	// Rejected: a write was refused back to its client, such as a
	// conditional write whose token was stale.
	Rejected
	// StaleDropped: a replicated version already covered locally was dropped.
	StaleDropped
	// DuplicateDropped: a replicated version identical to the local one
	// arrived and changed nothing.
	DuplicateDropped
	// SkewWindow: a last-writer-wins decision between stamps closer than
	// the clock-skew window — ordered by timestamps that skew could invert.
	SkewWindow
	// Reviewed: an open conflict was resolved by a write that covered it.
	Reviewed
	// Drift: a replicated write was stamped further ahead of the local
	// clock than the clock's maximum drift. The write is applied (it
	// happened), but the local clock does not adopt its time, so until
	// real time catches up it wins every concurrent last-writer-wins
	// field. Origin names the replica that stamped it; Offset says how far
	// ahead it was.
	Drift
	// Corrupt: a stored or replicated state failed its checksum — damaged
	// on a disk or on the wire — and was refused; nothing changed.
	Corrupt
	// UnissuedDot: a replicated state claimed a write of the receiving
	// replica that it never issued — damage that kept the checksum, a
	// forged state, or a replica ID in use by two processes — and was
	// refused; nothing changed.
	UnissuedDot
	// TooLarge: a record state over the record limit was refused: a write
	// whose stored form would exceed it, a replicated state above it, or
	// the merge of a replicated state that would exceed it (the local
	// record is kept and the merge goes to review).
	TooLarge
	// Quarantined: a record's stored state could not be read (corrupt,
	// malformed or over the limits) and the record was set aside; every
	// other record goes on replicating. Told once per record.
	Quarantined
)

var kindNames = [...]string{
	AutoResolved:     "auto_resolved",
	PolicyFired:      "policy_fired",
	Conflict:         "conflict",
	SentToReview:     "sent_to_review",
	Rejected:         "rejected",
	StaleDropped:     "stale",
	DuplicateDropped: "duplicate",
	SkewWindow:       "skew_window",
	Reviewed:         "reviewed",
	Drift:            "drift",
	Corrupt:          "corrupt",
	UnissuedDot:      "unissued_dot",
	TooLarge:         "too_large",
	Quarantined:      "quarantined",
}

// Kinds lists every valid Kind, in order.
func Kinds() []Kind {
	return []Kind{AutoResolved, PolicyFired, Conflict, SentToReview, Rejected, StaleDropped, DuplicateDropped, SkewWindow, Reviewed, Drift, Corrupt, UnissuedDot, TooLarge, Quarantined}
}

// String returns the kind's metric-friendly name, such as "auto_resolved".
func (k Kind) String() string {
	if k > 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", int8(k))
}

// Event is one thing an operator must be able to count.
type Event struct {
	Kind   Kind
	Entity string // entity type, such as "hold"
	Field  string // field or record rule, "" when the event is about a whole record
	Policy string // policy name ("rule" for a record rule), "" when not about a field
	// Siblings is the number of branches involved, where it applies.
	Siblings int
	// Decision is the decision behind a PolicyFired, Conflict or
	// SkewWindow event; nil otherwise.
	Decision *Decision
	// Origin is the replica that stamped the write of a Drift event.
	Origin version.ID
	// Offset is how far ahead of the local clock a Drift event's write was
	// stamped.
	Offset time.Duration
}

// Observer is told of events as they happen. Implementations must be safe for
// concurrent use and should return quickly; they must not call back into the
// replica that notified them.
//
// A Resolver notifies no one (it only computes; see [Outcome.Events]): the
// one place to wire an Observer is the replica (replica.Options.Observer),
// which tells it of every event once, after the state behind it is stored —
// merges and their decisions as well as rejections, reviews and drift.
type Observer interface {
	Observe(Event)
}

// ObserverFunc adapts a function to [Observer].
type ObserverFunc func(Event)

// Observe calls f(e).
func (f ObserverFunc) Observe(e Event) { f(e) }

// CounterKey identifies one counter of [Counters].
type CounterKey struct {
	Kind   Kind
	Entity string
	Field  string
	Policy string
}

// Counters is an [Observer] that counts events by kind, entity, field and
// policy, for tests and for exporters (expvar, Prometheus) to read. The zero
// Counters is ready to use; it is safe for concurrent use and must not be
// copied after first use.
type Counters struct {
	m counts.Map[CounterKey]
}

// Observe counts e.
func (c *Counters) Observe(e Event) { c.m.Add(CounterKey{e.Kind, e.Entity, e.Field, e.Policy}) }

// Get returns the count for one key.
func (c *Counters) Get(k CounterKey) uint64 { return c.m.Get(k) }

// Total returns the count of all events of kind k.
func (c *Counters) Total(k Kind) uint64 {
	return c.m.Sum(func(key CounterKey) bool { return key.Kind == k })
}

// Snapshot returns a copy of every counter.
func (c *Counters) Snapshot() map[CounterKey]uint64 { return c.m.Snapshot() }

// Keys returns the keys with a count, sorted by kind, entity, field, policy.
func (c *Counters) Keys() []CounterKey {
	keys := slices.Collect(maps.Keys(c.Snapshot()))
	slices.SortFunc(keys, func(a, b CounterKey) int {
		if a.Kind != b.Kind {
			return int(a.Kind) - int(b.Kind)
		}
		for _, p := range [][2]string{{a.Entity, b.Entity}, {a.Field, b.Field}, {a.Policy, b.Policy}} {
			if p[0] != p[1] {
				if p[0] < p[1] {
					return -1
				}
				return 1
			}
		}
		return 0
	})
	return keys
}
