package version

import (
	"encoding/binary"
	"iter"
)

// ClockFrame is the binary form of a [Clock] (what [Clock.AppendBinary]
// writes), checked as [DecodeClock] checks it but with its values left
// undecoded: its causal metadata can be compared, and its siblings' bytes
// read, without decoding a value or allocating. It is how a replica
// recognises a version it already holds — most anti-entropy traffic — at
// the cost of reading two headers.
//
// A ClockFrame refers to the bytes it was read from, which must not change
// while it is in use. The zero ClockFrame is the empty clock. A ClockFrame
// is a small value, safe for concurrent use.
type ClockFrame struct {
	data     []byte // the whole encoding, checked
	siblings int
}

// ReadClockFrame checks data, the binary form of a clock, within lim, as
// [DecodeClock] does except for the values (which only a decoder can
// check), and returns its frame. Malformed input fails with a
// [*DecodeError].
func ReadClockFrame(data []byte, lim Limits) (ClockFrame, error) {
	f := ClockFrame{data: data}
	err := scanClock(data, lim, func(int) {}, func(_ int, _ entry, siblings int) { f.siblings += siblings }, nil)
	if err != nil {
		return ClockFrame{}, err
	}
	return f, nil
}

// Len returns the number of siblings.
func (f ClockFrame) Len() int { return f.siblings }

// Compare returns the causal order of the clocks f and g encode, the same
// as [Clock.Compare] of the decoded clocks: their causal contexts first, and
// for equal contexts the siblings each still holds. It does not allocate.
func (f ClockFrame) Compare(g ClockFrame) Order {
	a, b := f.cursor(), g.cursor()
	x, okX := a.next()
	y, okY := b.next()
	aMore, bMore := false, false // the contexts' order
	aFewer, bFewer := false, false
	for okX && okY {
		switch {
		case x.id == y.id:
			switch {
			case x.n > y.n:
				aMore = true
			case x.n < y.n:
				bMore = true
			case x.siblings < y.siblings:
				aFewer = true
			case x.siblings > y.siblings:
				bFewer = true
			}
			x, okX = a.next()
			y, okY = b.next()
		case x.id.less(y.id):
			aMore = true
			x, okX = a.next()
		default:
			bMore = true
			y, okY = b.next()
		}
		if aMore && bMore {
			return Concurrent
		}
	}
	aMore = aMore || okX
	bMore = bMore || okY
	if ord := order(aMore, bMore); ord != Equal {
		return ord
	}
	// Equal contexts: the side with fewer siblings per replica has seen
	// more supersessions (its list is a prefix of the other's).
	return order(aFewer, bFewer)
}

// Join returns the causal context of the clock f encodes, as [Clock.Join]
// of the decoded clock does.
func (f ClockFrame) Join() Vector {
	c := f.cursor()
	if c.left == 0 {
		return Vector{}
	}
	v := makeVector(c.left)
	for i := range v.ids {
		x, _ := c.next() // a checked frame has c.left entries
		v.ids[i], v.n[i] = x.id, x.n
	}
	return v
}

// All returns an iterator over the replicas and counters of the causal
// context of the clock f encodes, in ID order: what f.Join().All() yields,
// without building the vector.
func (f ClockFrame) All() iter.Seq2[ID, uint64] {
	return func(yield func(ID, uint64) bool) {
		c := f.cursor()
		for x, ok := c.next(); ok; x, ok = c.next() {
			if !yield(x.id, x.n) {
				return
			}
		}
	}
}

// AppendJoin appends the binary form of the causal context of the clock f
// encodes — what f.Join().AppendBinary appends — without building the
// vector.
func (f ClockFrame) AppendJoin(dst []byte) []byte {
	c := f.cursor()
	dst = append(dst, TokenFormat)
	dst = binary.AppendUvarint(dst, uint64(c.left))
	for x, ok := c.next(); ok; x, ok = c.next() {
		dst = appendEntry(dst, x.id, x.n)
	}
	return dst
}

// FrameSummary is what [ClockFrame.Summarize] reads of a clock's causal
// context and first sibling in one pass over its frame: what a replica
// checks, stores and indexes a received state of one sibling by.
type FrameSummary struct {
	Join   []byte   // the binary form of the causal context, as AppendJoin appends it
	Counts []uint64 // the context's counters, in ID order
	Own    uint64   // the context's counter of the replica Summarize was asked about, 0 if none
	Dot    Dot      // the first sibling's dot, in the order of Siblings (the zero Dot if none)
}

