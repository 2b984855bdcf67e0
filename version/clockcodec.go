package version

import (
	"encoding/binary"
	"fmt"
)

// ClockFormat is the format byte that starts an encoded [Clock].
//
// The binary form of a clock is
//
//	format   1 byte, ClockFormat
//	count    uvarint, number of replicas
//	entries  count times, in strictly increasing ID order:
//	         the replica's ID and counter as in a vector token, then
//	         siblings (uvarint, at most the counter), then for each sibling,
//	         newest first: length (uvarint) and the value's bytes
//
// Values are encoded by the caller's function; the format only frames them.
const ClockFormat = 2

// AppendBinary appends the binary form of c to dst, encoding each value with
// enc. It fails only if enc fails.
func (c Clock[V]) AppendBinary(dst []byte, enc func(dst []byte, v V) ([]byte, error)) ([]byte, error) {
	dst = append(dst, ClockFormat)
	dst = binary.AppendUvarint(dst, uint64(c.ctx.Len()))
	for i, vals := range c.vals {
		id, n := c.ctx.ids[i], c.ctx.n[i]
		dst = appendEntry(dst, id, n)
		dst = binary.AppendUvarint(dst, uint64(len(vals)))
		for k, v := range vals {
			// Encode after a length placeholder, then move into place.
			start := len(dst)
			var err error
			dst, err = enc(dst, v)
			if err != nil {
				return nil, fmt.Errorf("version: encoding value of %v: %w", Dot{id, n - uint64(k)}, err)
			}
			size := len(dst) - start
			var lb [binary.MaxVarintLen64]byte
			l := binary.PutUvarint(lb[:], uint64(size))
			dst = append(dst, lb[:l]...)
			copy(dst[start+l:], dst[start:start+size])
			copy(dst[start:], lb[:l])
		}
	}
	return dst, nil
}

// DecodeClock decodes the binary form of a clock within lim, decoding each
// sibling's value with dec, which receives the sibling's dot and bytes. The
// limit on entries bounds both the replicas and the siblings. Malformed input
// fails with a [*DecodeError]; an error from dec is returned wrapped.
func DecodeClock[V any](data []byte, lim Limits, dec func(d Dot, b []byte) (V, error)) (Clock[V], error) {
	var out Clock[V]
	err := scanClock(data, lim,
		func(count int) { out = Clock[V]{ctx: makeVector(count), vals: make([][]V, count)} },
		func(i int, x entry, siblings int) {
			out.ctx.ids[i], out.ctx.n[i] = x.id, x.n
			if siblings > 0 {
				out.vals[i] = make([]V, siblings)
			}
		},
		func(i, k int, dot Dot, b []byte) error {
			v, err := dec(dot, b)
			if err != nil {
				return fmt.Errorf("version: decoding value of %v: %w", dot, err)
			}
			out.vals[i][k] = v
			return nil
		})
	if err != nil || out.IsZero() {
		return Clock[V]{}, err
	}
	return out, nil
}

// scanClock reads the binary form of a clock within lim and checks
// everything but the values, which it hands over undecoded: start learns
// the number of replicas, entry each replica's entry (its index, ID and
// counter, and its number of siblings) before value sees that replica's
// siblings, newest first (sibling k has counter x.n-k), with their bytes. A
// nil value skips them. An error from value is returned as it is.
func scanClock(data []byte, lim Limits, start func(count int), entry func(i int, x entry, siblings int), value func(i, k int, d Dot, b []byte) error) error {
	lim = lim.withDefaults()
	d := decoder{data: data}
	if len(data) == 0 {
		return d.fail("empty")
	}
	if len(data) > lim.MaxBytes {
		return d.fail(fmt.Sprintf("too large: %d bytes, limit %d", len(data), lim.MaxBytes))
	}
	if data[0] != ClockFormat {
		return d.fail(fmt.Sprintf("unknown format %d, want %d", data[0], ClockFormat))
	}
	d.off = 1
	count, err := d.uvarint()
	if err != nil {
		return err
	}
	if count > uint64(lim.MaxEntries) {
		return d.fail(fmt.Sprintf("too many entries: %d, limit %d", count, lim.MaxEntries))
	}
	if rest := uint64(len(data) - d.off); count > rest/(minEntryBytes+1) {
		return d.fail(fmt.Sprintf("truncated: %d entries cannot fit in %d bytes", count, rest))
	}
	start(int(count))
	siblings := 0
	var prev ID
	for i := range int(count) {
		x, err := d.entry()
		if err != nil {
			return err
		}
		if i > 0 && !prev.less(x.id) {
			return d.fail(fmt.Sprintf("not canonical: replica %v after %v", x.id, prev))
		}
		prev = x.id
		nv, err := d.uvarint()
		if err != nil {
			return err
		}
		if nv > x.n {
			return d.fail(fmt.Sprintf("out of range: %d siblings for counter %d", nv, x.n))
		}
		siblings += int(min(nv, uint64(lim.MaxEntries)+1))
		if siblings > lim.MaxEntries {
			return d.fail(fmt.Sprintf("too many entries: more than %d siblings", lim.MaxEntries))
		}
		if rest := uint64(len(data) - d.off); nv > rest {
			return d.fail(fmt.Sprintf("truncated: %d siblings cannot fit in %d bytes", nv, rest))
		}
		entry(i, x, int(nv))
		for k := range int(nv) {
			size, err := d.uvarint()
			if err != nil {
				return err
			}
			if size > uint64(len(data)-d.off) {
				return d.fail(fmt.Sprintf("truncated: value of %d bytes", size))
			}
			if value != nil {
				if err := value(i, k, Dot{x.id, x.n - uint64(k)}, data[d.off:d.off+int(size)]); err != nil {
					return err
				}
			}
			d.off += int(size)
		}
	}
	if d.off != len(data) {
		return d.fail(fmt.Sprintf("trailing bytes: %d", len(data)-d.off))
	}
	return nil
}
