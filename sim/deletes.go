package sim

import (
	"errors"
	"fmt"
	"slices"

	"github.com/harborpoint/concord/internal/dotmodel"
	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

// Deletes in the simulation. Clients delete with the token they read
// (fresh or stale), guarded by the workload (Op.Apply), and re-create a
// deleted record with an Update from its tombstone's token. Every replica
// is configured with the membership of every replica's current
// incarnation; a replica that restarts as a new incarnation is retired and
// its successor added at every other replica (the operator's explicit
// membership change). After every completed anti-entropy session each side
// acknowledges what the other demonstrably holds — its Digest, read after
// the session — and both reap. Sync does not carry acknowledgements
// between processes yet; when it does, acknowledge is the one place to
// switch to them.
//
// A reaped key's horizon lives in the Replica value's memory (package
// replica's stated limit), so a replica that crashes loses it, and with it
// the key's context: it would apply a late version the horizon covered,
// and, restarted with the same ID over a store that does not keep its
// counter floor, hand out again the dots of its writes of the key (a
// re-creation's dot already covered by its peers' horizons, dropped there
// as stale). So, as the operator must: messages in flight to a replica are
// lost when it crashes, as a connection-oriented transport loses them; a
// replica over a MemoryStore (a replica.FloorStore) restarts with its ID,
// numbering its writes above the floor (the model follows the floor:
// node.floor); and one over a store a test hook wrapped restarts as a new
// incarnation (renew), retired and replaced in the membership like one
// that lost its state.

// nodeDeletes is what the simulation knows of one incarnation's deletes.
type nodeDeletes struct {
	// held are the acknowledged deletes, by key, whose dot this
	// incarnation's record has held: from then on, no write their tokens
	// covered may be live here.
	held map[string]map[version.Dot]bool
	// horizon is the context of each key's tombstone this incarnation
	// reaped, until the key is stored again.
	horizon map[string]version.Vector
}

func newNodeDeletes() nodeDeletes {
	return nodeDeletes{held: map[string]map[version.Dot]bool{}, horizon: map[string]version.Vector{}}
}

// historyDeletes is a history's ledger of deletes.
type historyDeletes[T any] struct {
	declared resolve.OnDelete     // the workload's declared policy (Workload.NewResolver)
	deletes  map[string][]*Ack[T] // acknowledged deletes, by key
	reaped   map[dotKey]bool      // tombstones some replica reaped
	mixed    map[string]bool      // delete/update sibling sets already counted
}

func newHistoryDeletes[T any](w *Workload[T]) historyDeletes[T] {
	d := historyDeletes[T]{deletes: map[string][]*Ack[T]{}, reaped: map[dotKey]bool{}, mixed: map[string]bool{}}
	if w.NewResolver != nil {
		d.declared = w.NewResolver().OnDelete()
	}
	return d
}

// members returns every replica's current incarnation.
func (h *history[T]) members() []version.ID {
	ids := make([]version.ID, 0, len(h.nodes))
	for _, n := range h.nodes {
		ids = append(ids, n.id)
	}
	return ids
}

// rejoin retires old, the incarnation n replaced, and adds n's new one at
// every other running replica; replicas that are down learn the
// membership when they boot.
func (h *history[T]) rejoin(n *node[T], old version.ID) {
	for _, o := range h.nodes {
		if o != n && o.up && o.rep != nil {
			o.rep.RemoveMember(old)
			o.rep.AddMember(n.id)
		}
	}
	h.logf("membership: %v retired, %v added", old, n.id)
}

// loseInFlight drops the messages in flight to n as it crashes.
func (h *history[T]) loseInFlight(n *node[T]) {
	h.flight = slices.DeleteFunc(h.flight, func(m *message[T]) bool {
		if m.to == n.idx {
			h.rep.Faults.LostToCrash++
			return true
		}
		return false
	})
}

// acknowledge makes a and b acknowledge to each other what each holds after
// a completed anti-entropy session, then lets both reap.
func (h *history[T]) acknowledge(a, b *node[T]) {
	if h.w.hooks.ack != nil {
		h.w.hooks.ack(h, a, b)
		h.w.hooks.ack(h, b, a)
	} else {
		h.tell(a, b)
		h.tell(b, a)
	}
	h.reap(a)
	h.reap(b)
}

// tell acknowledges to b what a holds: a's Digest, as it is now.
func (h *history[T]) tell(a, b *node[T]) {
	d, err := a.rep.Digest(h.ctx)
	if err != nil {
		h.violate(Errors, "digest %v: %v", a.id, err)
		return
	}
	if err := b.rep.Ack(a.id, d); err != nil {
		h.violate(Errors, "ack %v to %v: %v", a.id, b.id, err)
	}
}

// reap reaps n's stable tombstones and records which it removed.
func (h *history[T]) reap(n *node[T]) {
	before := map[string]resolve.Siblings[T]{}
	for _, k := range h.keys {
		if st, err := n.rep.State(h.ctx, k); err == nil && isTombstone(st) {
			before[k] = st
		}
	}
	if len(before) == 0 {
		return
	}
	got, err := n.rep.Reap(h.ctx)
	if err != nil {
		h.violate(Errors, "reap %v: %v", n.id, err)
		return
	}
	removed := 0
	for _, k := range h.keys {
		st, had := before[k]
		if !had {
			continue
		}
		if _, rev, err := n.store.Get(h.ctx, k); err != nil || rev != 0 {
			continue
		}
		removed++
		n.del.horizon[k] = st.Join()
		n.floor = max(n.floor, st.Join().Get(n.id))
		for s := range st.Siblings() {
			h.del.reaped[dotKey{k, s.Dot}] = true
		}
		h.logf("%v reaps the tombstone of %s (context %v)", n.id, k, st.Join())
	}
	if removed != got {
		h.violate(Storage, "%v: Reap reported %d tombstones removed, its store lost %d", n.id, got, removed)
	}
	h.rep.Deletes.Reaped += removed
}

// isTombstone reports whether every branch of a non-empty state is a
// tombstone.
func isTombstone[T any](st resolve.Siblings[T]) bool {
	if st.Len() == 0 {
		return false
	}
	for s := range st.Siblings() {
		if !s.Value.Deleted {
			return false
		}
	}
	return true
}

// deleteOp sends c's delete of key at n with the token it read — fresh, or
// the one it cached — unless the workload's guard refuses a branch of it,
// or a fresh read finds the record deleted or re-created since the
// workload chose the delete.
func (h *history[T]) deleteOp(c *client[T], n *node[T], key string, op Op[T], cached *replica.Record[T]) {
	last := cached
	if last == nil || h.rng.IntN(2) == 0 {
		if last = h.read(c, n, key); last == nil || !sameView(cached, last) {
			return
		}
	} else {
		h.rep.Clients.StaleUpdates++
	}
	if op.Apply != nil && !last.Deleted { // deleting a deleted record again guards nothing
		vs := []T{last.Value}
		if last.Conflict != nil {
			vs = vs[:0]
			for _, b := range last.Branches {
				if !b.Deleted {
					vs = append(vs, b.Value)
				}
			}
		}
		for _, v := range vs {
			if err := op.Apply(&v, replica.Write{}); err != nil {
				h.rep.Deletes.Guarded++
				h.logf("c%d does not delete %s: %v", c.idx, key, err)
				return
			}
		}
	}
	h.write(c, n, key, op, last.Token, last.Context, "", nil)
}

// sameView reports whether a fresh read shows the record in the state the
// workload chose an operation for: deleted, or not.
func sameView[T any](chosen, fresh *replica.Record[T]) bool {
	return (chosen != nil && chosen.Deleted) == fresh.Deleted
}

// deletedRecord is the record a read of a deleted key returned, if err
// says the key is deleted.
func deletedRecord[T any](rec replica.Record[T], err error) (*replica.Record[T], bool) {
	if !errors.Is(err, replica.ErrDeleted) {
		return nil, false
	}
	return &rec, true
}

// deleteAcked records an acknowledged delete, or sees whether another
// acknowledged write re-created a deleted record; it checks no write was
// acknowledged over a delete its own context did not cover.
func (h *history[T]) deleteAcked(n *node[T], a *Ack[T], pre resolve.Siblings[T], reaped bool, what string) {
	if a.Style == Delete {
		h.del.deletes[a.Key] = append(h.del.deletes[a.Key], a)
		return
	}
	recreated := reaped || isTombstone(pre)
	for _, b := range a.Replaced {
		recreated = recreated || b.Deleted
	}
	if recreated {
		h.rep.Deletes.Recreations++
	}
	for _, d := range h.del.deletes[a.Key] {
		if a.Acked.Contains(d.Dot) && !a.Context.Contains(d.Dot) {
			h.violate(Resurrection, "%s: acknowledged as %v over the delete %v (c%d step %d), which its context %v never saw",
				what, a.Dot, d.Dot, d.Client, d.Step, a.Context)
		}
	}
}

// observeDeletes checks n's state of key against the ledger of deletes:
// the model's tombstones, no write an acknowledged delete covered live
// again where the delete was held, and a delete concurrent with an update
// read as the declared policy says.
func (h *history[T]) observeDeletes(n *node[T], key string, st resolve.Siblings[T]) {
	if st.Len() > 0 {
		delete(n.del.horizon, key) // stored again
	}
	m := n.model[key]
	for s := range st.Siblings() {
		if ms, ok := m.Get(s.Dot); ok && ms.Deleted != s.Value.Deleted {
			h.violate(Model, "%v %s: sibling %v deleted %v, the model says %v", n.id, key, s.Dot, s.Value.Deleted, ms.Deleted)
		}
	}
	held := n.del.held[key]
	for _, d := range h.del.deletes[key] {
		if st.Join().Contains(d.Dot) {
			if held == nil {
				held = map[version.Dot]bool{}
				n.del.held[key] = held
			}
			held[d.Dot] = true
		}
	}
	for _, d := range h.del.deletes[key] {
		if held[d.Dot] {
			h.noResurrection(n, key, st, d)
		}
	}
	h.concurrentDelete(n, key, st)
}

// noResurrection checks that no live sibling of st is a write d's
// client-sent token covered.
func (h *history[T]) noResurrection(n *node[T], key string, st resolve.Siblings[T], d *Ack[T]) {
	for s := range st.Siblings() {
		if !s.Value.Deleted && d.Context.Contains(s.Dot) {
			h.violate(Resurrection, "%v %s: write %v is live again, though the delete %v (c%d step %d) covered it with token %v",
				n.id, key, s.Dot, d.Dot, d.Client, d.Step, d.Context)
		}
	}
}

// concurrentDelete counts a record first seen holding a delete concurrent
// with an update by how it reads, and checks the read against the
// workload's declared policy.
func (h *history[T]) concurrentDelete(n *node[T], key string, st resolve.Siblings[T]) {
	dead, live := 0, 0
	for s := range st.Siblings() {
		if s.Value.Deleted {
			dead++
		} else {
			live++
		}
	}
	if dead == 0 || live == 0 {
		return
	}
	rec, err := n.rep.Get(h.ctx, key)
	if err != nil && !errors.Is(err, replica.ErrDeleted) && !errors.Is(err, resolve.ErrConflict) {
		h.violate(Errors, "get %v %s: %v", n.id, key, err)
		return
	}
	var want string
	switch {
	case h.del.declared == resolve.DeleteConflicts && rec.Conflict == nil:
		want = "a conflict"
	case h.del.declared == resolve.DeleteWins && !rec.Deleted:
		want = "the delete"
	case h.del.declared == resolve.UpdateWins && rec.Deleted:
		want = "the update"
	}
	if want != "" {
		h.violate(Resurrection, "%v %s: a delete concurrent with an update (siblings %v) reads as %s, but the declared policy %v wants %s",
			n.id, key, st.Dots(), h.show(rec), h.del.declared, want)
	}
	id := fmt.Sprint(key, st.Dots())
	if h.del.mixed[id] {
		return
	}
	h.del.mixed[id] = true
	switch {
	case rec.Conflict != nil:
		h.rep.Deletes.ConcurrentConflict++
	case rec.Deleted:
		h.rep.Deletes.ConcurrentDeleteWon++
	default:
		h.rep.Deletes.ConcurrentUpdateWon++
	}
}

// observeReaped checks the model of a key n reaped: it must hold only
// tombstones, and have seen exactly the reaped horizon.
func (h *history[T]) observeReaped(n *node[T], key string) bool {
	hz, ok := n.del.horizon[key]
	if !ok {
		return false
	}
	m := n.model[key]
	if dotmodel.State(m) != dotmodel.Deleted {
		h.violate(Model, "%v %s: reaped, but the model holds %v", n.id, key, m.Sorted())
	}
	if mv, _ := m.Seen.Vector(); !mv.Equal(hz) {
		h.violate(Model, "%v %s: reaped at context %v, the model has %v", n.id, key, hz, mv)
	}
	return true
}

// horizonOf is the context of n's reaped tombstone of key, if any.
func (n *node[T]) horizonOf(key string) (version.Vector, bool) {
	hz, ok := n.del.horizon[key]
	return hz, ok
}

// renew restarts n, which crashed with its state, as a new incarnation over
// its store if it kept reaped horizons when it crashed and its store keeps
// neither them nor the counter floor (a store wrapped by a test hook is
// neither a replica.HorizonStore nor a replica.FloorStore), and reports
// whether it did. Over a HorizonStore (the MemoryStore) it restarts with
// its ID and its horizons, which the model keeps too; over a FloorStore
// alone it restarts with its ID and the keys it had reaped are forgotten
// by the replica, and so by its model (the caller boots it).
func (h *history[T]) renew(n *node[T]) bool {
	if n.rep == nil || len(n.rep.Reaped()) == 0 {
		return false
	}
	switch n.booted.(type) {
	case replica.HorizonStore:
		h.rep.Deletes.KeptID++
		h.rep.Deletes.KeptHorizons++
		h.logf("%v restarts over its store with its ID and its reaped horizons, which the store keeps with its counter floor %d", n.id, n.floor)
		return false
	case replica.FloorStore:
		h.forgetReaped(n)
		h.rep.Deletes.KeptID++
		h.logf("%v restarts over its store with its ID: its reaped horizons were in memory, its counter floor %d in the store", n.id, n.floor)
		return false
	}
	old := n.id
	id, ok := h.nextID(old)
	if !ok {
		return true
	}
	h.forgetReaped(n)
	n.id = id
	h.rep.Deletes.Renewed++
	h.bootRescanned(n)
	h.rejoin(n, old)
	h.logf("restart %v over its store as %v: its reaped horizons were in memory", old, id)
	return true
}

// forgetReaped drops from n's model the keys its replica reaped: their
// horizons die with the Replica value.
func (h *history[T]) forgetReaped(n *node[T]) {
	for _, k := range n.rep.Reaped() {
		delete(n.model, k)
	}
}

// deletedAway reports whether an acknowledged delete's client-sent token
// covered write a: the record a wrote to was deleted, and with it the
// command keys it kept — a command retried on a re-created record is a new
// command there.
func (h *history[T]) deletedAway(a *Ack[T]) bool {
	for _, d := range h.del.deletes[a.Key] {
		if d.Context.Contains(a.Dot) {
			return true
		}
	}
	return false
}
