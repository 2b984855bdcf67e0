package version_test

import (
	"errors"
	"slices"
	"testing"

	"pgregory.net/rapid"

	"github.com/harborpoint/concord/internal/proof"
	"github.com/harborpoint/concord/version"
)

var clockIDs = []version.ID{version.MustID("x"), version.MustID("y"), version.MustID("z")}

// genClocks draws the clocks of one key at three replicas after random
// writes (with contexts read earlier at any replica) and syncs, and the
// contexts read along the way.
func genClocks(t *rapid.T) ([]version.Clock[int], []version.Vector) {
	clocks := make([]version.Clock[int], len(clockIDs))
	ctxs := []version.Vector{{}}
	steps := rapid.IntRange(0, 30).Draw(t, "steps")
	for i := range steps {
		r := rapid.IntRange(0, len(clockIDs)-1).Draw(t, "replica")
		switch rapid.IntRange(0, 2).Draw(t, "op") {
		case 0:
			ctxs = append(ctxs, clocks[r].Join())
		case 1:
			ctx := rapid.SampledFrom(ctxs).Draw(t, "ctx")
			c, _, err := clocks[r].Update(ctx, i, clockIDs[r])
			if err != nil {
				t.Fatalf("Update: %v", err)
			}
			clocks[r] = c
		default:
			o := rapid.IntRange(0, len(clockIDs)-1).Draw(t, "other")
			clocks[r] = clocks[r].Sync(clocks[o])
		}
	}
	return clocks, ctxs
}

func siblings(c version.Clock[int]) []version.Sibling[int] {
	return slices.Collect(c.Siblings())
}

// TestClockUpdateRules checks the three rules of Clock.Update on random
// clocks and contexts: the new version dominates the context; it supersedes
// exactly the siblings the context covered; its dot is fresh.
func TestClockUpdateRules(t *testing.T) {
	proof.Check(t, proof.Histories(t, 200), func(t *rapid.T) {
		clocks, ctxs := genClocks(t)
		r := rapid.IntRange(0, len(clockIDs)-1).Draw(t, "replica")
		c, ctx := clocks[r], rapid.SampledFrom(ctxs).Draw(t, "ctx")
		var called []version.Dot
		c2, d, err := c.UpdateWith(ctx, clockIDs[r], func(d version.Dot) int {
			called = append(called, d)
			return -1
		})
		if err != nil {
			t.Fatalf("Update: %v", err)
		}
		if len(called) != 1 || called[0] != d {
			t.Fatalf("UpdateWith called value with %v, returned dot %v", called, d)
		}
		// 1. The new version dominates the context (and the old clock's join).
		j := c2.Join()
		if j.Compare(ctx) != version.After || !j.Descends(c.Join()) || !c2.Covers(d) {
			t.Fatalf("join %v after writing %v with %v does not dominate the context", j, d, ctx)
		}
		if got, ok := c2.Get(d); !ok || got != -1 {
			t.Fatalf("new sibling %v missing: %v", d, siblings(c2))
		}
		// 2. It supersedes only what the context covered.
		want := []version.Dot{d}
		for s := range c.Siblings() {
			if !ctx.Contains(s.Dot) {
				want = append(want, s.Dot)
			}
		}
		slices.SortFunc(want, dotOrder)
		if got := c2.Dots(); !slices.Equal(got, want) {
			t.Fatalf("%v updated with %v: siblings %v, want %v", siblings(c), ctx, got, want)
		}
		// 3. The dot is fresh: nothing present had it, and it is exactly one
		// past the replica's highest known counter.
		if c.Covers(d) || ctx.Contains(d) || d.Counter != max(c.Join().Get(d.ID), ctx.Get(d.ID))+1 {
			t.Fatalf("dot %v not fresh for clock %v and context %v", d, c.Join(), ctx)
		}
		// The receiver is unchanged.
		if !c.Equal(clocks[r]) || !slices.Equal(siblings(c), siblings(clocks[r])) {
			t.Fatalf("Update changed its receiver")
		}
	})
}

// dotOrder is the order of Clock.Siblings: replica, then newest first.
func dotOrder(a, b version.Dot) int {
	if c := a.ID.Compare(b.ID); c != 0 {
		return c
	}
	return -a.Compare(b)
}

func sameClock(a, b version.Clock[int]) bool {
	return a.Equal(b) && a.Join().Equal(b.Join()) && slices.Equal(siblings(a), siblings(b))
}

