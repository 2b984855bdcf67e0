package rangesync

import (
	"fmt"
	"slices"
	"testing"

	"pgregory.net/rapid"

	"github.com/harborpoint/concord/internal/proof"
)

// model is the plain model of an index: a map from key to hash, and its
// keys in order.
type model struct {
	h    map[string]sum
	keys []string
}

func newModel() *model { return &model{h: map[string]sum{}} }

func (m *model) sorted() []string { return m.keys }

func (m *model) put(k string, h sum) {
	if _, ok := m.h[k]; !ok {
		i, _ := slices.BinarySearch(m.keys, k)
		m.keys = slices.Insert(m.keys, i, k)
	}
	m.h[k] = h
}

func (m *model) remove(k string) {
	if i, ok := slices.BinarySearch(m.keys, k); ok {
		m.keys = slices.Delete(m.keys, i, i+1)
	}
	delete(m.h, k)
}

// check compares every query of the tree with the model, and the tree's
// structure with the invariants of a B+ tree.
func check(t *rapid.T, tr *tree, m *model) {
	keys := m.sorted()
	if tr.len() != len(keys) {
		t.Fatalf("len %d, model %d", tr.len(), len(keys))
	}
	// Every rank of a small tree; about 200 spread over a large one, which
	// the invariants below check whole.
	stride := max(1, len(keys)/200)
	var prefix sum
	for r, k := range keys {
		if r%stride == 0 || r == len(keys)-1 {
			if it := tr.at(r); it.key != k || it.h != m.h[k] {
				t.Fatalf("at(%d) = %q, model %q", r, it.key, k)
			}
			if got := tr.sumBefore(r); got != prefix {
				t.Fatalf("sumBefore(%d) differs from the model", r)
			}
			if n, s := tr.before(k); n != r || s != prefix {
				t.Fatalf("before(%q) = %d, model %d", k, n, r)
			}
		}
		h := m.h[k]
		prefix.add(&h)
	}
	if got := tr.sumBefore(len(keys)); got != prefix {
		t.Fatal("sumBefore(len) is not the total")
	}
	var seen []string
	tr.each(0, len(keys), func(it *item) { seen = append(seen, it.key) })
	if !slices.Equal(seen, keys) {
		t.Fatalf("each = %q, model %q", seen, keys)
	}
	if tr.root != nil {
		invariants(t, tr.root, true, "", "\xff\xff\xff")
	}
}

// invariants checks that x's keys lie in [lo, hi), its counts and sums are
// those of its entries, and its size is within the bounds (the root may be
// smaller). It returns the depth of its leaves, which must be equal.
func invariants(t *rapid.T, x *node, root bool, lo, hi string) int {
	var n int
	var s sum
	if x.kids == nil {
		if !root && (len(x.items) < minLeaf || len(x.items) > maxLeaf) {
			t.Fatalf("leaf of %d items", len(x.items))
		}
		for i, it := range x.items {
			if it.key < lo || it.key >= hi || i > 0 && x.items[i-1].key >= it.key {
				t.Fatalf("leaf key %q out of order or outside [%q, %q)", it.key, lo, hi)
			}
			n++
			s.add(&it.h)
		}
		if n != x.n || s != x.s {
			t.Fatal("leaf aggregates are stale")
		}
		return 0
	}
	if len(x.kids) != len(x.seps) || len(x.kids) > maxInner || !root && len(x.kids) < minInner || root && len(x.kids) < 2 {
		t.Fatalf("inner node of %d kids and %d separators", len(x.kids), len(x.seps))
	}
	depth := -1
	for i, c := range x.kids {
		clo, chi := lo, hi
		if i > 0 {
			clo = x.seps[i]
		}
		if i+1 < len(x.kids) {
			chi = x.seps[i+1]
		}
		if clo < lo || chi > hi || clo >= chi && i > 0 {
			t.Fatalf("separators out of order: %q", x.seps)
		}
		d := invariants(t, c, false, clo, chi)
		if depth >= 0 && d != depth {
			t.Fatal("leaves at different depths")
		}
		depth = d
		n += c.n
		s.add(&c.s)
	}
	if n != x.n || s != x.s {
		t.Fatal("inner aggregates are stale")
	}
	return depth + 1
}

// TestTreeModel drives the tree with random puts (single and in runs, so
// that it grows several levels), removes (single and in runs, so that it
// shrinks and rebalances) and replacements, and checks every query and
// invariant against the model after each step. By default (and under the
// race detector) trees grow two levels deep, splits and merges of inner
// nodes included; with CONCORD_PROOF_SCALE above 1 (.ci/run) they grow
// three levels and more, in longer runs.
func TestTreeModel(t *testing.T) {
	maxSpace, run := 2000, 300
	if proof.Scale(t) > 1 && !raceEnabled {
		maxSpace, run = 6000, 1500
	}
	rapid.Check(t, func(t *rapid.T) {
		var tr tree
		m := newModel()
		keyAt := func(i int) string { return fmt.Sprintf("k%05d", i) }
		space := rapid.IntRange(1, maxSpace).Draw(t, "space")
		version := 0
		put := func(k string) {
			version++
			h := itemHash(k, []byte(fmt.Sprint(version)))
			added := tr.put(item{key: k, h: h})
			if _, had := m.h[k]; added == had {
				t.Fatalf("put(%q) reported added=%v, model had it: %v", k, added, had)
			}
			m.put(k, h)
		}
		remove := func(k string) {
			_, had := m.h[k]
			if tr.remove(k) != had {
				t.Fatalf("remove(%q) disagrees with the model", k)
			}
			m.remove(k)
		}
		t.Repeat(map[string]func(*rapid.T){
			"put": func(t *rapid.T) { put(keyAt(rapid.IntRange(0, space).Draw(t, "i"))) },
			"putRun": func(t *rapid.T) {
				start, n := rapid.IntRange(0, space).Draw(t, "start"), rapid.IntRange(1, run).Draw(t, "n")
				step := rapid.IntRange(1, 3).Draw(t, "step")
				for i := range n {
					put(keyAt(start + i*step))
				}
			},
			"remove": func(t *rapid.T) { remove(keyAt(rapid.IntRange(0, space).Draw(t, "i"))) },
			"removeRun": func(t *rapid.T) {
				keys := slices.Clone(m.sorted())
				if len(keys) == 0 {
					t.Skip("empty")
				}
				start := rapid.IntRange(0, len(keys)-1).Draw(t, "start")
				n := rapid.IntRange(1, len(keys)-start).Draw(t, "n")
				step := rapid.IntRange(1, 2).Draw(t, "step")
				for i := start; i < start+n; i += step {
					remove(keys[i])
				}
			},
			"": func(t *rapid.T) { check(t, &tr, m) },
		})
	})
}

// TestTreeBefore checks before() on keys that are not in the tree, between
// and around the keys that are.
func TestTreeBefore(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var tr tree
		m := newModel()
		for _, k := range rapid.SliceOfN(rapid.StringMatching(`[a-c]{0,4}`), 0, 300).Draw(t, "keys") {
			h := itemHash(k, nil)
			tr.put(item{key: k, h: h})
			m.put(k, h)
		}
		keys := m.sorted()
		probe := rapid.StringMatching(`[a-d]{0,5}`).Draw(t, "probe")
		want, _ := slices.BinarySearch(keys, probe)
		var s sum
		for _, k := range keys[:want] {
			h := m.h[k]
			s.add(&h)
		}
		if n, got := tr.before(probe); n != want || got != s {
			t.Fatalf("before(%q) = %d, want %d", probe, n, want)
		}
	})
}
