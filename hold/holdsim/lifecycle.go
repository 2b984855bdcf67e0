package holdsim

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/harborpoint/concord/hold"
	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/sim"
)

// Labels of the operations on a hold's end of life, as they appear in
// [sim.Ack.Label].
const (
	LabelExpire   = "expire"   // a sweeper releases a hold whose expiry passed (hold.Hold.Expire)
	LabelDelete   = "delete"   // a released hold is deleted (a tombstone)
	LabelRecreate = "recreate" // a deleted hold is created again, from its tombstone's token
	LabelBigNote  = "bignote"  // a note edit that may exceed the record limit
)

// MaxRecordBytes is the record limit the workload runs with: small, so that
// some note edits are refused as too large and some merges of concurrent
// branches that each carry a large note exceed it.
const MaxRecordBytes = 8 << 10

// Rates of the end-of-life operations, in percent of a client's writes on
// a hold it knows.
const (
	expireRate  = 60 // of writes on an active hold past its expiry
	deleteRate  = 60 // of writes on a released hold
	bigNoteRate = 3  // of writes on a live hold
)

var (
	errNotDue      = errors.New("holdsim: the hold is not due to expire")
	errNotReleased = errors.New("holdsim: only a released hold is deleted")
)

// lifecycle wraps next with the end of a hold's life: a hold is created
// with a short expiry half the time (so that it expires within a
// history), a sweeper expires an active hold past its expiry (an Update,
// as hold.Hold.Expire is a conditional transition), a released hold is
// deleted with the token its client read — never a confirmed or active
// one, which the delete's guard checks on every branch the token covers —
// and a client that reads a hold deleted re-creates it with an Update from
// the tombstone's token (or deletes it again: a retried delete). A few note edits are large enough to go over
// [MaxRecordBytes], alone or merged with a concurrent branch.
func lifecycle(next func(sim.Turn[hold.Hold]) sim.Op[hold.Hold]) func(sim.Turn[hold.Hold]) sim.Op[hold.Hold] {
	return func(t sim.Turn[hold.Hold]) sim.Op[hold.Hold] {
		agency := agencies[t.Client%len(agencies)]
		last := t.Last
		switch {
		case last == nil:
			op := next(t)
			if op.Style == sim.Create && t.Rand.IntN(4) != 0 {
				op.Value.ExpiresAt = shortExpiry(t)
			}
			return op
		case last.Deleted && t.Rand.IntN(4) == 0: // a sweeper in another region deletes it again
			return sim.Op[hold.Hold]{Style: sim.Delete, Label: LabelDelete}
		case last.Deleted:
			v := hold.New(t.Key, "C"+strings.TrimPrefix(t.Key, "H-"), agency, shortExpiry(t))
			return sim.Op[hold.Hold]{Style: sim.Update, Label: LabelRecreate, Apply: func(h *hold.Hold, _ replica.Write) error {
				*h = v
				return nil
			}}
		case last.Conflict != nil:
			return next(t)
		}
		cur := last.Value
		r := t.Rand.IntN(100)
		switch {
		case cur.Status == hold.Active && !t.Now.Before(cur.ExpiresAt) && r < expireRate:
			return sim.Op[hold.Hold]{Style: sim.Update, Label: LabelExpire, Apply: func(h *hold.Hold, _ replica.Write) error {
				if !h.Expire(t.Now) {
					return errNotDue
				}
				return nil
			}}
		case cur.Status == hold.Released && r < deleteRate:
			return sim.Op[hold.Hold]{Style: sim.Delete, Label: LabelDelete, Apply: func(h *hold.Hold, _ replica.Write) error {
				if h.Status != hold.Released {
					return fmt.Errorf("%w: %s is %s", errNotReleased, h.ID, h.Status)
				}
				return nil
			}}
		case r >= 100-bigNoteRate:
			text := strings.Repeat(fmt.Sprintf("c%d long note %d. ", t.Client, t.Rand.IntN(1000)), (MaxRecordBytes/4+t.Rand.IntN(MaxRecordBytes))/20)
			return sim.Op[hold.Hold]{Style: sim.Blind, Label: LabelBigNote, Field: "note", Value: hold.NoteEdit(text)}
		}
		return next(t)
	}
}

// shortExpiry is an expiry a few seconds away: within a history of
// [sim.DefaultSteps] steps (about 15 simulated seconds).
func shortExpiry(t sim.Turn[hold.Hold]) time.Time {
	return t.Now.Add(time.Duration(1+t.Rand.IntN(8)) * time.Second)
}

// settleLive settles a review item from its live branches: a tombstone is
// no hold to keep, so a conflict between a delete and an update is
// settled by keeping the hold (the decision names the delete). A merge
// refused for size is settled with the note cut short.
func settleLive(settle func(*rand.Rand, replica.ReviewItem[hold.Hold]) hold.Hold) func(*rand.Rand, replica.ReviewItem[hold.Hold]) hold.Hold {
	return func(r *rand.Rand, it replica.ReviewItem[hold.Hold]) hold.Hold {
		live := it.Branches[:0:0]
		for _, b := range it.Branches {
			if !b.Deleted {
				live = append(live, b)
			}
		}
		if len(live) == 0 { // not a conflict a review queue holds; keep the key alive
			live = append(live, resolve.Branch[hold.Hold]{Value: hold.New(it.Key, "C"+strings.TrimPrefix(it.Key, "H-"), "", time.Time{})})
		}
		it.Branches = live
		v := settle(r, it)
		if it.Rule == replica.RecordLimitRule && len(v.Note) > MaxRecordBytes/4 {
			v.Note = v.Note[:MaxRecordBytes/4] // the reviewer cuts the note that made the record too large
		}
		return v
	}
}

// deletedAway reports whether an acknowledged delete or create among seen
// covered write a: the hold a wrote to was deleted, and what the record
// holds now was re-created since.
//
// A create covers a write the same way a delete does. Replica.Create is
// acknowledged only where the key holds no live value (absent, a tombstone,
// or reaped), so every write its context covers was deleted there: the
// created hold starts a history of its own and does not carry their
// values. Usually the create's context covers the delete too (the
// tombstone, or the reaped horizon, is in it), but not after a restart over
// a store that keeps the counter floor and not the horizons
// (replica.FloorStore alone): the replica forgot the delete and the key,
// yet writes above its floor, so the create's context still covers the
// replica's own earlier writes of the key — an extend among them included
// (campaign ×30 TestDurableRestartsAfterReapingKeepTheirID history 2697,
// replayed by sim's TestRecreatedAfterForgettingTheReap).
func deletedAway(seen []*sim.Ack[hold.Hold], a *sim.Ack[hold.Hold]) bool {
	for _, d := range seen {
		if d != a && (d.Style == sim.Delete || d.Style == sim.Create) && d.Context.Contains(a.Dot) {
			return true
		}
	}
	return false
}