func TestClockSyncLaws(t *testing.T) {
	proof.Check(t, proof.Histories(t, 200), func(t *rapid.T) {
		clocks, _ := genClocks(t)
		a, b, c := clocks[0], clocks[1], clocks[2]
		if ab, ba := a.Sync(b), b.Sync(a); !sameClock(ab, ba) {
			t.Fatalf("Sync not commutative: %v vs %v", siblings(ab), siblings(ba))
		}
		if l, r := a.Sync(b).Sync(c), a.Sync(b.Sync(c)); !sameClock(l, r) {
			t.Fatalf("Sync not associative: %v vs %v", siblings(l), siblings(r))
		}
		if aa := a.Sync(a); !sameClock(aa, a) {
			t.Fatalf("Sync not idempotent: %v vs %v", siblings(aa), siblings(a))
		}
		if z := a.Sync(version.Clock[int]{}); !sameClock(z, a) {
			t.Fatalf("Sync with the empty clock changed %v", siblings(a))
		}
		ab := a.Sync(b)
		if !ab.Join().Equal(a.Join().Join(b.Join())) {
			t.Fatalf("join of Sync %v is not the join of joins", ab.Join())
		}
		if !ab.Join().Descends(a.Join()) || ab.Compare(a) == version.Before || ab.Compare(a) == version.Concurrent {
			t.Fatalf("Sync result %v does not descend %v", ab, a)
		}
	})
}

// TestClockSiblingsBoundedByWriters runs writers that each read before
// writing and always include their own last write in their context (read your
// writes): each writer then has at most one live sibling, so a clock never
// holds more siblings than there are writers, however many writes they make.
// The vector never has more entries than the replica incarnations that wrote.
func TestClockSiblingsBoundedByWriters(t *testing.T) {
	proof.Check(t, proof.Histories(t, 200), func(t *rapid.T) {
		writers := rapid.IntRange(1, 5).Draw(t, "writers")
		ids := []version.ID{version.MustID("x"), version.MustID("y"), version.MustID("z")}
		clocks := make([]version.Clock[int], len(ids))
		last := make([]version.Vector, writers) // each writer's own last write
		wrote := map[version.ID]bool{}
		for i := range rapid.IntRange(1, 40).Draw(t, "steps") {
			r := rapid.IntRange(0, len(ids)-1).Draw(t, "replica")
			if rapid.Bool().Draw(t, "sync") {
				clocks[r] = clocks[r].Sync(clocks[rapid.IntRange(0, len(ids)-1).Draw(t, "from")])
			} else {
				w := rapid.IntRange(0, writers-1).Draw(t, "writer")
				ctx := clocks[r].Join().Join(last[w])
				c, d, err := clocks[r].Update(ctx, i, ids[r])
				if err != nil {
					t.Fatalf("Update: %v", err)
				}
				clocks[r] = c
				last[w] = ctx.Join(version.MustVector("{" + d.String() + "}"))
				wrote[ids[r]] = true
			}
			for _, c := range clocks {
				if c.Len() > writers {
					t.Fatalf("%d siblings with %d writers: %v", c.Len(), writers, siblings(c))
				}
				if c.Join().Len() > len(wrote) {
					t.Fatalf("join %v has more entries than the %d replicas that wrote", c.Join(), len(wrote))
				}
			}
		}
	})
}

// TestClockConcurrentWritersAllSurvive: k writes made with the same context,
// each through some replica, all survive as siblings once the replicas sync,
// and supersede what the context covered.
func TestClockConcurrentWritersAllSurvive(t *testing.T) {
	proof.Check(t, proof.Histories(t, 100), func(t *rapid.T) {
		base, _, _ := version.NewClock(version.Vector{}, 0, clockIDs[0])
		ctx := base.Join()
		clocks := []version.Clock[int]{base, base, base}
		k := rapid.IntRange(1, 6).Draw(t, "writers")
		for i := range k {
			r := rapid.IntRange(0, len(clockIDs)-1).Draw(t, "replica")
			c, _, err := clocks[r].Update(ctx, i+1, clockIDs[r])
			if err != nil {
				t.Fatalf("Update: %v", err)
			}
			clocks[r] = c
		}
		all := clocks[0].Sync(clocks[1]).Sync(clocks[2])
		if all.Len() != k || slices.Contains(all.Values(), 0) {
			t.Fatalf("%d concurrent writes left siblings %v", k, siblings(all))
		}
	})
}

