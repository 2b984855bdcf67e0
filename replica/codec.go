package replica

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math/bits"
	"slices"

	"github.com/harborpoint/concord/policy"
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

// ExactCodec is an optional interface a [Codec] implements when it can tell,
// more cheaply than by decoding, that a value survives its round trip:
// RoundTrips reports whether Decode of the bytes Append writes for *v gives
// back a value deep-equal to *v. A write returns the record as stored; when
// its codec says the value round-trips, it returns the value it encoded
// rather than decoding the bytes it stored again. RoundTrips must not change
// *v, and reports false when unsure: the write then decodes.
//
// [JSON] implements it by asking the value: a T whose pointer has a method
// RoundTripsJSON() bool says whether its encoding/json round trip is exact
// (a hold's is when its times are in UTC without a monotonic reading and
// its strings are valid UTF-8). With [Options.CommandKeys], RoundTrips is
// asked about the value without its idempotency keys: the replica stores
// them apart from the codec's bytes, exactly, whatever their bytes.
type ExactCodec[T any] interface {
	Codec[T]
	RoundTrips(v *T) bool
}

// RoundTrips implements [ExactCodec]: it reports what *v's method
// RoundTripsJSON() bool reports, and false for a T without one.
func (JSON[T]) RoundTrips(v *T) bool {
	x, ok := any(v).(interface{ RoundTripsJSON() bool })
	return ok && x.RoundTripsJSON()
}

// ErrMalformed is wrapped by every error about a stored or replicated record
// that does not decode: a damaged or hostile message changes nothing.
var ErrMalformed = errors.New("replica: malformed record")

// payloadFormat is the first byte of an encoded state (the payload that
// stored and replicated bytes carry). States written before per-field
// stamps began with the clock's format byte (2), and states of format 3
// (before tombstones), are not read: concord had no users' data to migrate.
// States of format 4 (before branches carried what their writers had seen)
// are read: their branches' Seen is unknown, and they supersede nothing by
// causality (see [resolve.Branch]). States of format 5 (before the applied
// idempotency keys moved from the codec's bytes to the branch header) are
// read: their keys are in the value, where the codec finds them.
const (
	payloadFormat   = 6
	payloadFormatV5 = 5
	payloadFormatV4 = 4
)

// encodeState encodes a record's siblings:
//
//	format   1 byte, payloadFormat
//	clock    the clock framing of package version, whose values are, per branch:
//	         wall     varint, the branch stamp's wall time
//	         logical  uvarint, its logical counter
//	         header   uvarint, eight times the number of fields whose stamp
//	                  differs from the branch's (0 for a write that changed
//	                  every field), plus 4 when applied keys follow, plus 2
//	                  when the branch's Seen follows, plus 1 for a tombstone
//	                  (which has no field stamps, no Seen, no applied keys
//	                  and no value bytes)
//	         count times, by increasing field index:
//	                  index gap (uvarint, the index minus the previous index plus one, less one),
//	                  wall back (varint, the branch's wall minus the field's),
//	                  logical (uvarint), replica (uvarint, the index of the
//	                  dot's replica among the clock's replicas), counter (uvarint)
//	         seen     if flagged: uvarint, its number of replicas; that many
//	                  times, by increasing replica: replica gap (uvarint,
//	                  as the index gap above, among the clock's replicas),
//	                  counter (uvarint)
//	         applied  if flagged: uvarint, the length of what follows; the
//	                  branch's applied idempotency keys (Options.CommandKeys)
//	                  in their binary form (policy.Applied.AppendBinary),
//	                  never empty
//	         value    the codec's bytes, to the end: of the value without its
//	                  applied keys when they are flagged
//
// The branch stamp's dot is the sibling's dot, so it is not stored; a field
// whose stamp equals the branch's costs nothing beyond the header byte. A
// branch's Seen is stored only in a state of several siblings: the only
// sibling of a state has seen the state's context less its own dot, which
// the resolver works out when it needs it.
//
// A record's applied idempotency keys grow with every command and change
// with each: they are stored in their compact binary form, outside the
// codec's bytes, so that a command costs a few bytes per key to decode and
// encode again rather than the codec's form of each (JSON spells each key's
// time in RFC 3339). A record without keys, or a replica without
// Options.CommandKeys, leaves them to the codec.
//
// (Format 5 had no applied keys in the header, whose count was four times
// the number of field stamps; format 4 had no Seen either, and a header of
// twice the count plus 1 for a tombstone.)
func encodeState[T any](s resolve.Siblings[T], codec Codec[T]) ([]byte, error) {
	data, _, _, err := encodeStateLast(nil, s, codec, nil)
	return data, err
}

