package replica

import (
	"errors"
	"fmt"
)

// Errors a caller branches on with errors.Is. The HTTP status each maps to
// is in parentheses.
var (
	// ErrNotFound: no record under the key (404).
	ErrNotFound = errors.New("replica: record not found")
	// ErrExists: Create found a record already there (409 / 412 for If-None-Match).
	ErrExists = errors.New("replica: record already exists")
	// ErrPreconditionRequired: a conditional write came without a token (428).
	ErrPreconditionRequired = errors.New("replica: precondition required: this write needs the token the client read (If-Match)")
	// ErrPreconditionFailed: a conditional write's token is not the
	// record's current one (412). The error is a [*PreconditionFailed].
	ErrPreconditionFailed = errors.New("replica: precondition failed: the record changed since the token was read")
	// ErrBadToken: a token that does not decode (400). It wraps the
	// version package's decode error.
	ErrBadToken = errors.New("replica: malformed token")
	// ErrNotBlindWritable: a blind write named a field whose policy is not
	// replaceable (policy.Replaceable: last-writer-wins), or no field at
	// all (422).
	ErrNotBlindWritable = errors.New("replica: field does not accept blind writes")
	// ErrIdempotencyKeyRequired: a command came without an idempotency key (400).
	ErrIdempotencyKeyRequired = errors.New("replica: idempotency key required")
	// ErrNoCommandKeys: Command was called on a replica configured without
	// Options.CommandKeys.
	ErrNoCommandKeys = errors.New("replica: commands need Options.CommandKeys")
	// ErrContention: compare-and-set kept losing to other writers.
	ErrContention = errors.New("replica: too much write contention")
	// ErrKeyTooLong: a key longer than [MaxKeyLen] (400).
	ErrKeyTooLong = errors.New("replica: key too long")
)

// PreconditionFailed is the error of a conditional write whose token was
// stale: it carries the current record (its token and branches) so that the
// caller can refetch-free retry — the HTTP 412 case.
type PreconditionFailed[T any] struct {
	Key     string
	Given   string    // the token the caller sent
	Current Record[T] // the record as it is now
}

// Error implements the error interface.
func (e *PreconditionFailed[T]) Error() string {
	return fmt.Sprintf("replica: %q: precondition failed: token %q is not the current %q", e.Key, e.Given, e.Current.Token)
}

// Is makes errors.Is(err, ErrPreconditionFailed) true.
func (e *PreconditionFailed[T]) Is(target error) bool { return target == ErrPreconditionFailed }
