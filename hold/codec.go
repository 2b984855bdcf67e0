package hold

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"time"
	"unicode/utf8"

	"github.com/harborpoint/concord/policy"
)

// Codec format.
//
// The binary form of a [Hold] is
//
//	format      1 byte, [CodecFormat]
//	id          string
//	cabin       string
//	status      1 byte: 0 the zero Status (""), 1 active, 2 released, 3 confirmed
//	expires_at  1 byte: 0 the zero time.Time, 1 a time, then its Unix
//	            nanoseconds as a varint
//	booking_id  string
//	note        string
//	agencies    set
//	commands    set, each element followed by the time it was applied
//	            (Unix nanoseconds, varint)
//
// where a string is its length (uvarint, at most [MaxCodecString]) and its
// bytes, valid UTF-8, and a set is its element count (uvarint, at most
// [MaxCodecElements]) and its elements as strings in strictly increasing
// byte order. Every varint is in its shortest form and nothing may follow
// the commands, so each hold has exactly one encoding. Format 1 stored the
// commands without their times; it is not read.
const (
	// CodecFormat is the format byte that starts every binary hold.
	CodecFormat = 2
	// MaxCodecString is the longest string [Codec] encodes or decodes, in bytes.
	MaxCodecString = 64 << 10
	// MaxCodecElements is the most elements a set may have in [Codec]'s form.
	MaxCodecElements = 4096
	// MaxCodecBytes is the longest input [Codec.Decode] accepts.
	MaxCodecBytes = 1 << 20
)

const (
	timeZero = 0
	timeSet  = 1
)

// ErrMalformed is wrapped by every error [Codec.Decode] returns: the input
// is not the canonical binary form of a hold. The error is a [*DecodeError].
var ErrMalformed = errors.New("hold: malformed binary hold")

// DecodeError is the error [Codec.Decode] returns; it tells where the input
// went wrong. errors.Is(err, ErrMalformed) matches it.
type DecodeError struct {
	Offset int    // byte offset in the input where decoding failed
	Field  string // the field being decoded, such as "cabin" or "agencies"
	Detail string // what was wrong
}

// Error implements the error interface.
func (e *DecodeError) Error() string {
	return fmt.Sprintf("%v: %s at byte %d: %s", ErrMalformed, e.Field, e.Offset, e.Detail)
}

// Unwrap returns [ErrMalformed].
func (e *DecodeError) Unwrap() error { return ErrMalformed }

// Codec is a compact, canonical binary codec for holds: it satisfies
// replica.Codec[Hold], for replica.Options.Codec. Its form (see
// [CodecFormat]) is a few bytes of framing around the hold's strings, so
// it is several times smaller and faster than JSON and allocates little
// when decoding.
//
// Use it where the hold's encoding cost matters — storage and replication
// of many holds, such as a JetStream bucket — and every replica that reads
// the records uses it too. replica.JSON stays the default: it is readable,
// and tools that are not Go read it. A store's records are in one codec or
// the other; switching codecs needs a migration.
//
// Append refuses (with an error, not [ErrMalformed]) what the form cannot
// hold: a status other than the three of the lifecycle and the zero
// Status, a non-zero expiry outside the years 1678 to 2262 (Unix
// nanoseconds in an int64), strings that are not valid UTF-8 or longer than
// [MaxCodecString], sets of more than [MaxCodecElements] elements, and
// encodings longer than [MaxCodecBytes]. Decode accepts only the canonical
// form, within those limits, checked before anything is allocated, so every
// hold it returns encodes back to the input; it returns expiries in UTC and
// copies the strings out of the input (they share one allocation per hold).
//
// The zero Codec is ready to use, and a Codec is safe for concurrent use.
type Codec struct{}

var (
	minTime = time.Unix(0, math.MinInt64)
	maxTime = time.Unix(0, math.MaxInt64)
)