// encodeStateLast is encodeState appending to buf (whose capacity it may
// use), with the applied keys that keys (nil for none) returns of a value
// in the branch header, that also returns where the bytes of the last value
// encoded lie in the result: data[from:to] (without its applied keys).
func encodeStateLast[T any](buf []byte, s resolve.Siblings[T], codec Codec[T], keys func(*T) *policy.Applied) (data []byte, from, to int, err error) {
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
		v := b.Value
		var applied policy.Applied
		if keys != nil {
			if k := keys(&v); k.Len() > 0 {
				applied, *k = *k, policy.Applied{}
			}
		}
		dst, err := appendBranchHeader(dst, &b, ids, s.Len() > 1 && !b.Seen.IsZero(), applied)
		if err != nil {
			return nil, err
		}
		start := len(dst)
		dst, err = codec.Append(dst, v)
		// The clock framing puts the sibling's length (a uvarint) in front
		// of what this function appended, moving it right by as much.
		var lb [binary.MaxVarintLen64]byte
		shift := binary.PutUvarint(lb[:], uint64(len(dst)-sibling))
		from, to = start+shift, len(dst)+shift
		return dst, err
	})
	return data, from, to, err
}

// appendBranchHeader appends the header, the field stamps of b that differ
// from its stamp, b.Seen with seen, and applied if it is not empty.
func appendBranchHeader[T any](dst []byte, b *resolve.Branch[T], ids []version.ID, seen bool, applied policy.Applied) ([]byte, error) {
	n := 0
	for _, st := range b.Fields {
		if st != b.Stamp {
			n++
		}
	}
	h := uint64(n) << 3
	if applied.Len() > 0 {
		h |= 4
	}
	if seen {
		h |= 2
	}
	dst = binary.AppendUvarint(dst, h)
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
	if seen {
		var err error
		if dst, err = appendSeen(dst, b.Seen, ids); err != nil {
			return nil, err
		}
	}
	if applied.Len() > 0 {
		dst = appendApplied(dst, applied)
	}
	return dst, nil
}

// appendApplied appends applied's binary form after its length: encoded in
// place, then moved right by the length's bytes.
func appendApplied(dst []byte, applied policy.Applied) []byte {
	start := len(dst)
	dst, _ = applied.AppendBinary(dst) // never fails
	var lb [binary.MaxVarintLen64]byte
	return slices.Insert(dst, start, lb[:binary.PutUvarint(lb[:], uint64(len(dst)-start))]...)
}

// appendSeen appends a branch's Seen, its replicas by their index among ids.
func appendSeen(dst []byte, seen version.Vector, ids []version.ID) ([]byte, error) {
	dst = binary.AppendUvarint(dst, uint64(seen.Len()))
	prev := -1
	for id, n := range seen.All() {
		k, ok := slices.BinarySearchFunc(ids, id, version.ID.Compare)
		if !ok {
			return nil, fmt.Errorf("a branch's context names %v, a replica outside the record's history", id)
		}
		dst = binary.AppendUvarint(dst, uint64(k-prev-1))
		dst = binary.AppendUvarint(dst, n)
		prev = k
	}
	return dst, nil
}

// decodeState decodes what encodeState wrote, within lim, for a record type
// with fields bound fields.
func decodeState[T any](data []byte, codec Codec[T], lim version.Limits, fields int) (resolve.Siblings[T], error) {
	return decodeStateKeys(data, codec, nil, lim, fields)
}

