package replica

import (
	"context"
	"errors"
	"maps"
	"slices"
	"time"

	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

// Reaping. A tombstone is removed from the store once it is causally
// stable: every replica of the membership holds exactly the tombstone's
// context for the key — it has the delete, and no write the delete did not
// see. Then every write any member ever made of the key is covered by the
// tombstone, and any later write of a member is made after seeing the
// delete, so a message that could still arrive is either covered (stale) or
// a deliberate re-creation.
//
// The rule a replica enforces after reaping: it remembers, per reaped key,
// the tombstone it removed (the "reaped horizon") and merges every
// replicated version of the key against it, so a version the horizon covers
// — a late message, a long-partitioned member's copy — is stale and dropped,
// never stored. The horizon is reported in the replica's Digest, so peers
// neither resend the tombstone nor count the key as missing.
//
// Membership is explicit: [Options.Members] at New, then
// [Replica.AddMember] and [Replica.RemoveMember]. A replica with no
// membership reaps nothing. Acknowledgements are explicit too: a session
// ([Replica.Sync]) with a peer that is an [Acknowledger] — [Local], or
// httpapi's ReplicationClient that knows its peer's ID — ends by recording
// what the peer holds of each tombstone this replica waits to reap (see
// ack.go); [Replica.Ack] records a whole digest by hand (AntiEntropy acks
// both sides with their digests after exchanging deltas). An added member
// has acknowledged nothing, so nothing is reaped until it has synced.
//
// Limits, stated: horizons and acknowledgements are kept in memory by this
// Replica value, one causal context per key reaped within the retention
// (retention.go) and one per member and tombstone acknowledged. Over a
// [HorizonStore] the horizons are also written to the store, before each
// tombstone leaves it, and read back by a new Replica value before its
// first write, Apply, session or Reap (horizon.go); acknowledgements are
// never written. After a restart:
//   - acknowledgements start empty, so nothing is reaped until every member
//     has acknowledged again (a session with each): late, never early;
//   - over a HorizonStore, the horizons are as they were: every late copy
//     they covered is still refused, and each is dropped the retention
//     after its reap, as if the process had never stopped;
//   - over any other store, the horizons are gone, as after the retention:
//     the replica numbers its writes of a reaped key above its counter
//     floor (floor.go), so it reissues no dot — durably across the restart
//     only over a [FloorStore] — but it can no longer tell a copy of a
//     reaped record from a live one, so a copy still in flight, or held by
//     a replica that has not seen the delete, is stored again (a
//     resurrection, which members that kept their horizons refuse as
//     stale, so the key differs between them until it is deleted again). A
//     session with a member does not restore them: the member holds no
//     state of the key to send. Restarting over such a store is therefore
//     safe only once no copy of a reaped version remains outside the
//     members' horizons — every member reaped it, no message older than
//     the reap is in flight;
//   - when each member was last heard from is not kept either: a restart
//     gives every member a new grace of one retention (retention.go);
//   - Replica values sharing one store must not reap (only one of them may
//     be configured with Members): the horizons in memory are the reaping
//     one's, and another reads the stored ones only once, at its start.

// membership is a replica's reaping state, under Replica.mu.
type membership[T any] struct {
	members map[version.ID]bool
	heard   map[version.ID]time.Time // when each member was added or last heard from (see retention.go)
	acks    map[version.ID]Digest    // the last digest each member acknowledged
	reaped  map[string]horizon[T]    // the reaped horizons, by key
	tombs   map[string]struct{}      // the keys whose indexed state is a tombstone
	nReaped uint64                   // tombstones reaped since New
	dropped uint64                   // horizons dropped after the retention since New
}

// horizon is a reaped key's horizon: the tombstone removed, and when.
type horizon[T any] struct {
	state resolve.Siblings[T]
	at    time.Time
}

// AddMember adds a replica to the membership: tombstones are reaped only
// once it has acknowledged them.
//
// Adding a member again re-admits it when it has expired (not heard from
// for longer than Options.Retention, see [ErrExpired]): the operator's word
// that it rejoins with an empty store, holding nothing older than this
// replica's horizons.
func (r *Replica[T]) AddMember(id version.ID) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.memb.members[id] = true
	r.memb.heard[id] = r.now()
}

// RemoveMember retires a replica from the membership: its acknowledgements
// are no longer waited for. Retire a replica only once it is gone for good;
// a retired replica that comes back must rejoin with an empty store.
func (r *Replica[T]) RemoveMember(id version.ID) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.memb.members, id)
	delete(r.memb.heard, id)
	delete(r.memb.acks, id)
}

// Members returns the membership, sorted.
func (r *Replica[T]) Members() []version.ID {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.SortedFunc(maps.Keys(r.memb.members), version.ID.Compare)
}

// Ack records that peer holds the records of d (its [Replica.Digest],
// taken after it applied what this replica sent): the acknowledgement that
// reaping waits for. A later Ack replaces an earlier one. Acks from
// replicas outside the membership are ignored. A member that has expired
// (not heard from for longer than Options.Retention) is refused with an
// [*ExpiredError] and nothing is recorded; otherwise the member counts as
// heard from now.
func (r *Replica[T]) Ack(peer version.ID, d Digest) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if member, err := r.hearLocked(peer); !member || err != nil {
		return err
	}
	r.memb.acks[peer] = maps.Clone(d)
	return nil
}

