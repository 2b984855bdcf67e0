package holdsim

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/harborpoint/concord/hold"
	"github.com/harborpoint/concord/policy"
	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/sim"
)

// Labels of the hold workload's operations, as they appear in [sim.Ack.Label]
// (followed by a space and an argument for confirm).
const (
	LabelCreate  = "create"
	LabelNote    = "note"
	LabelExtend  = "extend"
	LabelTouch   = "touch"
	LabelConfirm = "confirm"
	LabelRelease = "release"
)

// Workload returns Harbor Point's workload: clients create cabin holds,
// edit their notes blind (last writer wins), extend them and record the
// agencies that touched them with commands (idempotency keys), and confirm
// and release them with conditional writes (fresh and stale tokens); a
// sweeper expires holds past their expiry, released holds are deleted and
// deleted ones re-created, and a few notes go over the record limit
// ([MaxRecordBytes]). When a
// review queue holds a conflict, a client settles it: the first booking
// stands if any branch is confirmed (the others are named in the decision,
// to be refunded); otherwise release or keep the hold active, at the
// latest expiry of any branch. [Invariant] checks the hold's rules.
func Workload() sim.Workload[hold.Hold] {
	return sim.Workload[hold.Hold]{
		NewResolver: func() *resolve.Resolver[hold.Hold] {
			return hold.Resolver(resolve.Options{SkewWindow: time.Second})
		},
		CommandKeys:    hold.CommandKeys,
		KeyPrefix:      "H-",
		Next:           lifecycle(holdNext),
		Resolve:        settleLive(settleHold),
		Equal:          hold.Hold.Equal,
		Invariant:      Invariant,
		MaxRecordBytes: MaxRecordBytes,
		Project:        Project,
		Join:           Join,
	}
}

var agencies = []string{"lisbon-desk", "baltimore-payments", "web", "phone", "partner"}

func holdNext(t sim.Turn[hold.Hold]) sim.Op[hold.Hold] {
	agency := agencies[t.Client%len(agencies)]
	if t.Last == nil {
		cabin := "C" + strings.TrimPrefix(t.Key, "H-")
		return sim.Op[hold.Hold]{Style: sim.Create, Label: LabelCreate, Value: hold.New(t.Key, cabin, agency, t.Now.Add(10*time.Minute))}
	}
	cur := t.Last.Value
	switch r := t.Rand.IntN(100); {
	case r < 30:
		text := fmt.Sprintf("c%d draft %d", t.Client, t.Rand.IntN(1000))
		return sim.Op[hold.Hold]{Style: sim.Blind, Label: LabelNote, Field: "note", Value: hold.NoteEdit(text)}
	case r < 60:
		until := cur.ExpiresAt
		if until.IsZero() {
			until = t.Now.Add(10 * time.Minute)
		}
		until = until.Add(time.Duration(1+t.Rand.IntN(10)) * time.Minute)
		return sim.Op[hold.Hold]{Style: sim.Command, Label: LabelExtend, Apply: func(h *hold.Hold, _ replica.Write) error {
			h.Touch(agency)
			return h.Extend(until)
		}}
	case r < 75:
		return sim.Op[hold.Hold]{Style: sim.Command, Label: LabelTouch, Apply: func(h *hold.Hold, _ replica.Write) error {
			h.Touch(agency)
			return nil
		}}
	case r < 95:
		booking := fmt.Sprintf("B-%d%03d", t.Client, t.Rand.IntN(1000))
		at := t.Now
		return sim.Op[hold.Hold]{Style: sim.Update, Label: LabelConfirm + " " + booking, Apply: func(h *hold.Hold, _ replica.Write) error {
			h.Touch(agency)
			return h.Confirm(booking, at)
		}}
	default:
		return sim.Op[hold.Hold]{Style: sim.Update, Label: LabelRelease, Apply: func(h *hold.Hold, _ replica.Write) error {
			return h.Release()
		}}
	}
}

