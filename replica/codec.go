package replica

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"

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

// ErrMalformed is wrapped by every error about a stored or replicated record
// that does not decode: a damaged or hostile message changes nothing.
var ErrMalformed = errors.New("replica: malformed record")

// encodeState encodes a record's siblings: the clock framing from package
// version, and for each branch its stamp's time and the codec's bytes (the
// stamp's dot is the sibling's dot, so it is not stored twice).
func encodeState[T any](s resolve.Siblings[T], codec Codec[T]) ([]byte, error) {
	return s.AppendBinary(nil, func(dst []byte, b policy.Branch[T]) ([]byte, error) {
		dst = binary.AppendVarint(dst, b.Stamp.Time.Wall)
		dst = binary.AppendUvarint(dst, uint64(b.Stamp.Time.Logical))
		return codec.Append(dst, b.Value)
	})
}

// decodeState decodes what encodeState wrote, within lim.
func decodeState[T any](data []byte, codec Codec[T], lim version.Limits) (resolve.Siblings[T], error) {
	s, err := version.DecodeClock(data, lim, func(d version.Dot, b []byte) (policy.Branch[T], error) {
		wall, n := binary.Varint(b)
		if n <= 0 {
			return policy.Branch[T]{}, errors.New("bad stamp time")
		}
		b = b[n:]
		logical, n := binary.Uvarint(b)
		if n <= 0 || logical > 1<<32-1 {
			return policy.Branch[T]{}, errors.New("bad stamp counter")
		}
		v, err := codec.Decode(b[n:])
		if err != nil {
			return policy.Branch[T]{}, err
		}
		return policy.Branch[T]{Value: v, Stamp: version.Stamp{Time: version.Timestamp{Wall: wall, Logical: uint32(logical)}, Dot: d}}, nil
	})
	if err != nil {
		return s, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if s.Len() == 0 && !s.Join().IsZero() {
		// Every write leaves a value, so a history without one was not made
		// by a replica; accepting it would mark writes as seen that never were.
		return resolve.Siblings[T]{}, fmt.Errorf("%w: a causal context %v without any value", ErrMalformed, s.Join())
	}
	return s, nil
}
