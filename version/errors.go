package version

import (
	"errors"
	"fmt"
)

// Errors a caller can branch on with [errors.Is]. Decoding errors are
// [*DecodeError] values matching [ErrMalformedToken].
var (
	// ErrInvalidID reports a replica ID whose name is empty, too long or
	// has bytes outside the allowed set, or an incarnation that does not parse.
	ErrInvalidID = errors.New("version: invalid replica ID")
	// ErrCounterOverflow reports an increment past [MaxCounter]; counters never wrap.
	ErrCounterOverflow = errors.New("version: counter overflow")
	// ErrInvalidDot reports a dot with a zero ID or a counter outside 1..[MaxCounter].
	ErrInvalidDot = errors.New("version: invalid dot")
	// ErrDuplicateReplica reports a replica named twice where each may appear once.
	ErrDuplicateReplica = errors.New("version: duplicate replica")

	// ErrMalformedToken reports a token or an encoded clock that does not
	// decode: empty, truncated, too large for the limits, not canonical, or
	// not base64. It comes wrapped in a [*DecodeError] that says what is
	// wrong and where.
	ErrMalformedToken = errors.New("version: malformed token")
)

// DecodeError is the error returned for a token or an encoded clock that
// does not decode. errors.Is(err, ErrMalformedToken) is true for it.
type DecodeError struct {
	// Offset is the byte offset in the binary form where decoding failed
	// (in the text form for text that is not base64).
	Offset int
	// Reason says what is wrong, in words: a short kind first ("truncated",
	// "trailing bytes", "too large", "too many entries", "not canonical",
	// "out of range", "invalid name", "not base64", "empty", "unknown
	// format"), then the specifics, such as "truncated: in varint".
	Reason string
}

// Error implements the error interface.
func (e *DecodeError) Error() string {
	return fmt.Sprintf("version: malformed token at byte %d: %s", e.Offset, e.Reason)
}

// Unwrap returns [ErrMalformedToken].
func (e *DecodeError) Unwrap() error { return ErrMalformedToken }
