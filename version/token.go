package version

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
)

// Token format.
//
// The binary form of a vector is
//
//	format   1 byte, [TokenFormat]
//	count    uvarint, number of entries
//	entries  count times, in strictly increasing ID order:
//	         name length (1 byte, 1..MaxNameLen), name bytes,
//	         incarnation (uvarint), counter (uvarint, 1..MaxCounter)
//
// with every varint in its shortest form, so each vector has exactly one
// encoding. The text form is the binary form in unpadded URL-safe base64
// (RFC 4648 §5): it needs no escaping in URLs, JSON or HTTP entity tags.
const (
	// TokenFormat is the format byte that starts every binary token.
	TokenFormat = 1
	// DefaultMaxEntries is the default limit on entries in a decoded token.
	DefaultMaxEntries = 1024
	// DefaultMaxBytes is the default limit on the binary length of a token.
	DefaultMaxBytes = 64 << 10

	minEntryBytes = 4 // length, one name byte, incarnation, counter
)

// Limits bounds what a decoder accepts. The zero Limits means the defaults,
// [DefaultMaxEntries] and [DefaultMaxBytes]. Limits are checked before
// anything is allocated.
type Limits struct {
	MaxEntries int // entries in one vector; 0 means DefaultMaxEntries
	MaxBytes   int // binary length; 0 means DefaultMaxBytes
}

func (l Limits) withDefaults() Limits {
	if l.MaxEntries <= 0 {
		l.MaxEntries = DefaultMaxEntries
	}
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	return l
}

var b64 = base64.RawURLEncoding.Strict()

// AppendBinary appends the canonical binary form of v to dst.
func (v Vector) AppendBinary(dst []byte) ([]byte, error) {
	return v.appendBinary(dst), nil
}

func (v Vector) appendBinary(dst []byte) []byte {
	dst = append(dst, TokenFormat)
	dst = binary.AppendUvarint(dst, uint64(len(v.ids)))
	for i, id := range v.ids {
		dst = appendEntry(dst, id, v.n[i])
	}
	return dst
}

// appendEntry appends one replica's entry as tokens and clocks encode it:
// name length, name, incarnation and counter.
func appendEntry(dst []byte, id ID, n uint64) []byte {
	at := len(dst)
	dst = append(dst, 0)
	dst = id.appendName(dst)
	dst[at] = byte(len(dst) - at - 1)
	dst = binary.AppendUvarint(dst, id.inc)
	return binary.AppendUvarint(dst, n)
}

// binarySize returns the length of v's binary form.
func (v Vector) binarySize() int {
	n := 1 + uvarintLen(uint64(len(v.ids)))
	for i, id := range v.ids {
		n += 1 + id.nameLen() + uvarintLen(id.inc) + uvarintLen(v.n[i])
	}
	return n
}

// uvarintLen is the length of x as a uvarint: one byte per 7 bits, at
// least one.
func uvarintLen(x uint64) int { return (bits.Len64(x|1) + 6) / 7 }

// MarshalBinary implements [encoding.BinaryMarshaler].
func (v Vector) MarshalBinary() ([]byte, error) {
	return v.appendBinary(make([]byte, 0, v.binarySize())), nil
}

// UnmarshalBinary implements [encoding.BinaryUnmarshaler] with the default
// [Limits]. It accepts only canonical input, so every vector it decodes
// re-encodes to data. On error *v is unchanged.
func (v *Vector) UnmarshalBinary(data []byte) error {
	w, err := decodeVector(data, Limits{})
	if err != nil {
		return err
	}
	*v = w
	return nil
}

// AppendText appends the text form of v (URL-safe base64 of the binary form).
func (v Vector) AppendText(dst []byte) ([]byte, error) {
	var buf [256]byte
	bin := v.appendBinary(buf[:0])
	return b64.AppendEncode(dst, bin), nil
}

// MarshalText implements [encoding.TextMarshaler]. The result is usable as
// an HTTP entity tag or If-Match value (once quoted).
func (v Vector) MarshalText() ([]byte, error) {
	return v.AppendText(nil)
}

// UnmarshalText implements [encoding.TextUnmarshaler]: it decodes the text
// form with the default [Limits], like [ParseToken]. On error *v is unchanged.
func (v *Vector) UnmarshalText(text []byte) error {
	w, err := parseToken(text, Limits{})
	if err != nil {
		return err
	}
	*v = w
	return nil
}

// Token returns the text form of v as a string.
func (v Vector) Token() string {
	b, _ := v.AppendText(nil)
	return string(b)
}

// ParseToken decodes the text form of a vector (what [Vector.Token]
// returns) within lim: the way to read a token that came from outside the
// process, such as an If-Match value. The text's length is checked against
// the limit before anything is decoded or allocated. A token that does not
// decode fails with a [*DecodeError] matching [ErrMalformedToken].
func ParseToken(s string, lim Limits) (Vector, error) {
	return parseToken(s, lim)
}

