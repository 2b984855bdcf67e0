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
// sibling, and encode it again — so adopt checks it as the decoder does
// (without building the value, with a [Validator] codec) and stores data
// itself, whose checksum was verified: what is stored decodes.
//
// It reports false, having done nothing, for anything else — several
// siblings, a tombstone, a sibling carrying what its writer had seen (a
// state of one sibling need not), a state of an older format, input or a
// stored state that does not read, a
// stored state it does not strictly descend, a reaped or quarantined key,
// a claim of this replica's dots it never issued — which the full path
// handles and reports. payload is data's, in its clock framing.
func (r *Replica[T]) adopt(ctx context.Context, key string, data, payload []byte, in version.ClockFrame, cur []byte, rev uint64) (resolve.Class, bool, error) {
	if in.Len() != 1 || len(key) > MaxKeyLen {
		return 0, false, nil
	}
	// One pass over the frame reads the context's counters (into an
	// array: no allocation for a context of up to shortContext replicas),
	// its binary form for the index and the sibling.
	var cbuf [shortContext]uint64
	var jbuf [64]byte
	sum, branch := in.Summarize(r.id, jbuf[:0], cbuf[:0])
	st, ok := r.adoptable(payload, sum.Dot, branch, sum.Counts)
	if !ok {
		return 0, false, nil
	}
	drift := r.hlc.Observe(st.Time) // as ApplyState, before storing
	lk, err := r.locks.lock(ctx, key)
	if err != nil {
		return 0, true, fmt.Errorf("replica %v: %q: %w", r.id, key, err)
	}
	defer r.locks.unlock(key, lk)
	for i := range r.attempts {
		// The first attempt decides on the state Apply read before the
		// lock: the compare-and-set from its revision fails if it changed.
		if i > 0 {
			if cur, rev, err = r.store.Get(ctx, key); err != nil {
				return 0, false, nil // the full path reports it
			}
		}
		if !r.supersedes(key, cur, rev, in, sum.Own, st.Dot) {
			return 0, false, nil
		}
		if _, err := r.storeIndexed(ctx, key, data, rev, sum.Join, false); err != nil {
			if errors.Is(err, ErrRevisionMismatch) {
				continue
			}
			return 0, true, fmt.Errorf("replica %v: store %q: %w", r.id, key, err)
		}
		if r.peek(key) != nil { // in review: the item is made current, as the full path would
			if s, err := r.decode(key, data); err == nil {
				r.refresh(key, &observed[T]{state: s, join: s.Join(), resolved: true}, true)
			}
		}
		if drift != nil { // as ApplyState: a write new to this replica
			r.observeDrift(st.Dot.ID, drift)
		}
		return resolve.IncomingWins, true, nil
	}
	return 0, true, fmt.Errorf("replica %v: %q: %w after %d attempts", r.id, key, ErrContention, r.attempts)
}

// observeDrift tells the observer of a replicated write from replica
// origin whose stamp the clock refused (err, from HLC.Observe), as
// ApplyState does.
func (r *Replica[T]) observeDrift(origin version.ID, err error) {
	var de *version.DriftError
	if errors.As(err, &de) {
		r.observe(resolve.Event{Kind: resolve.Drift, Entity: r.res.Entity(), Origin: origin,
			Offset: time.Duration(de.Remote.Wall - de.Local.UnixNano())})
	}
}

// shortContext is the number of replicas of a context adopt reads without
// allocating.
const shortContext = 8