func TestCounterOverflow(t *testing.T) {
	lis := version.MustID("lisbon")
	top := version.Dot{ID: lis, Counter: version.MaxCounter}
	v, err := version.NewVector(top)
	if err != nil {
		t.Fatal(err)
	}
	fromToken, err := version.ParseToken(v.Token(), version.Limits{})
	if err != nil || !fromToken.Equal(v) {
		t.Fatalf("ParseToken(%q) = %v, %v", v.Token(), fromToken, err)
	}
	for name, v := range map[string]version.Vector{"NewVector": v, "ParseToken": fromToken} {
		if w, d, err := v.Increment(lis); !errors.Is(err, version.ErrCounterOverflow) || !w.Equal(v) || d != (version.Dot{}) {
			t.Errorf("%s: Increment at MaxCounter = %v, %v, %v; want ErrCounterOverflow", name, w, d, err)
		}
		c, d, err := version.Clock[string]{}.Update(v, "x", lis)
		if !errors.Is(err, version.ErrCounterOverflow) || !c.IsZero() || d != (version.Dot{}) {
			t.Errorf("%s: Update with context at MaxCounter = %v, %v, %v; want ErrCounterOverflow", name, c, d, err)
		}
		// Another replica can still write with that context.
		if _, _, err := (version.Clock[string]{}).Update(v, "x", version.MustID("bristol")); err != nil {
			t.Errorf("%s: Update at another replica: %v", name, err)
		}
	}
	if _, err := version.NewVector(version.Dot{ID: lis, Counter: version.MaxCounter + 1}); !errors.Is(err, version.ErrInvalidDot) {
		t.Errorf("NewVector with counter MaxCounter+1: %v, want ErrInvalidDot", err)
	}
	last, err := version.NewID("lisbon", version.MaxCounter)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := last.Next(); !errors.Is(err, version.ErrCounterOverflow) {
		t.Errorf("Next at the last incarnation: %v, want ErrCounterOverflow", err)
	}
	if _, err := version.NewID("lisbon", version.MaxCounter+1); !errors.Is(err, version.ErrInvalidID) {
		t.Errorf("NewID with an incarnation past MaxCounter: %v, want ErrInvalidID", err)
	}
}

// TestKV679 replays Riak's KV679 data loss: replica A writes, replicates to
// B, then loses its state.
func TestKV679(t *testing.T) {
	a := version.MustID("a")
	atA, d1, _ := version.NewClock(version.Vector{}, "v1", a)
	atB := version.Clock[string]{}.Sync(atA)

	t.Run("same ID reissues a dot and loses the write", func(t *testing.T) {
		// A restarts empty under its old ID: the misuse the API warns of.
		restarted, d2, err := version.NewClock(version.Vector{}, "v2", a)
		if err != nil {
			t.Fatal(err)
		}
		if d2 != d1 {
			t.Fatalf("expected the reissued dot %v, got %v", d1, d2)
		}
		// v2 was acknowledged, but B already holds a write with its dot
		// and drops it as already seen.
		b2 := atB.Sync(restarted)
		if vals := b2.Values(); slices.Contains(vals, "v2") {
			t.Fatalf("B kept v2 (%v); the misuse was expected to lose it", vals)
		}
		// And the replicas disagree forever about the dot's value.
		a2 := restarted.Sync(atB)
		if got, _ := a2.Get(d1); got == "v1" || !a2.Equal(b2) {
			t.Fatalf("expected silent divergence; A has %v, B has %v", a2.Values(), b2.Values())
		}
	})

	t.Run("next incarnation keeps every write", func(t *testing.T) {
		a1, err := a.Next()
		if err != nil {
			t.Fatal(err)
		}
		// A blind write (no context) at the new incarnation is concurrent
		// with v1: both survive as siblings.
		blind, d2, err := version.NewClock(version.Vector{}, "v2", a1)
		if err != nil {
			t.Fatal(err)
		}
		if d2 == d1 || atB.Covers(d2) {
			t.Fatalf("new incarnation issued %v, which B already covers", d2)
		}
		for _, merged := range []version.Clock[string]{atB.Sync(blind), blind.Sync(atB)} {
			if got := merged.Values(); !slices.Equal(got, []string{"v1", "v2"}) {
				t.Fatalf("after a blind write: %v, want both writes", got)
			}
		}
		// A write whose client read v1 (at B) supersedes it.
		informed, d3, err := version.NewClock(atB.Join(), "v3", a1)
		if err != nil {
			t.Fatal(err)
		}
		merged := atB.Sync(informed)
		if got := merged.Values(); !slices.Equal(got, []string{"v3"}) || !merged.Covers(d1) || !merged.Covers(d3) {
			t.Fatalf("after an informed write: %v, want [v3]", got)
		}
	})
}
