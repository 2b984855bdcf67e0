package replica

import (
	"errors"
	"fmt"

	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

// DefaultMaxRecordBytes is the limit on a record's stored state — every
// sibling, the causal context and the frame — when Options.MaxRecordBytes
// is 0: 1 MiB. It is the order of what the stores under a replica take in
// one value (NATS JetStream: the server's max_payload, 1 MB by default;
// Azure Cosmos DB: 2 MB per item; Riak warns above 5 MB per object and
// recommends staying under 1 MB), and leaves room for the siblings of a
// handful of concurrent writers of a record whose value is a few hundred
// KiB.
const DefaultMaxRecordBytes = 1 << 20

// ErrTooLarge is wrapped by the error for a record state over the record
// limit: a write whose stored form would exceed it (413), the merge of a
// replicated state that would, or a replicated state that already does. The
// error is a [*TooLargeError]. Nothing is stored.
var ErrTooLarge = errors.New("replica: record too large")

// TooLargeError says which limit a record state exceeded, and by how much.
type TooLargeError struct {
	Key string
	// What is the measure that is over its limit: "bytes" (the stored
	// state, framed), "siblings" or "replicas" (entries of the causal
	// context).
	What        string
	Size, Limit int
	// Merge is set when the state was the merge of a replicated state into
	// the local one: both sides were within the limit, their merge is not.
	// The local record is kept and the merge waits in the review queue.
	Merge bool
}

// Error implements the error interface.
func (e *TooLargeError) Error() string {
	how := "state"
	if e.Merge {
		how = "merge with a replicated state"
	}
	return fmt.Sprintf("replica: %q: %s of %d %s is over the limit of %d", e.Key, how, e.Size, e.What, e.Limit)
}

// Is makes errors.Is(err, ErrTooLarge) true.
func (e *TooLargeError) Is(target error) bool { return target == ErrTooLarge }

// stateLimits are the limits the decoder of a stored or replicated state
// enforces: the record limit on bytes, and the entry limit (from
// Options.Limits) on siblings and on replicas in the context.
func (r *Replica[T]) stateLimits() version.Limits {
	return version.Limits{MaxEntries: r.maxEntries, MaxBytes: r.maxRecord}
}

// fits checks a state and its encoding against every limit the decoder
// enforces, so that nothing is stored that this replica could not read back.
func (r *Replica[T]) fits(key string, s resolve.Siblings[T], data []byte) error {
	switch {
	case len(data) > r.maxRecord:
		return &TooLargeError{Key: key, What: "bytes", Size: len(data), Limit: r.maxRecord}
	case s.Len() > r.maxEntries:
		return &TooLargeError{Key: key, What: "siblings", Size: s.Len(), Limit: r.maxEntries}
	}
	if n := len(s.IDs()); n > r.maxEntries {
		return &TooLargeError{Key: key, What: "replicas", Size: n, Limit: r.maxEntries}
	}
	return nil
}
