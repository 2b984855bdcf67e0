package sim

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/harborpoint/concord/policy"
	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

// Style is the write style of an operation: the three of package replica,
// plus creating a record and settling a conflict from the review queue.
// The zero Style is invalid.
type Style int8

// The write styles.
const (
	_ Style = iota
	// Create stores a new record (Replica.Create).
	Create
	// Blind overwrites one last-writer-wins field without a token
	// (Replica.Blind).
	Blind
	// Update is a conditional write with the token the client read, fresh
	// or stale (Replica.Update).
	Update
	// Command is a merge-aware command with an idempotency key, retried
	// with the same key when its reply is lost (Replica.Command).
	Command
	// Resolve settles an open conflict from a replica's review queue with
	// the value Workload.Resolve chooses (Replica.ResolveConflict).
	Resolve
	// Delete is a conditional delete with the token the client read,
	// fresh or stale (Replica.Delete): it stores a tombstone.
	Delete
)

var styleNames = [...]string{Create: "create", Blind: "blind", Update: "update", Command: "command", Resolve: "resolve", Delete: "delete"}

// String returns the style's name, such as "update".
func (s Style) String() string {
	if s > 0 && int(s) < len(styleNames) {
		return styleNames[s]
	}
	return fmt.Sprintf("Style(%d)", int8(s))
}

// Op is one write a client makes. Workload.Next returns it; the simulator
// chooses the replica, the token (fresh or stale), the idempotency key and
// the retries.
type Op[T any] struct {
	// Style is Create, Blind, Update, Command or Delete (Resolve
	// operations come from Workload.Resolve).
	Style Style
	// Label names the operation in histories and in [Ack] values, such as
	// "confirm B-3107". Invariants may branch on it.
	Label string
	// Value is the new record for Create, and for Blind the record whose
	// Field holds the new value.
	Value T
	// Field is the field a Blind write sets.
	Field string
	// Apply changes the current value for Update and Command. It may be
	// called with a value the client never saw (the replica's current
	// one); an error refuses the write, and nothing is stored. An Update
	// over a deleted record (Turn.Last.Deleted) re-creates it: Apply is
	// called on the zero T.
	//
	// For Delete, Apply is the client's guard, if not nil: it is called on
	// a copy of every branch of the record whose token the client sends,
	// and an error means the client does not delete (a hold that is
	// confirmed is never deleted, for example).
	Apply func(v *T, w replica.Write) error
}

// Turn is what Workload.Next sees when a client is about to write a record.
type Turn[T any] struct {
	// Rand is the history's random source: draw from it only, so that the
	// history stays reproducible from its seed.
	Rand *rand.Rand
	// Now is the simulated true time.
	Now time.Time
	// Client is the client's number, from 0.
	Client int
	// Key is the record's key.
	Key string
	// Last is what the client last read or wrote of Key, possibly stale
	// or in conflict; nil if the client knows no record under Key.
	// Last.Deleted says the client read the record deleted: a Create is
	// then refused (the key is not free until its tombstone is reaped) and
	// an Update with its token re-creates it.
	Last *replica.Record[T]
}

// Ack is one acknowledged write: the replica stored it and returned
// success (its client may still have lost the reply).
type Ack[T any] struct {
	// Step is the step of the history at which the write was made.
	Step int
	// Client is the client that made it.
	Client int
	// Replica is the incarnation that stored it.
	Replica version.ID
	// Key is the record's key.
	Key string
	// Style and Label describe the operation.
	Style Style
	Label string
	// Dot names the write; the record's branch with this Stamp.Dot holds
	// Value.
	Dot version.Dot
	// Context is what the writer saw: the token the client sent for
	// Update, Resolve and Delete, the replica's context for the other
	// styles.
	Context version.Vector
	// Acked is the context of the record the client was acknowledged
	// with (its token): what the write covered, as the client was told.
	Acked version.Vector
	// Idem is a command's idempotency key.
	Idem string
	// Attempt is a command's attempt with Idem, from 1: more than 1 for a
	// retry after a lost reply or a refusal (the client's in-flight set).
	Attempt int
	// Value is the value the write stored: what the client wrote (for
	// a Blind write, the record the replica acknowledged).
	Value T
	// Stamp is the acknowledged branch's stamp.
	Stamp version.Stamp
	// Replaced are the conflicting branches a Resolve write settled: the
	// decision names them.
	Replaced []resolve.Branch[T]
}

// View is one replica's record of one key, shown to Workload.Invariant
// after every step that changed it.
type View[T any] struct {
	// Replica is the replica's current incarnation.
	Replica version.ID
	// Key is the record's key.
	Key string
	// Record is what a reader of the replica gets (Replica.Get): its
	// Deleted is set when the record is deleted.
	Record replica.Record[T]
	// InReview reports whether the key is in the replica's review queue.
	InReview bool
	// Seen are the acknowledged writes of Key that Record's context
	// covers, in the order they were made. The slice is shared: do not
	// modify it.
	Seen []*Ack[T]
}