// Append appends the binary form of h to dst.
func (Codec) Append(dst []byte, h Hold) ([]byte, error) {
	start := len(dst)
	st, ok := statusByte(h.Status)
	if !ok {
		return dst, fmt.Errorf("hold: encoding %s: unknown status %q", h.ID, h.Status)
	}
	dst = append(dst, CodecFormat)
	var err error
	if dst, err = appendString(dst, "id", h.ID); err != nil {
		return dst[:start], err
	}
	if dst, err = appendString(dst, "cabin", h.Cabin); err != nil {
		return dst[:start], err
	}
	dst = append(dst, st)
	switch t := h.ExpiresAt; {
	case t.IsZero():
		dst = append(dst, timeZero)
	case t.Before(minTime) || t.After(maxTime):
		return dst[:start], fmt.Errorf("hold: encoding %s: expiry %v outside the years 1678 to 2262", h.ID, t)
	default:
		dst = append(dst, timeSet)
		dst = binary.AppendVarint(dst, t.UnixNano())
	}
	if dst, err = appendString(dst, "booking_id", h.BookingID); err != nil {
		return dst[:start], err
	}
	if dst, err = appendString(dst, "note", h.Note); err != nil {
		return dst[:start], err
	}
	if dst, err = appendSet(dst, "agencies", h.Agencies); err != nil {
		return dst[:start], err
	}
	if dst, err = appendApplied(dst, "commands", h.Commands); err != nil {
		return dst[:start], err
	}
	if n := len(dst) - start; n > MaxCodecBytes {
		return dst[:start], fmt.Errorf("hold: encoding %s: %d bytes, limit %d", h.ID, n, MaxCodecBytes)
	}
	return dst, nil
}

func statusByte(s Status) (byte, bool) {
	switch s {
	case "":
		return 0, true
	case Active:
		return 1, true
	case Released:
		return 2, true
	case Confirmed:
		return 3, true
	}
	return 0, false
}

var statuses = [...]Status{"", Active, Released, Confirmed}

func appendString(dst []byte, field, s string) ([]byte, error) {
	if len(s) > MaxCodecString {
		return dst, fmt.Errorf("hold: encoding %s: %d bytes, limit %d", field, len(s), MaxCodecString)
	}
	if !utf8.ValidString(s) {
		return dst, fmt.Errorf("hold: encoding %s: not valid UTF-8", field)
	}
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...), nil
}

func appendSet(dst []byte, field string, s policy.Set[string]) ([]byte, error) {
	if s.Len() > MaxCodecElements {
		return dst, fmt.Errorf("hold: encoding %s: %d elements, limit %d", field, s.Len(), MaxCodecElements)
	}
	dst = binary.AppendUvarint(dst, uint64(s.Len()))
	var err error
	for e := range s.All() {
		if dst, err = appendString(dst, field, e); err != nil {
			return dst, err
		}
	}
	return dst, nil
}

func appendApplied(dst []byte, field string, s policy.Applied) ([]byte, error) {
	if s.Len() > MaxCodecElements {
		return dst, fmt.Errorf("hold: encoding %s: %d elements, limit %d", field, s.Len(), MaxCodecElements)
	}
	dst = binary.AppendUvarint(dst, uint64(s.Len()))
	var err error
	for k, at := range s.All() {
		if dst, err = appendString(dst, field, k); err != nil {
			return dst, err
		}
		dst = binary.AppendVarint(dst, at.UnixNano())
	}
	return dst, nil
}

// Decode decodes the binary form of a hold. It does not keep data. Every
// error wraps [ErrMalformed] (as a [*DecodeError]).
func (Codec) Decode(data []byte) (Hold, error) {
	// The first pass validates everything and finds the strings; the
	// second copies them out of one string holding the input.
	var sp spans
	d, err := check(data, &sp)
	if err != nil {
		return Hold{}, err
	}
	c := cutter{first: sp.first}
	if sp.strings > 0 {
		c.s = string(data[sp.first:sp.last])
	}
	return Hold{
		ID:        c.cut(sp.id),
		Cabin:     c.cut(sp.cabin),
		Status:    sp.status,
		ExpiresAt: sp.expires,
		BookingID: c.cut(sp.booking),
		Note:      c.cut(sp.note),
		Agencies:  d.set(sp.agencies, c),
		Commands:  d.applied(sp.commands, c),
	}, nil
}

