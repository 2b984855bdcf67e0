// Command harborpoint replays, with concord, the running example of the
// course lesson "Conflict Resolution Policies in Distributed Stores":
// Harbor Point's Lisbon and Baltimore regions write the same cabin holds
// concurrently (hold H-8821 extended in Lisbon while Baltimore confirms it,
// both from version 18, and more), and every conflict is
// settled by an explicit, recorded policy — or surfaced, never guessed.
//
//	go run ./examples/harborpoint
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/harborpoint/concord/claim"
	"github.com/harborpoint/concord/claim/claimtest"
	"github.com/harborpoint/concord/hold"
	"github.com/harborpoint/concord/hold/booking"
	"github.com/harborpoint/concord/policy"
	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "harborpoint:", err)
		os.Exit(1)
	}
}

// story holds the two regions and the simulated wall clock they share.
type story struct {
	w        io.Writer
	ctx      context.Context
	now      time.Time
	counters *resolve.Counters
	lis, iad *replica.Replica[hold.Hold]
}

var day = time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)

func at(h, m, s int) time.Time {
	return day.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(s)*time.Second)
}

func newStory(w io.Writer) (*story, error) {
	s := &story{w: w, ctx: context.Background(), now: at(14, 0, 0), counters: &resolve.Counters{}}
	res := hold.Resolver(resolve.Options{SkewWindow: 2 * time.Second})
	region := func(name string) (*replica.Replica[hold.Hold], error) {
		clock := version.NewHLC(version.HLCOptions{Now: func() time.Time { return s.now }}, version.Timestamp{})
		return replica.New(version.MustID(name), replica.NewMemoryStore(), res, replica.Options[hold.Hold]{
			Clock: clock, Observer: s.counters, CommandKeys: hold.CommandKeys, Now: func() time.Time { return s.now },
			Members: []version.ID{version.MustID("lisbon"), version.MustID("baltimore")},
		})
	}
	var err error
	if s.lis, err = region("lisbon"); err != nil {
		return nil, err
	}
	if s.iad, err = region("baltimore"); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *story) say(format string, args ...any) { fmt.Fprintf(s.w, format+"\n", args...) }

func (s *story) section(title string) {
	s.say("\n== %s ==", title)
}

// reconcile runs anti-entropy between the regions.
func (s *story) reconcile() error {
	s.say("   ~ the regions reconcile (anti-entropy: range fingerprints find the records that differ, then only those move)")
	return replica.AntiEntropy(s.ctx, s.lis, s.iad)
}

func run(w io.Writer) error {
	s, err := newStory(w)
	if err != nil {
		return err
	}
	s.say("Harbor Point: two regions, Lisbon and Baltimore, writing the same cabin holds.")
	s.say("Every conflict below is settled by an explicit policy, or surfaced — never guessed.")
	for _, scene := range []func() error{
		s.lessonTimeline,
		s.concurrentExtends,
		s.releaseRacesExtend,
		s.staleIfMatch,
		s.replayedExtend,
		s.blindNotes,
		s.oneCabinTwoHolds,
	} {
		if err := scene(); err != nil {
			return err
		}
	}
	s.operatorCounters()
	return s.expiryAndReaping()
}

