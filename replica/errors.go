package replica

import (
	"errors"
	"fmt"
	"strings"

	"github.com/harborpoint/concord/version"
)

// Errors a caller branches on with errors.Is. The HTTP status each maps to
// is in parentheses.
var (
	// ErrNotFound: no record under the key (404).
	ErrNotFound = errors.New("replica: record not found")
	// ErrDeleted: the record under the key is deleted — a tombstone not
	// yet reaped (404 / 410). The error is a [*Deleted] carrying the
	// tombstone's token; it also matches ErrNotFound.
	ErrDeleted = errors.New("replica: record deleted")
	// ErrExists: Create found a record already there (409 / 412 for If-None-Match).
	ErrExists = errors.New("replica: record already exists")
	// ErrPreconditionRequired: a conditional write came without a token (428).
	ErrPreconditionRequired = errors.New("replica: precondition required: this write needs the token the client read (If-Match)")
	// ErrPreconditionFailed: a conditional write's token is not the
	// record's current one (412). The error is a [*PreconditionFailed].
	ErrPreconditionFailed = errors.New("replica: precondition failed: the record changed since the token was read")
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
	// ErrUnissuedDot: a replicated state claims a write of this replica
	// that it never issued (400 as input, but a sign of damage or of two
	// processes sharing one replica ID). The error is an [*UnissuedDotError].
	ErrUnissuedDot = errors.New("replica: state claims a write this replica never issued")
)

// UnissuedDotError is the error for a replicated state that claims a write
// of the receiving replica beyond the last one it issued for the key: the
// state says Replica wrote Claimed writes of Key, and Replica knows it wrote
// only Issued. The state is refused and nothing changes. A damaged or forged
// message, or a second process running under the same replica ID (an ID
// reused after the replica lost its state), is the only source of one.
type UnissuedDotError struct {
	Key     string
	Replica version.ID
	Claimed uint64 // the counter of Replica the incoming state claims
	Issued  uint64 // the counter of Replica's last write of Key, or its counter floor if higher (see FloorStore); 0 if none
}

// Error implements the error interface.
func (e *UnissuedDotError) Error() string {
	return fmt.Sprintf("replica %v: %q: state claims write %d of this replica, which issued only %d", e.Replica, e.Key, e.Claimed, e.Issued)
}

// Is makes errors.Is(err, ErrUnissuedDot) and errors.Is(err, ErrMalformed)
// true: the state is refused input like any malformed one.
func (e *UnissuedDotError) Is(target error) bool {
	return target == ErrUnissuedDot || target == ErrMalformed
}

// PreconditionFailed is the error of a conditional write whose token was
// stale — the HTTP 412 case: it names the record's current version (its
// token, for the ETag header, and its causal context) and the writes it
// holds, so that the caller knows what to read again. It is not generic:
// errors.As finds it without knowing the record type, and the values come
// from reading the record.
type PreconditionFailed struct {
	Key     string
	Given   string         // the token the caller sent
	Current string         // the record's current token
	Context version.Vector // the record's current causal context (Current decoded)
	// Stamps are the stamps of the record's branches, in sibling order;
	// each Stamp.Dot names the write of one.
	Stamps []version.Stamp
}

// Error implements the error interface.
func (e *PreconditionFailed) Error() string {
	return fmt.Sprintf("replica: %q: precondition failed: token %q is not the current %q", e.Key, e.Given, e.Current)
}

// Is makes errors.Is(err, ErrPreconditionFailed) true.
func (e *PreconditionFailed) Is(target error) bool { return target == ErrPreconditionFailed }

// Deleted is the error of a read or write of a deleted record (a tombstone
// not yet reaped): it carries the token of the delete, so that a client may
// re-create the record on purpose with [Replica.Update] or
// [Replica.ResolveConflict] and that token — a write that supersedes the
// delete. errors.Is matches both ErrDeleted and ErrNotFound, so code that
// only knows "absent" keeps working.
type Deleted struct {
	Key   string
	Token string // the tombstone's token
	// Context is the tombstone's causal context (Token decoded).
	Context version.Vector
	// Stamp is the stamp of the (latest) delete.
	Stamp version.Stamp
}

// Error implements the error interface.
func (e *Deleted) Error() string {
	return fmt.Sprintf("replica: %q: record deleted (token %q)", e.Key, e.Token)
}

// Is makes errors.Is(err, ErrDeleted) and errors.Is(err, ErrNotFound) true.
func (e *Deleted) Is(target error) bool { return target == ErrDeleted || target == ErrNotFound }

// prefix starts every message of this package's errors.
const prefix = "replica: "

// wrapped is an error of this package that adds context to err, which may
// be an error of this package too: its message is the context and then
// err's without its leading "replica: ", so that a message names the
// package once however deep the wrapping ("replica: \"k\": record not
// found", not "replica: \"k\": replica: record not found").
type wrapped struct {
	context string
	err     error
}

// wrapf returns err in the context format describes; the context starts
// with "replica".
func wrapf(err error, format string, args ...any) error {
	return &wrapped{context: fmt.Sprintf(format, args...), err: err}
}

// Error implements the error interface.
func (e *wrapped) Error() string { return e.context + ": " + unprefixed(e.err) }

// Unwrap returns the error wrapped.
func (e *wrapped) Unwrap() error { return e.err }

// unprefixed returns err's message without a leading "replica: ".
func unprefixed(err error) string { return strings.TrimPrefix(err.Error(), prefix) }
