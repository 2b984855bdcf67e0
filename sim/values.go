package sim

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/harborpoint/concord/internal/dotmodel"
	"github.com/harborpoint/concord/internal/fieldmodel"
	"github.com/harborpoint/concord/policy"
)

// Projection is what check [Values] compares of a record value: the values
// of its last-writer-wins fields, each shown as a string, the elements of
// its union (grow-only) sets, and the values of its joined fields. Every
// value of one workload must project to the same number of each.
type Projection struct {
	// LWW are fields merged last-writer-wins by per-field stamp: the
	// model's value is that of the write with the greatest stamp among
	// those that changed the field and that no other write changing it had
	// seen (internal/fieldmodel).
	LWW []string
	// Union are grow-only sets: the model's set is the union of the sets
	// of every write the record's context covers.
	Union [][]string
	// Joined are fields whose concurrent values merge by a join the
	// workload states itself in Workload.Join, such as a state machine's
	// or a maximum: the model's value is the join of the values the
	// causally latest writes the record's context covers wrote — the
	// writes no other covered write had seen, which are the branches a
	// replica merges.
	Joined []string
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
			if a.Style == Delete {
				m.Delete(historyOf(a.Context), a.Dot, a.Stamp)
				continue
			}
			// Written over a conflict or a tombstone, a write's base is what
			// the live branches agree on (a tombstone is no base).
			if read := historyOf(a.Context); a.Style == Resolve || h.readsTombstone(k, read) {
				m.WriteOver(read, h.branchHistories(k, read), a.Dot, a.Stamp, p.LWW)
			} else {
				m.Write(read, a.Dot, a.Stamp, p.LWW)
			}
		}
		final := historyOf(rec.Context)
		got := h.w.Project(&rec.Value)
		h.rep.Values.Records++
		if h.oversized[k] {
			// Compared like the others: the settlement that replaced the
			// branches no replica could merge is in the ledger, with the
			// queue's token as what its client read.
			h.rep.Values.Oversized++
		}
		want, found := m.Read(final)
		for i := range want {
			if found[i] && (i >= len(got.LWW) || got.LWW[i] != want[i]) {
				w, _ := m.Winner(final, i)
				h.violate(Values, "%s at %v: LWW field %d is %q, the plain model says %q (written by %v, stamp %v)",
					k, n.id, i, at(got.LWW, i), want[i], w.Dot, w.Stamp)
			}
		}
		h.checkUnions(k, n.id.String(), got, final)
		h.checkJoined(k, n.id.String(), got, final)
		h.checkCommandKeys(k, n.id.String(), &rec.Value, final)
	}
}

// checkCommandKeys compares the idempotency keys of a final record
// (Workload.CommandKeys) with those its latest live writes hold (the
// branches it merges), each with the latest time a branch gives it, less
// those the command horizon forgets: keys applied more than its age before
// the newest key, and all but its count of newest keys (ties broken by
// key, the smaller newer).
func (h *history[T]) checkCommandKeys(k, at string, v *T, final dotmodel.History) {
	if h.w.CommandKeys == nil {
		return
	}
	want := map[string]time.Time{}
	for _, a := range h.latestWrites(k, final) {
		if ks := h.w.CommandKeys(&a.Value); ks != nil {
			for key, t := range ks.All() {
				if t.After(want[key]) {
					want[key] = t
				}
			}
		}
	}
	keep := h.pruned(want)
	got := map[string]time.Time{}
	if ks := h.w.CommandKeys(v); ks != nil {
		maps.Insert(got, ks.All())
	}
	if !maps.EqualFunc(got, keep, time.Time.Equal) {
		h.violate(Values, "%s at %s: command keys %v, the writes its context covers, within the horizon, hold %v",
			k, at, slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(keep)))
	}
}

// pruned returns the keys the command horizon keeps of keys.
func (h *history[T]) pruned(keys map[string]time.Time) map[string]time.Time {
	hz := h.w.CommandHorizon
	if hz.Age <= 0 {
		hz.Age = policy.DefaultHorizon.Age
	}
	if hz.Keys <= 0 {
		hz.Keys = policy.DefaultHorizon.Keys
	}
	type kt struct {
		key string
		at  time.Time
	}
	var all []kt
	for key, t := range keys {
		all = append(all, kt{key, t})
	}
	slices.SortFunc(all, func(x, y kt) int { // newest first, the smaller key first on ties
		if c := y.at.Compare(x.at); c != 0 {
			return c
		}
		return strings.Compare(x.key, y.key)
	})
	out := map[string]time.Time{}
	for i, x := range all {
		if i < hz.Keys && !x.at.Before(all[0].at.Add(-hz.Age)) {
			out[x.key] = x.at
		}
	}
	return out
}

