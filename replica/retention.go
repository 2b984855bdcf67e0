package replica

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/harborpoint/concord/version"
)

// Retention. A reaped key's horizon refuses the late copies of versions
// older than its delete; it cannot be kept for ever (a year of deletes is
// a year of horizons in memory), so it is kept for Options.Retention after
// the reap and then dropped (Cassandra's gc_grace_seconds). What makes
// that safe is a bound on how late a copy can be: a copy older than a reap
// either was in flight at the reap — and arrives within the retention, or
// the deployment's retention is too short — or is held by a member that
// was away, partitioned or restored from an old backup. The replica
// enforces the second part where it can see it: a member not heard from
// for longer than the retention has expired, and is refused — a session
// this replica starts with it, or it starts with this replica, fails with
// an [*ExpiredError] before any state moves, the states it pushes and its
// acknowledgements are refused — until the operator adds it again
// ([Replica.AddMember]) once it rejoins with an empty store. Heard from
// means: added (or the replica started), a session with it completed, a
// session it opened answered ([WithCaller]), or an acknowledgement from it
// recorded.
//
// With the counter floor (floor.go), dropping a horizon never makes this
// replica reissue a dot: its next write of the key is numbered above every
// counter it reaped.

// DefaultRetention is the retention of horizons, and the longest a member
// may go unheard from, when Options.Retention is zero: ten days, as
// Cassandra's default gc_grace_seconds.
const DefaultRetention = 10 * 24 * time.Hour

// ErrExpired is wrapped by the error for a member that has not been heard
// from for longer than the retention: the error is an [*ExpiredError].
var ErrExpired = errors.New("replica: member expired")

// ExpiredError is a member refused for not having been heard from for
// longer than the retention (Options.Retention): this replica may have
// dropped the horizons that would refuse its late copies of reaped
// records. Nothing of it was recorded or applied. Remove it, let it rejoin
// with an empty store (as a new incarnation if it lost its store), and add
// it again ([Replica.AddMember]).
type ExpiredError struct {
	Member    version.ID
	Heard     time.Time     // when it was last heard from
	Retention time.Duration // the retention it exceeded
}

// Error implements the error interface.
func (e *ExpiredError) Error() string {
	return fmt.Sprintf("replica: member %v expired: not heard from since %s, longer than the retention of %v; add it again once it rejoins with an empty store",
		e.Member, e.Heard.UTC().Format(time.RFC3339), e.Retention)
}

// Unwrap returns ErrExpired.
func (e *ExpiredError) Unwrap() error { return ErrExpired }

// expiredLocked returns the error for member m if it has expired; r.mu is
// held. This replica itself never expires.
func (r *Replica[T]) expiredLocked(m version.ID) error {
	heard, ok := r.memb.heard[m]
	if r.retention < 0 || m == r.id || !ok || r.now().Sub(heard) <= r.retention {
		return nil
	}
	return &ExpiredError{Member: m, Heard: heard, Retention: r.retention}
}

// heardFrom records that member m was heard from now.
func (r *Replica[T]) heardFrom(m version.ID) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.memb.members[m] {
		r.memb.heard[m] = r.now()
	}
}

