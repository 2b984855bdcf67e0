package claim

import (
	"fmt"
	"time"
)

// State is the state of a claim. The zero State is StateFree, the state of
// a name nobody ever claimed.
type State uint8

// The states of a claim. A claim moves Free → Pending (Acquire), Pending →
// Committed (Commit), and back to Free (Release, or Reconcile of a lapsed
// pending claim). A pending claim whose owner lets it lapse may be taken over
// by the next claimant; a committed claim is never taken over.
const (
	// StateFree: nobody holds the name.
	StateFree State = iota
	// StatePending: an owner holds the name while it decides (a booking
	// being paid for). It lapses at Until plus the home's margin; then the
	// next claimant or Reconcile may take it over, and the owner's Commit
	// fails with ErrFenced or ErrNotOwner.
	StatePending
	// StateCommitted: the owner's decision is recorded (with Data). Only
	// the owner's explicit Release frees it.
	StateCommitted
	numStates
)

var stateNames = [...]string{StateFree: "free", StatePending: "pending", StateCommitted: "committed"}

// String returns "free", "pending" or "committed".
func (s State) String() string {
	if s < numStates {
		return stateNames[s]
	}
	return fmt.Sprintf("State(%d)", uint8(s))
}

// Claim is the state of one name at its home: who holds it, under which
// fencing token, and until when a pending holder may take its time.
//
// A Claim is a plain value. The zero Claim (with a Name) is a name nobody
// ever claimed.
type Claim struct {
	// Name is the name claimed, such as "cabin/C14/sailing/2027-03-14".
	Name string
	// State is free, pending or committed.
	State State
	// Owner holds the claim; "" when it is free.
	Owner string
	// Token is the fencing token of the latest acquisition of the name: it
	// grows by one on every acquisition (a takeover and an owner's renewal
	// included) and is kept when the claim is freed, so a token is never
	// issued twice for one name. 0 means the name was never claimed.
	Token uint64
	// Until is when a pending claim lapses (before the home's margin is
	// added). Zero unless pending.
	Until time.Time
	// Since is when the claim entered its state (by the home's clock).
	Since time.Time
	// Data is what the owner recorded when it committed, such as a
	// booking ID. "" unless committed.
	Data string
}

// HeldBy reports whether owner holds the claim under token.
func (c Claim) HeldBy(owner string, token uint64) bool {
	return c.State != StateFree && c.Owner == owner && c.Token == token
}

// lapsed reports whether a pending claim has lapsed at now with margin.
func (c Claim) lapsed(now time.Time, margin time.Duration) bool {
	return c.State == StatePending && now.After(c.Until.Add(margin))
}

// String returns a one-line summary such as
// "cabin/C14: committed by H-8821 (token 3, B-3107)".
func (c Claim) String() string {
	switch c.State {
	case StateFree:
		return fmt.Sprintf("%s: free (token %d)", c.Name, c.Token)
	case StatePending:
		return fmt.Sprintf("%s: pending for %s (token %d, until %s)", c.Name, c.Owner, c.Token, c.Until.UTC().Format(time.RFC3339))
	}
	s := fmt.Sprintf("%s: %s by %s (token %d", c.Name, c.State, c.Owner, c.Token)
	if c.Data != "" {
		s += ", " + c.Data
	}
	return s + ")"
}