// Reap removes from the store every tombstone that is causally stable (see
// the package documentation): every member other than this replica has
// acknowledged exactly its context. It returns the number of keys removed.
// A key written meanwhile is left for the next Reap; a record that cannot be
// read is skipped (it is quarantined and reported, see [ErrQuarantined]).
//
// Before a tombstone leaves the store, the replica's counter floor is
// raised above its writes of the key (see [FloorStore]); a floor the store
// fails to keep fails the Reap and the tombstone stays. Reap first drops
// the horizons reaped longer than Options.Retention ago (see
// [Replica.Reaping]).
func (r *Replica[T]) Reap(ctx context.Context) (int, error) {
	if err := r.loadHorizons(ctx); err != nil {
		return 0, err
	}
	if err := r.dropHorizons(ctx); err != nil {
		return 0, err
	}
	var stable []string
	err := scanAll(ctx, r.store, func(e Entry) error {
		s, err := r.decodeStored(e.Key, e.Value, e.Rev)
		if err != nil {
			return nil // quarantined and reported; the others go on
		}
		r.seen(ctx, e.Key, e.Rev, s.Join())
		if c, ok := tombstone(s); ok && r.stable(e.Key, c) {
			stable = append(stable, e.Key)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, key := range stable {
		ok, err := r.reap(ctx, key)
		if err != nil {
			return n, err
		}
		if ok {
			n++
		}
	}
	return n, nil
}

// stable reports whether every member but this replica acknowledged c for key.
func (r *Replica[T]) stable(key string, c version.Vector) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.memb.members) == 0 {
		return false
	}
	for m := range r.memb.members {
		if m == r.id {
			continue
		}
		if got, ok := r.memb.acks[m][key]; !ok || !got.Equal(c) {
			return false
		}
	}
	return true
}

// reap removes key's tombstone if it is still the stored state and still
// stable, under the key's lock so that no local write interleaves.
func (r *Replica[T]) reap(ctx context.Context, key string) (bool, error) {
	lk, err := r.locks.lock(ctx, key)
	if err != nil {
		return false, wrapf(err, "replica %v: %q", r.id, key)
	}
	defer r.locks.unlock(key, lk)
	data, rev, err := r.store.Get(ctx, key)
	if err != nil {
		return false, wrapf(err, "replica %v: get %q", r.id, key)
	}
	s, err := r.decodeStored(key, data, rev)
	if err != nil || rev == 0 {
		return false, err
	}
	c, ok := tombstone(s)
	if !ok || !r.stable(key, c) {
		return false, nil
	}
	// Raise the floor above this replica's writes of the key, so that it
	// never numbers one of them again once the horizon is gone.
	if err := r.raiseFloor(ctx, c.Get(r.id)); err != nil {
		return false, err
	}
	// Keep the horizon — durably over a HorizonStore — before the
	// tombstone leaves the store, so that no version it covers is ever
	// applied in between, nor after a restart.
	if err := r.putHorizon(ctx, key, horizon[T]{state: s, at: r.now()}, data); err != nil {
		return false, err
	}
	if err := r.store.Delete(ctx, key, rev); err != nil {
		if errors.Is(err, ErrRevisionMismatch) {
			return false, nil // written meanwhile: the horizon is harmless, the state descends from it
		}
		return false, wrapf(err, "replica %v: delete %q", r.id, key)
	}
	r.mu.Lock()
	r.memb.nReaped++
	delete(r.memb.tombs, key) // its horizon answers for it now
	r.countMemb()
	for _, d := range r.memb.acks {
		delete(d, key)
	}
	r.mu.Unlock()
	r.recent.forget(key)
	return true, nil
}

// horizon returns the reaped tombstone of key, if any.
func (r *Replica[T]) horizon(key string) (resolve.Siblings[T], bool) {
	if r.nHorizons.Load() == 0 { // the common case, without the lock
		return resolve.Siblings[T]{}, false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	h, ok := r.memb.reaped[key]
	return h.state, ok
}

// Reaped returns the keys whose tombstones this replica reaped and whose
// horizons it keeps, sorted; over a [HorizonStore], those the store keeps
// too (see [Replica.Reaping]).
func (r *Replica[T]) Reaped() []string {
	r.statusHorizons()
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Sorted(maps.Keys(r.memb.reaped))
}

// Digest maps each key to the causal context of a replica's record: what a
// replica acknowledges to its peers ([Replica.Ack]).
type Digest map[string]version.Vector

// Digest returns the context of every record this replica holds, and of
// every tombstone it reaped (its horizon), so that a peer that reaped
// counts as having acknowledged the tombstone. A record that does not
// decode is left out (so it is not acknowledged); Sync reports it.
func (r *Replica[T]) Digest(ctx context.Context) (Digest, error) {
	if err := r.loadHorizons(ctx); err != nil {
		return nil, err
	}
	d := Digest{}
	r.mu.Lock()
	for k, h := range r.memb.reaped {
		d[k] = h.state.Join()
	}
	r.mu.Unlock()
	err := scanAll(ctx, r.store, func(e Entry) error {
		if join, _, err := r.storedContext(e.Key, e.Value, e.Rev); err == nil {
			d[e.Key] = join
			r.seen(ctx, e.Key, e.Rev, join)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}

// acknowledge makes a and b acknowledge their digests to each other.
func acknowledge[T any](ctx context.Context, a, b *Replica[T]) error {
	da, err := a.Digest(ctx)
	if err != nil {
		return err
	}
	db, err := b.Digest(ctx)
	if err != nil {
		return err
	}
	return errors.Join(a.Ack(b.ID(), db), b.Ack(a.ID(), da))
}