// lessonTimeline is the lesson's H-8821: an extend in Lisbon and a
// confirmation in Baltimore, both from version 18.
func (s *story) lessonTimeline() error {
	s.section("H-8821 on cabin C14: extend in Lisbon, confirm in Baltimore, both from v18")
	if _, err := s.lis.Create(s.ctx, "H-8821", hold.New("H-8821", "C14", "lisbon-desk", at(14, 10, 0))); err != nil {
		return err
	}
	// Seventeen more edits in Lisbon bring the hold to version 18.
	for i := 2; i <= 18; i++ {
		s.now = s.now.Add(10 * time.Second)
		if _, err := s.lis.Blind(s.ctx, "H-8821", "note", hold.NoteEdit(fmt.Sprintf("draft %d", i))); err != nil {
			return err
		}
	}
	if err := s.reconcile(); err != nil {
		return err
	}
	v18, err := s.iad.Get(s.ctx, "H-8821")
	if err != nil {
		return err
	}
	s.say("v18 %v: %s", v18.Context, v18.Value)

	// Both regions read v18. Neither will see the other's write in time.
	s.now = at(14, 4, 52)
	_, _, err = s.lis.Command(s.ctx, "H-8821", "lis-extend-1", func(h *hold.Hold, _ replica.Write) error {
		h.Touch("lisbon-desk")
		return h.Extend(at(14, 15, 0))
	})
	if err != nil {
		return err
	}
	s.say("14:04:52 Lisbon extends the hold to 14:15 (customer still on the phone)")
	s.now = at(14, 4, 52).Add(500 * time.Millisecond)
	if _, err := s.lis.Blind(s.ctx, "H-8821", "note", hold.NoteEdit("customer asked for a window seat")); err != nil {
		return err
	}
	s.say("14:04:52.5 Lisbon's agent edits the note: customer asked for a window seat")
	s.now = at(14, 4, 53)
	_, err = s.iad.Update(s.ctx, "H-8821", v18.Token, func(h *hold.Hold, _ replica.Write) error {
		h.Touch("baltimore-payments")
		return h.Confirm("B-3107", s.now)
	})
	if err != nil {
		return err
	}
	s.say("14:04:53 Baltimore confirms booking B-3107 (card authorization cleared), If-Match: v18")

	if err := s.reconcile(); err != nil {
		return err
	}
	rec, err := s.lis.Get(s.ctx, "H-8821")
	if err != nil {
		return err
	}
	s.say("version tree: two children of the same parent, neither descends from the other")
	s.say("  v18 %v  status=active expires_at=14:10", v18.Context)
	for i, b := range rec.Branches {
		branch := "├─"
		if i == len(rec.Branches)-1 {
			branch = "└─"
		}
		s.say("  %s %-12v status=%s expires_at=%s booking_id=%q  (written %s)", branch, b.Stamp.Dot,
			b.Value.Status, b.Value.ExpiresAt.Format("15:04"), b.Value.BookingID, b.Stamp.Time.Time().Format("15:04:05"))
	}
	s.say("classification: %s", classify(rec.Branches))
	s.say("decisions:")
	for _, d := range rec.Decisions {
		if d.Outcome != policy.Same {
			s.say("  - %s", d)
		}
	}
	if err := s.sameInBothRegions("H-8821"); err != nil {
		return err
	}
	// The confirm never touched the note: its branch carries the note's
	// stamp from v18, so its stale "draft 18" cannot beat the real edit.
	iad, err := s.iad.Get(s.ctx, "H-8821")
	if err != nil {
		return err
	}
	s.say("note in both regions: %q (the confirm left the note alone, so its copy of %q kept v18's stamp and lost)", iad.Value.Note, v18.Value.Note)
	return nil
}

func classify(bs []resolve.Branch[hold.Hold]) string {
	if len(bs) < 2 {
		return resolve.IncomingWins.String()
	}
	return resolve.ConcurrentConflict.String()
}

// sameInBothRegions prints the outcome in each region and checks they agree.
func (s *story) sameInBothRegions(key string) error {
	a, errA := s.lis.Get(s.ctx, key)
	b, errB := s.iad.Get(s.ctx, key)
	if err := errors.Join(errA, errB); err != nil {
		return err
	}
	for _, r := range []struct {
		name string
		rec  replica.Record[hold.Hold]
	}{{"lisbon", a}, {"baltimore", b}} {
		if r.rec.Conflict != nil {
			s.say("outcome in %-9s: CONFLICT (%s) token %s", r.name, r.rec.Conflict.Reason, r.rec.Token)
			continue
		}
		s.say("outcome in %-9s: %s  agencies=%v  token %s", r.name, r.rec.Value, r.rec.Value.Agencies, r.rec.Token)
	}
	if a.Token != b.Token || !a.Value.Equal(b.Value) {
		return fmt.Errorf("%s: regions disagree: %v / %v", key, a.Value, b.Value)
	}
	s.say("identical in both regions: yes")
	return nil
}

// concurrentExtends: two actives merge to the later expiry.
func (s *story) concurrentExtends() error {
	s.section("H-8822: two concurrent extends")
	s.now = at(14, 5, 0)
	if _, err := s.lis.Create(s.ctx, "H-8822", hold.New("H-8822", "C15", "lisbon-desk", at(14, 10, 0))); err != nil {
		return err
	}
	if err := s.reconcile(); err != nil {
		return err
	}
	s.now = at(14, 6, 0)
	if _, _, err := s.lis.Command(s.ctx, "H-8822", "lis-extend-7", func(h *hold.Hold, _ replica.Write) error { return h.Extend(at(14, 20, 0)) }); err != nil {
		return err
	}
	s.say("14:06:00 Lisbon extends to 14:20")
	s.now = at(14, 6, 1)
	if _, _, err := s.iad.Command(s.ctx, "H-8822", "iad-extend-3", func(h *hold.Hold, _ replica.Write) error { return h.Extend(at(14, 15, 0)) }); err != nil {
		return err
	}
	s.say("14:06:01 Baltimore extends to 14:15 (a later stamp, an earlier expiry)")
	if err := s.reconcile(); err != nil {
		return err
	}
	rec, _ := s.iad.Get(s.ctx, "H-8822")
	for _, d := range rec.Decisions {
		if d.Field == "expires_at" {
			s.say("decision: %s", d)
		}
	}
	return s.sameInBothRegions("H-8822")
}