// Validate returns the error [Codec.Decode] would return for data, nil if
// it would return a hold, without building the hold: it allocates nothing
// unless data is malformed. It satisfies replica.Validator, so that a
// replica stores a replicated hold that supersedes its own without decoding
// it.
func (Codec) Validate(data []byte) error {
	var sp spans
	_, err := check(data, &sp)
	return err
}

// check is the validating pass of Decode: it checks data and fills in sp.
func check(data []byte, sp *spans) (decoder, error) {
	d := decoder{data: data}
	if len(data) == 0 {
		return d, d.fail("format", "empty input")
	}
	if len(data) > MaxCodecBytes {
		return d, d.fail("format", fmt.Sprintf("%d bytes, limit %d", len(data), MaxCodecBytes))
	}
	if data[0] != CodecFormat {
		return d, d.fail("format", fmt.Sprintf("format %d, want %d", data[0], CodecFormat))
	}
	d.off = 1
	return d, d.hold(sp)
}

// cutter cuts strings out of s, a copy of the input from offset first.
type cutter struct {
	s     string
	first int
}

func (c cutter) cut(x span) string {
	if x.n == 0 {
		return ""
	}
	return c.s[x.off-c.first : x.off-c.first+x.n]
}

// span is a string's place in the input.
type span struct{ off, n int }

// setSpan is a set's place in the input: count elements from off.
type setSpan struct{ off, count int }

// spans is what the validating pass found.
type spans struct {
	id, cabin, booking, note span
	agencies, commands       setSpan
	status                   Status
	expires                  time.Time
	first, last              int // the input range that holds every string byte
	strings                  int // total string bytes
}

type decoder struct {
	data []byte
	off  int
}

func (d *decoder) fail(field, detail string) error {
	return &DecodeError{Offset: d.off, Field: field, Detail: detail}
}

// hold validates the input after the format byte and fills in sp.
func (d *decoder) hold(sp *spans) error {
	var err error
	sp.first = -1
	if sp.id, err = d.str("id", sp); err != nil {
		return err
	}
	if sp.cabin, err = d.str("cabin", sp); err != nil {
		return err
	}
	if d.off >= len(d.data) {
		return d.fail("status", "truncated")
	}
	b := d.data[d.off]
	if int(b) >= len(statuses) {
		return d.fail("status", fmt.Sprintf("unknown status %d", b))
	}
	sp.status = statuses[b]
	d.off++
	if d.off >= len(d.data) {
		return d.fail("expires_at", "truncated")
	}
	switch d.data[d.off] {
	case timeZero:
		d.off++
	case timeSet:
		d.off++
		ns, err := d.varint("expires_at")
		if err != nil {
			return err
		}
		sp.expires = time.Unix(0, ns).UTC()
	default:
		return d.fail("expires_at", fmt.Sprintf("unknown time flag %d", d.data[d.off]))
	}
	if sp.booking, err = d.str("booking_id", sp); err != nil {
		return err
	}
	if sp.note, err = d.str("note", sp); err != nil {
		return err
	}
	if sp.agencies, err = d.setSpan("agencies", sp); err != nil {
		return err
	}
	if sp.commands, err = d.setSpanTimed("commands", sp, true); err != nil {
		return err
	}
	if d.off != len(d.data) {
		return d.fail("commands", fmt.Sprintf("%d trailing bytes", len(d.data)-d.off))
	}
	if sp.first < 0 {
		sp.first, sp.last = 0, 0
	}
	return nil
}

func (d *decoder) uvarint(field string) (uint64, error) {
	// Most varints of a hold are one byte (string lengths, set counts),
	// always in shortest form: read them without binary.Uvarint.
	if i := d.off; i < len(d.data) && d.data[i] < 0x80 {
		d.off = i + 1
		return uint64(d.data[i]), nil
	}
	x, n := binary.Uvarint(d.data[d.off:])
	switch {
	case n == 0:
		return 0, d.fail(field, "truncated varint")
	case n < 0:
		return 0, d.fail(field, "varint overflows 64 bits")
	case n != uvarintLen(x):
		return 0, d.fail(field, "varint not in shortest form")
	}
	d.off += n
	return x, nil
}

