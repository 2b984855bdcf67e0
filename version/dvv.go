package version

import "fmt"

// DVV is a dotted version vector: the version of one write. Dot names the
// write; Past is the vector of writes its writer had seen. The causal history
// of the write is {Dot} ∪ history(Past). Unlike a plain vector, a DVV can say
// exactly which writes of its own replica it had not seen, so two concurrent
// writes through one replica stay distinguishable.
//
// A DVV is an immutable value, safe for concurrent use; the zero DVV is
// invalid. A DVV whose past is large carries a small hash index of it, built
// once by [NewDVV], so that [DVV.Descends] costs one probe.
type DVV struct {
	dot  Dot
	past Vector
	idx  *pastIndex // nil for small pasts
}

// pastIndex indexes a DVV's past by ID hash when it is large, so that
// Descends is one probe however many replicas the past has: open addressing
// with linear probing; a slot holds an index into past.e plus one (0 is empty).
type pastIndex struct {
	slots []uint32
	shift uint8 // 64 - log2(len(slots)): the hash's high bits pick the slot
}

// dvvIndexMin is the smallest past that gets a hash index; below it a linear
// scan is as fast and costs no allocation.
const dvvIndexMin = 9

func newDVV(dot Dot, past Vector) DVV {
	v := DVV{dot: dot, past: past}
	n := past.Len()
	if n < dvvIndexMin {
		return v
	}
	bits := uint8(1)
	for 1<<bits < 2*n {
		bits++
	}
	ix := &pastIndex{slots: make([]uint32, 1<<bits), shift: 64 - bits}
	mask := uint64(len(ix.slots) - 1)
	for i, x := range past.e {
		h := hashID(x.id) >> ix.shift
		for ix.slots[h] != 0 {
			h = (h + 1) & mask
		}
		ix.slots[h] = uint32(i + 1)
	}
	v.idx = ix
	return v
}

// hashID mixes the three words of an ID (a multiply-xorshift finaliser); its
// high bits are used.
func hashID(id ID) uint64 {
	x := id.hi ^ id.lo*0x9e3779b97f4a7c15 ^ id.inc*0xc2b2ae3d27d4eb4f
	x ^= x >> 31
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 29
	return x * 0x94d049bb133111eb
}

// pastGet returns past's counter for id, like v.past.Get(id).
func (v *DVV) pastGet(id ID) uint64 {
	e := v.past.e
	if v.idx == nil {
		for i := range e {
			if e[i].id == id {
				return e[i].n
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
		if x := &e[k-1]; x.id == id {
			return x.n
		}
	}
}

// NewDVV returns the version of write dot made with context past. The past
// must not already cover dot: a write cannot have seen itself.
func NewDVV(dot Dot, past Vector) (DVV, error) {
	if !dot.Valid() {
		return DVV{}, fmt.Errorf("%w: %v", ErrInvalidDot, dot)
	}
	if past.Contains(dot) {
		return DVV{}, fmt.Errorf("%w: context %v already covers %v", ErrInvalidDot, past, dot)
	}
	return newDVV(dot, past), nil
}

// Dot returns the write's dot.
func (v DVV) Dot() Dot { return v.dot }

// Past returns the vector of writes the writer had seen.
func (v DVV) Past() Vector { return v.past }

// Descends reports whether v descends from (or is) w: whether w's write is
// in v's causal history. It looks up one replica in v's past, so its cost does
// not depend on how many writes w had seen.
func (v DVV) Descends(w DVV) bool {
	return v.dot == w.dot || w.dot.Counter <= v.pastGet(w.dot.ID)
}

// Compare returns the causal order of v relative to w.
func (v DVV) Compare(w DVV) Order {
	if v.dot == w.dot {
		return Equal
	}
	vw := w.dot.Counter <= v.pastGet(w.dot.ID)
	wv := v.dot.Counter <= w.pastGet(v.dot.ID)
	switch {
	case vw && wv: // impossible for well-formed histories; report honestly
		return Concurrent
	case vw:
		return After
	case wv:
		return Before
	default:
		return Concurrent
	}
}

// Vector returns the smallest plain vector covering v's history: its past
// joined with its dot. It over-approximates when the dot leaves a gap.
func (v DVV) Vector() Vector {
	b := Builder{e: make([]entry, 0, v.past.Len()+1)}
	b.Join(v.past)
	b.Add(v.dot)
	return Vector(b)
}

// String returns "dot@past", such as "lisbon:19@{baltimore:4 lisbon:18}".
func (v DVV) String() string { return v.dot.String() + "@" + v.past.String() }