// releaseRacesExtend: released vs active is refused; both branches are
// surfaced until a covering write settles them.
func (s *story) releaseRacesExtend() error {
	s.section("H-8823: a release racing an extend")
	s.now = at(14, 7, 0)
	if _, err := s.lis.Create(s.ctx, "H-8823", hold.New("H-8823", "C16", "lisbon-desk", at(14, 12, 0))); err != nil {
		return err
	}
	if err := s.reconcile(); err != nil {
		return err
	}
	base, err := s.iad.Get(s.ctx, "H-8823")
	if err != nil {
		return err
	}
	s.now = at(14, 8, 0)
	if _, _, err := s.lis.Command(s.ctx, "H-8823", "lis-extend-9", func(h *hold.Hold, _ replica.Write) error { return h.Extend(at(14, 18, 0)) }); err != nil {
		return err
	}
	s.say("14:08:00 Lisbon extends to 14:18")
	if _, err := s.iad.Update(s.ctx, "H-8823", base.Token, func(h *hold.Hold, _ replica.Write) error { return h.Release() }); err != nil {
		return err
	}
	s.say("14:08:00 Baltimore releases the hold (If-Match %s)", base.Token)
	if err := s.reconcile(); err != nil {
		return err
	}
	rec, err := s.lis.Get(s.ctx, "H-8823")
	if err != nil {
		return err
	}
	if rec.Conflict == nil {
		return errors.New("H-8823: release vs extend was merged, want a conflict")
	}
	s.say("ConflictRequiresRetry: %s", rec.Conflict.Reason)
	for _, b := range rec.Branches {
		s.say("  branch %-12v status=%s expires_at=%s", b.Stamp.Dot, b.Value.Status, b.Value.ExpiresAt.Format("15:04"))
	}
	for _, r := range []*replica.Replica[hold.Hold]{s.lis, s.iad} {
		for _, it := range r.Conflicts() {
			s.say("review queue in %-9v: %s field=%s branches=%d first seen %s", r.ID(), it.Key, it.Field, len(it.Branches), it.FirstSeen.Format("15:04:05"))
		}
	}
	// The agent who sees both branches decides: the customer left, release stands.
	var released hold.Hold
	for _, b := range rec.Branches {
		if b.Value.Status == hold.Released {
			released = b.Value
		}
	}
	s.now = at(14, 9, 0)
	if _, err := s.lis.ResolveConflict(s.ctx, "H-8823", rec.Token, released); err != nil {
		return err
	}
	s.say("14:09:00 an agent who saw both branches writes 'released' with the covering token %s", rec.Token)
	if err := s.reconcile(); err != nil {
		return err
	}
	s.say("review queues now: lisbon %d, baltimore %d", len(s.lis.Conflicts()), len(s.iad.Conflicts()))
	return s.sameInBothRegions("H-8823")
}

// staleIfMatch: a conditional write from an old read is refused with the
// current token.
func (s *story) staleIfMatch() error {
	s.section("H-8824: a stale If-Match")
	s.now = at(14, 10, 0)
	created, err := s.iad.Create(s.ctx, "H-8824", hold.New("H-8824", "C17", "web", at(14, 20, 0)))
	if err != nil {
		return err
	}
	s.now = at(14, 10, 30)
	if _, _, err := s.iad.Command(s.ctx, "H-8824", "iad-extend-11", func(h *hold.Hold, _ replica.Write) error { return h.Extend(at(14, 25, 0)) }); err != nil {
		return err
	}
	_, err = s.iad.Update(s.ctx, "H-8824", created.Token, func(h *hold.Hold, _ replica.Write) error { return h.Confirm("B-4000", s.now) })
	var pf *replica.PreconditionFailed
	if !errors.As(err, &pf) {
		return fmt.Errorf("H-8824: stale If-Match was accepted: %v", err)
	}
	s.say("confirm with If-Match %s -> 412 Precondition Failed; current token %s", created.Token, pf.Current)
	cur, err := s.iad.Get(s.ctx, "H-8824")
	if err != nil {
		return err
	}
	s.say("the client reads it again: %s", cur.Value)
	_, err = s.iad.Update(s.ctx, "H-8824", cur.Token, func(h *hold.Hold, _ replica.Write) error { return h.Confirm("B-4000", s.now) })
	if err != nil {
		return err
	}
	s.say("the client retried with %s -> confirmed B-4000", cur.Token)
	return nil
}