// Summarize appends to join the binary form of the causal context of the
// clock f encodes and to counts its counters, and returns them with the
// context's counter of replica id and the dot and encoded value (aliasing
// f's data) of f's first sibling: what AppendJoin, All and Siblings yield,
// in one pass over the frame. It does not allocate when join and counts
// have room, so that a caller can pass buffers on its stack (the value is
// a result of its own so that it does not make them escape).
func (f ClockFrame) Summarize(id ID, join []byte, counts []uint64) (s FrameSummary, value []byte) {
	c := f.cursor()
	s = FrameSummary{Join: append(join, TokenFormat), Counts: counts}
	s.Join = binary.AppendUvarint(s.Join, uint64(c.left))
	first := true
	for {
		at := c.d.off
		x, ok := c.entryOnly()
		if !ok {
			return s, value
		}
		// The entry's bytes up to its counter are its binary form in a
		// vector: the frame was checked canonical when read.
		s.Join = append(s.Join, c.d.data[at:c.entryEnd]...)
		s.Counts = append(s.Counts, x.n)
		if x.id == id {
			s.Own = x.n
		}
		for range x.siblings {
			v := c.value()
			if first {
				s.Dot, value, first = Dot{x.id, x.n}, v, false
			}
		}
	}
}

// Siblings returns an iterator over the siblings' dots and encoded values,
// in dot order (replica, then newest first): the bytes [DecodeClock] would
// hand to its decoder. They alias the frame's data.
func (f ClockFrame) Siblings() iter.Seq2[Dot, []byte] {
	return func(yield func(Dot, []byte) bool) {
		c := f.cursor()
		for {
			x, ok := c.entryOnly()
			if !ok {
				return
			}
			for k := range x.siblings {
				if !yield(Dot{x.id, x.n - uint64(k)}, c.value()) {
					return
				}
			}
		}
	}
}

// frameCursor walks the entries of a checked frame.
type frameCursor struct {
	d        decoder
	left     int // entries not yet read
	entryEnd int // the offset of the end of the last entry's counter
}

// frameEntry is one replica's entry of a frame.
type frameEntry struct {
	id       ID
	n        uint64
	siblings int
}

func (f ClockFrame) cursor() frameCursor {
	if len(f.data) == 0 {
		return frameCursor{}
	}
	c := frameCursor{d: decoder{data: f.data, off: 1}}
	c.left = int(c.d.checkedUvarint()) // checked by ReadClockFrame
	return c
}

// next returns the next entry, its values skipped.
func (c *frameCursor) next() (frameEntry, bool) {
	x, ok := c.entryOnly()
	for range x.siblings {
		c.value()
	}
	return x, ok
}

// entryOnly reads the next entry and leaves the cursor on its values.
func (c *frameCursor) entryOnly() (frameEntry, bool) {
	if c.left == 0 {
		return frameEntry{}, false
	}
	c.left--
	// The frame was checked when read (names, canonical varints, ranges):
	// its entries are read without checking them again.
	d := &c.d
	l := int(d.data[d.off])
	var name [MaxNameLen]byte
	copy(name[:], d.data[d.off+1:d.off+1+l])
	d.off += 1 + l
	inc := d.checkedUvarint()
	n := d.checkedUvarint()
	c.entryEnd = d.off
	nv := d.checkedUvarint()
	id := ID{hi: binary.BigEndian.Uint64(name[:8]), lo: binary.BigEndian.Uint64(name[8:]), inc: inc}
	return frameEntry{id: id, n: n, siblings: int(nv)}, true
}

// checkedUvarint reads a varint already checked: a byte below 0x80 is
// read inline (the function is small enough to be inlined itself), the
// others by checkedUvarintLong.
func (d *decoder) checkedUvarint() uint64 {
	if b := d.data[d.off]; b < 0x80 {
		d.off++
		return uint64(b)
	}
	return d.checkedUvarintLong()
}

// checkedUvarintLong reads a checked varint of two bytes or more.
func (d *decoder) checkedUvarintLong() uint64 {
	x, n := binary.Uvarint(d.data[d.off:])
	d.off += n
	return x
}

// value reads the next value's bytes.
func (c *frameCursor) value() []byte {
	size := c.d.checkedUvarint()
	b := c.d.data[c.d.off : c.d.off+int(size)]
	c.d.off += int(size)
	return b
}
