package version

import "fmt"

// DVV is a dotted version vector: the version of one write. Dot names the
// write; Past is the vector of writes its writer had seen. The causal history
// of the write is {Dot} ∪ history(Past). Unlike a plain vector, a DVV can say
// exactly which writes of its own replica it had not seen, so two concurrent
// writes through one replica stay distinguishable.
//
// A DVV is an immutable value; the zero DVV is invalid.
type DVV struct {
	dot  Dot
	past Vector
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
	return DVV{dot, past}, nil
}

// Dot returns the write's dot.
func (v DVV) Dot() Dot { return v.dot }

// Past returns the vector of writes the writer had seen.
func (v DVV) Past() Vector { return v.past }

// Descends reports whether v descends from (or is) w: whether w's write is
// in v's causal history. It looks up one replica in v's past, so its cost does
// not depend on how many writes w had seen.
func (v DVV) Descends(w DVV) bool {
	return v.dot == w.dot || w.dot.Counter <= v.past.Get(w.dot.ID)
}

// Compare returns the causal order of v relative to w.
func (v DVV) Compare(w DVV) Order {
	if v.dot == w.dot {
		return Equal
	}
	vw := w.dot.Counter <= v.past.Get(w.dot.ID)
	wv := v.dot.Counter <= w.past.Get(v.dot.ID)
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
	return Vector{b.e}
}

// String returns "dot@past", such as "lisbon:19@{baltimore:4 lisbon:18}".
func (v DVV) String() string { return v.dot.String() + "@" + v.past.String() }
