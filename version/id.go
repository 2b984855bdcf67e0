package version

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
)

// MaxNameLen is the longest replica name, in bytes.
const MaxNameLen = 16

// ID identifies one incarnation of a replica: a short name ("lisbon") and an
// incarnation number that grows each time the replica restarts without its
// state.
//
// Dots are unique only per ID, so a replica that lost its state must never
// reuse its old ID: it would reissue dots that other replicas already hold and
// its new writes would be discarded as already seen (Riak's KV679 data loss).
// Call [ID.Next] (with the incarnation persisted apart from the data) or
// [NewIncarnation] (which needs no persistence) when starting without state.
//
// A name is 1 to [MaxNameLen] bytes of ASCII letters, digits, '-', '_' and
// '.'. IDs order by name, then incarnation. The text form is "name" for
// incarnation 0 and "name#N" otherwise.
//
// ID is a small comparable value; the zero ID is invalid (see [ID.IsZero]).
type ID struct {
	hi, lo uint64 // name bytes, big-endian, zero padded
	inc    uint64
}

// NewID returns the ID of incarnation inc of the replica called name. The
// incarnation must not exceed [MaxCounter], the largest a token can carry.
func NewID(name string, inc uint64) (ID, error) {
	if err := checkName(name); err != nil {
		return ID{}, err
	}
	if inc > maxIncarnation {
		return ID{}, fmt.Errorf("%w: incarnation %d above %d", ErrInvalidID, inc, uint64(maxIncarnation))
	}
	var b [MaxNameLen]byte
	copy(b[:], name)
	return ID{
		hi:  binary.BigEndian.Uint64(b[:8]),
		lo:  binary.BigEndian.Uint64(b[8:]),
		inc: inc,
	}, nil
}

// ParseID parses the text form of an ID: "name" or "name#N", with N a
// decimal number from 1 without leading zeros. It accepts only the form
// [ID.String] prints, so each ID has exactly one text form.
func ParseID(s string) (ID, error) {
	name, incText, hasInc := strings.Cut(s, "#")
	var inc uint64
	if hasInc {
		n, err := parseCounter(incText)
		if err != nil {
			return ID{}, fmt.Errorf("%w: incarnation %q", ErrInvalidID, incText)
		}
		inc = n
	}
	return NewID(name, inc)
}

// parseCounter parses a canonical decimal number in 1..[MaxCounter]: digits
// only, no sign, no leading zero.
func parseCounter(s string) (uint64, error) {
	if s == "" || s[0] == '0' {
		return 0, strconv.ErrSyntax
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, strconv.ErrSyntax
		}
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n > MaxCounter {
		return 0, strconv.ErrRange
	}
	return n, nil
}

// MustID is like [ParseID] but panics on error. It is meant for tests,
// examples and constants known to be valid.
func MustID(s string) ID {
	id, err := ParseID(s)
	if err != nil {
		panic(err)
	}
	return id
}

func checkName(name string) error {
	if len(name) == 0 || len(name) > MaxNameLen {
		return fmt.Errorf("%w: name %q has %d bytes, want 1 to %d", ErrInvalidID, name, len(name), MaxNameLen)
	}
	for i := 0; i < len(name); i++ {
		if !nameByte(name[i]) {
			return fmt.Errorf("%w: name %q has byte %q at %d", ErrInvalidID, name, name[i], i)
		}
	}
	return nil
}

func nameByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '_' || c == '.'
}

// IsZero reports whether id is the zero ID, which names no replica.
func (id ID) IsZero() bool { return id == ID{} }

// Name returns the replica name.
func (id ID) Name() string {
	var b [MaxNameLen]byte
	n := id.appendName(b[:0])
	return string(n)
}

func (id ID) appendName(dst []byte) []byte {
	var b [MaxNameLen]byte
	binary.BigEndian.PutUint64(b[:8], id.hi)
	binary.BigEndian.PutUint64(b[8:], id.lo)
	n := 0
	for n < MaxNameLen && b[n] != 0 {
		n++
	}
	return append(dst, b[:n]...)
}

// nameLen returns the length of the name in bytes.
func (id ID) nameLen() int {
	var b [MaxNameLen]byte
	return len(id.appendName(b[:0]))
}

// Incarnation returns the incarnation number.
func (id ID) Incarnation() uint64 { return id.inc }

// Next returns the ID of the next incarnation of the same replica: what a
// replica that restarts without its state must use when it persisted its last
// incarnation apart from its data. It fails only when the incarnation would wrap.
func (id ID) Next() (ID, error) {
	if id.IsZero() {
		return ID{}, fmt.Errorf("%w: zero ID has no next incarnation", ErrInvalidID)
	}
	if id.inc == maxIncarnation {
		return ID{}, fmt.Errorf("%w: incarnation of %v", ErrCounterOverflow, id)
	}
	id.inc++
	return id, nil
}

// maxIncarnation bounds incarnations so that they fit the token encoding's
// counter range.
const maxIncarnation = MaxCounter

// Compare returns -1, 0 or +1 as id orders before, equal to or after o.
func (id ID) Compare(o ID) int {
	switch {
	case id.hi != o.hi:
		return cmpU64(id.hi, o.hi)
	case id.lo != o.lo:
		return cmpU64(id.lo, o.lo)
	default:
		return cmpU64(id.inc, o.inc)
	}
}

// less reports whether id orders before o; it is the hot path of vector walks.
func (id ID) less(o ID) bool {
	if id.hi != o.hi {
		return id.hi < o.hi
	}
	if id.lo != o.lo {
		return id.lo < o.lo
	}
	return id.inc < o.inc
}

func cmpU64(a, b uint64) int {
	if a < b {
		return -1
	}
	if a > b {
		return 1
	}
	return 0
}

// String returns the text form: "name" or "name#N".
func (id ID) String() string {
	if id.IsZero() {
		return "<zero ID>"
	}
	return string(id.AppendText(nil))
}

// AppendText appends the text form of id to dst.
func (id ID) AppendText(dst []byte) []byte {
	dst = id.appendName(dst)
	if id.inc != 0 {
		dst = append(dst, '#')
		dst = strconv.AppendUint(dst, id.inc, 10)
	}
	return dst
}

// MarshalText implements [encoding.TextMarshaler].
func (id ID) MarshalText() ([]byte, error) {
	if id.IsZero() {
		return nil, fmt.Errorf("%w: zero ID", ErrInvalidID)
	}
	return id.AppendText(nil), nil
}

// UnmarshalText implements [encoding.TextUnmarshaler].
func (id *ID) UnmarshalText(text []byte) error {
	v, err := ParseID(string(text))
	if err != nil {
		return err
	}
	*id = v
	return nil
}

// NewIncarnation returns an ID for the replica called name with a random
// 48-bit incarnation. It is the safe choice for a replica that starts without
// its state and has nowhere durable to keep an incarnation counter: two
// restarts collide with probability 2^-48 (about 2e-9 over a thousand
// restarts). Sequential incarnations from [ID.Next] encode shorter.
func NewIncarnation(name string) (ID, error) {
	var b [8]byte
	if _, err := rand.Read(b[:6]); err != nil {
		return ID{}, fmt.Errorf("version: reading random incarnation: %w", err)
	}
	inc := binary.LittleEndian.Uint64(b[:]) | 1 // never incarnation 0
	return NewID(name, inc)
}
