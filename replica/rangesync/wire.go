package rangesync

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Errors a caller branches on with errors.Is.
var (
	// ErrMalformed is wrapped by every error about a message that does not
	// decode or breaks the protocol; the error is a [*MalformedError].
	// Nothing changes when a message is refused.
	ErrMalformed = errors.New("rangesync: malformed message")
	// ErrVersion: the peer speaks another version of the protocol.
	ErrVersion = errors.New("rangesync: unsupported protocol version")
	// ErrKeyTooLong: a key longer than [MaxKeyLen].
	ErrKeyTooLong = errors.New("rangesync: key too long")
	// ErrTooManyRounds: an [Initiator] ran out of Options.MaxRounds before
	// the peer agreed.
	ErrTooManyRounds = errors.New("rangesync: too many rounds")
	// ErrInvalidOptions: [Options] out of range.
	ErrInvalidOptions = errors.New("rangesync: invalid options")
)

// MalformedError says where and why a message was refused.
type MalformedError struct {
	Offset int    // byte offset in the message where decoding stopped
	Reason string // what was wrong there
}

// Error implements the error interface.
func (e *MalformedError) Error() string {
	return fmt.Sprintf("rangesync: malformed message at byte %d: %s", e.Offset, e.Reason)
}

// Unwrap makes errors.Is(err, ErrMalformed) true.
func (e *MalformedError) Unwrap() error { return ErrMalformed }

// ProtocolVersion is the first byte of every message.
const ProtocolVersion byte = 0x61

// Modes of a range in a message.
const (
	modeSkip        byte = 0 // the range is settled
	modeFingerprint byte = 1 // the sender's fingerprint of the range
	modeList        byte = 2 // every item the sender holds in the range
	modeDiff        byte = 3 // the keys that differ, from the responder to an initiator's list
)

// Flags of a key in a diff, from the initiator's point of view.
const (
	flagHave byte = 1 // the initiator holds a version the responder lacks
	flagNeed byte = 2 // the responder holds a version the initiator lacks
)

const (
	buckets = 16 // a mismatching range with more items splits into this many
	listMax = 16 // a range with at most this many items is listed whole
	diffMax = 2 * listMax
)

// bound is a range boundary: a key, or the end of the key space.
type bound struct {
	key string
	inf bool
}

var infinity = bound{inf: true}

func (b bound) less(c bound) bool {
	switch {
	case b.inf:
		return false
	case c.inf:
		return true
	}
	return b.key < c.key
}

// wireItem is an item of a list (key and tag) or of a diff (key and flag).
type wireItem struct {
	key  string
	tag  tag
	flag byte
}

// span is one decoded range: its upper bound (the lower bound is the
// previous range's upper bound) and its payload.
type span struct {
	upper bound
	mode  byte
	fp    fingerprint
	items []wireItem
}

// decoder reads a message range by range, validating everything before it
// allocates: no count or length is trusted beyond the bytes that remain.
type decoder struct {
	msg       []byte
	off       int
	prev      string // the previous bound, which the next is compressed against
	end       bool   // a range up to infinity was read
	initiator bool   // the reader started the exchange: a diff is allowed
}

func newDecoder(msg []byte, limit int, initiator bool) (*decoder, error) {
	d := &decoder{msg: msg, initiator: initiator}
	switch {
	case len(msg) > limit:
		return nil, d.fail(fmt.Sprintf("%d bytes, frame limit %d", len(msg), limit))
	case len(msg) == 0:
		return nil, d.fail("empty message")
	case msg[0] != ProtocolVersion:
		return nil, fmt.Errorf("%w: 0x%02x, this side speaks 0x%02x", ErrVersion, msg[0], ProtocolVersion)
	}
	d.off = 1
	return d, nil
}

func (d *decoder) fail(reason string) error {
	return &MalformedError{Offset: d.off, Reason: reason}
}

func (d *decoder) more() bool { return d.off < len(d.msg) }

