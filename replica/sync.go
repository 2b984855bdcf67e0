package replica

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/harborpoint/concord/replica/rangesync"
	"github.com/harborpoint/concord/version"
)

// Delta is one record's encoded state, as [Replica.Export] returns it and
// [Replica.Apply] takes it.
type Delta struct {
	Key  string
	Data []byte
}

// KeyError is a record that a reconciliation could not read, send or
// apply, and why. The others go on without it.
type KeyError struct {
	Key string
	Err error
}

// Error implements the error interface.
// The message names the package and the key once, whatever Err's says.
func (e *KeyError) Error() string {
	key := strconv.Quote(e.Key)
	return prefix + key + ": " + strings.TrimPrefix(unprefixed(e.Err), key+": ")
}

// Unwrap returns the record's error.
func (e *KeyError) Unwrap() error { return e.Err }

// Peer is the other replica of an anti-entropy session, as the replica that
// starts it sees it: a transport. [Local] is a Peer in the same process;
// package httpapi has one over HTTP.
type Peer interface {
	// Reconcile sends a message of the reconciliation protocol and returns
	// the peer's answer: the peer's [Replica.Respond].
	Reconcile(ctx context.Context, msg []byte) ([]byte, error)
	// Push has the peer apply states ([Replica.ApplyDeltas]) and returns
	// those it refused, with why.
	Push(ctx context.Context, states []Delta) ([]KeyError, error)
	// Pull returns the peer's states of the records wanted
	// ([Replica.Deltas]): each that the wanting replica's context does not
	// already cover. A key the peer does not hold, or cannot read, is left
	// out.
	Pull(ctx context.Context, wants []Want) ([]Delta, error)
}

// Want is a record a session fetches, with the causal context the fetching
// replica holds of it (zero if none): the peer sends its state only if that
// context does not cover it, so a record goes only the way it is missing.
type Want struct {
	Key     string
	Context version.Vector
}

// SyncReport says what one anti-entropy session did.
type SyncReport struct {
	Rounds   int // protocol round trips
	Bytes    int // protocol bytes, both ways (states not included)
	Sent     int // states the peer applied
	Received int // states this replica applied
	// Skipped counts the records that could not be read, sent or applied;
	// Errors holds the first of them.
	Skipped int
	Errors  []KeyError
	// Acked counts the tombstones the peer acknowledged at the end of the
	// session (see [Acknowledger]).
	Acked int
}

// maxReportErrors bounds SyncReport.Errors.
const maxReportErrors = 32

func (rep *SyncReport) skip(errs []KeyError) {
	rep.Skipped += len(errs)
	for _, e := range errs {
		if len(rep.Errors) < maxReportErrors {
			rep.Errors = append(rep.Errors, e)
		}
	}
}

// syncBatch is the number of states one Push or Pull carries.
const syncBatch = 128

// Sync runs one anti-entropy session with peer: the two replicas find the
// records on which they differ with the range-based reconciliation of
// package rangesync — bytes and round trips that grow with the number of
// differences, not with the number of records — and each then applies the
// other's state of them through [Replica.Apply]. A record held at two
// versions goes only the way it is missing — the fetch carries this
// replica's context, and a state is pushed back only if it still differs
// from the peer's after the fetch — and Apply merges what is concurrent.
//
// A record that cannot be read, sent or applied is skipped and reported in
// SyncReport.Errors; the others go on. The error is for what stops the
// session: the peer unreachable, a malformed protocol message, ctx done.
//
// Every call to peer carries this replica's ID ([WithCaller]), so a peer
// that expired it refuses the session with an [*ExpiredError]. When the
// replica has a membership and peer is an [Acknowledger], the session
// starts by asking the peer's ID — a member not heard from for longer than
// Options.Retention is refused with an [*ExpiredError] before any state
// moves — and ends by collecting the peer's acknowledgements of
// the tombstones this replica waits to reap (SyncReport.Acked); a
// malformed answer fails the session with an [*AckError] and records
// nothing.
func (r *Replica[T]) Sync(ctx context.Context, peer Peer) (SyncReport, error) {
	var rep SyncReport
	ctx = WithCaller(ctx, r.id) // the peer's side refuses this replica if it expired it
	id, err := r.admit(ctx, peer)
	if err != nil {
		return rep, err
	}
	x, skipped, err := r.index(ctx)
	if err != nil {
		return rep, err
	}
	rep.skip(skipped)
	s, err := rangesync.NewInitiator(x, r.reconcile)
	if err != nil {
		return rep, err
	}
	msg := s.Initiate()
	for msg != nil {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		reply, err := peer.Reconcile(ctx, msg)
		if err != nil {
			return rep, wrapf(err, "replica %v: sync", r.id)
		}
		rep.Rounds++
		rep.Bytes += len(msg) + len(reply)
		var have, need []string
		if msg, have, need, err = s.Reconcile(reply); err != nil {
			return rep, wrapf(err, "replica %v: sync", r.id)
		}
		pulled, err := r.pull(ctx, peer, need, &rep)
		if err != nil {
			return rep, err
		}
		if err := r.push(ctx, peer, r.unsettled(ctx, have, need, pulled), &rep); err != nil {
			return rep, err
		}
	}
	rep.Acked, err = r.collectAcks(ctx, peer, id)
	if err == nil && !id.IsZero() {
		r.heardFrom(id) // a session completed
	}
	return rep, err
}

