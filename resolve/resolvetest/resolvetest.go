package resolvetest

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"pgregory.net/rapid"

	"github.com/harborpoint/concord/policy"
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
	t        *rapid.T
	cfg      Config[T]
	r        *resolve.Resolver[T]
	ids      []version.ID
	states   []resolve.Siblings[T]
	contexts []version.Vector      // contexts clients have read, for stale writes
	sent     []resolve.Siblings[T] // every state that was replicated
	log      []string
}

func newHistory[T any](t *rapid.T, cfg Config[T]) *history[T] {
	h := &history[T]{t: t, cfg: cfg, r: cfg.Resolver}
	for i := range cfg.Replicas {
		h.ids = append(h.ids, version.MustID(fmt.Sprintf("r%d", i)))
	}
	h.states = make([]resolve.Siblings[T], cfg.Replicas)
	h.contexts = []version.Vector{{}}
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
			continue
		}
		w++
		ctx := h.states[i].Join()
		if rapid.Bool().Draw(h.t, "stale") {
			ctx = rapid.SampledFrom(h.contexts).Draw(h.t, "context")
		}
		v := h.cfg.Value.Draw(h.t, "value")
		// Few distinct times, so that stamps tie on time and the dot decides.
		ts := version.Timestamp{Wall: int64(rapid.IntRange(1, 4).Draw(h.t, "time")) * 1e9}
		o, err := h.r.Write(h.states[i], ctx, h.ids[i], ts, func(d version.Dot) T {
			if h.cfg.OnWrite != nil {
				v = h.cfg.OnWrite(v, d)
			}
			return v
		})
		if err != nil {
			h.fatalf("write at %v: %v", h.ids[i], err)
		}
		h.logf("write at %v with context %v, time %v: %s -> %v", h.ids[i], ctx, ts, short(v), o.Dot)
		h.states[i] = o.State
		h.contexts = append(h.contexts, o.State.Join())
	}
	h.sent = append(h.sent, h.states...)
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
		res, err := h.r.MergeInOrder([]policy.Branch[T]{b, b})
		if err != nil {
			h.fatalf("idempotence: merging branch %v with itself failed: %v", b.Stamp, err)
		}
		if !h.cfg.Equal(res.Value, b.Value) || res.Stamp != b.Stamp {
			h.fatalf("idempotence: merging branch %v with itself gave %s, want %s", b.Stamp, short(res.Value), short(b.Value))
		}
	}
	first, firstErr := h.r.Merge(branches)
	again, againErr := h.r.Merge(branches)
	h.sameResult("determinism: merging the same branches twice", first, firstErr, again, againErr)

	perm := rapid.Permutation(branches).Draw(h.t, "fold order")
	h.logf("fold order %v", stamps(perm))
	other, otherErr := h.r.MergeInOrder(perm)
	h.sameResult("order independence: folding in another order", first, firstErr, other, otherErr)

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

func stamps[T any](bs []policy.Branch[T]) []string {
	out := make([]string, len(bs))
	for i, b := range bs {
		out[i] = b.Stamp.Dot.String()
	}
	return out
}

func (h *history[T]) sameResult(what string, a resolve.Resolution[T], aErr error, b resolve.Resolution[T], bErr error) {
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
	h.sameResult("convergence: replicas resolve differently", ra, ea, rb, eb)
	if !a.Join().Equal(b.Join()) {
		h.fatalf("convergence: different versions %v / %v", a.Join(), b.Join())
	}
}

// sameRefusal reports whether two merge errors refuse the same branches.
// Which field or rule refused, and the wording of the reason, may depend on
// which pair met first in the fold; replicas agree on them anyway, because
// Merge folds in one canonical order.
func sameRefusal[T any](a, b error) bool {
	var ca, cb *resolve.ConflictRequiresRetry[T]
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
