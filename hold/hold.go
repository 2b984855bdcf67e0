package hold

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/harborpoint/concord/policy"
)

// Status is a hold's lifecycle state.
type Status string

// The lifecycle: a hold is active until it is released or confirmed.
// Confirmed is absorbing: payment was captured and a booking issued.
const (
	Active    Status = "active"
	Released  Status = "released"
	Confirmed Status = "confirmed"
)

// Hold is a temporary claim on a cabin while a customer decides: Harbor
// Point's reference record. Every field has a declared merge policy (see
// [Resolver]); the comment on each says which.
//
// A Hold is a plain value. Its sets are immutable values, so copying a Hold
// copies it fully. The zero Hold is not a valid hold; make one with [New].
type Hold struct {
	ID        string             `json:"id"`         // write-once
	Cabin     string             `json:"cabin"`      // write-once
	Status    Status             `json:"status"`     // lifecycle state machine
	ExpiresAt time.Time          `json:"expires_at"` // later expiry, unless a branch is confirmed
	BookingID string             `json:"booking_id"` // write-once: two bookings are a conflict
	Note      string             `json:"note"`       // agent's draft note: last writer wins
	Agencies  policy.Set[string] `json:"agencies"`   // every agency that touched the hold: union
	Commands  policy.Applied     `json:"commands"`   // idempotency keys of applied commands, with their times: union within a horizon
}

// New returns an active hold on cabin until expires, created by agency.
func New(id, cabin, agency string, expires time.Time) Hold {
	h := Hold{ID: id, Cabin: cabin, Status: Active, ExpiresAt: expires.UTC()}
	if agency != "" {
		h.Agencies = h.Agencies.Add(agency)
	}
	return h
}

// Errors for illegal lifecycle commands; errors.Is matches them through a
// [*TransitionError].
var (
	// ErrIllegalTransition: the command is not allowed in the hold's state.
	ErrIllegalTransition = errors.New("hold: illegal transition")
	// ErrWouldShorten: an extend to a time not after the current expiry.
	ErrWouldShorten = errors.New("hold: extend would not lengthen the hold")
	// ErrExpired: a confirm after the hold expired.
	ErrExpired = errors.New("hold: hold expired")
	// ErrNoBooking: a confirm without a booking ID.
	ErrNoBooking = errors.New("hold: booking ID required")
)

// TransitionError reports a command the lifecycle refuses.
type TransitionError struct {
	Hold   string // hold ID
	Action string // "extend", "confirm" or "release"
	From   Status // the hold's status
	Err    error  // the sentinel
}

// Error implements the error interface, such as "hold H-8821: cannot
// confirm a released hold: illegal transition".
func (e *TransitionError) Error() string {
	return fmt.Sprintf("hold %s: cannot %s a %s hold: %s", e.Hold, e.Action, e.From, strings.TrimPrefix(e.Err.Error(), "hold: "))
}

// Unwrap returns the sentinel.
func (e *TransitionError) Unwrap() error { return e.Err }

func (h *Hold) refuse(action string, err error) error {
	return &TransitionError{Hold: h.ID, Action: action, From: h.Status, Err: err}
}

// Extend moves the expiry of an active hold to until, which must be later
// than the current expiry. It is a merge-aware command: two concurrent
// extends merge to the later expiry, so it needs no token, only an
// idempotency key (see Replica.Command).
func (h *Hold) Extend(until time.Time) error {
	if h.Status != Active {
		return h.refuse("extend", ErrIllegalTransition)
	}
	if !until.After(h.ExpiresAt) {
		return h.refuse("extend", ErrWouldShorten)
	}
	h.ExpiresAt = until.UTC()
	return nil
}

// Confirm turns an active hold into booking booking at time at. It is a
// conditional command: the caller must hold the current token (If-Match),
// because a confirmation made from a stale read could race a release.
func (h *Hold) Confirm(booking string, at time.Time) error {
	switch {
	case h.Status != Active:
		return h.refuse("confirm", ErrIllegalTransition)
	case booking == "":
		return h.refuse("confirm", ErrNoBooking)
	case at.After(h.ExpiresAt):
		return h.refuse("confirm", ErrExpired)
	}
	h.Status, h.BookingID = Confirmed, booking
	return nil
}

// Release ends an active hold. Like Confirm it is conditional.
func (h *Hold) Release() error {
	if h.Status != Active {
		return h.refuse("release", ErrIllegalTransition)
	}
	h.Status = Released
	return nil
}

// Touch records that agency worked on the hold. Agencies merge by union, so
// touching is always safe.
func (h *Hold) Touch(agency string) { h.Agencies = h.Agencies.Add(agency) }

// NoteEdit returns the value of a blind edit of the agent note, for
// Replica.Blind(ctx, id, "note", hold.NoteEdit(text)). Notes are
// last-writer-wins: of two concurrent edits, the one with the later stamp
// survives and the other is discarded — acceptable for a draft note only.
func NoteEdit(text string) Hold { return Hold{Note: text} }

// CommandKeys is the accessor of the hold's applied idempotency keys, for
// replica.Options.CommandKeys.
func CommandKeys(h *Hold) *policy.Applied { return &h.Commands }

// Equal reports whether two holds are equal, field by field.
func (h Hold) Equal(o Hold) bool {
	return h.ID == o.ID && h.Cabin == o.Cabin && h.Status == o.Status && h.ExpiresAt.Equal(o.ExpiresAt) &&
		h.BookingID == o.BookingID && h.Note == o.Note && h.Agencies.Equal(o.Agencies) && h.Commands.Equal(o.Commands)
}

// String returns a one-line summary such as
// "H-8821 C14 confirmed B-3107 until 14:10".
func (h Hold) String() string {
	s := fmt.Sprintf("%s %s %s", h.ID, h.Cabin, h.Status)
	if h.BookingID != "" {
		s += " " + h.BookingID
	}
	return s + " until " + h.ExpiresAt.Format("15:04")
}