// push sends this replica's states of keys to peer, in batches.
func (r *Replica[T]) push(ctx context.Context, peer Peer, keys []string, rep *SyncReport) error {
	for len(keys) > 0 {
		n := min(len(keys), syncBatch)
		states, errs := r.Deltas(ctx, wants(keys[:n]))
		keys = keys[n:]
		rep.skip(errs)
		if err := ctx.Err(); err != nil {
			return err
		}
		if len(states) == 0 {
			continue
		}
		refused, err := peer.Push(ctx, states)
		if err != nil {
			return wrapf(err, "replica %v: sync: push", r.id)
		}
		rep.Sent += len(states) - len(refused)
		rep.skip(refused)
	}
	return nil
}

func wants(keys []string) []Want {
	out := make([]Want, len(keys))
	for i, k := range keys {
		out[i].Key = k
	}
	return out
}

// pull fetches, in batches, the peer's states of keys that this replica's
// contexts do not cover, applies them, and returns the context of each
// state it received.
func (r *Replica[T]) pull(ctx context.Context, peer Peer, keys []string, rep *SyncReport) (map[string]version.Vector, error) {
	pulled := map[string]version.Vector{}
	for len(keys) > 0 {
		n := min(len(keys), syncBatch)
		ws := make([]Want, n)
		for i, k := range keys[:n] {
			ws[i] = Want{Key: k, Context: r.context(ctx, k)}
		}
		keys = keys[n:]
		states, err := peer.Pull(ctx, ws)
		if err != nil {
			return nil, wrapf(err, "replica %v: sync: pull", r.id)
		}
		for _, d := range states {
			if join, err := r.frameContext(d.Data); err == nil {
				pulled[d.Key] = join
			}
		}
		applied, errs := r.ApplyDeltas(ctx, states)
		rep.Received += applied
		rep.skip(errs)
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
	return pulled, nil
}

// context returns the causal context of the stored record under key, or
// the horizon of a reaped one (so a peer does not send a copy the horizon
// covers); zero if there is none or it cannot be read (the peer then sends
// its state, whose Apply reports the damage).
func (r *Replica[T]) context(ctx context.Context, key string) version.Vector {
	data, rev, err := r.store.Get(ctx, key)
	if err != nil {
		return version.Vector{}
	}
	if rev == 0 {
		h, _ := r.horizon(key) // loaded by the index's build
		return h.Join()
	}
	join, _, err := r.storedContext(key, data, rev)
	if err != nil {
		return version.Vector{}
	}
	r.seen(ctx, key, rev, join)
	return join
}

// unsettled returns the keys of have that the peer may still lack: every
// key only this replica holds, and every key both hold at different
// versions unless the state just pulled from the peer is now this
// replica's too (the peer's descended from it).
func (r *Replica[T]) unsettled(ctx context.Context, have, need []string, pulled map[string]version.Vector) []string {
	both := make(map[string]bool, len(need))
	for _, k := range need {
		both[k] = true
	}
	out := have[:0:0]
	for _, k := range have {
		if theirs, ok := pulled[k]; ok && both[k] && theirs.Equal(r.context(ctx, k)) {
			continue
		}
		out = append(out, k)
	}
	return out
}

// Respond answers one message of another replica's [Replica.Sync] (the
// server side of [Peer.Reconcile]). It keeps no state between messages. A
// message that does not decode fails with an error wrapping
// rangesync.ErrMalformed or rangesync.ErrVersion. When ctx names the
// caller ([WithCaller]) and it is a member not heard from for longer than
// Options.Retention, it fails with an [*ExpiredError] and answers nothing;
// a member it answers is heard from.
func (r *Replica[T]) Respond(ctx context.Context, msg []byte) ([]byte, error) {
	if err := r.AdmitCaller(ctx); err != nil {
		return nil, wrapf(err, "replica %v: respond", r.id)
	}
	x, _, err := r.index(ctx)
	if err != nil {
		return nil, err
	}
	reply, err := rangesync.Respond(x, msg, r.reconcile)
	if err != nil {
		return nil, wrapf(err, "replica %v: respond", r.id)
	}
	return reply, nil
}

// Deltas returns this replica's states of the records wanted, checked to
// decode (the server side of [Peer.Pull]): each whose context the want's
// does not cover. A key it does not hold is left out; a record that cannot
// be read is left out and reported. When ctx names the caller
// ([WithCaller]) and it is an expired member, every want is refused with
// an [*ExpiredError] and no state is returned.
func (r *Replica[T]) Deltas(ctx context.Context, wants []Want) ([]Delta, []KeyError) {
	var out []Delta
	var errs []KeyError
	if err := r.AdmitCaller(ctx); err != nil {
		for _, w := range wants {
			errs = append(errs, KeyError{Key: w.Key, Err: err})
		}
		return nil, errs
	}
	for _, w := range wants {
		if ctx.Err() != nil {
			break
		}
		data, rev, err := r.store.Get(ctx, w.Key)
		if err != nil || rev == 0 {
			if err != nil {
				errs = append(errs, KeyError{Key: w.Key, Err: err})
			}
			continue
		}
		s, err := r.decodeStored(w.Key, data, rev)
		if err == nil {
			join := s.Join()
			r.seen(ctx, w.Key, rev, join)
			r.refresh(w.Key, &observed[T]{state: s, join: join}, false)
		}
		switch {
		case err != nil:
			errs = append(errs, KeyError{Key: w.Key, Err: err})
		case !w.Context.Descends(s.Join()):
			out = append(out, Delta{Key: w.Key, Data: data})
		}
	}
	return out, errs
}

// ApplyDeltas applies states received from another replica (the server
// side of [Peer.Push]) and returns how many it applied and which it
// refused: one state that does not apply does not stop the others. When
// ctx names the caller ([WithCaller]) and it is an expired member, every
// state is refused with an [*ExpiredError] and none is applied.
func (r *Replica[T]) ApplyDeltas(ctx context.Context, deltas []Delta) (applied int, errs []KeyError) {
	if err := r.AdmitCaller(ctx); err != nil {
		for _, d := range deltas {
			errs = append(errs, KeyError{Key: d.Key, Err: err})
		}
		return 0, errs
	}
	for _, d := range deltas {
		if _, err := r.Apply(ctx, d.Key, d.Data); err != nil {
			errs = append(errs, KeyError{Key: d.Key, Err: err})
			continue
		}
		applied++
	}
	return applied, errs
}

// Local returns r as the [Peer] of another replica in the same process.
func Local[T any](r *Replica[T]) Peer { return local[T]{r} }

type local[T any] struct{ r *Replica[T] }

func (l local[T]) Reconcile(ctx context.Context, msg []byte) ([]byte, error) {
	return l.r.Respond(ctx, msg)
}

func (l local[T]) Push(ctx context.Context, states []Delta) ([]KeyError, error) {
	_, errs := l.r.ApplyDeltas(ctx, states)
	return errs, ctx.Err()
}

func (l local[T]) Acknowledge(ctx context.Context, keys []string) (Ack, error) {
	return l.r.Acknowledge(ctx, keys)
}

func (l local[T]) Pull(ctx context.Context, wants []Want) ([]Delta, error) {
	if err := l.r.AdmitCaller(ctx); err != nil {
		return nil, wrapf(err, "replica %v: pull", l.r.id)
	}
	states, _ := l.r.Deltas(ctx, wants) // l.r's unreadable records are its own to report (Rescan, its sessions)
	return states, ctx.Err()
}

// AntiEntropy brings a and b in one process to the same state for every
// key: a.Sync(ctx, Local(b)). Records that could not be read or applied are
// skipped, the others converge, and the error then lists what was skipped.
// Then each acknowledges its digest to the other ([Replica.Ack]), which is
// what reaping tombstones waits for.
func AntiEntropy[T any](ctx context.Context, a, b *Replica[T]) error {
	rep, err := a.Sync(ctx, Local(b))
	if err != nil {
		return err
	}
	if err := acknowledge(ctx, a, b); err != nil {
		return err
	}
	if rep.Skipped > 0 {
		errs := make([]error, len(rep.Errors))
		for i := range rep.Errors {
			errs[i] = &rep.Errors[i]
		}
		return fmt.Errorf("replica: anti-entropy %v ⇄ %v skipped %d records:\n%w", a.id, b.id, rep.Skipped, errors.Join(errs...))
	}
	return nil
}
