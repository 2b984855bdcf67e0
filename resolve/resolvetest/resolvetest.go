package resolvetest

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"pgregory.net/rapid"

	"github.com/harborpoint/concord/internal/merge"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

// Config says what to check.
type Config[T any] struct {
	// Resolver is the resolver under test. Required.
	Resolver *resolve.Resolver[T]
	// Value generates record values for writes. Required.
	Value *rapid.Generator[T]
	// Equal compares two record values. Nil means reflect.DeepEqual.
	Equal func(a, b T) bool
	// Invariant, if set, is checked on every successful merge: the
	// branches merged and the merged value. Return an error describing a
	// violation.
	Invariant func(branches []T, merged T) error
	// Replicas is the number of replicas, 2 to 5. Zero means 3.
	Replicas int
	// Writes is the largest number of writes in one history. Zero means 8.
	Writes int
	// Change, if set, is how a client changes the value it read (the record
	// a write is built from); it draws from t. Nil means the client writes
	// a value drawn from Value whole: the fields that come out equal to
	// the value read are the ones it left untouched. [ChangeFields] changes
	// a random subset of fields, for records whose fields are independent.
	// A write with nothing to read (a create, or a settle of a conflict)
	// uses Value.
	Change func(t *rapid.T, read T) T
	// OnWrite, if set, gets each generated value with the dot of the write
	// that stores it, for values that record their write's dot (an add-wins
	// set's adds), and returns the value to store.
	OnWrite func(v T, d version.Dot) T
}

// Check runs the checks as one rapid property; t is usually a *testing.T.
// It fails t with a readable, shrunk history when a check fails.
func Check[T any](t rapid.TB, cfg Config[T]) {
	t.Helper()
	if cfg.Resolver == nil || cfg.Value == nil {
		t.Fatalf("resolvetest: Config needs a Resolver and a Value generator")
		return
	}
	if cfg.Equal == nil {
		cfg.Equal = func(a, b T) bool { return reflect.DeepEqual(a, b) }
	}
	if cfg.Replicas == 0 {
		cfg.Replicas = 3
	}
	cfg.Replicas = min(max(cfg.Replicas, 2), 5)
	if cfg.Writes == 0 {
		cfg.Writes = 8
	}
	rapid.Check(t, func(rt *rapid.T) {
		h := newHistory(rt, cfg)
		h.run()
		h.checkMergeLaws()
		h.checkConvergence()
	})
}

// history is one generated run.
type history[T any] struct {
	t      *rapid.T
	cfg    Config[T]
	r      *resolve.Resolver[T]
	fields []resolve.Field[T]
	ids    []version.ID
	states []resolve.Siblings[T]
	clocks []int64                  // per replica, the latest wall time it has seen, in seconds
	reads  []resolve.Siblings[T]    // states clients have read, for writes from stale reads
	writes map[version.Dot]write[T] // every write made
	sent   []resolve.Siblings[T]    // every state that was replicated
	log    []string
}

// write is what the history knows of one write: what it read, what it
// wrote and which fields it changed.
type write[T any] struct {
	context version.Vector // the context it read; its history is this and its dot
	stamp   version.Stamp
	value   T
	changed []bool        // per field
	source  []version.Dot // per field, the write whose value it holds in the record this write left
}

func newHistory[T any](t *rapid.T, cfg Config[T]) *history[T] {
	h := &history[T]{t: t, cfg: cfg, r: cfg.Resolver, fields: cfg.Resolver.Fields(), writes: map[version.Dot]write[T]{}}
	for i := range cfg.Replicas {
		h.ids = append(h.ids, version.MustID(fmt.Sprintf("r%d", i)))
	}
	h.states = make([]resolve.Siblings[T], cfg.Replicas)
	h.clocks = make([]int64, cfg.Replicas)
	h.reads = []resolve.Siblings[T]{{}}
	return h
}

func (h *history[T]) logf(format string, args ...any) {
	line := fmt.Sprintf(format, args...)
	h.log = append(h.log, line)
}

func (h *history[T]) fatalf(format string, args ...any) {
	h.t.Fatalf("resolvetest: %s\nhistory:\n  %s", fmt.Sprintf(format, args...), strings.Join(h.log, "\n  "))
}

// run performs random writes and replications.
func (h *history[T]) run() {
	writes := rapid.IntRange(1, h.cfg.Writes).Draw(h.t, "writes")
	for w := 0; w < writes; {
		i := rapid.IntRange(0, len(h.ids)-1).Draw(h.t, "replica")
		if rapid.IntRange(0, 2).Draw(h.t, "action") == 0 {
			j := rapid.IntRange(0, len(h.ids)-1).Draw(h.t, "to")
			h.sent = append(h.sent, h.states[i])
			h.logf("replicate %v -> %v", h.ids[i], h.ids[j])
			h.states[j] = h.r.Apply(h.states[j], h.states[i]).State
			h.clocks[j] = max(h.clocks[j], latest(h.states[i]))
			h.checkFields(h.states[j], "after replicating to "+h.ids[j].String())
			continue
		}
		w++
		h.write(i)
	}
	h.sent = append(h.sent, h.states...)
}