// replayedExtend: a retried command applies once.
func (s *story) replayedExtend() error {
	s.section("H-8822 again: a replayed Extend")
	s.now = at(14, 11, 0)
	extend := func(h *hold.Hold, _ replica.Write) error { return h.Extend(h.ExpiresAt.Add(5 * time.Minute)) }
	first, replayed, err := s.lis.Command(s.ctx, "H-8822", "lis-extend-42", extend)
	if err != nil {
		return err
	}
	s.say("Extend (Idempotency-Key lis-extend-42) -> expires %s, replayed=%v", first.Value.ExpiresAt.Format("15:04"), replayed)
	again, replayed, err := s.lis.Command(s.ctx, "H-8822", "lis-extend-42", extend)
	if err != nil {
		return err
	}
	s.say("the same request retried         -> expires %s, replayed=%v (applied once)", again.Value.ExpiresAt.Format("15:04"), replayed)
	if err := s.reconcile(); err != nil {
		return err
	}
	_, replayed, err = s.iad.Command(s.ctx, "H-8822", "lis-extend-42", extend)
	if err != nil {
		return err
	}
	rec, _ := s.iad.Get(s.ctx, "H-8822")
	s.say("retried in Baltimore after replication -> expires %s, replayed=%v", rec.Value.ExpiresAt.Format("15:04"), replayed)
	return nil
}

// blindNotes: a note edited blind in both regions; last writer wins.
func (s *story) blindNotes() error {
	s.section("H-8822: the agent note, edited blind in both regions")
	s.now = at(14, 12, 0)
	if _, err := s.lis.Blind(s.ctx, "H-8822", "note", hold.NoteEdit("customer prefers deck 3")); err != nil {
		return err
	}
	s.say("14:12:00.000 Lisbon sets the note: customer prefers deck 3")
	s.now = at(14, 12, 0).Add(400 * time.Millisecond)
	if _, err := s.iad.Blind(s.ctx, "H-8822", "note", hold.NoteEdit("call back after 3pm")); err != nil {
		return err
	}
	s.say("14:12:00.400 Baltimore sets the note: call back after 3pm")
	if err := s.reconcile(); err != nil {
		return err
	}
	rec, _ := s.lis.Get(s.ctx, "H-8822")
	for _, d := range rec.Decisions {
		if d.Field == "note" && d.Outcome != policy.Same {
			s.say("decision: %s", d)
		}
	}
	s.say("note = %q: last writer wins — the other edit is discarded, which is acceptable only", rec.Value.Note)
	s.say("because a draft note is replaceable; the skew flag says 400ms is within clock-skew range")
	return s.sameInBothRegions("H-8822")
}

// operatorCounters prints what an operator watches.
func (s *story) operatorCounters() {
	s.section("what the operator sees")
	totals := map[resolve.Kind]uint64{}
	for _, k := range resolve.Kinds() {
		totals[k] = s.counters.Total(k)
	}
	s.say("(counted in each region that merged)")
	s.say("auto-resolved by policy : %d", totals[resolve.AutoResolved])
	s.say("rejected back to clients: %d", totals[resolve.Rejected])
	s.say("sent to review          : %d (resolved: %d)", totals[resolve.SentToReview], totals[resolve.Reviewed])
	s.say("conflicts kept as siblings: %d", totals[resolve.Conflict])
	s.say("stale versions dropped  : %d, duplicates: %d", totals[resolve.StaleDropped], totals[resolve.DuplicateDropped])
	s.say("LWW inside skew window  : %d", totals[resolve.SkewWindow])
	s.say("policies fired (entity.field policy: count):")
	var lines []string
	for _, k := range s.counters.Keys() {
		if k.Kind == resolve.PolicyFired {
			lines = append(lines, fmt.Sprintf("  %s.%s %s: %d", k.Entity, k.Field, k.Policy, s.counters.Get(k)))
		}
	}
	s.say("%s", strings.Join(lines, "\n"))
}