// parseToken takes the text as a string or a byte slice, so that neither
// form is copied before its length is checked.
func parseToken[S ~string | ~[]byte](text S, lim Limits) (Vector, error) {
	lim = lim.withDefaults()
	if len(text) == 0 {
		return Vector{}, &DecodeError{Reason: "empty"}
	}
	if limit := b64.EncodedLen(lim.MaxBytes); len(text) > limit {
		return Vector{}, &DecodeError{Reason: fmt.Sprintf("too large: %d text bytes, limit %d", len(text), limit)}
	}
	for i := range len(text) {
		// The base64 decoder skips CR and LF; a token must not contain them.
		if c := text[i]; c == '\r' || c == '\n' {
			return Vector{}, &DecodeError{Offset: i, Reason: "not base64: line break"}
		}
	}
	var buf [256]byte
	dst := buf[:]
	if n := b64.DecodedLen(len(text)); n > len(dst) {
		dst = make([]byte, n)
	}
	n, err := b64.Decode(dst, []byte(text))
	if err != nil {
		var bad base64.CorruptInputError
		errors.As(err, &bad)
		return Vector{}, &DecodeError{Offset: int(bad), Reason: "not base64"}
	}
	return decodeVector(dst[:n], lim)
}

// decodeVector decodes the binary form of a vector within lim. It accepts
// only canonical input, so every vector it returns re-encodes to data; it
// allocates only the result (its replicas and its counters), after checking
// the limits.
func decodeVector(data []byte, lim Limits) (Vector, error) {
	lim = lim.withDefaults()
	d := decoder{data: data}
	if len(data) == 0 {
		return Vector{}, d.fail("empty")
	}
	if len(data) > lim.MaxBytes {
		return Vector{}, d.fail(fmt.Sprintf("too large: %d bytes, limit %d", len(data), lim.MaxBytes))
	}
	if data[0] != TokenFormat {
		return Vector{}, d.fail(fmt.Sprintf("unknown format %d, want %d", data[0], TokenFormat))
	}
	d.off = 1
	count, err := d.uvarint()
	if err != nil {
		return Vector{}, err
	}
	if count > uint64(lim.MaxEntries) {
		return Vector{}, d.fail(fmt.Sprintf("too many entries: %d, limit %d", count, lim.MaxEntries))
	}
	if rest := uint64(len(data) - d.off); count > rest/minEntryBytes {
		return Vector{}, d.fail(fmt.Sprintf("truncated: %d entries cannot fit in %d bytes", count, rest))
	}
	if count == 0 {
		if d.off != len(data) {
			return Vector{}, d.fail("trailing bytes after the entries")
		}
		return Vector{}, nil
	}
	v := makeVector(int(count))
	for i := range v.ids {
		x, err := d.entry()
		if err != nil {
			return Vector{}, err
		}
		if i > 0 && !v.ids[i-1].less(x.id) {
			if v.ids[i-1] == x.id {
				return Vector{}, d.fail(fmt.Sprintf("not canonical: duplicate replica %v", x.id))
			}
			return Vector{}, d.fail(fmt.Sprintf("not canonical: replica %v after %v", x.id, v.ids[i-1]))
		}
		v.ids[i], v.n[i] = x.id, x.n
	}
	if d.off != len(data) {
		return Vector{}, d.fail(fmt.Sprintf("trailing bytes: %d", len(data)-d.off))
	}
	return v, nil
}

type decoder struct {
	data []byte
	off  int
}

func (d *decoder) fail(reason string) error {
	return &DecodeError{Offset: d.off, Reason: reason}
}

func (d *decoder) uvarint() (uint64, error) {
	// Most varints of a token or a clock are of one byte (name lengths,
	// counters of a few writes, entry counts), and a one-byte varint is
	// always in shortest form: read it without the general reader.
	if d.off < len(d.data) && d.data[d.off] < 0x80 {
		x := uint64(d.data[d.off])
		d.off++
		return x, nil
	}
	x, n := binary.Uvarint(d.data[d.off:])
	switch {
	case n == 0:
		return 0, d.fail("truncated: in varint")
	case n < 0:
		return 0, d.fail("out of range: varint overflows 64 bits")
	case n != uvarintLen(x):
		return 0, d.fail("not canonical: varint not in shortest form")
	}
	d.off += n
	return x, nil
}

func (d *decoder) entry() (entry, error) {
	if d.off >= len(d.data) {
		return entry{}, d.fail("truncated: missing entry")
	}
	l := int(d.data[d.off])
	if l == 0 || l > MaxNameLen {
		return entry{}, d.fail(fmt.Sprintf("invalid name: %d bytes, want 1 to %d", l, MaxNameLen))
	}
	d.off++
	if len(d.data)-d.off < l {
		return entry{}, d.fail("truncated: in name")
	}
	var name [MaxNameLen]byte
	for i, c := range d.data[d.off : d.off+l] {
		if !nameByte(c) {
			return entry{}, d.fail(fmt.Sprintf("invalid name: byte %q", c))
		}
		name[i] = c
	}
	d.off += l
	inc, err := d.uvarint()
	if err != nil {
		return entry{}, err
	}
	if inc > maxIncarnation {
		return entry{}, d.fail(fmt.Sprintf("out of range: incarnation %d", inc))
	}
	n, err := d.uvarint()
	if err != nil {
		return entry{}, err
	}
	if n == 0 || n > MaxCounter {
		return entry{}, d.fail(fmt.Sprintf("out of range: counter %d", n))
	}
	return entry{
		id: ID{
			hi:  binary.BigEndian.Uint64(name[:8]),
			lo:  binary.BigEndian.Uint64(name[8:]),
			inc: inc,
		},
		n: n,
	}, nil
}