// adoptable checks payload, a state of one sibling, dot d, whose branch
// (its header and value) is branch and whose context has the counters
// counts, as decodeState would — without allocating, or building the value
// if the codec is a [Validator] — and returns its branch's stamp; false for
// a tombstone, a branch that carries what its writer had seen, a state of
// another format than the current one, or anything that does not decode.
func (r *Replica[T]) adoptable(payload []byte, d version.Dot, branch []byte, counts []uint64) (version.Stamp, bool) {
	if payload[0] != payloadFormat || payloadFormat != checkedFormat {
		return version.Stamp{}, false
	}
	ts, value, applied, ok := checkBranch(branch, r.fields, counts)
	if !ok {
		return version.Stamp{}, false
	}
	st := version.Stamp{Time: ts, Dot: d}
	if v, isV := r.codec.(Validator); isV && applied == nil {
		return st, v.Validate(value) == nil
	}
	// Applied keys in the header are checked against the value (which
	// must not hold any of its own), as decodeClock does.
	v, err := r.codec.Decode(value)
	if err == nil && applied != nil {
		err = setApplied(&v, applied, r.cmdKeys)
	}
	return st, err == nil
}

// checkedFormat is the payload format whose branch headers checkBranch
// reads: a state is adopted only if it is of the format this release
// writes and checkBranch knows it, so that a new format is never checked
// as an old one (the tests fail until checkBranch is brought up to date).
const checkedFormat = 6

// checkBranch checks the header of a branch of a state of checkedFormat
// as decodeBranch and decodeClock do — its stamp, at most fields field
// stamps in increasing field order, each naming a write the context covers
// (counts are its counters, in replica order) — without allocating, and
// returns the branch's time, the bytes of its value and those of its
// applied keys (nil for none), which the caller checks. A tombstone, and a
// branch carrying what its writer had seen, report false.
func checkBranch(b []byte, fields int, counts []uint64) (ts version.Timestamp, value, applied []byte, ok bool) {
	r := reader{b: b}
	ts = version.Timestamp{Wall: r.varint(), Logical: r.logical()}
	h := r.uvarint()
	n, hasApplied, _ := branchHeader(checkedFormat, h)
	if r.err != nil || h&3 != 0 || n > uint64(fields) {
		return ts, nil, nil, false
	}
	next := uint64(0)
	for range n {
		gap := r.uvarint()
		if r.err != nil || gap >= uint64(fields)-next {
			return ts, nil, nil, false
		}
		next += gap + 1
		r.varint()
		r.logical()
		k, counter := r.uvarint(), r.uvarint()
		if r.err != nil || !coversAt(counts, k, counter) {
			return ts, nil, nil, false
		}
	}
	if hasApplied {
		applied = r.section()
	}
	return ts, r.rest(), applied, r.err == nil
}

// coversAt reports whether the k-th replica of a context whose counters
// are counts (in ID order) has a write numbered counter in it: the check
// decodeClock makes of a field stamp's dot.
func coversAt(counts []uint64, k, counter uint64) bool {
	return k < uint64(len(counts)) && counter >= 1 && counter <= counts[k]
}

// supersedes reports whether a state of one sibling, whose dot is d, with
// frame in, whose context holds own writes of this replica, is the state the full path would store over
// key's stored state cur at revision rev — so that it may be stored as it
// is: none is stored (and the key was not reaped), or in strictly descends
// it and d is new to it (the full path keeps the stored copy of a sibling
// both hold); and in claims no write of this replica beyond those stored.
// A stored state that does not read reports false, and so does any key
// while some key is quarantined: the full path reports and releases them.
func (r *Replica[T]) supersedes(key string, cur []byte, rev uint64, in version.ClockFrame, own uint64, d version.Dot) bool {
	if r.nQuarantine.Load() > 0 {
		return false // rare
	}
	if rev == 0 {
		_, reaped := r.horizon(key)
		return !reaped && own == 0
	}
	stored, err := r.openStateFrame(cur)
	if err != nil || in.Compare(stored) != version.After {
		return false
	}
	var haveD, haveOwn uint64 // the stored context's counters of d's replica and this one
	for id, n := range stored.All() {
		if id == d.ID {
			haveD = n
		}
		if id == r.id {
			haveOwn = n
		}
	}
	return d.Counter > haveD && own <= haveOwn
}
