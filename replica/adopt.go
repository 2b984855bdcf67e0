package replica

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

// Validator is implemented by a [Codec] that can check that bytes decode
// without building the value: Validate(data) returns nil exactly when
// Decode(data) succeeds, and should not allocate when it does. A replica
// whose codec is a Validator stores a replicated state that supersedes its
// own (most replication traffic) without decoding the value at all; with
// any other codec it decodes the value, checks it, and drops it.
type Validator interface {
	Validate(data []byte) error
}

// adopt is Apply's fast path for the common replicated write: a state of
// one live sibling that supersedes the stored one (or finds none). That
// state is then the record's new state exactly as it came — the full path
// would sync it with the stored state, find it the result, resolve its one
// sibling, and re-encode it — so adopt checks it as the decoder would
// (frame, branch header, field stamps, value) and stores data itself,
// whose checksum it has verified: what is stored decodes.
//
// It reports false, having done nothing, for anything else — several
// siblings, a tombstone, input or a stored state that does not read, a
// stored state it does not strictly descend, a reaped or quarantined key,
// a claim of this replica's dots it never issued — which the full path
// handles and reports. in is data's clock framing.
func (r *Replica[T]) adopt(ctx context.Context, key string, data []byte, in version.ClockFrame) (resolve.Class, bool, error) {
	if in.Len() != 1 || len(key) > MaxKeyLen {
		return 0, false, nil
	}
	join := in.Join()
	dot, ts, ok := r.adoptable(in, join)
	if !ok {
		return 0, false, nil
	}
	var de *version.DriftError
	drifted := errors.As(r.hlc.Observe(ts), &de) // as ApplyState, before storing
	lk, err := r.locks.lock(ctx, key)
	if err != nil {
		return 0, true, fmt.Errorf("replica %v: %q: %w", r.id, key, err)
	}
	defer r.locks.unlock(key, lk)
	for range r.attempts {
		cur, rev, err := r.store.Get(ctx, key)
		if err != nil {
			return 0, false, nil // the full path reports it
		}
		covered, ok := r.supersedes(key, cur, rev, in, join)
		if !ok {
			return 0, false, nil
		}
		if _, err := r.store.CompareAndSet(ctx, key, data, rev); err != nil {
			if errors.Is(err, ErrRevisionMismatch) {
				continue
			}
			return 0, true, fmt.Errorf("replica %v: store %q: %w", r.id, key, err)
		}
		r.put(key, join)
		r.untrack(key, 1)
		if drifted && !covered(dot) {
			r.observe(resolve.Event{Kind: resolve.Drift, Entity: r.res.Entity(), Origin: dot.ID,
				Offset: time.Duration(de.Remote.Wall - de.Local.UnixNano())})
		}
		return resolve.IncomingWins, true, nil
	}
	return 0, true, fmt.Errorf("replica %v: %q: %w after %d attempts", r.id, key, ErrContention, r.attempts)
}

// adoptable checks the one sibling of in as decodeState would — its branch
// header and field stamps against the context join, its value with the
// codec — and returns its dot and time; false for a tombstone or anything
// that does not decode.
func (r *Replica[T]) adoptable(in version.ClockFrame, join version.Vector) (version.Dot, version.Timestamp, bool) {
	for dot, b := range in.Siblings() {
		ts, value, ok := checkBranch(b, r.fields, join)
		if !ok {
			return dot, ts, false
		}
		if v, isV := r.codec.(Validator); isV {
			return dot, ts, v.Validate(value) == nil
		}
		_, err := r.codec.Decode(value)
		return dot, ts, err == nil
	}
	return version.Dot{}, version.Timestamp{}, false
}

// checkBranch checks the header of a live branch as decodeBranch and
// decodeClock do — its stamp, at most fields field stamps in increasing
// field order, each naming a write the context join covers — without
// allocating, and returns the branch's time and the bytes of its value.
// A tombstone reports false.
func checkBranch(b []byte, fields int, join version.Vector) (version.Timestamp, []byte, bool) {
	r := reader{b: b}
	ts := version.Timestamp{Wall: r.varint(), Logical: r.logical()}
	h := r.uvarint()
	n := h >> 1
	if r.err != nil || h&1 == 1 || n > uint64(fields) {
		return ts, nil, false
	}
	next := uint64(0)
	for range n {
		gap := r.uvarint()
		if r.err != nil || gap >= uint64(fields)-next {
			return ts, nil, false
		}
		next += gap + 1
		r.varint()
		r.logical()
		k, counter := r.uvarint(), r.uvarint()
		if r.err != nil || !coversAt(join, k, counter) {
			return ts, nil, false
		}
	}
	return ts, r.b, r.err == nil
}

// coversAt reports whether the k-th replica of join (in ID order) has a
// write numbered counter in it: the check decodeClock makes of a field
// stamp's dot.
func coversAt(join version.Vector, k, counter uint64) bool {
	if k >= uint64(join.Len()) {
		return false
	}
	i := uint64(0)
	for _, n := range join.All() {
		if i == k {
			return counter >= 1 && counter <= n
		}
		i++
	}
	return false
}

// supersedes reports whether a state with frame in and context join may
// replace key's stored state cur at revision rev as it is: none is stored
// (and the key was not reaped), or in strictly descends it; and in claims
// no write of this replica beyond those stored. It also returns what the
// stored state covered. A stored state that does not read, or a
// quarantined key, reports false: the full path reports it.
func (r *Replica[T]) supersedes(key string, cur []byte, rev uint64, in version.ClockFrame, join version.Vector) (func(version.Dot) bool, bool) {
	none := func(version.Dot) bool { return false }
	if r.nQuarantine.Load() > 0 {
		return none, false // rare: the full path retries and releases
	}
	claimed := join.Get(r.id)
	if rev == 0 {
		if _, reaped := r.horizon(key); reaped || claimed > 0 {
			return none, false
		}
		return none, true
	}
	stored, err := r.openStateFrame(cur)
	if err != nil || in.Compare(stored) != version.After {
		return none, false
	}
	if claimed == 0 {
		return func(d version.Dot) bool { return stored.Join().Contains(d) }, true
	}
	have := stored.Join()
	return have.Contains, claimed <= have.Get(r.id)
}
