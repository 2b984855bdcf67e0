// Package dvv is the dotted version vector of one write: a dot plus the
// vector its writer had seen. concord's records use [version.Clock], which
// keeps such versions implicitly; this standalone form is what the proof
// tests compare against the plain model, and what bench measures beside
// other libraries. It is built on package version's exported API only.
package dvv

import (
	"fmt"
	"hash/maphash"

	"github.com/harborpoint/concord/version"
)

// DVV is a dotted version vector: the version of one write. Dot names the
// write; Past is the vector of writes its writer had seen. The causal history
// of the write is {Dot} ∪ history(Past). Unlike a plain vector, a DVV can say
// exactly which writes of its own replica it had not seen, so two concurrent
// writes through one replica stay distinguishable.
//
// A DVV is an immutable value, safe for concurrent use; the zero DVV is
// invalid. A DVV whose past is large carries a small hash index of it, built
// once by [New], so that [DVV.Descends] costs one probe.
type DVV struct {
	dot  version.Dot
	past version.Vector
	ids  []version.ID // past's replicas, in order
	ns   []uint64     // past's counters, parallel to ids
	idx  *pastIndex   // nil for small pasts
}

// pastIndex indexes a DVV's past by ID hash when it is large, so that
// Descends is one probe however many replicas the past has: open addressing
// with linear probing; a slot holds an index into ids plus one (0 is empty).
type pastIndex struct {
	slots []uint32
	shift uint8 // 64 - log2(len(slots)): the hash's high bits pick the slot
}

// indexMin is the smallest past that gets a hash index; below it a linear
// scan is as fast and costs no allocation.
const indexMin = 9

var seed = maphash.MakeSeed()

func hashID(id version.ID) uint64 { return maphash.Comparable(seed, id) }

// New returns the version of write dot made with context past. The past
// must not already cover dot: a write cannot have seen itself.
func New(dot version.Dot, past version.Vector) (DVV, error) {
	if !dot.Valid() {
		return DVV{}, fmt.Errorf("%w: %v", version.ErrInvalidDot, dot)
	}
	if past.Contains(dot) {
		return DVV{}, fmt.Errorf("%w: context %v already covers %v", version.ErrInvalidDot, past, dot)
	}
	v := DVV{dot: dot, past: past, ids: make([]version.ID, 0, past.Len()), ns: make([]uint64, 0, past.Len())}
	for id, n := range past.All() {
		v.ids = append(v.ids, id)
		v.ns = append(v.ns, n)
	}
	if len(v.ids) >= indexMin {
		v.idx = newIndex(v.ids)
	}
	return v, nil
}

func newIndex(ids []version.ID) *pastIndex {
	bits := uint8(1)
	for 1<<bits < 2*len(ids) {
		bits++
	}
	ix := &pastIndex{slots: make([]uint32, 1<<bits), shift: 64 - bits}
	mask := uint64(len(ix.slots) - 1)
	for i, id := range ids {
		h := hashID(id) >> ix.shift
		for ix.slots[h] != 0 {
			h = (h + 1) & mask
		}
		ix.slots[h] = uint32(i + 1)
	}
	return ix
}

// pastGet returns past's counter for id, like v.Past().Get(id).
func (v *DVV) pastGet(id version.ID) uint64 {
	if v.idx == nil {
		for i := range v.ids {
			if v.ids[i] == id {
				return v.ns[i]
			}
		}
		return 0
	}
	slots := v.idx.slots
	mask := uint64(len(slots) - 1)
	for h := hashID(id) >> v.idx.shift; ; h = (h + 1) & mask {
		k := slots[h]
		if k == 0 {
			return 0
		}
		if v.ids[k-1] == id {
			return v.ns[k-1]
		}
	}
}

// Dot returns the write's dot.
func (v DVV) Dot() version.Dot { return v.dot }

// Past returns the vector of writes the writer had seen.
func (v DVV) Past() version.Vector { return v.past }

// Descends reports whether v descends from (or is) w: whether w's write is
// in v's causal history. It looks up one replica in v's past, so its cost does
// not depend on how many writes w had seen.
func (v DVV) Descends(w DVV) bool {
	return v.dot == w.dot || w.dot.Counter <= v.pastGet(w.dot.ID)
}

// Compare returns the causal order of v relative to w.
func (v DVV) Compare(w DVV) version.Order {
	if v.dot == w.dot {
		return version.Equal
	}
	vw := w.dot.Counter <= v.pastGet(w.dot.ID)
	wv := v.dot.Counter <= w.pastGet(v.dot.ID)
	switch {
	case vw && wv: // impossible for well-formed histories; report honestly
		return version.Concurrent
	case vw:
		return version.After
	case wv:
		return version.Before
	default:
		return version.Concurrent
	}
}

// Vector returns the smallest plain vector covering v's history: its past
// joined with its dot. It over-approximates when the dot leaves a gap.
func (v DVV) Vector() version.Vector {
	var b version.Builder
	b.Join(v.past)
	b.Add(v.dot)
	return b.Vector()
}

// String returns "dot@past", such as "lisbon:19@{baltimore:4 lisbon:18}".
func (v DVV) String() string { return v.dot.String() + "@" + v.past.String() }
