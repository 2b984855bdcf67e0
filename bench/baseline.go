package bench

import (
	"encoding/binary"
	"errors"
)

// Pair is one entry of the baseline vector: replica ID and counter.
type Pair struct{ ID, N uint64 }

// Pairs is the baseline version vector: entries sorted by ID, counters >= 1.
// It is the practical floor of a vector: 16-byte entries, integer IDs, no
// validation. The zero Pairs is the empty vector.
type Pairs []Pair

// Order is the causal order of a relative to b, as the baseline reports it.
type Order int8

// The outcomes of [Pairs.Compare].
const (
	_ Order = iota
	Before
	After
	Equal
	Concurrent
)

// Compare returns the causal order of a relative to b.
func (a Pairs) Compare(b Pairs) Order {
	aMore, bMore := false, false
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch x, y := a[i], b[j]; {
		case x.ID == y.ID:
			if x.N > y.N {
				aMore = true
			} else if x.N < y.N {
				bMore = true
			}
			i++
			j++
		case x.ID < y.ID:
			aMore = true
			i++
		default:
			bMore = true
			j++
		}
	}
	aMore = aMore || i < len(a)
	bMore = bMore || j < len(b)
	switch {
	case aMore && bMore:
		return Concurrent
	case aMore:
		return After
	case bMore:
		return Before
	}
	return Equal
}

// Join returns the join of a and b in a new slice.
func (a Pairs) Join(b Pairs) Pairs {
	out := make(Pairs, 0, max(len(a), len(b)))
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch x, y := a[i], b[j]; {
		case x.ID == y.ID:
			out = append(out, Pair{x.ID, max(x.N, y.N)})
			i++
			j++
		case x.ID < y.ID:
			out = append(out, x)
			i++
		default:
			out = append(out, y)
			j++
		}
	}
	out = append(out, a[i:]...)
	return append(out, b[j:]...)
}

// JoinInPlace joins b into a, raising counters in place and inserting the
// replicas a lacks, and returns the result.
func (a Pairs) JoinInPlace(b Pairs) Pairs {
	i := 0
	for _, y := range b {
		for i < len(a) && a[i].ID < y.ID {
			i++
		}
		if i < len(a) && a[i].ID == y.ID {
			a[i].N = max(a[i].N, y.N)
		} else {
			a = append(a, Pair{})
			copy(a[i+1:], a[i:])
			a[i] = y
		}
		i++
	}
	return a
}

// Get returns the counter of id, 0 if a has none (a binary search).
func (a Pairs) Get(id uint64) uint64 {
	lo, hi := 0, len(a)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if a[m].ID < id {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo < len(a) && a[lo].ID == id {
		return a[lo].N
	}
	return 0
}

// AppendBinary appends the count and then each ID and counter as uvarints.
func (a Pairs) AppendBinary(dst []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(a)))
	for _, p := range a {
		dst = binary.AppendUvarint(dst, p.ID)
		dst = binary.AppendUvarint(dst, p.N)
	}
	return dst
}

var errBaseline = errors.New("bench: malformed baseline encoding")

// DecodePairs decodes what AppendBinary wrote, checking only that it is
// well formed (no sort or range checks: the floor, not a safe decoder).
func DecodePairs(data []byte) (Pairs, error) {
	n, k := binary.Uvarint(data)
	if k <= 0 || n > uint64(len(data)) {
		return nil, errBaseline
	}
	data = data[k:]
	out := make(Pairs, n)
	for i := range out {
		id, k := binary.Uvarint(data)
		if k <= 0 {
			return nil, errBaseline
		}
		data = data[k:]
		c, k := binary.Uvarint(data)
		if k <= 0 {
			return nil, errBaseline
		}
		data = data[k:]
		out[i] = Pair{id, c}
	}
	if len(data) != 0 {
		return nil, errBaseline
	}
	return out, nil
}
