package replica

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

// Codec encodes record values for storage and replication.
type Codec[T any] interface {
	// Append appends the encoding of v to dst.
	Append(dst []byte, v T) ([]byte, error)
	// Decode decodes one value. It must not keep data.
	Decode(data []byte) (T, error)
}

// JSON is the default [Codec]: encoding/json. T's JSON form must round-trip.
type JSON[T any] struct{}

// Append implements [Codec].
func (JSON[T]) Append(dst []byte, v T) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append(dst, b...), nil
}

// Decode implements [Codec].
func (JSON[T]) Decode(data []byte) (T, error) {
	var v T
	err := json.Unmarshal(data, &v)
	return v, err
}

// ErrMalformed is wrapped by every error about a stored or replicated record
// that does not decode: a damaged or hostile message changes nothing.
var ErrMalformed = errors.New("replica: malformed record")

// payloadFormat is the first byte of an encoded state (the payload that
// stored and replicated bytes carry). States written before per-field
// stamps began with the clock's format byte (2), and states of format 3
// (before tombstones), are not read: concord had no users' data to migrate.
const payloadFormat = 4

// encodeState encodes a record's siblings:
//
//	format   1 byte, payloadFormat
//	clock    the clock framing of package version, whose values are, per branch:
//	         wall     varint, the branch stamp's wall time
//	         logical  uvarint, its logical counter
//	         header   uvarint, twice the number of fields whose stamp differs
//	                  from the branch's (0 for a write that changed every
//	                  field), plus 1 for a tombstone (which has no field
//	                  stamps and no value bytes)
//	         count times, by increasing field index:
//	                  index gap (uvarint, the index minus the previous index plus one, less one),
//	                  wall back (varint, the branch's wall minus the field's),
//	                  logical (uvarint), replica (uvarint, the index of the
//	                  dot's replica among the clock's replicas), counter (uvarint)
//	         value    the codec's bytes, to the end
//
// The branch stamp's dot is the sibling's dot, so it is not stored; a field
// whose stamp equals the branch's costs nothing beyond the count byte.
func encodeState[T any](s resolve.Siblings[T], codec Codec[T]) ([]byte, error) {
	data, _, _, err := encodeStateLast(nil, s, codec)
	return data, err
}

// encodeStateLast is encodeState appending to buf (whose capacity it may
// use) that also returns where the bytes of the last value encoded lie in
// the result: data[from:to].
func encodeStateLast[T any](buf []byte, s resolve.Siblings[T], codec Codec[T]) (data []byte, from, to int, err error) {
	ids := s.IDs()
	dst := append(buf, payloadFormat)
	data, err = s.AppendBinary(dst, func(dst []byte, b resolve.Branch[T]) ([]byte, error) {
		sibling := len(dst)
		dst = binary.AppendVarint(dst, b.Stamp.Time.Wall)
		dst = binary.AppendUvarint(dst, uint64(b.Stamp.Time.Logical))
		if b.Deleted {
			from, to = 0, 0
			return binary.AppendUvarint(dst, 1), nil
		}
		dst, err := appendFieldStamps(dst, &b, ids)
		if err != nil {
			return nil, err
		}
		start := len(dst)
		dst, err = codec.Append(dst, b.Value)
		// The clock framing puts the sibling's length (a uvarint) in front
		// of what this function appended, moving it right by as much.
		var lb [binary.MaxVarintLen64]byte
		shift := binary.PutUvarint(lb[:], uint64(len(dst)-sibling))
		from, to = start+shift, len(dst)+shift
		return dst, err
	})
	return data, from, to, err
}

// appendFieldStamps appends the count and the field stamps of b that differ
// from its stamp.
func appendFieldStamps[T any](dst []byte, b *resolve.Branch[T], ids []version.ID) ([]byte, error) {
	n := 0
	for _, st := range b.Fields {
		if st != b.Stamp {
			n++
		}
	}
	dst = binary.AppendUvarint(dst, uint64(n)<<1)
	prev := -1
	for i, st := range b.Fields {
		if st == b.Stamp {
			continue
		}
		k, ok := slices.BinarySearchFunc(ids, st.Dot.ID, version.ID.Compare)
		if !ok {
			return nil, fmt.Errorf("field %d's stamp %v names a replica outside the record's history", i, st)
		}
		dst = binary.AppendUvarint(dst, uint64(i-prev-1))
		dst = binary.AppendVarint(dst, b.Stamp.Time.Wall-st.Time.Wall)
		dst = binary.AppendUvarint(dst, uint64(st.Time.Logical))
		dst = binary.AppendUvarint(dst, uint64(k))
		dst = binary.AppendUvarint(dst, st.Dot.Counter)
		prev = i
	}
	return dst, nil
}

