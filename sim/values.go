package sim

import (
	"fmt"
	"maps"
	"slices"

	"github.com/harborpoint/concord/internal/dotmodel"
	"github.com/harborpoint/concord/internal/fieldmodel"
)

// Projection is what check [Values] compares of a record value: the values
// of its last-writer-wins fields, each shown as a string, and the elements
// of its union (grow-only) sets. Every value of one workload must project
// to the same number of each.
type Projection struct {
	LWW   []string
	Union [][]string
}

// checkValues compares the first replica's final record of every key (the
// replicas have converged, or check Convergence says so) with the plain
// model built from the ledger alone: each acknowledged write, with what it
// read — the token its client sent for Update and Resolve, the context of
// the replica that applied it for the others —, its stamp and the values
// its client wrote.
func (h *history[T]) checkValues() {
	if h.w.Project == nil {
		return
	}
	n := h.nodes[0]
	for _, k := range h.keys {
		rec, err := n.rep.Get(h.ctx, k)
		if err != nil || rec.Conflict != nil {
			continue // absent, or open: no single value to compare
		}
		acks := h.acks[k]
		if len(acks) == 0 {
			continue
		}
		lww := len(h.w.Project(&acks[0].Value).LWW)
		m := fieldmodel.New[string](lww)
		for _, a := range acks {
			p := h.w.Project(&a.Value)
			if len(p.LWW) != lww {
				h.violate(Errors, "%s: Project returned %d LWW fields, then %d", k, lww, len(p.LWW))
				return
			}
			m.Write(historyOf(a.Context), a.Dot, a.Stamp, p.LWW)
		}
		final := historyOf(rec.Context)
		got := h.w.Project(&rec.Value)
		want, found := m.Read(final)
		for i := range want {
			if found[i] && (i >= len(got.LWW) || got.LWW[i] != want[i]) {
				w, _ := m.Winner(final, i)
				h.violate(Values, "%s at %v: LWW field %d is %q, the plain model says %q (written by %v, stamp %v)",
					k, n.id, i, at(got.LWW, i), want[i], w.Dot, w.Stamp)
			}
		}
		h.checkUnions(k, n.id.String(), got, final)
	}
}

// checkUnions compares the union sets of a final record with the union of
// the sets of every acknowledged write its history covers.
func (h *history[T]) checkUnions(k, at string, got Projection, final dotmodel.History) {
	want := make([]map[string]bool, len(got.Union))
	for i := range want {
		want[i] = map[string]bool{}
	}
	for _, a := range h.acks[k] {
		if !final.Contains(a.Dot) {
			continue
		}
		for i, set := range h.w.Project(&a.Value).Union {
			if i < len(want) {
				for _, e := range set {
					want[i][e] = true
				}
			}
		}
	}
	for i, set := range got.Union {
		w := slices.Sorted(maps.Keys(want[i]))
		g := slices.Clone(set)
		slices.Sort(g)
		if !slices.Equal(g, w) {
			h.violate(Values, "%s at %s: union field %d is %v, the writes its context covers add up to %v", k, at, i, g, w)
		}
	}
}

func at(s []string, i int) string {
	if i < len(s) {
		return s[i]
	}
	return fmt.Sprintf("(no field %d)", i)
}