// write makes one write at replica i: it reads the current state or an
// older one and changes the value read (see Config.Change).
func (h *history[T]) write(i int) {
	read := h.states[i]
	if rapid.Bool().Draw(h.t, "stale") {
		read = rapid.SampledFrom(h.reads).Draw(h.t, "read")
	}
	if _, err := h.r.Resolve(read); err != nil && read.Len() > 0 {
		// A conflict is settled from the current state, whose siblings
		// the write replaces.
		read = h.states[i]
	}
	ch := resolve.Change[T]{Context: read.Join(), Replica: h.ids[i]}
	v, from := h.cfg.Value.Draw(h.t, "value"), "new"
	var agree []T // the branches read when they conflict: the write keeps what they agree on
	if read.Len() > 0 {
		res, err := h.r.Resolve(read)
		if err != nil {
			// Base nil: the settling write keeps what the branches agree on.
			for _, b := range read.Values() {
				agree = append(agree, b.Value)
			}
		} else {
			ch.Base = &res.Branch
			v, from = h.change(res.Value, v)
		}
	}
	// Stamps move past everything the replica and the read have seen, as a
	// hybrid logical clock's do; few distinct times, so that stamps of
	// concurrent writes tie on time and the dot decides. One write in four
	// comes from a clock beyond the drift bound, whose hybrid logical clock
	// refused the stamps it saw: it may be stamped earlier than the values
	// it read and replaced.
	sec := max(h.clocks[i], latest(read)) + int64(rapid.IntRange(1, 2).Draw(h.t, "tick"))
	if rapid.IntRange(0, 3).Draw(h.t, "drift") == 0 {
		sec = int64(rapid.IntRange(1, int(sec)).Draw(h.t, "behind"))
	}
	h.clocks[i] = max(h.clocks[i], sec)
	ch.Time = version.Timestamp{Wall: sec * 1e9}
	ch.Value = func(d version.Dot) T {
		if h.cfg.OnWrite != nil {
			v = h.cfg.OnWrite(v, d)
		}
		return v
	}
	o, err := h.r.Write(h.states[i], ch)
	if err != nil {
		h.fatalf("write at %v: %v", h.ids[i], err)
	}
	h.logf("write at %v with context %v, time %ds: %s %s -> %v", h.ids[i], ch.Context, sec, from, short(v), o.Dot)
	w := write[T]{context: ch.Context, stamp: version.Stamp{Time: ch.Time, Dot: o.Dot}, value: v,
		changed: h.changedFields(ch.Base, agree, read.Len() == 0, &v), source: make([]version.Dot, len(h.fields))}
	for k := range h.fields {
		w.source[k] = o.Dot
		if prev, ok := h.winner(ch.Context, k); ok && !w.changed[k] {
			w.source[k] = prev.stamp.Dot
		}
	}
	h.writes[o.Dot] = w
	h.states[i] = o.State
	h.reads = append(h.reads, o.State)
	h.checkFields(o.State, "after a write at "+h.ids[i].String())
}

// change returns the value a client writes after reading base — v, unless
// the configuration says how clients change values — and the fields it
// changed, in words.
func (h *history[T]) change(base, v T) (T, string) {
	if h.cfg.Change != nil {
		v = h.cfg.Change(h.t, base)
	}
	var names []string
	for _, f := range h.fields {
		if !f.Equal(&base, &v) {
			names = append(names, f.Name())
		}
	}
	return v, "changing {" + strings.Join(names, ",") + "} to"
}

// ChangeFields returns a [Config.Change] that sets a random subset of the
// fields r binds to their value in a record drawn from values. Use it for
// records whose fields are independent; for records with rules across
// fields, write a Change that runs your own commands.
func ChangeFields[T any](r *resolve.Resolver[T], values *rapid.Generator[T]) func(t *rapid.T, read T) T {
	fields := r.Fields()
	return func(t *rapid.T, read T) T {
		v := values.Draw(t, "changes")
		for _, f := range fields {
			if rapid.Bool().Draw(t, "change "+f.Name()) {
				f.Copy(&read, &v)
			}
		}
		return read
	}
}