// decodeState decodes what encodeState wrote, within lim, for a record type
// with fields bound fields.
func decodeState[T any](data []byte, codec Codec[T], lim version.Limits, fields int) (resolve.Siblings[T], error) {
	s, err := decodeClock(data, codec, lim, fields)
	if err != nil {
		return resolve.Siblings[T]{}, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if s.Len() == 0 && !s.Join().IsZero() {
		// Every write leaves a value, so a history without one was not made
		// by a replica; accepting it would mark writes as seen that never were.
		return resolve.Siblings[T]{}, fmt.Errorf("%w: a causal context %v without any value", ErrMalformed, s.Join())
	}
	return s, nil
}

// decodeContext decodes what the reconciliation index and DecodeContext
// need of an encoded state: its causal context and its number of siblings.
// The values are not decoded, so a damaged value shows up when the record
// is read.
func decodeContext(data []byte, lim version.Limits) (version.Vector, int, error) {
	f, err := stateFrame(data, lim)
	if err != nil {
		return version.Vector{}, 0, err
	}
	return f.Join(), f.Len(), nil
}

// stateFrame checks the clock framing of an encoded state and returns it,
// without decoding values: its causal metadata, and each sibling's bytes
// (branch header and value). Input that does not read fails with an error
// wrapping ErrMalformed.
func stateFrame(data []byte, lim version.Limits) (version.ClockFrame, error) {
	if len(data) == 0 || data[0] != payloadFormat {
		return version.ClockFrame{}, fmt.Errorf("%w: not a state of format %d", ErrMalformed, payloadFormat)
	}
	f, err := version.ReadClockFrame(data[1:], lim)
	if err != nil {
		return version.ClockFrame{}, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return f, nil
}

// branchTime reads the time of a branch's stamp, the head of its bytes in
// an encoded state, without decoding the rest.
func branchTime(b []byte) (version.Timestamp, bool) {
	r := reader{b: b}
	ts := version.Timestamp{Wall: r.varint(), Logical: r.logical()}
	return ts, r.err == nil
}

// fieldRef is a decoded field stamp whose replica is known only by its
// index among the clock's replicas until the whole clock is decoded.
type fieldRef struct {
	stamp   *version.Stamp
	replica uint64
}

func decodeClock[T any](data []byte, codec Codec[T], lim version.Limits, fields int) (resolve.Siblings[T], error) {
	switch {
	case len(data) == 0:
		return resolve.Siblings[T]{}, errors.New("empty state")
	case data[0] != payloadFormat:
		return resolve.Siblings[T]{}, fmt.Errorf("state format %d, want %d", data[0], payloadFormat)
	}
	var refs []fieldRef
	s, err := version.DecodeClock(data[1:], lim, func(d version.Dot, b []byte) (resolve.Branch[T], error) {
		br, rest, err := decodeBranch[T](d, b, fields, &refs)
		if err != nil || br.Deleted {
			return br, err
		}
		br.Value, err = codec.Decode(rest)
		return br, err
	})
	if err != nil {
		return s, err
	}
	// Every field stamp names a write in the record's history: a replica of
	// the clock, a counter it covers.
	ids := s.IDs()
	for _, ref := range refs {
		if ref.replica >= uint64(len(ids)) {
			return resolve.Siblings[T]{}, fmt.Errorf("field stamp of replica #%d, the record has %d", ref.replica, len(ids))
		}
		ref.stamp.Dot.ID = ids[ref.replica]
		if !ref.stamp.Dot.Valid() || !s.Covers(ref.stamp.Dot) {
			return resolve.Siblings[T]{}, fmt.Errorf("field stamp %v outside the record's history", ref.stamp.Dot)
		}
	}
	return s, nil
}

// decodeBranch decodes a branch's stamp and field stamps, leaving the
// replicas of the field stamps' dots to resolve through refs, and returns
// the bytes of the value.
func decodeBranch[T any](d version.Dot, b []byte, fields int, refs *[]fieldRef) (resolve.Branch[T], []byte, error) {
	var br resolve.Branch[T]
	r := reader{b: b}
	br.Stamp = version.Stamp{Time: version.Timestamp{Wall: r.varint(), Logical: r.logical()}, Dot: d}
	h := r.uvarint()
	n := h >> 1
	if h&1 == 1 {
		if r.err == nil && (n != 0 || len(r.b) != 0) {
			return br, nil, errors.New("a tombstone with field stamps or a value")
		}
		br.Deleted = true
		return br, nil, r.err
	}
	if r.err == nil && n > uint64(fields) {
		return br, nil, fmt.Errorf("%d field stamps for %d fields", n, fields)
	}
	if n > 0 && r.err == nil {
		*refs = slices.Grow(*refs, int(n))
		br.Fields = make([]version.Stamp, fields)
		for i := range br.Fields {
			br.Fields[i] = br.Stamp
		}
	}
	next := uint64(0)
	for range n {
		gap := r.uvarint()
		if r.err != nil {
			break
		}
		if gap >= uint64(fields)-next {
			return br, nil, fmt.Errorf("field stamp beyond the %d fields", fields)
		}
		i := next + gap
		st := &br.Fields[i]
		st.Time = version.Timestamp{Wall: br.Stamp.Time.Wall - r.varint(), Logical: r.logical()}
		*refs = append(*refs, fieldRef{stamp: st, replica: r.uvarint()})
		st.Dot.Counter = r.uvarint()
		next = i + 1
	}
	return br, r.b, r.err
}

// reader reads varints, remembering the first error.
type reader struct {
	b   []byte
	err error
}

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	x, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = errors.New("bad varint in branch header")
		return 0
	}
	r.b = r.b[n:]
	return x
}

func (r *reader) varint() int64 {
	if r.err != nil {
		return 0
	}
	x, n := binary.Varint(r.b)
	if n <= 0 {
		r.err = errors.New("bad varint in branch header")
		return 0
	}
	r.b = r.b[n:]
	return x
}

func (r *reader) logical() uint32 {
	x := r.uvarint()
	if x > 1<<32-1 {
		r.err = errors.New("bad stamp counter")
	}
	return uint32(x)
}
