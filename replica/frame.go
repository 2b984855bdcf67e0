package replica

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"

	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

// The frame of every stored and replicated state.
//
//	format   1 byte, [StateFormat]
//	payload  the encoded state (see encodeState)
//	checksum 4 bytes, big-endian CRC-32C (Castagnoli) of format and payload
//
// The checksum covers every byte before it, the format byte included, so a
// damaged byte anywhere is caught before the payload is parsed: CRC-32C
// detects every error burst of up to 32 bits and every odd number of flipped
// bits, and misses other damage with probability 2⁻³². It guards against
// accidents (a flipped bit on a disk, a bus or a message), not against a peer
// that forges states on purpose: a forger recomputes any unkeyed checksum,
// SHA-256 included, so a stronger one would buy nothing against forgery and
// cost 5 to 8 times as much (BenchmarkFrame: CRC-32C is about 1.5% of
// encoding and decoding a hold with hold.Codec, 0.3% with JSON). What a
// well-formed state may claim is bounded separately (see [ErrUnissuedDot]).
//
// A frame whose checksum does not match is [ErrCorrupt]. A frame whose
// checksum matches but whose format byte is not one this release reads is
// [ErrMalformed] with an unknown format: it was written by a newer release,
// not damaged. Every format keeps this layout (format byte first, CRC-32C of
// everything before it last), so a reader can always tell the two apart.
const (
	// StateFormat is the format byte of the states this release writes.
	StateFormat = 1

	frameOverhead = 1 + crc32.Size
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// ErrCorrupt is wrapped by the error for a stored or replicated state whose
// checksum does not match its bytes: it was damaged on a disk or on the wire.
// It wraps [ErrMalformed], so code that handles malformed input handles it.
// Nothing is changed by a corrupt state; the replica's observer is told
// ([resolve.Corrupt]).
var ErrCorrupt error = &subError{msg: "replica: corrupt state: checksum mismatch", parent: ErrMalformed}

// subError is a sentinel error that is also another sentinel, so that
// errors.Is matches both without the message repeating a prefix.
type subError struct {
	msg    string
	parent error
}

func (e *subError) Error() string { return e.msg }
func (e *subError) Unwrap() error { return e.parent }

// beginFrame starts a frame in buf, dropping its contents but using its
// capacity: the format byte, after which the caller appends the payload.
func beginFrame(buf []byte) []byte { return append(buf[:0], StateFormat) }

// endFrame closes a frame begun by beginFrame: it appends the checksum of
// everything in it.
func endFrame(frame []byte) []byte {
	return binary.BigEndian.AppendUint32(frame, crc32.Checksum(frame, castagnoli))
}

// open checks a frame of at most max bytes and returns its payload, a
// subslice of data. The length is checked first, so that an oversized state
// costs nothing to refuse.
func open(data []byte, max int) ([]byte, error) {
	if len(data) > max {
		return nil, &TooLargeError{What: "bytes", Size: len(data), Limit: max}
	}
	if len(data) < frameOverhead {
		return nil, fmt.Errorf("%w: %d bytes, shorter than the %d-byte frame", ErrCorrupt, len(data), frameOverhead)
	}
	body, sum := data[:len(data)-crc32.Size], data[len(data)-crc32.Size:]
	want, got := binary.BigEndian.Uint32(sum), crc32.Checksum(body, castagnoli)
	if want != got {
		return nil, fmt.Errorf("%w: crc32c %08x, computed %08x over %d bytes", ErrCorrupt, want, got, len(body))
	}
	if body[0] != StateFormat {
		return nil, fmt.Errorf("%w: unknown state format %d (this release reads %d)", ErrMalformed, body[0], StateFormat)
	}
	return body[1:], nil
}

// isCorrupt reports whether err is about a damaged state.
func isCorrupt(err error) bool { return errors.Is(err, ErrCorrupt) }

// encode encodes and frames the state of key into buf's capacity for the
// store and the wire, and checks it against the limits a decoder enforces:
// what this replica stores, it and its peers can read back. data[from:to]
// are the bytes of the last value encoded.
func (r *Replica[T]) encode(key string, buf []byte, s resolve.Siblings[T]) (data []byte, from, to int, err error) {
	data, from, to, err = encodeStateLast(beginFrame(buf), s, r.codec, r.cmdKeys)
	if err != nil {
		return nil, 0, 0, err
	}
	data = endFrame(data)
	if err := r.fits(key, s, data); err != nil {
		return nil, 0, 0, err
	}
	return data, from, to, nil
}

// decode checks a frame and decodes the state of key in it. A corrupt or
// oversized frame is reported to the observer.
func (r *Replica[T]) decode(key string, data []byte) (resolve.Siblings[T], error) {
	payload, err := r.openFrame(key, data)
	if err != nil {
		return resolve.Siblings[T]{}, err
	}
	return decodeStateKeys(payload, r.codec, r.cmdKeys, r.stateLimits(), r.fields)
}

// openFrame opens the frame of a state of key, reporting a corrupt or
// oversized one.
func (r *Replica[T]) openFrame(key string, data []byte) ([]byte, error) {
	payload, err := open(data, r.maxRecord)
	if err != nil {
		var tl *TooLargeError
		switch {
		case errors.As(err, &tl):
			tl.Key = key
			r.report(resolve.Event{Kind: resolve.TooLarge, Entity: r.res.Entity()}, key, err)
		case isCorrupt(err):
			r.report(resolve.Event{Kind: resolve.Corrupt, Entity: r.res.Entity()}, key, err)
		}
		return nil, err
	}
	return payload, nil
}

// storedContext reads the causal context and the number of siblings of the
// stored value of key at revision rev, without decoding its values: what
// the reconciliation index needs. A value that cannot be read quarantines
// the record, as a full read would.
func (r *Replica[T]) storedContext(key string, data []byte, rev uint64) (version.Vector, int, error) {
	if r.nQuarantine.Load() > 0 {
		if err := r.quarantined(key, rev); err != nil {
			return version.Vector{}, 0, err
		}
	}
	payload, err := r.openFrame(key, data)
	var join version.Vector
	var n int
	if err == nil {
		join, n, err = decodeContext(payload, r.stateLimits())
	}
	if unreadable(err) {
		return version.Vector{}, 0, r.setAside(key, rev, err)
	}
	return join, n, err
}

// frameContext reads the causal context of a state received from a peer,
// checking its frame, without reporting: Apply reports what is wrong.
func (r *Replica[T]) frameContext(data []byte) (version.Vector, error) {
	payload, err := open(data, r.maxRecord)
	if err != nil {
		return version.Vector{}, err
	}
	join, _, err := decodeContext(payload, r.stateLimits())
	return join, err
}

// openStateFrame checks the frame of a state, its checksum included, and
// returns the clock framing of the payload without decoding values (the
// fast path of Apply; what is wrong, it leaves the full path to report).
func (r *Replica[T]) openStateFrame(data []byte) (version.ClockFrame, error) {
	_, f, err := r.openState(data)
	return f, err
}

// openState is openStateFrame that also returns the payload.
func (r *Replica[T]) openState(data []byte) ([]byte, version.ClockFrame, error) {
	payload, err := open(data, r.maxRecord)
	if err != nil {
		return nil, version.ClockFrame{}, err
	}
	f, err := stateFrame(payload, r.stateLimits())
	return payload, f, err
}

// DecodeContext returns the causal context of an encoded state — what
// [Replica.Export] returns and a [Store] holds — checking its frame but not
// decoding its values, within lim: lim.MaxBytes is the record limit here (0
// means [DefaultMaxRecordBytes], as for a Replica) and lim.MaxEntries the
// limit on siblings and replicas (0 means version's default). It is for
// code that routes or compares states without a
// [Replica] of the record type, such as a store adapter deciding whether a
// copy is already covered. A damaged state fails with an error wrapping
// [ErrCorrupt], any other malformed one with an error wrapping
// [ErrMalformed].
func DecodeContext(data []byte, lim version.Limits) (version.Vector, error) {
	if lim.MaxBytes <= 0 {
		lim.MaxBytes = DefaultMaxRecordBytes
	}
	payload, err := open(data, lim.MaxBytes)
	if err != nil {
		return version.Vector{}, err
	}
	join, _, err := decodeContext(payload, lim)
	return join, err
}
