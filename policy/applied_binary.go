package policy

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
)

// ErrInvalidApplied is matched (errors.Is) by the [*AppliedError] that
// [Applied.UnmarshalBinary] returns for bytes that are not the binary form
// of an Applied set.
var ErrInvalidApplied = errors.New("policy: invalid applied keys")

// AppliedError describes bytes that are not the binary form of an
// [Applied] set: what is wrong and where. It matches [ErrInvalidApplied].
type AppliedError struct {
	Offset int    // where in the input the problem was found
	Reason string // what is wrong
}

func (e *AppliedError) Error() string {
	return fmt.Sprintf("policy: invalid applied keys at byte %d: %s", e.Offset, e.Reason)
}

// Unwrap returns [ErrInvalidApplied].
func (e *AppliedError) Unwrap() error { return ErrInvalidApplied }

// AppendBinary implements encoding.BinaryAppender: it appends the binary
// form of a to dst, and never fails. The form:
//
//	count    uvarint, the number of keys; nothing follows for none
//	newest   varint, the newest time of the set (Unix nanoseconds)
//	count times, by increasing key:
//	         length  uvarint, the key's length
//	         key     its bytes
//	         age     uvarint, the newest time minus the key's
//
// The form is canonical: one set has one encoding, and
// [Applied.UnmarshalBinary] refuses anything else (keys out of order or
// repeated, a set whose newest time no key has, trailing bytes). A key's
// time costs its distance to the newest, a few bytes within a horizon of
// hours. Keys are not prefix-compressed, so that the decoded keys never
// take more bytes than the input. Package replica stores a record's applied
// keys in this form, in place of the record codec's.
func (a Applied) AppendBinary(dst []byte) ([]byte, error) {
	dst = binary.AppendUvarint(dst, uint64(len(a.e)))
	if len(a.e) == 0 {
		return dst, nil
	}
	newest := a.newest()
	dst = binary.AppendVarint(dst, newest)
	for _, x := range a.e {
		dst = binary.AppendUvarint(dst, uint64(len(x.key)))
		dst = append(dst, x.key...)
		dst = binary.AppendUvarint(dst, uint64(newest)-uint64(x.at))
	}
	return dst, nil
}

// MarshalBinary implements encoding.BinaryMarshaler (see AppendBinary).
func (a Applied) MarshalBinary() ([]byte, error) { return a.AppendBinary(nil) }

// UnmarshalBinary implements encoding.BinaryUnmarshaler: it decodes what
// AppendBinary wrote, and only that (the form is canonical), without
// keeping data. Anything else is an [*AppliedError] and leaves a
// unchanged. It allocates twice, whatever the number of keys — the entries
// and one string holding every key — and never more than a small multiple
// of the input's length.
func (a *Applied) UnmarshalBinary(data []byte) error {
	d := appliedDecoder{b: data}
	e := d.decode()
	if d.err != nil {
		return d.err
	}
	*a = Applied{e: e}
	return nil
}

// newest returns the latest time of a non-empty set.
func (a Applied) newest() int64 {
	newest := a.e[0].at
	for _, x := range a.e[1:] {
		newest = max(newest, x.at)
	}
	return newest
}

// appliedDecoder reads the binary form, remembering the first error.
type appliedDecoder struct {
	b   []byte
	off int
	err error
}

func (d *appliedDecoder) fail(reason string) {
	if d.err == nil {
		d.err = &AppliedError{Offset: d.off, Reason: reason}
	}
}

func (d *appliedDecoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	x, n := binary.Uvarint(d.b[d.off:])
	if n <= 0 || n > 1 && d.b[d.off+n-1] == 0 { // overlong: not canonical
		d.fail("bad varint")
		return 0
	}
	d.off += n
	return x
}

func (d *appliedDecoder) varint() int64 {
	ux := d.uvarint()
	x := int64(ux >> 1)
	if ux&1 != 0 {
		x = ^x
	}
	return x
}

// decode decodes the whole input; nil for an empty set or on error.
func (d *appliedDecoder) decode() []appliedKey {
	n := d.uvarint()
	if d.err != nil || n == 0 {
		d.end()
		return nil
	}
	newest := d.varint()
	// Every key takes at least two bytes: check the count before
	// allocating for it.
	if d.err == nil && n > uint64(len(d.b)-d.off)/2 {
		d.fail(fmt.Sprintf("%d keys in %d bytes", n, len(d.b)-d.off))
	}
	if d.err != nil {
		return nil
	}
	var sb strings.Builder
	sb.Grow(len(d.b) - d.off) // the keys' bytes are fewer
	e := make([]appliedKey, n)
	sawNewest := false
	for i := range e {
		k := d.key(&sb)
		if d.err == nil && i > 0 && k <= e[i-1].key {
			d.fail("keys out of order or repeated")
		}
		age := d.uvarint()
		if d.err == nil && age > uint64(newest)+1<<63 {
			d.fail(fmt.Sprintf("an age of %d before %d", age, newest))
		}
		if d.err != nil {
			return nil
		}
		e[i] = appliedKey{key: k, at: int64(uint64(newest) - age)}
		sawNewest = sawNewest || age == 0
	}
	if !sawNewest {
		d.fail("no key has the newest time")
	}
	d.end()
	return e
}

// key reads one key into sb and returns it, a substring of sb's bytes.
func (d *appliedDecoder) key(sb *strings.Builder) string {
	n := d.uvarint()
	if d.err == nil && n > uint64(len(d.b)-d.off) {
		d.fail(fmt.Sprintf("a key of %d bytes in %d", n, len(d.b)-d.off))
	}
	if d.err != nil {
		return ""
	}
	start := sb.Len()
	sb.Write(d.b[d.off : d.off+int(n)])
	d.off += int(n)
	return sb.String()[start:]
}

// end checks that the input is all read.
func (d *appliedDecoder) end() {
	if d.err == nil && d.off != len(d.b) {
		d.fail(fmt.Sprintf("%d bytes after the keys", len(d.b)-d.off))
	}
}