// decodeStateKeys is decodeState for a record type whose applied keys keys
// returns (nil for none): what encodeStateLast wrote with the same keys.
func decodeStateKeys[T any](data []byte, codec Codec[T], keys func(*T) *policy.Applied, lim version.Limits, fields int) (resolve.Siblings[T], error) {
	s, err := decodeClock(data, codec, keys, lim, fields)
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
	if len(data) == 0 || !knownFormat(data[0]) {
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

// knownFormat reports whether this release reads states of format f.
func knownFormat(f byte) bool {
	return f == payloadFormat || f == payloadFormatV5 || f == payloadFormatV4
}

func decodeClock[T any](data []byte, codec Codec[T], keys func(*T) *policy.Applied, lim version.Limits, fields int) (resolve.Siblings[T], error) {
	switch {
	case len(data) == 0:
		return resolve.Siblings[T]{}, errors.New("empty state")
	case !knownFormat(data[0]):
		return resolve.Siblings[T]{}, fmt.Errorf("state format %d, want %d", data[0], payloadFormat)
	}
	var (
		refs []fieldRef
		bd   = branchDecoder{format: data[0], fields: fields, clock: data[1:], lim: lim}
	)
	s, err := version.DecodeClock(data[1:], lim, func(d version.Dot, b []byte) (resolve.Branch[T], error) {
		br, rest, applied, err := decodeBranch[T](&bd, d, b, &refs)
		if err != nil || br.Deleted {
			return br, err
		}
		if br.Value, err = codec.Decode(rest); err != nil || applied == nil {
			return br, err
		}
		return br, setApplied(&br.Value, applied, keys)
	})
	if err != nil {
		return s, err
	}
	if bd.seen {
		if s.Len() == 1 {
			// Never written so: the state's context says it.
			return resolve.Siblings[T]{}, errors.New("the only branch of a state carries a context")
		}
		if err := checkSeen(s); err != nil {
			return resolve.Siblings[T]{}, err
		}
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

// branchDecoder is what decodeBranch needs of the whole state: its format,
// the number of fields, and the clock's replicas, read from the clock's
// bytes the first time a branch's Seen names them.
type branchDecoder struct {
	format byte
	fields int
	clock  []byte
	lim    version.Limits
	ids    []version.ID
	seen   bool // some branch carried its Seen
}

// replicas returns the clock's replicas.
func (bd *branchDecoder) replicas() ([]version.ID, error) {
	if bd.ids == nil {
		f, err := version.ReadClockFrame(bd.clock, bd.lim)
		if err != nil {
			return nil, err
		}
		bd.ids = f.Join().IDs()
	}
	return bd.ids, nil
}

// checkSeen checks that every branch's Seen lies in the state's history and
// holds neither the branch's own write nor any later one of its replica.
func checkSeen[T any](s resolve.Siblings[T]) error {
	for b := range s.Siblings() {
		seen := b.Value.Seen
		if seen.Get(b.Dot.ID) >= b.Dot.Counter {
			return fmt.Errorf("the branch %v has seen %v, its own write or a later one", b.Dot, seen)
		}
		for id, n := range seen.All() {
			if !s.Covers(version.Dot{ID: id, Counter: n}) {
				return fmt.Errorf("the branch %v has seen %v:%d, outside the record's history", b.Dot, id, n)
			}
		}
	}
	return nil
}

// setApplied sets the applied keys of v, which its codec decoded without
// them, to those whose binary form is data.
func setApplied[T any](v *T, data []byte, keys func(*T) *policy.Applied) error {
	if keys == nil {
		return errors.New("applied keys in a state of a record type without command keys (Options.CommandKeys)")
	}
	var a policy.Applied
	if err := a.UnmarshalBinary(data); err != nil {
		return err
	}
	k := keys(v)
	switch {
	case a.Len() == 0:
		return errors.New("an empty set of applied keys in a branch header")
	case k.Len() != 0:
		return errors.New("applied keys both in a branch header and in its value")
	}
	*k = a
	return nil
}

// branchHeader splits a branch header h of a state of format f into its
// number of field stamps and its flags.
func branchHeader(f byte, h uint64) (n uint64, applied, seen bool) {
	switch f {
	case payloadFormatV4:
		return h >> 1, false, false
	case payloadFormatV5:
		return h >> 2, false, h&2 != 0
	}
	return h >> 3, h&4 != 0, h&2 != 0
}

// decodeBranch decodes a branch's stamp, field stamps and Seen, leaving the
// replicas of the field stamps' dots to resolve through refs, and returns
// the bytes of the value and those of its applied keys (nil for none).
func decodeBranch[T any](bd *branchDecoder, d version.Dot, b []byte, refs *[]fieldRef) (br resolve.Branch[T], value, applied []byte, err error) {
	fields := bd.fields
	r := reader{b: b}
	br.Stamp = version.Stamp{Time: version.Timestamp{Wall: r.varint(), Logical: r.logical()}, Dot: d}
	h := r.uvarint()
	n, hasApplied, seen := branchHeader(bd.format, h)
	if h&1 == 1 {
		if r.err == nil && (n != 0 || seen || hasApplied || len(r.rest()) != 0) {
			return br, nil, nil, errors.New("a tombstone with field stamps, a context, applied keys or a value")
		}
		br.Deleted = true
		return br, nil, nil, r.err
	}
	if r.err == nil && n > uint64(fields) {
		return br, nil, nil, fmt.Errorf("%d field stamps for %d fields", n, fields)
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
			return br, nil, nil, fmt.Errorf("field stamp beyond the %d fields", fields)
		}
		i := next + gap
		st := &br.Fields[i]
		st.Time = version.Timestamp{Wall: br.Stamp.Time.Wall - r.varint(), Logical: r.logical()}
		*refs = append(*refs, fieldRef{stamp: st, replica: r.uvarint()})
		st.Dot.Counter = r.uvarint()
		next = i + 1
	}
	if seen && r.err == nil {
		v, err := decodeSeen(bd, &r)
		if err != nil {
			return br, nil, nil, err
		}
		br.Seen, bd.seen = v, true
	}
	if hasApplied {
		applied = r.section()
	}
	return br, r.rest(), applied, r.err
}

// decodeSeen decodes a branch's Seen (see appendSeen).
func decodeSeen(bd *branchDecoder, r *reader) (version.Vector, error) {
	ids, err := bd.replicas()
	if err != nil {
		return version.Vector{}, err
	}
	n := r.uvarint()
	if r.err != nil || n == 0 || n > uint64(len(ids)) {
		return version.Vector{}, fmt.Errorf("a context of %d replicas in a record of %d", n, len(ids))
	}
	dots := make([]version.Dot, 0, n)
	next := uint64(0)
	for range n {
		gap, c := r.uvarint(), r.uvarint()
		if r.err != nil || gap >= uint64(len(ids))-next || c == 0 || c > version.MaxCounter {
			return version.Vector{}, errors.New("a context entry outside the record's replicas or counters")
		}
		dots = append(dots, version.Dot{ID: ids[next+gap], Counter: c})
		next += gap + 1
	}
	return version.NewVector(dots...)
}

// reader reads varints, remembering the first error. It moves an offset
// rather than reslicing b: a write of a slice through the pointer receiver
// costs a write barrier while the collector runs (most of the time on a
// busy replica), a write of an int none.
type reader struct {
	b   []byte
	off int // b[:off] is read
	err error
}

// rest returns the bytes not yet read.
func (r *reader) rest() []byte { return r.b[r.off:] }

// section reads a length and returns that many bytes, at least one.
func (r *reader) section() []byte {
	n := r.uvarint()
	if r.err == nil && (n == 0 || n > uint64(len(r.b)-r.off)) {
		r.fail(fmt.Errorf("a section of %d bytes in %d", n, len(r.b)-r.off))
	}
	if r.err != nil {
		return nil
	}
	b := r.b[r.off : r.off+int(n)]
	r.off += int(n)
	return b
}

func (r *reader) uvarint() uint64 {
	// Most varints of a branch header are of one byte (field stamps' gaps,
	// replica indexes, counters) or two (field stamps' times, relative to
	// the branch's): read without a loop, as binary.Uvarint reads them. A
	// failed read leaves nothing to read (see fail).
	i := r.off
	if i < len(r.b) && r.b[i] < 0x80 {
		r.off = i + 1
		return uint64(r.b[i])
	}
	if i+1 < len(r.b) && r.b[i+1] < 0x80 {
		r.off = i + 2
		return uint64(r.b[i]&0x7f) | uint64(r.b[i+1])<<7
	}
	return r.uvarintSlow()
}

// fail records err and leaves nothing to read, so that every later read
// fails too.
func (r *reader) fail(err error) {
	r.err = err
	r.off = len(r.b)
}

func (r *reader) uvarintSlow() uint64 {
	if r.err != nil {
		return 0
	}
	if x, n, ok := uvarintWord(r.b[r.off:]); ok {
		r.off += n
		return x
	}
	x, n := binary.Uvarint(r.b[r.off:])
	if n <= 0 {
		r.fail(errors.New("bad varint in branch header"))
		return 0
	}
	r.off += n
	return x
}

// uvarintWord reads the varint at the start of b as binary.Uvarint does,
// a word at a time: a varint of up to nine bytes (a branch's wall time in
// nanoseconds takes nine) when b holds at least nine, else ok is false and
// nothing is read. The first byte whose top bit is clear ends a varint;
// each byte gives its low seven bits, the first the lowest.
func uvarintWord(b []byte) (x uint64, n int, ok bool) {
	if len(b) < 9 {
		return 0, 0, false
	}
	w := binary.LittleEndian.Uint64(b)
	stop := ^w & 0x8080808080808080 // the top bits that are clear
	if stop == 0 {
		// Eight bytes that all go on: the ninth ends the varint, or it is
		// one of ten bytes, for binary.Uvarint to read or refuse.
		if b[8] >= 0x80 {
			return 0, 0, false
		}
		return pack7(w) | uint64(b[8])<<56, 9, true
	}
	n = bits.TrailingZeros64(stop)/8 + 1
	return pack7(w & (^uint64(0) >> (64 - 8*n))), n, true
}

// pack7 returns the low seven bits of each byte of w, little-endian, packed
// together.
func pack7(w uint64) uint64 {
	w &= 0x7f7f7f7f7f7f7f7f
	return w&0x7f | w>>1&(0x7f<<7) | w>>2&(0x7f<<14) | w>>3&(0x7f<<21) |
		w>>4&(0x7f<<28) | w>>5&(0x7f<<35) | w>>6&(0x7f<<42) | w>>7&(0x7f<<49)
}

// varint reads a signed varint: a zig-zag encoded uvarint, as
// binary.Varint reads it.
func (r *reader) varint() int64 {
	ux := r.uvarint()
	return int64(ux>>1) ^ -int64(ux&1) // branch-free, so that it is inlined
}

func (r *reader) logical() uint32 {
	x := r.uvarint()
	if x > 1<<32-1 {
		r.fail(errors.New("bad stamp counter"))
	}
	return uint32(x)
}