// changedFields says which fields a write of v changed: those not equal to
// the base's; with conflicting branches read, those on which not every
// branch equals v; with nothing read, all.
func (h *history[T]) changedFields(base *resolve.Branch[T], agree []T, empty bool, v *T) []bool {
	out := make([]bool, len(h.fields))
	for k, f := range h.fields {
		switch {
		case empty:
			out[k] = true
		case base != nil:
			out[k] = !f.Equal(v, &base.Value)
		default:
			for _, b := range agree {
				if !f.Equal(v, &b) {
					out[k] = true
				}
			}
		}
	}
	return out
}

// latest returns the latest wall time, in seconds, of the siblings of s.
func latest[T any](s resolve.Siblings[T]) int64 {
	var sec int64
	for _, b := range s.Values() {
		sec = max(sec, b.Stamp.Time.Wall/1e9)
	}
	return sec
}

// checkFields checks every field bound with a replaceable policy (such as
// LWW) of the record s resolves to against a plain per-field model (see
// winner). In particular, a field a concurrent write left untouched never
// loses to that write's stale copy of it, and a write never loses a field to
// the value it replaced, even when its clock stamped it earlier.
func (h *history[T]) checkFields(s resolve.Siblings[T], when string) {
	res, err := h.r.Resolve(s)
	if err != nil {
		return // a conflict: nothing to read
	}
	seen := s.Join()
	for k, f := range h.fields {
		if !f.Replaceable() {
			continue
		}
		want, ok := h.winner(seen, k)
		if !ok {
			continue
		}
		if !f.Equal(&res.Value, &want.value) || res.FieldStamp(k) != want.stamp {
			h.fatalf("%s: field %s is %s (stamp %v), want %s from the write %v, the one the plain per-field model names",
				when, f.Name(), short(res.Value), res.FieldStamp(k), short(want.value), want.stamp)
		}
	}
}

// winner returns the write whose value field k holds in the record whose
// history is seen. Each write left a record in which field k holds its own
// value if it changed k, else the value of the record it read (its source).
// The record seen is read from its maximal writes (those no other write in
// seen had seen): each offers its source of k. A source is replaced when a
// maximal write whose writer had seen it offers another; one not replaced
// wins over every one that is, and among those alike in that the latest
// stamp wins. When stamps follow causality this is the latest change of k
// among those no later change of it saw.
func (h *history[T]) winner(seen version.Vector, k int) (write[T], bool) {
	top := h.maximal(seen)
	var (
		best     write[T]
		bestLive bool
		found    bool
	)
	for _, m := range top {
		c := h.writes[m.source[k]]
		live := true
		for _, o := range top {
			if o.source[k] != c.stamp.Dot && (o.stamp.Dot == c.stamp.Dot || o.context.Contains(c.stamp.Dot)) {
				live = false
			}
		}
		if !found || live && !bestLive || live == bestLive && c.stamp.Compare(best.stamp) > 0 {
			best, bestLive, found = c, live, true
		}
	}
	return best, found
}

// maximal returns the writes in seen that no other write in seen had seen.
func (h *history[T]) maximal(seen version.Vector) []write[T] {
	var out []write[T]
	for d, w := range h.writes {
		if !seen.Contains(d) {
			continue
		}
		top := true
		for e, o := range h.writes {
			if e != d && seen.Contains(e) && o.context.Contains(d) {
				top = false
				break
			}
		}
		if top {
			out = append(out, w)
		}
	}
	return out
}

