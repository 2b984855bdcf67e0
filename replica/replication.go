package replica

import (
	"bytes"
	"context"
	"errors"
	"time"

	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

// Export returns the encoded state of key, as another replica's Apply
// takes it. An absent key fails with ErrNotFound.
func (r *Replica[T]) Export(ctx context.Context, key string) ([]byte, error) {
	data, rev, err := r.store.Get(ctx, key)
	if err != nil {
		return nil, wrapf(err, "replica %v: get %q", r.id, key)
	}
	if rev == 0 {
		return nil, wrapf(ErrNotFound, "replica: %q", key)
	}
	if join, err := r.frameContext(data); err == nil {
		r.seen(ctx, key, rev, join)
		r.refreshRaw(key, data)
	}
	return data, nil
}

// Apply merges an encoded version of key received from another replica (its
// Export, or a message on the wire). Apply is idempotent and independent of
// order: replicas that apply the same versions in any order, grouping or
// number of times hold the same record. Input that does not decode fails
// with an error wrapping ErrMalformed and changes nothing.
//
// A version the replica already holds (a re-delivery, or one a later version
// covers: most anti-entropy traffic) is recognised from the versions alone,
// without decoding its values, and reported as [resolve.Duplicate] or
// [resolve.StaleWrite]; its values are then not examined, since they change
// nothing. A version of one sibling that supersedes the stored one (most
// other traffic) is checked as the decoder checks it and stored as it came,
// not decoded into a record and encoded again (see [Validator]).
func (r *Replica[T]) Apply(ctx context.Context, key string, data []byte) (resolve.Class, error) {
	if err := r.loadHorizons(ctx); err != nil { // adopt checks them
		return 0, err
	}
	if payload, in, err := r.openState(data); err == nil && in.Len() > 0 {
		// One read serves both fast paths: adopt stores by compare-and-set
		// from the revision read, so a write made since fails and adopt
		// reads again.
		if cur, rev, err := r.store.Get(ctx, key); err == nil {
			if class, ok := r.held(ctx, key, data, in, cur, rev); ok {
				return class, nil
			}
			if class, ok, err := r.adopt(ctx, key, data, payload, in, cur, rev); ok {
				return class, err
			}
		}
	}
	s, err := r.decode(key, data)
	if err != nil {
		return 0, wrapf(err, "replica %v: apply %q", r.id, key)
	}
	return r.ApplyState(ctx, key, s)
}

// held recognises the state framed by in as a version of key this replica
// already holds — a duplicate, or stale — without decoding a value or
// taking the key's lock (see heldFrame), does what ApplyState does with
// such a version — observes its stamps, tells the observer — and reports
// true. Anything else is left to the other paths. data are the bytes in
// frames (see heldStored).
func (r *Replica[T]) held(ctx context.Context, key string, data []byte, in version.ClockFrame, cur []byte, rev uint64) (resolve.Class, bool) {
	class, ok := r.heldStored(ctx, key, data, in, cur, rev)
	if !ok {
		return 0, false
	}
	for _, b := range in.Siblings() {
		ts, _ := branchTime(b) // checked by heldFrame
		_ = r.hlc.Observe(ts)  // as ApplyState: keep local stamps after remote ones
	}
	kind := resolve.DuplicateDropped
	if class == resolve.StaleWrite {
		kind = resolve.StaleDropped
	}
	r.observe(resolve.Event{Kind: kind, Entity: r.res.Entity(), Siblings: in.Len()})
	return class, true
}

// heldFrame compares in, the clock framing of a state of key, with the
// stored state's and reports whether it is a duplicate or stale (a
// record's history only grows, so a version covered when read stays
// covered). A stored record that does not read reports false: the full
// path says what is wrong.
func (r *Replica[T]) heldFrame(ctx context.Context, key string, in version.ClockFrame) (resolve.Class, bool) {
	cur, rev, err := r.store.Get(ctx, key)
	if err != nil {
		return 0, false
	}
	return r.heldStored(ctx, key, nil, in, cur, rev)
}

// heldStored is heldFrame for key's stored state cur at revision rev, just
// read. data, when not nil, are the bytes whose frame is in, checked: a
// stored state that is the same bytes — the common re-delivery, as adopt
// stores a state as it came — is a duplicate whose frame is in's, neither
// read and checked again nor compared.
func (r *Replica[T]) heldStored(ctx context.Context, key string, data []byte, in version.ClockFrame, cur []byte, rev uint64) (resolve.Class, bool) {
	if rev == 0 {
		return 0, false
	}
	same := data != nil && bytes.Equal(data, cur)
	stored := in
	if !same {
		var err error
		if stored, err = r.openStateFrame(cur); err != nil {
			return 0, false
		}
	}
	r.seenFrame(ctx, key, rev, stored)
	r.refreshRaw(key, cur)
	class := resolve.Duplicate
	if !same {
		switch in.Compare(stored) {
		case version.Equal:
		case version.Before:
			class = resolve.StaleWrite
		default:
			return 0, false
		}
	}
	for _, b := range in.Siblings() {
		if _, ok := branchTime(b); !ok {
			return 0, false
		}
	}
	return class, true
}

// ApplyState is Apply for a state already decoded, such as one read from
// another replica in the same process.
//
// A replicated write stamped further ahead of this replica's clock than
// the clock's maximum drift (version.HLCOptions.MaxDrift) is applied — it
// happened — but the clock does not adopt its time, and the observer is
// told of it as a [resolve.Drift] event naming the replica that stamped it
// and by how much it was ahead: until real time catches up, that write wins
// every concurrent last-writer-wins field.
func (r *Replica[T]) ApplyState(ctx context.Context, key string, incoming resolve.Siblings[T]) (resolve.Class, error) {
	if incoming.Len() == 0 && incoming.Join().IsZero() {
		return resolve.StaleWrite, nil
	}
	drifts := r.observeClock(incoming)
	c, err := r.commit(ctx, key, func(cur resolve.Siblings[T]) (resolve.Outcome[T], error) {
		if err := r.checkIssued(key, cur, incoming); err != nil {
			return resolve.Outcome[T]{}, err
		}
		return r.res.Apply(cur, incoming), nil
	}, func(c *committed[T]) {
		for _, e := range drifts {
			if c.data != nil && !c.cur.Covers(e.dot) {
				r.observe(resolve.Event{Kind: resolve.Drift, Entity: r.res.Entity(), Origin: e.dot.ID, Offset: e.offset})
			}
		}
	})
	if errors.Is(err, ErrUnissuedDot) {
		r.report(resolve.Event{Kind: resolve.UnissuedDot, Entity: r.res.Entity(), Siblings: incoming.Len()}, key, err)
	}
	if tl := (*TooLargeError)(nil); errors.As(err, &tl) {
		// Both sides were within the limits; their merge is not. The entry
		// follows the stored state (see refresh) while the merge stays
		// over the limit; it goes once the store covers it or it fits.
		tl.Merge = true
		r.reviewOversize(key, c.cur, c.outcome.State, tl)
	}
	return c.outcome.Class, err
}

// drift is a replicated write stamped beyond the clock's drift bound.
type drift struct {
	dot    version.Dot
	offset time.Duration // how far ahead of the local clock
}

// observeClock moves the local clock past the stamps of incoming, so that
// local writes made after them are stamped later, and returns the writes
// whose stamps it refused to adopt for being too far ahead.
func (r *Replica[T]) observeClock(incoming resolve.Siblings[T]) []drift {
	var out []drift
	for s := range incoming.Siblings() {
		var de *version.DriftError
		if err := r.hlc.Observe(s.Value.Stamp.Time); errors.As(err, &de) {
			out = append(out, drift{dot: s.Dot, offset: time.Duration(de.Remote.Wall - de.Local.UnixNano())})
		}
	}
	return out
}

// checkIssued refuses an incoming state that claims a write of this replica
// (this very ID, incarnation included) that this replica never issued: one
// beyond the last dot of key it stored. Only a damaged or forged state, or
// another process running under this replica's ID, makes one; adopting it
// would make this replica's next writes of key look stale everywhere (they
// would reuse counters the state already claims), so they would be dropped
// as already seen — acknowledged writes lost without an error.
//
// The stored state's context is the replica's own record of what it issued
// for key: every write the replica makes is stored before it is
// acknowledged, and a stored context never shrinks.
func (r *Replica[T]) checkIssued(key string, cur, incoming resolve.Siblings[T]) error {
	claimed := incoming.Join().Get(r.id)
	if claimed == 0 {
		return nil
	}
	// Up to the floor, this replica's writes of a key it reaped were
	// issued, and its next write is numbered above them anyway.
	if issued := max(cur.Join().Get(r.id), r.floor.n.Load()); claimed > issued {
		return &UnissuedDotError{Key: key, Replica: r.id, Claimed: claimed, Issued: issued}
	}
	return nil
}
