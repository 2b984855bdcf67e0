package replica

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

// Acknowledgements across processes. Reaping a tombstone waits until every
// member has acknowledged its context (see [Replica.Reap]). A session
// ([Replica.Sync]) with a [Peer] that is also an [Acknowledger] ends by
// asking the peer what it now holds of the tombstones this replica holds
// and has not reaped yet — keys only, in batches of at most [MaxAckKeys] —
// and records each answer as that peer's acknowledgement of that key. The
// cost grows with the tombstones waiting to be reaped, not with the store;
// a replica without a membership asks nothing.
//
// Each side collects the acknowledgements of the sessions it starts: for
// both regions of a pair to reap, each must start sessions with the other
// (a [Replicator] on each side does).
//
// What a peer can do with its answer: claim what it holds itself, nothing
// more. The answer is checked — it names the replica the transport expects
// (an Acknowledger must vouch for whom it reaches: httpapi's
// ReplicationClient pins the peer's ID), only keys asked, each once, with
// contexts that decode within limits — and anything else fails the session
// with an [*AckError] and records nothing. A peer that claims to hold a
// tombstone it does not hold can make this replica reap early; that is the
// trust every member of a membership is given, and why a membership lists
// only replicas that authenticate.

// MaxAckKeys is the most keys one acknowledgement request asks about, and
// so the most an answer may hold.
const MaxAckKeys = 1024

// Acknowledger is a [Peer] that reports what it holds of records: the
// server side is [Replica.Acknowledge]. [Local] is one; so is httpapi's
// ReplicationClient when it knows its peer's ID.
type Acknowledger interface {
	// Acknowledge returns the peer replica's ID and the causal context it
	// holds of each of keys (at most [MaxAckKeys]): its record's, or the
	// horizon of a tombstone it reaped. Keys it holds neither of are left
	// out. An error wrapping [ErrNoAcks] means the peer cannot vouch for
	// its acknowledgements: the session then records none.
	Acknowledge(ctx context.Context, keys []string) (Ack, error)
}

// Ack is one replica's acknowledgement of some records: what it holds of
// each.
type Ack struct {
	Replica version.ID
	Held    Digest
}

// ErrNoAcks is wrapped by an [Acknowledger]'s error when it cannot vouch
// for the acknowledgements of its peer (it does not know whom it reaches).
var ErrNoAcks = errors.New("replica: the peer's acknowledgements cannot be vouched for")

// ErrBadAck is wrapped by the error for an acknowledgement that does not
// hold together: the error is an [*AckError].
var ErrBadAck = errors.New("replica: malformed acknowledgement")

// AckError is an acknowledgement refused, and why. Nothing of it was
// recorded.
type AckError struct {
	Peer   version.ID // the replica the answer named (zero if none)
	Key    string     // the key at fault, if one is
	Reason string
}

// Error implements the error interface.
func (e *AckError) Error() string {
	if e.Key != "" {
		return fmt.Sprintf("replica: malformed acknowledgement from %v: %q: %s", e.Peer, e.Key, e.Reason)
	}
	return fmt.Sprintf("replica: malformed acknowledgement from %v: %s", e.Peer, e.Reason)
}

// Unwrap returns ErrBadAck.
func (e *AckError) Unwrap() error { return ErrBadAck }

// Acknowledge reports what this replica holds of keys (the server side of
// [Acknowledger]): the context of each record it holds, or of the
// tombstone it reaped. A key it holds neither of, or whose record does not
// read, is left out. More than [MaxAckKeys] keys fail with an
// [*AckError].
func (r *Replica[T]) Acknowledge(ctx context.Context, keys []string) (Ack, error) {
	if len(keys) > MaxAckKeys {
		return Ack{}, &AckError{Peer: r.id, Reason: fmt.Sprintf("%d keys asked, at most %d", len(keys), MaxAckKeys)}
	}
	a := Ack{Replica: r.id, Held: make(Digest, len(keys))}
	for _, k := range keys {
		if err := ctx.Err(); err != nil {
			return Ack{}, err
		}
		if c, ok := r.holds(ctx, k); ok {
			a.Held[k] = c
		}
	}
	return a, nil
}

// holds returns the context this replica holds of key: its record's, or
// the horizon of its reaped tombstone.
func (r *Replica[T]) holds(ctx context.Context, key string) (version.Vector, bool) {
	data, rev, err := r.store.Get(ctx, key)
	if err != nil {
		return version.Vector{}, false
	}
	if rev == 0 {
		if r.loadHorizons(ctx) != nil {
			return version.Vector{}, false
		}
		h, ok := r.horizon(key)
		return h.Join(), ok
	}
	join, _, err := r.storedContext(key, data, rev)
	if err != nil {
		return version.Vector{}, false
	}
	r.seen(ctx, key, rev, join)
	return join, true
}

