package claim

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"time"
)

// Limits on what a claim holds, checked on every call and before anything
// is allocated when a stored claim is decoded.
const (
	// MaxName is the longest claim name, in bytes.
	MaxName = 512
	// MaxOwner is the longest owner, in bytes.
	MaxOwner = 256
	// MaxData is the most data an owner may record at Commit, in bytes.
	MaxData = 1024
)

// The stored form of a claim:
//
//	'C' 1                      magic and format version
//	state                      one byte
//	uvarint token
//	varint until, varint since Unix nanoseconds; 0 is the zero time
//	uvarint len, owner bytes
//	uvarint len, data bytes
//	4 bytes                    CRC-32C (Castagnoli) of everything before, big-endian
//
// The name is the store key and is not repeated.
const (
	magic         = 'C'
	formatVersion = 1
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// encode returns the stored form of c.
func encode(c Claim) []byte {
	b := make([]byte, 0, 32+len(c.Owner)+len(c.Data))
	b = append(b, magic, formatVersion, byte(c.State))
	b = binary.AppendUvarint(b, c.Token)
	b = binary.AppendVarint(b, unixNano(c.Until))
	b = binary.AppendVarint(b, unixNano(c.Since))
	b = binary.AppendUvarint(b, uint64(len(c.Owner)))
	b = append(b, c.Owner...)
	b = binary.AppendUvarint(b, uint64(len(c.Data)))
	b = append(b, c.Data...)
	return binary.BigEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromUnixNano(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

var errShort = errors.New("truncated or overlong field")

// decoder reads the stored form, remembering the first error.
type decoder struct {
	b   []byte
	err error
}

// uvarint reads an unsigned varint in its shortest form: a longer one
// would decode to the same claim but not re-encode to the same bytes.
func (d *decoder) uvarint() uint64 { return shortest(d, binary.Uvarint, binary.AppendUvarint) }

// varint reads a signed varint in its shortest form, as uvarint does.
func (d *decoder) varint() int64 { return shortest(d, binary.Varint, binary.AppendVarint) }

// shortest reads a varint with decode and refuses it unless encode writes
// it back in as many bytes.
func shortest[T int64 | uint64](d *decoder, decode func([]byte) (T, int), encode func([]byte, T) []byte) T {
	v, n := decode(d.b)
	if n <= 0 || n != len(encode(nil, v)) {
		d.fail(errShort)
		return 0
	}
	d.b = d.b[n:]
	return v
}

// str reads a length-prefixed string of at most max bytes; the length is
// checked before anything is allocated.
func (d *decoder) str(max int, what string) string {
	n := d.uvarint()
	switch {
	case d.err != nil:
		return ""
	case n > uint64(max):
		d.fail(fmt.Errorf("%s of %d bytes, limit %d", what, n, max))
		return ""
	case n > uint64(len(d.b)):
		d.fail(errShort)
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

func (d *decoder) fail(err error) {
	if d.err == nil {
		d.err = err
	}
}

// decode parses the stored form of the claim on name. It never panics; an
// error wraps ErrMalformed.
func decode(name string, data []byte) (Claim, error) {
	c, err := decodeClaim(data)
	if err != nil {
		return Claim{}, fmt.Errorf("%w: %q: %w", ErrMalformed, name, err)
	}
	c.Name = name
	return c, nil
}

func decodeClaim(data []byte) (Claim, error) {
	if len(data) < 3+4 {
		return Claim{}, errShort
	}
	body, sum := data[:len(data)-4], binary.BigEndian.Uint32(data[len(data)-4:])
	if crc32.Checksum(body, castagnoli) != sum {
		return Claim{}, errors.New("checksum mismatch")
	}
	if body[0] != magic || body[1] != formatVersion {
		return Claim{}, fmt.Errorf("unknown format %#x %d", body[0], body[1])
	}
	c := Claim{State: State(body[2])}
	d := &decoder{b: body[3:]}
	c.Token = d.uvarint()
	c.Until = fromUnixNano(d.varint())
	c.Since = fromUnixNano(d.varint())
	c.Owner = d.str(MaxOwner, "owner")
	c.Data = d.str(MaxData, "data")
	if d.err == nil && len(d.b) > 0 {
		d.fail(fmt.Errorf("%d trailing bytes", len(d.b)))
	}
	if d.err != nil {
		return Claim{}, d.err
	}
	return c, c.validate()
}

// validate checks the rules every stored claim keeps.
func (c Claim) validate() error {
	switch {
	case c.State >= numStates:
		return fmt.Errorf("unknown state %d", c.State)
	case c.State == StateFree && (c.Owner != "" || c.Data != "" || !c.Until.IsZero()):
		return errors.New("a free claim with an owner, data or deadline")
	case c.State != StateFree && (c.Owner == "" || c.Token == 0):
		return errors.New("a held claim without an owner or token")
	case c.State == StatePending && (c.Data != "" || c.Until.IsZero()):
		return errors.New("a pending claim with data or without a deadline")
	case c.State == StateCommitted && !c.Until.IsZero():
		return errors.New("a committed claim with a deadline")
	}
	return nil
}
