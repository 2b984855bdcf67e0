package sim

import (
	"slices"

	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

// lossCause is why a write stored at only one replica may die with it.
type lossCause int8

const (
	_ lossCause = iota
	// diedWithMemory: a memory-only replica crashed and lost its state.
	diedWithMemory
	// diedWithDisk: the replica's disk was damaged (rot) and replaced.
	diedWithDisk
)

// lossCause says why n is losing its state.
func (h *history[T]) lossCause(n *node[T]) lossCause {
	if n.diskLost {
		return diedWithDisk
	}
	return diedWithMemory
}

// keep records n's state of every key as it crashes keeping its state: a
// durable store holds every acknowledged write, and the restart must find
// it all.
func (h *history[T]) keep(n *node[T]) {
	n.kept = map[string]resolve.Siblings[T]{}
	for _, k := range h.keys {
		if st, err := n.rep.State(h.ctx, k); err == nil {
			n.kept[k] = st
		}
	}
}

// checkKept compares n's state after a restart with its state at the
// crash (check NoLoss): a store that survives the crash loses nothing it
// acknowledged, and changes nothing.
func (h *history[T]) checkKept(n *node[T]) {
	if n.rep == nil {
		return
	}
	for _, k := range h.keys {
		before, ok := n.kept[k]
		if !ok {
			continue
		}
		after, err := n.rep.State(h.ctx, k)
		if err != nil {
			h.violate(NoLoss, "%v %s: unreadable after a restart with its state: %v", n.id, k, err)
			continue
		}
		if !after.Join().Equal(before.Join()) || !slices.Equal(after.Dots(), before.Dots()) {
			h.violate(NoLoss, "%v %s: restarted with its state, holds %v (context %v); at the crash it held %v (context %v)",
				n.id, k, after.Dots(), after.Join(), before.Dots(), before.Join())
			continue
		}
		h.rep.Loss.KeptAcrossRestarts += before.Len()
	}
	n.kept = nil
}

// cycle crashes the first replica every Config.Restarts steps, and
// restarts it as many steps later.
func (h *history[T]) cycle() {
	if h.s.Restarts <= 0 || h.step%h.s.Restarts != 0 {
		return
	}
	if n := h.nodes[0]; n.up {
		h.down(n)
	} else {
		h.restart(n)
	}
}

// aboveFloor returns the context of a write of id made with wctx, as the
// replica numbers it: id's entry raised to the counter floor.
func aboveFloor(id version.ID, floor uint64, wctx version.Vector) version.Vector {
	if floor == 0 || wctx.Get(id) >= floor {
		return wctx
	}
	f, err := version.NewVector(version.Dot{ID: id, Counter: floor})
	if err != nil {
		return wctx
	}
	return wctx.Join(f)
}
