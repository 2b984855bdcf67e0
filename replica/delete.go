package replica

import (
	"context"

	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

// Delete deletes the record under key: a conditional write, like
// [Replica.Update], that stores a tombstone — a causal write with no value
// that supersedes every branch token covers. A missing token fails with
// ErrPreconditionRequired, a malformed one with a [*version.DecodeError]
// (matching version.ErrMalformedToken), a stale one
// with a [*PreconditionFailed], and an absent key with ErrNotFound. The
// token may be that of a record with an open conflict: the delete saw every
// branch and settles it.
//
// Deleting a deleted record with its current token changes nothing (a
// retried delete is no error). The tombstone replicates like any write; a
// delete concurrent with an update in another region is settled by the
// resolver's [resolve.OnDelete] (a conflict to review by default), and two
// concurrent deletes agree silently. Reads of the key then fail with a
// [*Deleted] until the tombstone is reaped (see [Replica.Reap]), after which
// they fail with ErrNotFound.
//
// It returns the tombstone's record (Deleted set, its Token).
func (r *Replica[T]) Delete(ctx context.Context, key, token string) (Record[T], error) {
	return r.writeIf(ctx, key, token, func(cur resolve.Siblings[T], want version.Vector) (resolve.Outcome[T], error) {
		if res, err := r.res.Resolve(cur); err == nil && res.Deleted && cur.Len() == 1 {
			return resolve.Outcome[T]{State: cur, Resolution: &res}, nil // already deleted
		}
		return r.res.Write(cur, resolve.Change[T]{Context: r.aboveFloor(want), Replica: r.id, Time: r.hlc.Now(), Delete: true})
	})
}

// tombstone reports whether state s is a deleted record whose every branch
// is a tombstone, and returns its causal context.
func tombstone[T any](s resolve.Siblings[T]) (version.Vector, bool) {
	if s.Len() == 0 {
		return version.Vector{}, false
	}
	for b := range s.Siblings() {
		if !b.Value.Deleted {
			return version.Vector{}, false
		}
	}
	return s.Join(), true
}