func (d *decoder) uvarint(what string) (uint64, error) {
	v, n := binary.Uvarint(d.msg[d.off:])
	if n <= 0 {
		return 0, d.fail("bad varint for " + what)
	}
	d.off += n
	return v, nil
}

func (d *decoder) byte(what string) (byte, error) {
	if d.off >= len(d.msg) {
		return 0, d.fail("truncated " + what)
	}
	b := d.msg[d.off]
	d.off++
	return b, nil
}

func (d *decoder) bytes(n int, what string) ([]byte, error) {
	if n > len(d.msg)-d.off {
		return nil, d.fail("truncated " + what)
	}
	b := d.msg[d.off : d.off+n]
	d.off += n
	return b, nil
}

// key reads a key compressed against prev: the length of the prefix it
// shares with prev, then the rest.
func (d *decoder) key(prev, what string) (string, error) {
	shared, err := d.uvarint(what)
	if err != nil {
		return "", err
	}
	if shared > uint64(len(prev)) {
		return "", d.fail(fmt.Sprintf("%s shares %d bytes with a previous key of %d", what, shared, len(prev)))
	}
	n, err := d.uvarint(what)
	if err != nil {
		return "", err
	}
	if n > MaxKeyLen || int(shared)+int(n) > MaxKeyLen {
		return "", d.fail(fmt.Sprintf("%s longer than %d bytes", what, MaxKeyLen))
	}
	rest, err := d.bytes(int(n), what)
	if err != nil {
		return "", err
	}
	return prev[:shared] + string(rest), nil
}

// next reads the range that follows lower.
func (d *decoder) next(lower bound) (span, error) {
	var r span
	if d.end {
		return r, d.fail("a range after the end of the key space")
	}
	ub, err := d.bound()
	if err != nil {
		return r, err
	}
	if !lower.less(ub) {
		return r, d.fail(fmt.Sprintf("bound %q does not follow %q", ub.key, lower.key))
	}
	r.upper = ub
	if r.mode, err = d.byte("mode"); err != nil {
		return r, err
	}
	switch r.mode {
	case modeSkip:
	case modeFingerprint:
		b, err := d.bytes(FingerprintLen, "fingerprint")
		if err != nil {
			return r, err
		}
		r.fp = fingerprint(b)
	case modeList:
		r.items, err = d.items(lower, ub, modeList)
	case modeDiff:
		if !d.initiator {
			return r, d.fail("a diff sent to the responder")
		}
		r.items, err = d.items(lower, ub, modeDiff)
	default:
		return r, d.fail(fmt.Sprintf("unknown mode %d", r.mode))
	}
	return r, err
}

// bound reads a range's upper bound: 0 for the end of the key space, or 1
// plus the length of the prefix shared with the previous bound, then the
// rest.
func (d *decoder) bound() (bound, error) {
	if d.off < len(d.msg) && d.msg[d.off] == 0 {
		d.off++
		d.end = true
		return infinity, nil
	}
	shared, err := d.uvarint("bound")
	if err != nil {
		return bound{}, err
	}
	shared--
	if shared > uint64(len(d.prev)) {
		return bound{}, d.fail(fmt.Sprintf("bound shares %d bytes with a previous bound of %d", shared, len(d.prev)))
	}
	n, err := d.uvarint("bound")
	if err != nil {
		return bound{}, err
	}
	if n > MaxKeyLen || int(shared)+int(n) > MaxKeyLen {
		return bound{}, d.fail(fmt.Sprintf("bound longer than %d bytes", MaxKeyLen))
	}
	rest, err := d.bytes(int(n), "bound")
	if err != nil {
		return bound{}, err
	}
	d.prev = d.prev[:shared] + string(rest)
	return bound{key: d.prev}, nil
}