// checkUnions compares the union sets of a final record with the union of
// the sets its latest live writes wrote (the branches it merges: each
// write's set already holds what it kept of what it read).
func (h *history[T]) checkUnions(k, at string, got Projection, final dotmodel.History) {
	want := make([]map[string]bool, len(got.Union))
	for i := range want {
		want[i] = map[string]bool{}
	}
	for _, a := range h.latestWrites(k, final) {
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

// checkJoined compares the joined fields of a final record with
// Workload.Join of the values written by the causally latest acknowledged
// writes its history covers (from the ledger: each write's context and the
// value its client wrote).
func (h *history[T]) checkJoined(k, at string, got Projection, final dotmodel.History) {
	if len(got.Joined) == 0 || h.w.Join == nil {
		return
	}
	latest := h.latestWrites(k, final)
	if len(latest) == 0 {
		return
	}
	for i, g := range got.Joined {
		var vals []string
		for _, a := range latest {
			if p := h.w.Project(&a.Value); i < len(p.Joined) && !slices.Contains(vals, p.Joined[i]) {
				vals = append(vals, p.Joined[i])
			}
		}
		slices.Sort(vals)
		want, ok := h.w.Join(i, vals)
		switch {
		case !ok:
			h.violate(Values, "%s at %s: joined field %d is %q, but the latest writes' values %q cannot merge: the record should be in conflict",
				k, at, i, g, vals)
		case g != want:
			h.violate(Values, "%s at %s: joined field %d is %q, the join of the latest writes' values %q is %q (writes %v)",
				k, at, i, g, vals, want, dotsOf(latest))
		}
	}
}

// latestWrites returns the acknowledged writes of key in the history final
// that no other write in it had seen and that are not deletes: the live
// branches its record merges.
func (h *history[T]) latestWrites(key string, final dotmodel.History) []*Ack[T] {
	var in, out []*Ack[T]
	for _, a := range h.acks[key] {
		if final.Contains(a.Dot) {
			in = append(in, a)
		}
	}
	for _, a := range in {
		if a.Style != Delete && !slices.ContainsFunc(in, func(b *Ack[T]) bool { return b != a && b.Context.Contains(a.Dot) }) {
			out = append(out, a)
		}
	}
	return out
}

func dotsOf[T any](acks []*Ack[T]) []string {
	out := make([]string, len(acks))
	for i, a := range acks {
		out[i] = a.Dot.String()
	}
	return out
}

// branchHistories returns the histories of the latest writes of key in h:
// the branches a reader of h saw.
func (h *history[T]) branchHistories(key string, read dotmodel.History) []dotmodel.History {
	var out []dotmodel.History
	for _, a := range h.latestWrites(key, read) {
		b := historyOf(a.Context)
		b[a.Dot] = struct{}{}
		out = append(out, b)
	}
	return out
}

// ValueCounts counts what check [Values] compared.
type ValueCounts struct {
	// Records counts the final records compared with the plain model.
	Records int
	// Oversized counts, among them, the records a replica refused a merge
	// of as over the record limit (see [Oversize]), settled since.
	Oversized int
}

func (v *ValueCounts) add(o ValueCounts) {
	v.Records += o.Records
	v.Oversized += o.Oversized
}

func (v ValueCounts) print(p func(string, ...any)) {
	p("values (against the plain model of the ledger): records compared %d, of them after a merge refused as too large %d", v.Records, v.Oversized)
}

// readsTombstone reports whether a delete is among the latest writes of
// key in the history read.
func (h *history[T]) readsTombstone(key string, read dotmodel.History) bool {
	for _, d := range h.acks[key] {
		if d.Style != Delete || !read.Contains(d.Dot) {
			continue
		}
		if !slices.ContainsFunc(h.acks[key], func(b *Ack[T]) bool { return b != d && read.Contains(b.Dot) && b.Context.Contains(d.Dot) }) {
			return true
		}
	}
	return false
}
