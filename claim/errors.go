package claim

import (
	"errors"
	"fmt"
)

// Errors a caller branches on with errors.Is. The HTTP status each maps to
// (package httpapi) is in parentheses.
var (
	// ErrClaimed: another owner holds the name (409). The error is a
	// [*ClaimedError] naming the holder.
	ErrClaimed = errors.New("claim: held by another owner")
	// ErrUnavailable: the home store could not be reached, timed out, or
	// kept losing compare-and-sets (503, Retry-After). It wraps the cause.
	// The operation may or may not have taken effect: retry it, or read the
	// claim, to know.
	ErrUnavailable = errors.New("claim: home store unavailable")
	// ErrFenced: the caller's token is no longer the claim's current one —
	// the name was acquired again since (taken over after the pending
	// claim lapsed, or renewed by another attempt of the same owner). The
	// error is a [*StaleError].
	ErrFenced = errors.New("claim: fencing token is stale")
	// ErrNotOwner: the token is current but the claim is not held under it
	// by this owner any more: it was released or reconciled. The error is
	// a [*StaleError].
	ErrNotOwner = errors.New("claim: not held by this owner")
	// ErrMalformed: the value stored under the name is not a claim
	// (written by another program, or damaged). Nothing is written over
	// it; an operator must repair it.
	ErrMalformed = errors.New("claim: malformed claim in the home store")
	// ErrInvalid: an argument is out of range, such as an empty name or
	// owner, or one longer than its limit.
	ErrInvalid = errors.New("claim: invalid argument")
)

// ClaimedError reports a name held by another owner: it carries the claim
// as it is, so a caller can say who holds it (HTTP 409 with the owner).
type ClaimedError struct {
	// Requester is the owner that was refused.
	Requester string
	// Current is the claim as the home holds it.
	Current Claim
}

// Error implements the error interface.
func (e *ClaimedError) Error() string {
	return fmt.Sprintf("claim: %q is %s by %s (token %d); %s was refused", e.Current.Name, e.Current.State, e.Current.Owner, e.Current.Token, e.Requester)
}

// Is makes errors.Is(err, ErrClaimed) true.
func (e *ClaimedError) Is(target error) bool { return target == ErrClaimed }

// StaleError reports an owner acting on a claim it no longer holds under
// its token: Err is ErrFenced or ErrNotOwner.
type StaleError struct {
	Owner   string // the owner that acted
	Token   uint64 // the token it presented
	Current Claim  // the claim as the home holds it
	Err     error  // ErrFenced or ErrNotOwner
}

// Error implements the error interface.
func (e *StaleError) Error() string {
	return fmt.Sprintf("%v: %s with token %d; the home holds %v", e.Err, e.Owner, e.Token, e.Current)
}

// Unwrap returns ErrFenced or ErrNotOwner.
func (e *StaleError) Unwrap() error { return e.Err }