// collectAcks asks peer, if it is an Acknowledger, what it holds of the
// tombstones this replica waits to reap, and records the answers; it
// returns how many keys the peer acknowledged. id is the peer's ID as the
// session's start learned it (zero: unknown); every answer must name it.
func (r *Replica[T]) collectAcks(ctx context.Context, peer Peer, id version.ID) (int, error) {
	a, ok := peer.(Acknowledger)
	if !ok {
		return 0, nil
	}
	keys := r.unstable()
	n := 0
	for len(keys) > 0 {
		batch := keys[:min(len(keys), MaxAckKeys)]
		keys = keys[len(batch):]
		ack, err := a.Acknowledge(ctx, batch)
		if errors.Is(err, ErrNoAcks) {
			return n, nil
		}
		if err != nil {
			return n, wrapf(err, "replica %v: sync: acknowledge", r.id)
		}
		if err := r.checkAck(ack, batch); err != nil {
			return n, wrapf(err, "replica %v: sync", r.id)
		}
		if !id.IsZero() && ack.Replica != id {
			return n, wrapf(&AckError{Peer: ack.Replica, Reason: fmt.Sprintf("the session started with %v", id)}, "replica %v: sync", r.id)
		}
		n += r.ackKeys(ack.Replica, batch, ack.Held)
	}
	return n, nil
}

// checkAck checks an answer to a request for keys.
func (r *Replica[T]) checkAck(a Ack, keys []string) error {
	switch {
	case a.Replica.IsZero():
		return &AckError{Reason: "no replica named"}
	case a.Replica == r.id:
		return &AckError{Peer: a.Replica, Reason: "it names this replica"}
	case len(a.Held) > len(keys):
		return &AckError{Peer: a.Replica, Reason: fmt.Sprintf("%d keys answered, %d asked", len(a.Held), len(keys))}
	}
	asked := make(map[string]bool, len(keys))
	for _, k := range keys {
		asked[k] = true
	}
	for k := range a.Held {
		if !asked[k] {
			return &AckError{Peer: a.Replica, Key: k, Reason: "a key not asked about"}
		}
	}
	return nil
}

// ackKeys records what peer holds of keys (held: the answer; a key left
// out is not held) and returns how many it holds. A peer outside the
// membership is ignored, as by Ack.
func (r *Replica[T]) ackKeys(peer version.ID, keys []string, held Digest) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.memb.members[peer] {
		return 0
	}
	d := r.memb.acks[peer]
	if d == nil {
		d = Digest{}
		r.memb.acks[peer] = d
	}
	for _, k := range keys {
		if c, ok := held[k]; ok {
			d[k] = c
		} else {
			delete(d, k)
		}
	}
	return len(held)
}

// unstable returns, sorted, the keys of the tombstones this replica holds
// that are not yet stable; none without a membership.
func (r *Replica[T]) unstable() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.memb.members) == 0 {
		return nil
	}
	return slices.Sorted(maps.Keys(r.memb.tombs))
}

// noteTombstone records whether the state of key just indexed is a
// tombstone, for collectAcks.
func (r *Replica[T]) noteTombstone(key string, tomb bool) {
	if !tomb && r.nTombs.Load() == 0 { // the common case, without the lock
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if tomb {
		r.memb.tombs[key] = struct{}{}
	} else {
		delete(r.memb.tombs, key)
	}
	r.countMemb()
}

// countMemb publishes the sizes of the tombstones and horizons kept, for
// the checks that read them without r.mu; holding r.mu, after changing
// either.
func (r *Replica[T]) countMemb() {
	r.nTombs.Store(int32(len(r.memb.tombs)))
	r.nHorizons.Store(int32(len(r.memb.reaped)))
}

// isTombstone reports whether s is a tombstone (every branch deleted).
func isTombstone[T any](s resolve.Siblings[T]) bool {
	_, ok := tombstone(s)
	return ok
}

// frameTombstone reports whether the state whose clock frame is f is a
// tombstone, from the branch headers, without decoding a value.
func frameTombstone(f version.ClockFrame) bool {
	if f.Len() == 0 {
		return false
	}
	for _, b := range f.Siblings() {
		rd := reader{b: b}
		rd.varint()
		rd.logical()
		if h := rd.uvarint(); rd.err != nil || h&1 == 0 {
			return false
		}
	}
	return true
}
