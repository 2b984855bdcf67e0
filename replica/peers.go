package replica

import (
	"context"
)

// Peers hands a replica the copies of a record that other replicas hold,
// so that it merges them before it reads or writes the record
// ([Options.Peers]). It suits stores whose replication keeps every
// region's copy of a key beside the local one — a NATS JetStream bucket
// that sources the other regions' keys (adapters/nats), a table each region
// fills with the others' rows — where reading the other copies is a local
// read, not a round trip to another region.
//
// A replica without Peers sees only what reaches it through [Replica.Apply]
// and anti-entropy ([Replica.Sync]); with Peers it also sees, at every
// access to a key, whatever copies have reached the peer source by then.
// (A [Peer], by contrast, is the other side of an anti-entropy session.)
type Peers interface {
	// Copies returns the encoded states of key that other replicas hold,
	// as [Replica.Export] returns them, none for a key no other replica
	// holds. The replica merges each one its own state does not already
	// cover, as [Replica.Apply] would; it does not change or keep the
	// slice.
	Copies(ctx context.Context, key string) ([]Copy, error)
}

// Copy is another replica's state of a record, as a [Peers] source hands
// it over.
type Copy struct {
	// From says where the copy is, for errors and logs: a region, the key
	// it has in a shared bucket and its revision there.
	From string
	// Data is the encoded state.
	Data []byte
}

// catchUp merges into the local state of key every copy the peers hold that
// it does not already cover. Copies it covers are skipped without decoding
// their values or telling the observer, so a read costs one comparison of
// contexts per peer when nothing has changed. A copy that is not a state
// fails the access with an error wrapping ErrMalformed that names the copy,
// and nothing is written.
func (r *Replica[T]) catchUp(ctx context.Context, key string) error {
	if r.peers == nil {
		return nil
	}
	copies, err := r.peers.Copies(ctx, key)
	if err != nil {
		return wrapf(err, "replica %v: peers' copies of %q", r.id, key)
	}
	if len(copies) == 0 {
		return nil
	}
	data, rev, err := r.store.Get(ctx, key)
	if err != nil {
		return wrapf(err, "replica %v: get %q", r.id, key)
	}
	for _, c := range copies {
		if rev != 0 && r.covers(data, c.Data) {
			continue
		}
		s, err := r.decode(key, c.Data)
		if err != nil {
			return wrapf(err, "replica %v: %q: the copy at %s", r.id, key, c.From)
		}
		if _, err := r.ApplyState(ctx, key, s); err != nil {
			return err
		}
	}
	return nil
}

// covers reports whether the stored state local covers the state in copy:
// both read, and local's context descends copy's. Anything else is left to
// Apply, which says what is wrong.
func (r *Replica[T]) covers(local, copy []byte) bool {
	mine, err := r.frameContext(local)
	if err != nil {
		return false
	}
	theirs, err := r.frameContext(copy)
	return err == nil && mine.Descends(theirs)
}