// Workload is what the simulation runs: a record type, its resolver, and
// the operations clients make on it. Package hold/holdsim has Harbor
// Point's; write one like it for your own record type.
type Workload[T any] struct {
	// NewResolver returns the record resolver. It is called once per
	// replica; the replica reports its events. Required.
	NewResolver func() *resolve.Resolver[T]
	// Codec encodes values on the simulated wire and in the stores. Nil
	// means replica.JSON.
	Codec replica.Codec[T]
	// CommandKeys is replica.Options.CommandKeys; required if Next returns
	// Command operations.
	CommandKeys func(*T) *policy.Applied
	// CommandHorizon is the horizon the CommandKeys field is bound with
	// (policy.AppliedKeys): check [AtMostOnce] holds a retry to apply
	// once only while it is within it. The zero Horizon means
	// policy.DefaultHorizon.
	CommandHorizon policy.Horizon
	// KeyPrefix names the records: KeyPrefix+"1", KeyPrefix+"2", ... Empty
	// means "k".
	KeyPrefix string
	// Next returns the next write of a client. It must return a Create
	// when Turn.Last is nil. Required.
	Next func(t Turn[T]) Op[T]
	// Resolve chooses the value that settles a conflict from a review
	// queue; it sees every branch. Nil means clients never settle
	// conflicts (they stay open, and must still converge).
	Resolve func(r *rand.Rand, item replica.ReviewItem[T]) T
	// Equal compares record values. Nil means reflect.DeepEqual.
	Equal func(a, b T) bool
	// Invariant checks the record a replica holds after each step that
	// changed it; an error is a violation of check [Invariant]. Nil means
	// no domain invariants.
	Invariant func(v View[T]) error
	// Project shows check [Values] the fields of a value that a plain
	// model can compute from the clients' ledger alone. Nil skips the
	// check.
	Project func(v *T) Projection
	// MaxRecordBytes is every replica's replica.Options.MaxRecordBytes.
	// Set it small, so that some writes are refused as too large and some
	// merges of concurrent writes exceed it (see [Oversize]). Zero means
	// replica.DefaultMaxRecordBytes.
	MaxRecordBytes int
	// Shrink makes v smaller as an operator would when a settlement of a
	// merge refused for size is itself refused as too large (over is by
	// how many bytes): drop what the record can lose, at least over bytes
	// of its encoding if it can. false means it cannot, and the record
	// stays in review. A value that fit alone may not fit as a
	// settlement: the settlement keeps the command keys of every branch it
	// replaces, and its context covers them all. Nil means the operator
	// settles with Resolve's value (or a branch) only. Set it for records
	// that grow to MaxRecordBytes.
	Shrink func(v *T, over int) bool
	// Join merges the values of joined field i (Projection.Joined) of
	// concurrent writes, given sorted and without repeats, as the field's
	// policy documents it — a plain statement of the rule, not a call into
	// it; false means they cannot merge (the record must stay in conflict).
	// Required if Project returns joined fields.
	Join func(i int, values []string) (string, bool)

	hooks hooks[T] // test-only wiring for the mutants; zero in production
}

// hooks replace parts of the simulated system with broken variants. They
// are set only by this package's tests (the field is unexported), so no
// caller of Run can reach them.
type hooks[T any] struct {
	// resolver builds replica i's resolver instead of NewResolver.
	resolver func(i int) *resolve.Resolver[T]
	// apply merges replicated bytes into a replica instead of Replica.Apply.
	apply func(h *history[T], n *node[T], key string, data []byte) error
	// skip drops a key from anti-entropy.
	skip func(key string) bool
	// update makes a conditional write instead of Replica.Update.
	update func(n *node[T], key, token string, fn func(*T, replica.Write) error) (replica.Record[T], error)
	// restartID names a replica that restarts without its state, instead
	// of ID.Next.
	restartID func(old version.ID) (version.ID, error)
	// mute ignores the violations of some checks, to show which checks
	// catch a mutant on their own.
	mute func(Check) bool
	// store wraps replica i's store.
	store func(i int, s replica.Store) replica.Store
	// conflicts rewrites the review queue a client reads.
	conflicts func(items []replica.ReviewItem[T]) []replica.ReviewItem[T]
	// del makes a conditional delete instead of Replica.Delete.
	del func(n *node[T], key, token string) (replica.Record[T], error)
	// ack makes a tell b what a holds, after a completed anti-entropy
	// session, instead of acknowledge.
	ack func(h *history[T], a, b *node[T])
}