// items reads a list or a diff (mode), whose keys must rise strictly within
// [lower, upper).
func (d *decoder) items(lower, upper bound, mode byte) ([]wireItem, error) {
	what, max := "list", listMax
	if mode == modeDiff {
		what, max = "diff", diffMax
	}
	n, err := d.uvarint(what + " length")
	if err != nil {
		return nil, err
	}
	if n > uint64(max) {
		return nil, d.fail(fmt.Sprintf("%s of %d items, limit %d", what, n, max))
	}
	out := make([]wireItem, 0, n)
	prev := ""
	for i := range int(n) {
		k, err := d.key(prev, what+" key")
		if err != nil {
			return nil, err
		}
		if i == 0 && k < lower.key || i > 0 && k <= prev || !(bound{key: k}).less(upper) {
			return nil, d.fail(fmt.Sprintf("%s key %q out of order or outside its range", what, k))
		}
		it := wireItem{key: k}
		if mode == modeList {
			b, err := d.bytes(TagLen, "tag")
			if err != nil {
				return nil, err
			}
			it.tag = tag(b)
		} else if it.flag, err = d.byte("flag"); err != nil {
			return nil, err
		} else if it.flag < flagHave || it.flag > flagHave|flagNeed {
			return nil, d.fail(fmt.Sprintf("diff flag %d", it.flag))
		}
		out = append(out, it)
		prev = k
	}
	return out, nil
}

// writer builds a message. Ranges are written with their lower bound: a gap
// since the previous range becomes one skip, and the skip up to the end of
// the key space is left implicit.
type writer struct {
	buf  []byte
	prev string // the previous bound written, for compression
	end  bound  // the upper bound of the previous range
	n    int    // ranges written other than skips
}

// mark is a writer's state, to undo a range that does not fit.
type mark struct {
	len  int
	prev string
	end  bound
	n    int
}

func newWriter(capacity int) *writer {
	w := &writer{buf: make([]byte, 1, capacity)}
	w.buf[0] = ProtocolVersion
	return w
}

func (w *writer) mark() mark    { return mark{len(w.buf), w.prev, w.end, w.n} }
func (w *writer) reset(m mark)  { w.buf, w.prev, w.end, w.n = w.buf[:m.len], m.prev, m.end, m.n }
func (w *writer) payload() bool { return w.n > 0 }
func (w *writer) bytes() []byte { return w.buf }
func (w *writer) size() int     { return len(w.buf) }
func (w *writer) uvarint(x int) { w.buf = binary.AppendUvarint(w.buf, uint64(x)) }
func (w *writer) raw(b ...byte) { w.buf = append(w.buf, b...) }
func (w *writer) str(s string)  { w.buf = append(w.buf, s...) }
func sharedPrefix(a, b string) int {
	n := min(len(a), len(b))
	for i := range n {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}

func (w *writer) bound(b bound) {
	if b.inf {
		w.raw(0)
		return
	}
	shared := sharedPrefix(w.prev, b.key)
	w.uvarint(shared + 1)
	w.uvarint(len(b.key) - shared)
	w.str(b.key[shared:])
	w.prev = b.key
}

// open starts the range [lower, upper) with mode; the caller writes its
// payload.
func (w *writer) open(lower, upper bound, mode byte) {
	if w.end.less(lower) {
		w.bound(lower)
		w.raw(modeSkip)
	}
	w.bound(upper)
	w.raw(mode)
	w.end = upper
	w.n++
}

func (w *writer) fingerprint(lower, upper bound, fp fingerprint) {
	w.open(lower, upper, modeFingerprint)
	w.raw(fp[:]...)
}

// key writes k compressed against prev.
func (w *writer) key(prev, k string) {
	shared := sharedPrefix(prev, k)
	w.uvarint(shared)
	w.uvarint(len(k) - shared)
	w.str(k[shared:])
}

func (w *writer) items(lower, upper bound, mode byte, items []wireItem) {
	w.open(lower, upper, mode)
	w.uvarint(len(items))
	prev := ""
	for _, it := range items {
		w.key(prev, it.key)
		if mode == modeList {
			w.raw(it.tag[:]...)
		} else {
			w.raw(it.flag)
		}
		prev = it.key
	}
}
