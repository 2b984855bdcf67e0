package dotmodel

import (
	"cmp"
	"maps"
	"slices"

	"github.com/harborpoint/concord/version"
)

// History is a causal history: the set of write events (dots) seen.
// The nil History is empty. Methods that return a History return a new one.
type History map[version.Dot]struct{}

// FromVector returns the history a vector stands for: every dot (r, k) with
// 1 <= k <= v.Get(r).
func FromVector(v version.Vector) History {
	h := History{}
	for id, n := range v.All() {
		for k := uint64(1); k <= n; k++ {
			h[version.Dot{ID: id, Counter: k}] = struct{}{}
		}
	}
	return h
}

// Clone returns a copy of h.
func (h History) Clone() History {
	out := make(History, len(h))
	maps.Copy(out, h)
	return out
}

// Union returns h ∪ o.
func (h History) Union(o History) History {
	out := h.Clone()
	maps.Copy(out, o)
	return out
}

// Contains reports whether d is in h.
func (h History) Contains(d version.Dot) bool {
	_, ok := h[d]
	return ok
}

// SubsetOf reports whether every dot of h is in o.
func (h History) SubsetOf(o History) bool {
	for d := range h {
		if !o.Contains(d) {
			return false
		}
	}
	return true
}

// Max returns the largest counter of replica id in h, 0 if none.
func (h History) Max(id version.ID) uint64 {
	var m uint64
	for d := range h {
		if d.ID == id && d.Counter > m {
			m = d.Counter
		}
	}
	return m
}

// Dots returns the dots of h sorted by [version.Dot.Compare].
func (h History) Dots() []version.Dot {
	return slices.SortedFunc(maps.Keys(h), version.Dot.Compare)
}

// Vector returns the vector holding, for each replica, its largest counter in
// h, and whether that vector stands for exactly h (h has no gaps).
func (h History) Vector() (version.Vector, bool) {
	top := map[version.ID]uint64{}
	for d := range h {
		top[d.ID] = max(top[d.ID], d.Counter)
	}
	dots := make([]version.Dot, 0, len(top))
	total := uint64(0)
	for id, n := range top {
		dots = append(dots, version.Dot{ID: id, Counter: n})
		total += n
	}
	v, err := version.NewVector(dots...)
	if err != nil {
		panic(err) // one valid dot per replica by construction
	}
	// Each replica r has at most top[r] dots in h, so h is exactly the
	// vector's history when the counts add up.
	return v, total == uint64(len(h))
}

// Compare orders two histories by inclusion.
func (h History) Compare(o History) version.Order {
	hs, os := h.SubsetOf(o), o.SubsetOf(h)
	switch {
	case hs && os:
		return version.Equal
	case hs:
		return version.Before
	case os:
		return version.After
	default:
		return version.Concurrent
	}
}

// Sibling is one stored value: the write's dot, its value and its causal
// history (the write's context plus its own dot).
type Sibling[V any] struct {
	Dot     version.Dot
	Value   V
	History History
}

// Clock is the model of a key at one replica: the siblings and the history of
// everything the replica has seen of the key (superseded writes included).
// The zero Clock is empty. Methods return new clocks and leave the receiver
// unchanged.
type Clock[V any] struct {
	Siblings map[version.Dot]Sibling[V]
	Seen     History
}

// Update applies a write of value at replica r made with context ctx. The
// write's history is ctx ∪ {dot}; exactly the siblings whose dots are in ctx
// are removed. It returns the new clock and the new dot.
func (c Clock[V]) Update(ctx History, value V, r version.ID) (Clock[V], version.Dot) {
	d := version.Dot{ID: r, Counter: max(c.Seen.Max(r), ctx.Max(r)) + 1}
	hist := ctx.Clone()
	hist[d] = struct{}{}
	out := Clock[V]{Siblings: map[version.Dot]Sibling[V]{}, Seen: c.Seen.Union(hist)}
	for sd, s := range c.Siblings {
		if !ctx.Contains(sd) {
			out.Siblings[sd] = s
		}
	}
	out.Siblings[d] = Sibling[V]{Dot: d, Value: value, History: hist}
	return out, d
}

// Sync merges two clocks of one key: a sibling survives if both hold it or
// the other side has not seen its dot.
func (c Clock[V]) Sync(o Clock[V]) Clock[V] {
	out := Clock[V]{Siblings: map[version.Dot]Sibling[V]{}, Seen: c.Seen.Union(o.Seen)}
	keep := func(a, b Clock[V]) {
		for d, s := range a.Siblings {
			if _, both := b.Siblings[d]; both || !b.Seen.Contains(d) {
				out.Siblings[d] = s
			}
		}
	}
	keep(c, o)
	keep(o, c)
	return out
}

// Join returns the clock's history: the context a reader is handed.
func (c Clock[V]) Join() History { return c.Seen.Clone() }

// Covers reports whether d is in the clock's history.
func (c Clock[V]) Covers(d version.Dot) bool { return c.Seen.Contains(d) }

// Get returns the value of the sibling with dot d, if it is one.
func (c Clock[V]) Get(d version.Dot) (V, bool) {
	s, ok := c.Siblings[d]
	return s.Value, ok
}

// Sorted returns the siblings in the order of [version.Clock.Siblings]:
// by replica ascending, then counter descending.
func (c Clock[V]) Sorted() []Sibling[V] {
	out := slices.Collect(maps.Values(c.Siblings))
	slices.SortFunc(out, func(a, b Sibling[V]) int {
		if x := a.Dot.ID.Compare(b.Dot.ID); x != 0 {
			return x
		}
		return cmp.Compare(b.Dot.Counter, a.Dot.Counter)
	})
	return out
}

// Compare orders two clocks: by inclusion of their histories and, when the
// histories are equal, by reverse inclusion of their sibling sets (the side
// holding fewer siblings has seen more of them superseded).
func (c Clock[V]) Compare(o Clock[V]) version.Order {
	if ord := c.Seen.Compare(o.Seen); ord != version.Equal {
		return ord
	}
	cs, os := History{}, History{}
	for d := range c.Siblings {
		cs[d] = struct{}{}
	}
	for d := range o.Siblings {
		os[d] = struct{}{}
	}
	// Fewer siblings is later, so the order of the sets is reversed.
	return os.Compare(cs)
}
