package hold_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/harborpoint/concord/hold"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/resolve/resolvetest"
	"github.com/harborpoint/concord/version"
)

// genHold draws branches of one hold: same ID and cabin, any lifecycle state.
func genHold() *rapid.Generator[hold.Hold] {
	return rapid.Custom(func(t *rapid.T) hold.Hold {
		h := hold.New("H-8821", "C14", rapid.SampledFrom([]string{"", "lisbon-desk", "web", "phone"}).Draw(t, "agency"),
			clock(14, 10+rapid.IntRange(0, 10).Draw(t, "minutes"), 0))
		switch rapid.IntRange(0, 2).Draw(t, "status") {
		case 1:
			h.Status = hold.Released
		case 2:
			h.Status, h.BookingID = hold.Confirmed, rapid.SampledFrom([]string{"B-3107", "B-3108"}).Draw(t, "booking")
		}
		h.Note = rapid.SampledFrom([]string{"", "customer on phone", "call back"}).Draw(t, "note")
		return h
	})
}

// mergedInvariants are the hold's rules, checked on every successful merge.
func mergedInvariants(branches []hold.Hold, merged hold.Hold) error {
	var confirmed []hold.Hold
	latest := time.Time{}
	allActive := true
	for _, b := range branches {
		for a := range b.Agencies.All() {
			if !merged.Agencies.Has(a) {
				return fmt.Errorf("agency %s lost", a)
			}
		}
		if b.Status == hold.Confirmed {
			confirmed = append(confirmed, b)
		}
		if b.Status != hold.Active {
			allActive = false
		}
		if b.ExpiresAt.After(latest) {
			latest = b.ExpiresAt
		}
	}
	switch {
	case len(confirmed) > 0:
		if merged.Status != hold.Confirmed {
			return fmt.Errorf("a confirmed branch reverted to %s", merged.Status)
		}
		terms := time.Time{}
		for _, c := range confirmed {
			if c.BookingID != merged.BookingID {
				return fmt.Errorf("booking %s lost to %s", c.BookingID, merged.BookingID)
			}
			if c.ExpiresAt.After(terms) {
				terms = c.ExpiresAt
			}
		}
		if !merged.ExpiresAt.Equal(terms) {
			return fmt.Errorf("confirmed terms %v changed to %v", terms, merged.ExpiresAt)
		}
	case allActive:
		if !merged.ExpiresAt.Equal(latest) {
			return fmt.Errorf("concurrent extends merged to %v, want the later %v", merged.ExpiresAt, latest)
		}
	default:
		if merged.Status == hold.Active || merged.Status == hold.Released {
			for _, b := range branches {
				if b.Status != merged.Status {
					return fmt.Errorf("released vs active merged to %s without a retry", merged.Status)
				}
			}
		}
	}
	return nil
}

func TestHoldResolverPassesResolvetest(t *testing.T) {
	resolvetest.Check(t, resolvetest.Config[hold.Hold]{
		Resolver:  hold.Resolver(resolve.Options{}),
		Value:     genHold(),
		Change:    holdCommand,
		Equal:     hold.Hold.Equal,
		Invariant: mergedInvariants,
	})
}

// holdCommand is how a client changes a hold it read: one of the hold's
// commands, or a note edit, each touching only its own fields. A command
// the lifecycle refuses leaves the hold as read.
func holdCommand(t *rapid.T, h hold.Hold) hold.Hold {
	switch rapid.IntRange(0, 4).Draw(t, "command") {
	case 0:
		_ = h.Extend(h.ExpiresAt.Add(time.Duration(rapid.IntRange(1, 5).Draw(t, "extend minutes")) * time.Minute))
	case 1:
		_ = h.Confirm(rapid.SampledFrom([]string{"B-3107", "B-3108"}).Draw(t, "booking"), clock(14, 5, 0))
	case 2:
		_ = h.Release()
	case 3:
		h.Touch(rapid.SampledFrom([]string{"lisbon-desk", "web", "phone"}).Draw(t, "agency"))
	default:
		h.Note = rapid.SampledFrom([]string{"", "customer on phone", "call back"}).Draw(t, "note")
	}
	return h
}

