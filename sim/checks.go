package sim

import (
	"errors"
	"fmt"
	"reflect"
	"slices"

	"github.com/harborpoint/concord/internal/dotmodel"
	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

// historyOf is the set of dots a context stands for.
func historyOf(v version.Vector) dotmodel.History { return dotmodel.FromVector(v) }

// observe checks n's record of key after a step changed it: the plain model
// (check Model), the metadata bounds (Bounds) and the workload's invariant.
func (h *history[T]) observe(n *node[T], key string) {
	if _, ok := n.rotten[key]; ok {
		return // quarantined: checked when the replica is replaced
	}
	st, err := n.rep.State(h.ctx, key)
	if err != nil {
		h.violate(Errors, "state %v %s: %v", n.id, key, err)
		return
	}
	if st.Len() == 0 && h.observeReaped(n, key) {
		return
	}
	m := n.model[key]
	real := st.Dots()
	var want []version.Dot
	for _, s := range m.Sorted() {
		want = append(want, s.Dot)
	}
	if !slices.Equal(real, want) {
		h.violate(Model, "%v %s: siblings %v, the model has %v", n.id, key, real, want)
	}
	if mv, _ := m.Seen.Vector(); !mv.Equal(st.Join()) {
		h.violate(Model, "%v %s: context %v, the model has %v", n.id, key, st.Join(), mv)
	}
	h.observeDeletes(n, key, st)
	if st.Len() == 0 {
		return
	}
	for i := 1; i < len(real); i++ {
		if real[i].ID == real[i-1].ID {
			h.violate(Bounds, "%v %s: two siblings %v and %v from one incarnation (siblings must not exceed writers)", n.id, key, real[i-1], real[i])
		}
	}
	for _, id := range st.Join().IDs() {
		if !h.writers[key][id] {
			h.violate(Bounds, "%v %s: context %v names %v, which never wrote the key", n.id, key, st.Join(), id)
		}
	}
	if h.w.Invariant == nil {
		return
	}
	rec, err := n.rep.Get(h.ctx, key)
	if err != nil && !errors.Is(err, replica.ErrDeleted) {
		h.violate(Errors, "get %v %s: %v", n.id, key, err)
		return
	}
	v := View[T]{Replica: n.id, Key: key, Record: rec, InReview: inReview(n.rep, key)}
	for _, a := range h.acks[key] {
		if rec.Context.Contains(a.Dot) {
			v.Seen = append(v.Seen, a)
		}
	}
	if err := h.w.Invariant(v); err != nil {
		h.violate(Invariant, "%v %s: %v", n.id, key, err)
	}
}

func inReview[T any](r *replica.Replica[T], key string) bool {
	return slices.ContainsFunc(r.Conflicts(), func(it replica.ReviewItem[T]) bool { return it.Key == key })
}

func (h *history[T]) equal(a, b T) bool {
	if h.w.Equal != nil {
		return h.w.Equal(a, b)
	}
	return reflect.DeepEqual(a, b)
}

// checkConvergence compares every replica's records with the first one's.
func (h *history[T]) checkConvergence() {
	ref := h.nodes[0]
	for _, k := range h.keys {
		s0, r0, in0, ok := h.snapshot(ref, k)
		if !ok {
			continue
		}
		for _, n := range h.nodes[1:] {
			s, r, in, ok := h.snapshot(n, k)
			if !ok {
				continue
			}
			if d := h.differ(s0, s, r0, r, in0, in); d != "" {
				h.violate(Convergence, "%s: %v and %v differ after healing: %s", k, ref.id, n.id, d)
			}
		}
	}
}

func (h *history[T]) snapshot(n *node[T], key string) (resolve.Siblings[T], replica.Record[T], bool, bool) {
	st, err := n.rep.State(h.ctx, key)
	if err != nil {
		h.violate(Errors, "state %v %s: %v", n.id, key, err)
		return st, replica.Record[T]{}, false, false
	}
	rec, _ := n.rep.Get(h.ctx, key) // absent records compare by state
	return st, rec, inReview(n.rep, key), true
}

// differ describes the first difference between two replicas' records.
func (h *history[T]) differ(a, b resolve.Siblings[T], ra, rb replica.Record[T], ina, inb bool) string {
	switch {
	case !a.Join().Equal(b.Join()):
		return fmt.Sprintf("contexts %v / %v", a.Join(), b.Join())
	case !slices.Equal(a.Dots(), b.Dots()):
		return fmt.Sprintf("siblings %v / %v", a.Dots(), b.Dots())
	case ra.Token != rb.Token:
		return fmt.Sprintf("tokens %s / %s", ra.Token, rb.Token)
	case (ra.Conflict == nil) != (rb.Conflict == nil):
		return fmt.Sprintf("open conflict: %v / %v", ra.Conflict != nil, rb.Conflict != nil)
	case ina != inb:
		return fmt.Sprintf("in review queue: %v / %v", ina, inb)
	}
	for s := range a.Siblings() {
		o, _ := b.Get(s.Dot)
		if s.Value.Stamp != o.Stamp || !h.equal(s.Value.Value, o.Value) {
			return fmt.Sprintf("sibling %v: %v / %v", s.Dot, s.Value.Value, o.Value)
		}
	}
	if ra.Conflict == nil && (ra.Stamp != rb.Stamp || !h.equal(ra.Value, rb.Value)) {
		x, y := fmt.Sprint(ra.Value), fmt.Sprint(rb.Value)
		if x == y { // the short form hides the difference
			x, y = fmt.Sprintf("%#v", ra.Value), fmt.Sprintf("%#v", rb.Value)
		}
		return fmt.Sprintf("resolved values %s (stamp %v) / %s (stamp %v)", x, ra.Stamp, y, rb.Stamp)
	}
	return ""
}

// classify sorts every acknowledged write into the no-loss classes, from
// the clients' ledger: a write is visible if some replica's final record
// holds its dot with the value the client wrote, and otherwise accounted
// for only by a later acknowledged write that covered it — through the
// token its client sent (Update, Resolve) or the context its client was
// acknowledged with (Command, Blind) — or deleted by a later acknowledged
// delete whose client-sent token covered it; a delete's own tombstone may
// also end reaped. Never by the replicas' own contexts.
func (h *history[T]) classify() {
	final := map[dotKey]T{}
	for _, n := range h.nodes {
		for _, k := range h.keys {
			st, err := n.rep.State(h.ctx, k)
			if err != nil {
				continue
			}
			for s := range st.Siblings() {
				final[dotKey{k, s.Dot}] = s.Value.Value
			}
		}
	}
	l := &h.rep.Loss
	for _, k := range h.keys {
		for _, a := range h.acks[k] {
			dk := dotKey{k, a.Dot}
			if v, ok := final[dk]; ok {
				l.Visible++
				if !h.equal(v, a.Value) {
					h.violate(NoLoss, "%s %v (c%d step %d, %s %q) ends holding %v, but its client wrote %v", k, a.Dot, a.Client, a.Step, a.Style, a.Label, v, a.Value)
				}
				continue
			}
			switch h.coveredBy(a) {
			case Resolve:
				l.Resolved++
			case Update:
				l.Overwritten++
			case Command:
				l.Merged++
			case Delete:
				l.Deleted++
			default:
				if a.Style == Delete && h.del.reaped[dk] {
					l.Reaped++
					continue
				}
				switch h.atRisk[dk] {
				case diedWithMemory:
					l.DiedWithMemory++
					continue
				case diedWithDisk:
					l.DiedWithDisk++
					continue
				}
				l.Lost++
				h.violate(NoLoss, "%s %v (c%d step %d, %s %q at %v) is lost: not visible, not covered by a later acknowledged write's token, not settled by a decision",
					k, a.Dot, a.Client, a.Step, a.Style, a.Label, a.Replica)
			}
		}
	}
}

// coveredBy says which later acknowledged write of a's key accounts for a,
// from the ledger: Resolve if a Resolve named it among the branches it
// settled, Update if an Update's or Resolve's client-supplied token covered
// it, Delete if a delete's did, Command if a command's or blind write's
// acknowledged context did; 0 if none.
func (h *history[T]) coveredBy(a *Ack[T]) Style {
	var best Style
	for _, b := range h.acks[a.Key] {
		if b == a {
			continue
		}
		switch b.Style {
		case Resolve:
			for _, r := range b.Replaced {
				if r.Stamp.Dot == a.Dot {
					return Resolve
				}
			}
			if b.Context.Contains(a.Dot) {
				best = Update
			}
		case Update:
			if b.Context.Contains(a.Dot) {
				best = Update
			}
		case Delete:
			if b.Context.Contains(a.Dot) && best != Update {
				best = Delete
			}
		case Command, Blind:
			if best == 0 && b.Acked.Contains(a.Dot) {
				best = Command
			}
		}
	}
	return best
}