// admit identifies the peer of a session this replica starts, when it has
// a membership and the peer is an [Acknowledger] that can vouch for whom
// it reaches, and refuses it with an [*ExpiredError] if it is an expired
// member. It returns the peer's ID, zero if unknown.
func (r *Replica[T]) admit(ctx context.Context, peer Peer) (version.ID, error) {
	a, ok := peer.(Acknowledger)
	if !ok || len(r.Members()) == 0 {
		return version.ID{}, nil
	}
	ack, err := a.Acknowledge(ctx, nil) // no keys: only the peer's ID
	if errors.Is(err, ErrNoAcks) {
		return version.ID{}, nil
	}
	if err != nil {
		return version.ID{}, wrapf(err, "replica %v: sync: acknowledge", r.id)
	}
	if err := r.checkAck(ack, nil); err != nil {
		return version.ID{}, wrapf(err, "replica %v: sync", r.id)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.memb.members[ack.Replica] {
		if err := r.expiredLocked(ack.Replica); err != nil {
			return version.ID{}, wrapf(err, "replica %v: sync", r.id)
		}
	}
	return ack.Replica, nil
}

// callerKey is the context key of WithCaller.
type callerKey struct{}

// WithCaller returns a copy of ctx that names id as the replica on whose
// behalf the server side of a session runs: [Replica.Respond],
// [Replica.ApplyDeltas] and [Replica.Deltas] then refuse id with an [*ExpiredError] if it is a
// member this replica has not heard from for longer than the retention,
// and count it as heard from otherwise. [Replica.Sync] names its own
// replica in the context it hands its [Peer] (so [Local] peers check), and
// a transport's server names the replica it authenticated (httpapi's
// replication handler takes it from its Auth middleware, which knows).
// A caller named by the transport is trusted as an acknowledgement is: a
// membership lists only replicas that authenticate.
func WithCaller(ctx context.Context, id version.ID) context.Context {
	return context.WithValue(ctx, callerKey{}, id)
}

// CallerFrom returns the replica ctx names as its caller (see
// [WithCaller]), if any.
func CallerFrom(ctx context.Context) (version.ID, bool) {
	id, ok := ctx.Value(callerKey{}).(version.ID)
	return id, ok && !id.IsZero()
}

// AdmitCaller refuses the caller ctx names ([WithCaller]) with an
// [*ExpiredError] (wrapping [ErrExpired]) if it is a member this replica
// has not heard from for longer than the retention, and records it as
// heard from if it is a member. A caller outside the membership, or none
// named, is let through (nil): this replica cannot tell who it is.
// [Replica.Respond], [Replica.ApplyDeltas] and [Replica.Deltas] call it; a
// transport's server calls it before dispatching any replication
// operation, so that an expired member is refused as a whole (httpapi
// answers 403) before any state moves either way.
func (r *Replica[T]) AdmitCaller(ctx context.Context) error {
	id, ok := CallerFrom(ctx)
	if !ok || id == r.id {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	_, err := r.hearLocked(id)
	return err
}

// hearLocked records that member m was heard from now, unless it has
// expired (the error); r.mu is held. It reports whether m is a member: a
// replica outside the membership is neither refused nor recorded.
func (r *Replica[T]) hearLocked(m version.ID) (member bool, err error) {
	if !r.memb.members[m] {
		return false, nil
	}
	if err := r.expiredLocked(m); err != nil {
		return true, err
	}
	r.memb.heard[m] = r.now()
	return true, nil
}

// dropHorizons drops the horizons reaped longer than the retention ago.
func (r *Replica[T]) dropHorizons(ctx context.Context) error {
	for _, key := range r.oldHorizons() {
		if err := r.dropHorizon(ctx, key); err != nil {
			return err
		}
	}
	return nil
}

// oldHorizons returns, sorted, the keys whose horizons are older than the
// retention.
func (r *Replica[T]) oldHorizons() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.retention < 0 {
		return nil
	}
	now := r.now()
	var old []string
	for k, h := range r.memb.reaped {
		if now.Sub(h.at) > r.retention {
			old = append(old, k)
		}
	}
	slices.Sort(old)
	return old
}

// dropHorizon drops the horizon of key, holding the key so that no write
// plans from it meanwhile, and takes the key out of the reconciliation
// index, where it stood at its horizon, unless the store holds it again.
func (r *Replica[T]) dropHorizon(ctx context.Context, key string) error {
	lk, err := r.locks.lock(ctx, key)
	if err != nil {
		return wrapf(err, "replica %v: %q", r.id, key)
	}
	defer r.locks.unlock(key, lk)
	return r.withStripe(ctx, key, func(st *stripe, rev uint64) error {
		if err := r.deleteHorizon(ctx, key); err != nil {
			return err
		}
		r.mu.Lock()
		_, ok := r.memb.reaped[key]
		delete(r.memb.reaped, key)
		if ok {
			r.memb.dropped++
		}
		if rev == 0 {
			delete(r.memb.tombs, key)
		}
		r.countMemb()
		r.mu.Unlock()
		if ok && rev == 0 {
			r.ix.x.Remove(key)
			st.puts.Add(1)
		}
		return nil
	})
}

// ReapStatus is what an operator watches of reaping (see [Replica.Reaping]).
type ReapStatus struct {
	// Waiting counts the tombstones stored and not reaped yet, as the
	// reconciliation index knows them (from the first session or
	// [Replica.Rescan] on): it grows while a member does not acknowledge
	// (it is away, or expired).
	Waiting int
	// Horizons counts the horizons kept (one per key reaped within the
	// retention); Oldest is when the oldest of them was reaped (zero if
	// none).
	Horizons int
	Oldest   time.Time
	// Reaped counts the tombstones reaped, and Dropped the horizons
	// dropped after the retention, since the Replica value started.
	Reaped, Dropped uint64
	// CounterFloor is the counter floor: every write of this replica is numbered
	// above it (see [FloorStore]). Durable only over a FloorStore.
	CounterFloor uint64
	// Expired lists the members not heard from for longer than the
	// retention, sorted: each is refused until added again (see
	// [ErrExpired]), and no tombstone it has not acknowledged is reaped.
	Expired []version.ID
	// Heard maps each member but this replica to when it was last heard
	// from (added, a session completed, a session it opened answered, an
	// acknowledgement recorded).
	Heard map[version.ID]time.Time
}

// Reaping returns the state of reaping: tombstones waiting, horizons kept
// and dropped, the counter floor and the members that expired. Over a
// [HorizonStore] it reads the horizons the store keeps first, if nothing
// has yet since this value started.
func (r *Replica[T]) Reaping() ReapStatus {
	r.statusHorizons()
	r.mu.Lock()
	defer r.mu.Unlock()
	s := ReapStatus{Waiting: len(r.memb.tombs), Horizons: len(r.memb.reaped),
		Reaped: r.memb.nReaped, Dropped: r.memb.dropped, CounterFloor: r.floor.n.Load(),
		Heard: maps.Clone(r.memb.heard)}
	delete(s.Heard, r.id)
	for _, h := range r.memb.reaped {
		if s.Oldest.IsZero() || h.at.Before(s.Oldest) {
			s.Oldest = h.at
		}
	}
	for m := range r.memb.members {
		if r.expiredLocked(m) != nil {
			s.Expired = append(s.Expired, m)
		}
	}
	slices.SortFunc(s.Expired, version.ID.Compare)
	return s
}
