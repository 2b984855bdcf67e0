package sim

import (
	"fmt"

	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

// contendRate is the share of conditional writes and commands during whose
// first compare-and-set attempt a second Replica value over the same store
// writes the key, so that the attempt fails and the write goes round its
// retry loop.
const contendRate = 0.1

// second starts a second Replica value over n's store, with n's ID and
// clock: another process of the same replica, as package replica allows.
func (h *history[T]) second(n *node[T], store replica.Store) *replica.Replica[T] {
	res := h.w.NewResolver
	if h.w.hooks.resolver != nil {
		res = func() *resolve.Resolver[T] { return h.w.hooks.resolver(n.idx) }
	}
	alt, err := replica.New(n.id, store, res(), replica.Options[T]{
		Codec: h.w.Codec, Clock: n.hlc, Observer: &h.counters, CommandKeys: h.w.CommandKeys, Now: n.now,
		MaxRecordBytes: h.w.MaxRecordBytes, // and no Members: one Replica value per store reaps
	})
	if err != nil {
		h.violate(Errors, "boot a second Replica value of %v: %v", n.id, err)
		return nil
	}
	return alt
}

// contend makes another client's blind write or command on key through n's
// second Replica value, in the middle of c's write at n. It reports whether
// it wrote anything.
func (h *history[T]) contend(c *client[T], n *node[T], key string) bool {
	if n.alt == nil || h.contending {
		return false // one level: the second value's key lock is held
	}
	o := h.clients[h.rng.IntN(len(h.clients))]
	op := h.w.Next(Turn[T]{Rand: h.rng, Now: h.now, Client: o.idx, Key: key, Last: o.cache[key]})
	idem := ""
	switch op.Style {
	case Command:
		h.idem++
		idem = fmt.Sprintf("c%d-%d", o.idx, h.idem)
	case Blind:
	default:
		return false
	}
	h.rep.Clients.Contended++
	h.logf("  while c%d writes, c%d writes %s through a second Replica value of %v:", c.idx, o.idx, key, n.id)
	primary := n.rep
	n.rep, h.contending = n.alt, true
	h.write(o, n, key, op, "", version.Vector{}, idem, nil)
	n.rep, h.contending = primary, false
	return true
}