// TestInvariantsOverConcurrentHistories runs random concurrent histories of
// commands on one hold at three replicas — with fresh and stale reads,
// replication in any order, and conflict resolution by covering writes —
// and checks the hold's invariants on what every replica ends with.
func TestInvariantsOverConcurrentHistories(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		r := hold.Resolver(resolve.Options{})
		ids := []version.ID{lisbon, iad, version.MustID("bristol")}
		states := make([]resolve.Siblings[hold.Hold], len(ids))
		first, _ := r.Write(resolve.Siblings[hold.Hold]{}, resolve.Change[hold.Hold]{Replica: lisbon, Time: hlcTime(clock(14, 0, 0)),
			Value: func(version.Dot) hold.Hold { return hold.New("H-8821", "C14", "lisbon-desk", clock(14, 10, 0)) }})
		for i := range states {
			states[i] = first.State
		}
		reads := []resolve.Siblings[hold.Hold]{first.State} // states clients read, possibly stale later
		bookings := map[string]bool{}
		var longestExtend time.Time
		resolvedByHand := false
		tick := 0
		steps := rapid.IntRange(1, 25).Draw(t, "steps")
		for range steps {
			tick++
			i := rapid.IntRange(0, len(ids)-1).Draw(t, "replica")
			switch rapid.IntRange(0, 6).Draw(t, "op") {
			case 0, 1: // replicate i -> j
				j := rapid.IntRange(0, len(ids)-1).Draw(t, "to")
				states[j] = r.Apply(states[j], states[i]).State
				continue
			}
			// A client reads (fresh or stale) at replica i and issues a command.
			read := states[i]
			if rapid.Bool().Draw(t, "stale read") {
				read = rapid.SampledFrom(reads).Draw(t, "read")
			}
			res, err := r.Resolve(read)
			var conflict *resolve.ConflictRequiresRetry
			if errors.As(err, &conflict) {
				// Settle it by a covering write that keeps a confirmed branch if any.
				pick, _ := read.Get(conflict.Stamps[0].Dot)
				for _, st := range conflict.Stamps {
					if b, _ := read.Get(st.Dot); b.Value.Status == hold.Confirmed {
						pick = b
					}
				}
				resolvedByHand = true
				o, werr := r.Write(states[i], resolve.Change[hold.Hold]{Context: read.Join(), Replica: ids[i], Time: hlcTime(clock(14, 0, tick)),
					Value: func(version.Dot) hold.Hold { return pick.Value }})
				if werr != nil {
					t.Fatal(werr)
				}
				states[i] = o.State
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			h := res.Value
			var cmdErr error
			switch rapid.IntRange(0, 3).Draw(t, "command") {
			case 0:
				until := h.ExpiresAt.Add(time.Duration(rapid.IntRange(1, 5).Draw(t, "extend minutes")) * time.Minute)
				cmdErr = h.Extend(until)
			case 1:
				cmdErr = h.Confirm(rapid.SampledFrom([]string{"B-3107", "B-3108"}).Draw(t, "booking"), clock(14, 5, 0))
			case 2:
				cmdErr = h.Release()
			case 3:
				h.Note = fmt.Sprintf("note %d", tick)
			}
			if cmdErr != nil {
				continue // refused on this branch: nothing written
			}
			o, err := r.Write(states[i], resolve.Change[hold.Hold]{Context: read.Join(), Base: &res.Branch, Replica: ids[i],
				Time: hlcTime(clock(14, 0, tick)), Value: func(version.Dot) hold.Hold { return h }})
			if err != nil {
				t.Fatal(err)
			}
			states[i] = o.State
			reads = append(reads, o.State)
			if h.Status == hold.Confirmed && res.Value.Status == hold.Active {
				bookings[h.BookingID] = true
			}
			if h.Status == hold.Active && h.ExpiresAt.After(longestExtend) {
				longestExtend = h.ExpiresAt
			}
		}
		// Heal: every replica receives every other's state.
		var all resolve.Siblings[hold.Hold]
		for _, s := range states {
			all = all.Sync(s)
		}
		for i := range states {
			states[i] = r.Apply(states[i], all).State
			if !states[i].Equal(states[0]) {
				t.Fatalf("replicas diverge: %v vs %v", states[i], states[0])
			}
		}
		final, err := r.Resolve(states[0])
		var conflict *resolve.ConflictRequiresRetry
		switch {
		case errors.As(err, &conflict):
			statuses := map[hold.Status]bool{}
			seen := map[string]bool{}
			for _, st := range conflict.Stamps {
				b, _ := states[0].Get(st.Dot)
				statuses[b.Value.Status] = true
				seen[b.Value.BookingID] = true
			}
			if statuses[hold.Confirmed] && conflict.Field != "booking_id" {
				t.Fatalf("a confirmed branch was refused by %s: %v", conflict.Field, conflict)
			}
			if !resolvedByHand {
				for b := range bookings {
					if !seen[b] {
						t.Fatalf("booking %s lost in conflict %v", b, conflict)
					}
				}
			}
		case err != nil:
			t.Fatal(err)
		default:
			h := final.Value
			if !resolvedByHand {
				if len(bookings) > 1 {
					t.Fatalf("two bookings %v merged silently into %v", bookings, h)
				}
				for b := range bookings {
					if h.Status != hold.Confirmed || h.BookingID != b {
						t.Fatalf("confirmed booking %s reverted or lost: %v", b, h)
					}
				}
				if len(bookings) == 0 && h.Status == hold.Active && h.ExpiresAt.Before(longestExtend) {
					t.Fatalf("an extend to %v was shortened to %v", longestExtend, h.ExpiresAt)
				}
			}
			for b := range bookings {
				if h.Status != hold.Confirmed {
					t.Fatalf("confirmed booking %s reverted to %s", b, h.Status)
				}
			}
		}
	})
}