func short(v any) string {
	s := fmt.Sprintf("%+v", v)
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// checkMergeLaws checks determinism, order independence, idempotence and
// invariants on the union of every replica's siblings.
func (h *history[T]) checkMergeLaws() {
	var all resolve.Siblings[T]
	for _, s := range h.sent {
		all = all.Sync(s)
	}
	branches := all.Values()
	if len(branches) == 0 {
		return
	}
	for _, b := range branches {
		res, err := merge.InOrder(h.r, []resolve.Branch[T]{b, b})
		if err != nil {
			h.fatalf("idempotence: merging branch %v with itself failed: %v", b.Stamp, err)
		}
		if !h.cfg.Equal(res.Value, b.Value) || res.Stamp != b.Stamp || !h.sameFieldStamps(&res.Branch, &b) {
			h.fatalf("idempotence: merging branch %v with itself gave %s, want %s", b.Stamp, short(res.Value), short(b.Value))
		}
	}
	first, firstErr := merge.Branches(h.r, branches)
	again, againErr := merge.Branches(h.r, branches)
	h.sameResult("determinism: merging the same branches twice", first, firstErr, again, againErr, true)

	perm := rapid.Permutation(branches).Draw(h.t, "fold order")
	h.logf("fold order %v", stamps(perm))
	other, otherErr := merge.InOrder(h.r, perm)
	// Field stamps may depend on the order: when branches hold equal values
	// of a field, which write the merged value is attributed to can depend
	// on which pair met first (a rule may restore a value that a Same merge
	// attributed to another write). Replicas agree on them anyway, because
	// they fold in one canonical order; the convergence check compares them.
	h.sameResult("order independence: folding in another order", first, firstErr, other, otherErr, false)

	if firstErr == nil && h.cfg.Invariant != nil {
		vals := make([]T, len(branches))
		for i, b := range branches {
			vals[i] = b.Value
		}
		if err := h.cfg.Invariant(vals, first.Value); err != nil {
			h.fatalf("invariant broken by merging %d branches into %s: %v", len(branches), short(first.Value), err)
		}
	}
}

// sameFieldStamps reports whether a and b carry the same stamp for every
// field.
func (h *history[T]) sameFieldStamps(a, b *resolve.Branch[T]) bool {
	for k := range h.fields {
		if a.FieldStamp(k) != b.FieldStamp(k) {
			return false
		}
	}
	return true
}

func stamps[T any](bs []resolve.Branch[T]) []string {
	out := make([]string, len(bs))
	for i, b := range bs {
		out[i] = b.Stamp.Dot.String()
	}
	return out
}

func (h *history[T]) sameResult(what string, a resolve.Resolution[T], aErr error, b resolve.Resolution[T], bErr error, fieldStamps bool) {
	switch {
	case (aErr == nil) != (bErr == nil):
		h.fatalf("%s: one merge succeeded, the other failed: %v / %v", what, aErr, bErr)
	case aErr != nil:
		if !sameRefusal[T](aErr, bErr) {
			h.fatalf("%s: different refusals: %v / %v", what, aErr, bErr)
		}
	case !h.cfg.Equal(a.Value, b.Value):
		h.fatalf("%s: different values:\n  %s\n  %s", what, short(a.Value), short(b.Value))
	case a.Stamp != b.Stamp:
		h.fatalf("%s: different stamps: %v / %v", what, a.Stamp, b.Stamp)
	}
	for k, f := range h.fields {
		if fieldStamps && aErr == nil && a.FieldStamp(k) != b.FieldStamp(k) {
			h.fatalf("%s: different stamps of field %s: %v / %v", what, f.Name(), a.FieldStamp(k), b.FieldStamp(k))
		}
	}
}

// checkConvergence delivers every replicated state to fresh replicas in
// different orders, groupings and duplications and requires one outcome.
func (h *history[T]) checkConvergence() {
	deliver := func(label string) resolve.Siblings[T] {
		msgs := rapid.Permutation(h.sent).Draw(h.t, label+" order")
		dups := rapid.IntRange(0, len(msgs)).Draw(h.t, label+" duplicates")
		msgs = append(msgs, msgs[:dups]...)
		// Group: deliver a prefix to an intermediate replica first.
		split := rapid.IntRange(0, len(msgs)).Draw(h.t, label+" grouping")
		var mid, s resolve.Siblings[T]
		for _, m := range msgs[:split] {
			mid = h.r.Apply(mid, m).State
		}
		for _, m := range msgs[split:] {
			s = h.r.Apply(s, m).State
		}
		return h.r.Apply(s, mid).State
	}
	a, b := deliver("first"), deliver("second")
	if !a.Equal(b) || !sameSiblings(a, b, h.cfg.Equal) {
		h.fatalf("convergence: replicas hold different siblings: %v / %v", a, b)
	}
	ra, ea := h.r.Resolve(a)
	rb, eb := h.r.Resolve(b)
	h.sameResult("convergence: replicas resolve differently", ra, ea, rb, eb, true)
	if !a.Join().Equal(b.Join()) {
		h.fatalf("convergence: different versions %v / %v", a.Join(), b.Join())
	}
}

// sameRefusal reports whether two merge errors refuse the same branches.
// Which field or rule refused, and the wording of the reason, may depend on
// which pair met first in the fold; replicas agree on them anyway, because
// Merge folds in one canonical order.
func sameRefusal[T any](a, b error) bool {
	var ca, cb *resolve.ConflictRequiresRetry
	if !errors.As(a, &ca) || !errors.As(b, &cb) {
		return a.Error() == b.Error()
	}
	return slices.Equal(sortedDots(ca.Dots()), sortedDots(cb.Dots()))
}

func sortedDots(ds []version.Dot) []version.Dot {
	ds = slices.Clone(ds)
	slices.SortFunc(ds, version.Dot.Compare)
	return ds
}

func sameSiblings[T any](a, b resolve.Siblings[T], equal func(x, y T) bool) bool {
	av, bv := a.Values(), b.Values()
	if len(av) != len(bv) {
		return false
	}
	for i := range av {
		if av[i].Stamp != bv[i].Stamp || !equal(av[i].Value, bv[i].Value) {
			return false
		}
	}
	return true
}