func (d *decoder) varint(field string) (int64, error) {
	ux, err := d.uvarint(field)
	if err != nil {
		return 0, err
	}
	// The zig-zag decoding of encoding/binary's varint.
	x := int64(ux >> 1)
	if ux&1 != 0 {
		x = ^x
	}
	return x, nil
}

// uvarintLen is the length of x as a uvarint: one byte per 7 bits, at
// least one.
func uvarintLen(x uint64) int { return (bits.Len64(x|1) + 6) / 7 }

// str validates one string and returns its span.
func (d *decoder) str(field string, sp *spans) (span, error) {
	l, err := d.uvarint(field)
	if err != nil {
		return span{}, err
	}
	if l > MaxCodecString {
		return span{}, d.fail(field, fmt.Sprintf("string of %d bytes, limit %d", l, MaxCodecString))
	}
	if uint64(len(d.data)-d.off) < l {
		return span{}, d.fail(field, fmt.Sprintf("string of %d bytes, %d left", l, len(d.data)-d.off))
	}
	x := span{off: d.off, n: int(l)}
	if !utf8.Valid(d.data[x.off : x.off+x.n]) {
		return span{}, d.fail(field, "string is not valid UTF-8")
	}
	d.off += x.n
	if x.n > 0 {
		if sp.first < 0 {
			sp.first = x.off
		}
		sp.last = d.off
		sp.strings += x.n
	}
	return x, nil
}

// setSpan validates a set: its count, and its elements in strictly
// increasing order.
func (d *decoder) setSpan(field string, sp *spans) (setSpan, error) {
	return d.setSpanTimed(field, sp, false)
}

// setSpanTimed is setSpan for a set whose elements are each followed by a
// time (a varint) when timed is set.
func (d *decoder) setSpanTimed(field string, sp *spans, timed bool) (setSpan, error) {
	count, err := d.uvarint(field)
	if err != nil {
		return setSpan{}, err
	}
	if count > MaxCodecElements {
		return setSpan{}, d.fail(field, fmt.Sprintf("%d elements, limit %d", count, MaxCodecElements))
	}
	if rest := uint64(len(d.data) - d.off); count > rest {
		return setSpan{}, d.fail(field, fmt.Sprintf("%d elements cannot fit in %d bytes", count, rest))
	}
	x := setSpan{off: d.off, count: int(count)}
	var prev []byte
	for i := range x.count {
		e, err := d.str(field, sp)
		if err != nil {
			return setSpan{}, err
		}
		b := d.data[e.off : e.off+e.n]
		if i > 0 && string(prev) >= string(b) {
			d.off = e.off
			if string(prev) == string(b) {
				return setSpan{}, d.fail(field, fmt.Sprintf("duplicate element %q", b))
			}
			return setSpan{}, d.fail(field, fmt.Sprintf("element %q after %q", b, prev))
		}
		prev = b
		if timed {
			if _, err := d.varint(field); err != nil {
				return setSpan{}, err
			}
		}
	}
	return x, nil
}

// set builds a set that the validating pass accepted, with its elements
// cut by c.
func (d *decoder) set(x setSpan, c cutter) policy.Set[string] {
	if x.count == 0 {
		return policy.Set[string]{}
	}
	elems := make([]string, x.count)
	off := x.off
	for i := range elems {
		l, n := binary.Uvarint(d.data[off:])
		off += n
		elems[i] = c.cut(span{off: off, n: int(l)})
		off += int(l)
	}
	return policy.NewSet(elems...)
}

// applied builds the applied command keys that the validating pass
// accepted, with their keys cut by c.
func (d *decoder) applied(x setSpan, c cutter) policy.Applied {
	if x.count == 0 {
		return policy.Applied{}
	}
	keys := make([]policy.AppliedKey, x.count)
	off := x.off
	for i := range keys {
		l, n := binary.Uvarint(d.data[off:])
		off += n
		keys[i].Key = c.cut(span{off: off, n: int(l)})
		off += int(l)
		at, n := binary.Varint(d.data[off:])
		off += n
		keys[i].At = time.Unix(0, at).UTC()
	}
	return policy.NewApplied(keys...)
}