// oneCabinTwoHolds: two different holds on one cabin, confirmed in two
// regions. No merge sees them together, so the cabin is claimed at its
// home first: one confirmation wins, the other is told why. Cut off from
// the home, a region still extends and notes holds, but cannot confirm.
func (s *story) oneCabinTwoHolds() error {
	s.section("H-9040 and H-9041 on cabin C21: two holds, one cabin, two regions")
	s.now = at(14, 13, 0)
	// Cabin C21's home: one store, not merged across regions, reached over
	// a link the scene cuts (claimtest.Link, a simulated network route).
	link := claimtest.NewLink(replica.NewMemoryStore())
	claims := &claim.Counters{}
	home, err := claim.NewHome(link, claim.Options{Now: func() time.Time { return s.now }, Observer: claims})
	if err != nil {
		return err
	}
	desk := func(r *replica.Replica[hold.Hold]) (*booking.Desk, error) {
		return booking.New(r, home, booking.Options{Now: func() time.Time { return s.now }})
	}
	lisDesk, err := desk(s.lis)
	if err != nil {
		return err
	}
	iadDesk, err := desk(s.iad)
	if err != nil {
		return err
	}
	lisHold, err := s.lis.Create(s.ctx, "H-9040", hold.New("H-9040", "C21", "lisbon-desk", at(14, 25, 0)))
	if err != nil {
		return err
	}
	iadHold, err := s.iad.Create(s.ctx, "H-9041", hold.New("H-9041", "C21", "web", at(14, 25, 0)))
	if err != nil {
		return err
	}
	s.say("14:13:00 Lisbon holds C21 as H-9040; Baltimore holds C21 as H-9041 (different records: no merge ever sees both)")

	s.now = at(14, 13, 5)
	rec, err := iadDesk.Confirm(s.ctx, "H-9041", iadHold.Token, "B-5001")
	if err != nil {
		return err
	}
	s.say("14:13:05 Baltimore confirms H-9041: claims cabin/C21 at its home, commits B-5001 -> %s", rec.Value)
	_, err = lisDesk.Confirm(s.ctx, "H-9040", lisHold.Token, "B-5002")
	var held *claim.ClaimedError
	if !errors.As(err, &held) {
		return fmt.Errorf("H-9040: a second confirmation of C21 was not refused: %v", err)
	}
	s.say("14:13:05 Lisbon confirms H-9040 -> 409 Conflict: cabin/C21 is %s by %s with %s", held.Current.State, held.Current.Owner, held.Current.Data)

	s.now = at(14, 14, 0)
	link.Set(true, false)
	s.say("14:14:00 Lisbon loses its route to C21's home")
	if _, _, err := s.lis.Command(s.ctx, "H-9040", "lis-extend-90", func(h *hold.Hold, _ replica.Write) error { return h.Extend(at(14, 30, 0)) }); err != nil {
		return err
	}
	if _, err := s.lis.Blind(s.ctx, "H-9040", "note", hold.NoteEdit("offer C22 instead")); err != nil {
		return err
	}
	s.say("  extend H-9040 to 14:30 -> ok; note -> ok (merge-aware and blind writes need no coordination)")
	cur, err := s.lis.Get(s.ctx, "H-9040")
	if err != nil {
		return err
	}
	_, err = lisDesk.Confirm(s.ctx, "H-9040", cur.Token, "B-5003")
	if !errors.Is(err, claim.ErrUnavailable) {
		return fmt.Errorf("H-9040: a confirmation without the home was not refused: %v", err)
	}
	s.say("  confirm H-9040 -> 503 Service Unavailable, Retry-After: 1 (a confirmation needs the cabin's home)")
	link.Set(false, false)

	if err := s.reconcile(); err != nil {
		return err
	}
	confirmed := 0
	for _, id := range []string{"H-9040", "H-9041"} {
		a, errA := s.lis.Get(s.ctx, id)
		b, errB := s.iad.Get(s.ctx, id)
		if err := errors.Join(errA, errB); err != nil {
			return err
		}
		if a.Token != b.Token || !a.Value.Equal(b.Value) {
			return fmt.Errorf("%s: regions disagree", id)
		}
		if a.Value.Status == hold.Confirmed {
			confirmed++
		}
		s.say("outcome in both regions: %s  note=%q", a.Value, a.Value.Note)
	}
	if confirmed != 1 {
		return fmt.Errorf("C21: %d confirmed holds", confirmed)
	}
	s.say("confirmed holds on C21: 1")
	s.say("available in a partition: extends, notes, agencies, releases (they merge, or free a cabin)")
	s.say("not available: confirmations (one round trip to the cabin's home; without it, a cabin sells twice)")
	var counts []string
	for _, k := range claim.Kinds() {
		if n := claims.Get(k); n > 0 {
			counts = append(counts, fmt.Sprintf("%s %d", k, n))
		}
	}
	s.say("claim outcomes: %s", strings.Join(counts, ", "))
	return nil
}