// settleHold is the review policy: the earliest confirmation stands;
// otherwise release or keep the hold, at the latest expiry. Agencies and
// command keys of every branch are kept.
func settleHold(r *rand.Rand, it replica.ReviewItem[hold.Hold]) hold.Hold {
	var (
		first   *resolve.Branch[hold.Hold]
		latest  time.Time
		touched policy.Set[string]
	)
	for i := range it.Branches {
		b := &it.Branches[i]
		touched = touched.Union(b.Value.Agencies)
		if b.Value.ExpiresAt.After(latest) {
			latest = b.Value.ExpiresAt
		}
		if b.Value.Status == hold.Confirmed && (first == nil || b.Stamp.Compare(first.Stamp) < 0) {
			first = b
		}
	}
	var v hold.Hold
	if first != nil {
		v = first.Value
	} else {
		v = it.Branches[0].Value
		v.ExpiresAt = latest
		v.Status = hold.Active
		if r.IntN(2) == 0 {
			v.Status = hold.Released
		}
	}
	v.Agencies = touched
	return v
}

// Invariant checks the hold's rules on one replica's record of a hold,
// given the acknowledged writes its context covers:
//
//   - confirmed never reverts and no booking is lost: every confirmation the
//     record has seen is its value's status and booking, or a confirmed
//     branch of its open conflict — unless a Resolve decision that saw it
//     named it and chose another booking;
//   - two confirmations with different bookings are always surfaced: the
//     record is in conflict and in the replica's review queue until a
//     decision settles them;
//   - extends never shorten a hold: an active hold's expiry is at least
//     every extend it has seen, but those a delete or a create covered (the
//     hold was deleted and created again since: a new hold);
//   - a confirmed hold is never deleted: a deleted record has seen no
//     confirmation (one a delete covered is lost like any other).
func Invariant(v sim.View[hold.Hold]) error {
	rec := v.Record
	var (
		live     = map[string]bool{} // bookings not decided away
		bookings []string
		problems []error
	)
	decidedAway := func(booking string) bool {
		for _, a := range v.Seen {
			if a.Style != sim.Resolve || a.Value.BookingID == booking {
				continue
			}
			for _, b := range a.Replaced {
				if b.Value.BookingID == booking {
					return true
				}
			}
		}
		return false
	}
	for _, a := range v.Seen {
		switch {
		case strings.HasPrefix(a.Label, LabelConfirm+" "):
			b := a.Value.BookingID
			if live[b] || decidedAway(b) {
				continue
			}
			live[b] = true
			bookings = append(bookings, b)
			if !holds(rec, b) {
				problems = append(problems, fmt.Errorf("confirmation %s (%v, step %d) reverted or lost: record is %s", b, a.Dot, a.Step, describe(rec)))
			}
		case a.Label == LabelExtend && rec.Conflict == nil && rec.Value.Status == hold.Active && rec.Value.ExpiresAt.Before(a.Value.ExpiresAt) &&
			!deletedAway(v.Seen, a):
			problems = append(problems, fmt.Errorf("extend to %s (%v, step %d) shortened: active hold expires %s",
				a.Value.ExpiresAt.Format(time.TimeOnly), a.Dot, a.Step, rec.Value.ExpiresAt.Format(time.TimeOnly)))
		}
	}
	if len(bookings) > 1 && (rec.Conflict == nil || !v.InReview) {
		problems = append(problems, fmt.Errorf("bookings %v both confirmed but not surfaced for review (conflict %v, in review %v)",
			bookings, rec.Conflict != nil, v.InReview))
	}
	return errors.Join(problems...)
}

// holds reports whether the record keeps booking: as its confirmed value,
// or as a confirmed branch of its open conflict.
func holds(rec replica.Record[hold.Hold], booking string) bool {
	if rec.Conflict == nil {
		return rec.Value.Status == hold.Confirmed && rec.Value.BookingID == booking
	}
	for _, b := range rec.Branches {
		if b.Value.Status == hold.Confirmed && b.Value.BookingID == booking {
			return true
		}
	}
	return false
}

func describe(rec replica.Record[hold.Hold]) string {
	if rec.Deleted {
		return "deleted"
	}
	if rec.Conflict != nil {
		var bs []string
		for _, b := range rec.Branches {
			bs = append(bs, b.Value.String())
		}
		return "conflict [" + strings.Join(bs, "; ") + "]"
	}
	return rec.Value.String()
}
