package sim

import (
	"context"
	"errors"

	"github.com/harborpoint/concord/replica"
)

// errLost stops an anti-entropy session whose message the network lost.
var errLost = errors.New("sim: reconciliation message lost")

// antiEntropy runs one anti-entropy session from a to b — the replicas'
// own reconciliation protocol (replica.Sync) — if both are up and their
// link is. During the steps the session runs over the faulty network: a
// protocol message or its answer may be lost, which stops the session (a
// later one starts over), or delivered twice; the states the session finds
// travel as replication messages, with every fault of those (loss,
// duplication, delay, reordering), carrying the sender's model. After the
// steps (the heal) the network is reliable and the states arrive at once.
func (h *history[T]) antiEntropy(a, b *node[T], why string) {
	if !a.up || !b.up || h.cut[a.idx][b.idx] {
		return
	}
	p := &simPeer[T]{h: h, a: a, b: b, faulty: h.step <= h.steps}
	rep, err := a.rep.Sync(h.ctx, p)
	switch {
	case errors.Is(err, errLost):
		h.logf("anti-entropy %v → %v (%s) stopped after %d round trips: a message was lost", a.id, b.id, why, rep.Rounds)
	case err != nil:
		h.violate(Errors, "anti-entropy %v → %v: %v", a.id, b.id, err)
	default:
		h.logf("anti-entropy %v → %v (%s): %d round trips, %d bytes; %d records sent, %d fetched",
			a.id, b.id, why, rep.Rounds, rep.Bytes, p.pushed, p.pulled)
		defer h.acknowledge(a, b) // once the states the session sent have arrived, if it is reliable
	}
	for _, e := range rep.Errors {
		if !quarantined(a, e) && !quarantined(b, e) {
			h.violate(Errors, "anti-entropy %v → %v skipped %s: %v", a.id, b.id, e.Key, e.Err)
		}
	}
	if !p.faulty {
		for h.deliverOne(false) {
		}
	}
	for _, k := range h.keys {
		h.observe(a, k)
		h.observe(b, k)
	}
}

// quarantined reports whether a session skipped a record because n
// quarantined it after it rotted on n's disk: expected, not a violation.
func quarantined[T any](n *node[T], e replica.KeyError) bool {
	_, rotten := n.rotten[e.Key]
	return rotten && errors.Is(e.Err, replica.ErrQuarantined)
}

// simPeer is b as a's peer, over the simulated network.
type simPeer[T any] struct {
	h              *history[T]
	a, b           *node[T]
	faulty         bool
	pushed, pulled int
}

// Reconcile delivers one protocol message to b and its answer back; either
// may be lost, and the message may arrive twice (b answers both; it keeps
// no state between messages).
func (p *simPeer[T]) Reconcile(ctx context.Context, msg []byte) ([]byte, error) {
	h, f := p.h, &p.h.s.faults
	drop, dup, dropReply := h.rng.Float64(), h.rng.Float64(), h.rng.Float64()
	if p.faulty && drop < f.Drop {
		h.rep.Faults.Drops++
		h.logf("net: %v→%v reconciliation message dropped", p.a.id, p.b.id)
		return nil, errLost
	}
	if p.faulty && dup < f.Duplicate {
		h.rep.Faults.Duplicates++
		if _, err := p.b.rep.Respond(ctx, msg); err != nil {
			return nil, err
		}
	}
	reply, err := p.b.rep.Respond(ctx, msg)
	if err != nil {
		return nil, err
	}
	if p.faulty && dropReply < f.Drop {
		h.rep.Faults.Drops++
		h.logf("net: %v→%v reconciliation answer dropped", p.b.id, p.a.id)
		return nil, errLost
	}
	return reply, nil
}

// Push sends a's states to b as replication messages.
func (p *simPeer[T]) Push(_ context.Context, states []replica.Delta) ([]replica.KeyError, error) {
	p.pushed += p.send(p.a, p.b, states)
	return nil, nil
}

// send transmits states from one node to the other as replication
// messages, but those of keys the workload's hooks skip, and returns how
// many it sent.
func (p *simPeer[T]) send(from, to *node[T], states []replica.Delta) int {
	n := 0
	for _, d := range states {
		if p.h.w.hooks.skip != nil && p.h.w.hooks.skip(d.Key) {
			continue
		}
		p.h.transmit(from, to, d.Key, d.Data, p.faulty)
		n++
	}
	return n
}

// Pull has b send its states of the records wanted to a as replication
// messages; none arrives during the session.
func (p *simPeer[T]) Pull(ctx context.Context, wants []replica.Want) ([]replica.Delta, error) {
	states, errs := p.b.rep.Deltas(ctx, wants)
	for _, e := range errs {
		if !quarantined(p.b, e) {
			p.h.violate(Errors, "anti-entropy: %v cannot read %s: %v", p.b.id, e.Key, e.Err)
		}
	}
	p.pulled += p.send(p.b, p.a, states)
	return nil, nil
}
