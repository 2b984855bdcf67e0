package version

import (
	"errors"
	"fmt"
)

// Errors a caller can branch on with [errors.Is]. Decoding errors come wrapped
// in a [*DecodeError] that tells where in the input the problem was.
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

	// ErrEmpty reports an empty token.
	ErrEmpty = errors.New("version: empty token")
	// ErrBase64 reports a text token that is not unpadded URL-safe base64.
	ErrBase64 = errors.New("version: token is not URL-safe base64")
	// ErrTruncated reports a token that ends in the middle of a field.
	ErrTruncated = errors.New("version: truncated token")
	// ErrTrailingBytes reports bytes after the end of a complete token.
	ErrTrailingBytes = errors.New("version: trailing bytes after token")
	// ErrFormat reports an unknown format version byte.
	ErrFormat = errors.New("version: unknown token format")
	// ErrUnsorted reports replicas that are not in strictly increasing order.
	ErrUnsorted = errors.New("version: replicas not sorted")
	// ErrCounterRange reports a zero counter or one above [MaxCounter].
	ErrCounterRange = errors.New("version: counter out of range")
	// ErrNameLength reports a replica name of zero bytes or more than [MaxNameLen].
	ErrNameLength = errors.New("version: replica name length out of range")
	// ErrTooManyEntries reports a token with more entries than the limit.
	ErrTooManyEntries = errors.New("version: too many entries")
	// ErrTooLarge reports a token longer than the byte limit.
	ErrTooLarge = errors.New("version: token too large")
	// ErrVarint reports a malformed or over-long variable-length integer.
	ErrVarint = errors.New("version: malformed varint")
)

// DecodeError is the error returned for a token that does not decode. Err is
// one of the package's sentinel errors, so errors.Is(err, ErrTruncated) works
// on the returned error.
type DecodeError struct {
	Offset int   // byte offset in the binary form where decoding failed
	Err    error // the sentinel describing the problem
	Detail string
}

// Error implements the error interface.
func (e *DecodeError) Error() string {
	if e.Detail == "" {
		return fmt.Sprintf("%v at byte %d", e.Err, e.Offset)
	}
	return fmt.Sprintf("%v at byte %d: %s", e.Err, e.Offset, e.Detail)
}

// Unwrap returns the sentinel error.
func (e *DecodeError) Unwrap() error { return e.Err }
