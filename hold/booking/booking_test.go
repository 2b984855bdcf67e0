package booking_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/harborpoint/concord/claim"
	"github.com/harborpoint/concord/claim/claimtest"
	"github.com/harborpoint/concord/hold"
	"github.com/harborpoint/concord/hold/booking"
	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

// TestOneConfirmWins: two holds on cabin C14, confirmed in two regions; the
// first wins, the second is told who holds the cabin, and after the regions
// reconcile exactly one hold is confirmed in both.
func TestOneConfirmWins(t *testing.T) {
	w := twoHoldsOnC14(t)
	if _, err := w.confirm(w.iad, "H-8821", "B-3107"); err != nil {
		t.Fatal(err)
	}
	_, err := w.confirm(w.lis, "H-9040", "B-3200")
	var ce *claim.ClaimedError
	if !errors.As(err, &ce) || ce.Current.Owner != "H-8821" || ce.Current.Data != "B-3107" {
		t.Fatalf("second confirm: %v", err)
	}
	w.sync()
	for _, r := range []*region{w.lis, w.iad} {
		if s, b := w.status(r, "H-8821"); s != hold.Confirmed || b != "B-3107" {
			t.Errorf("%s: H-8821 %s %s", r.name, s, b)
		}
		if s, _ := w.status(r, "H-9040"); s != hold.Active {
			t.Errorf("%s: H-9040 %s", r.name, s)
		}
	}
	if c := w.claimOf("cabin/C14"); c.State != claim.StateCommitted || c.Owner != "H-8821" {
		t.Errorf("claim %v", c)
	}
}

// TestCutFromTheHome: a region cut off from the home cannot confirm
// (ErrUnavailable, nothing written) but extends, notes and releases work.
func TestCutFromTheHome(t *testing.T) {
	w := newWorld(t, booking.Options{})
	w.create(w.lis, "H-8821", "C14")
	w.create(w.lis, "H-8822", "C15")
	w.lis.link.Set(true, false)
	_, err := w.confirm(w.lis, "H-8821", "B-3107")
	if !errors.Is(err, claim.ErrUnavailable) || !errors.Is(err, claimtest.ErrCut) {
		t.Fatalf("confirm cut from the home: %v", err)
	}
	if s, _ := w.status(w.lis, "H-8821"); s != hold.Active {
		t.Fatalf("written anyway: %s", s)
	}
	if _, _, err := w.lis.rep.Command(bg, "H-8821", "ext-1", func(h *hold.Hold, _ replica.Write) error {
		return h.Extend(h.ExpiresAt.Add(5 * time.Minute))
	}); err != nil {
		t.Errorf("extend: %v", err)
	}
	if _, err := w.lis.rep.Blind(bg, "H-8821", "note", hold.NoteEdit("customer on the phone")); err != nil {
		t.Errorf("note: %v", err)
	}
	if rec, err := w.lis.desk.Release(bg, "H-8822", w.token(w.lis, "H-8822")); err != nil || rec.Value.Status != hold.Released {
		t.Errorf("release: %v %v", rec.Value, err)
	}
	w.lis.link.Set(false, false)
	if _, err := w.confirm(w.lis, "H-8821", "B-3107"); err != nil {
		t.Fatalf("confirm after the heal: %v", err)
	}
}

// TestCrashAfterClaiming: the confirming process dies right after its claim
// is written. The cabin is held until the claim's deadline plus the margin,
// then the next hold's confirmation takes it over; the dead process, if it
// wakes, is fenced.
func TestCrashAfterClaiming(t *testing.T) {
	w := twoHoldsOnC14(t)
	w.lis.link.Set(false, true)
	if _, err := w.confirm(w.lis, "H-8821", "B-3107"); !errors.Is(err, claim.ErrUnavailable) {
		t.Fatalf("lost reply: %v", err)
	}
	crashed := w.claimOf("cabin/C14")
	if crashed.State != claim.StatePending || crashed.Owner != "H-8821" {
		t.Fatalf("claim %v", crashed)
	}
	if _, err := w.confirm(w.iad, "H-9040", "B-3200"); !errors.Is(err, claim.ErrClaimed) {
		t.Fatalf("before the lapse: %v", err)
	}
	w.clk.Advance(10*time.Second + margin + time.Millisecond)
	if _, err := w.confirm(w.iad, "H-9040", "B-3200"); err != nil {
		t.Fatalf("after the lapse: %v", err)
	}
	if _, err := w.lis.home.Commit(bg, "cabin/C14", "H-8821", crashed.Token, "B-3107"); !errors.Is(err, claim.ErrFenced) {
		t.Fatalf("the crashed process commits: %v", err)
	}
	w.sync()
	if s, _ := w.status(w.lis, "H-8821"); s != hold.Active {
		t.Errorf("H-8821 %s", s)
	}
	if w.counters.Get(claim.TakenOver) != 1 {
		t.Errorf("events %v", w.counters.Snapshot())
	}
}

// TestCrashAfterCommitting: the process dies after the home committed the
// booking, before the hold was written. The decision stands: another hold
// is refused, and the retry — or the sweeper — writes the booking.
func TestCrashAfterCommitting(t *testing.T) {
	for _, recover := range []string{"retry", "reconcile"} {
		t.Run(recover, func(t *testing.T) {
			w := twoHoldsOnC14(t)
			token, err := w.commitLost(w.lis, "H-8821", "B-3107")
			if !errors.Is(err, claim.ErrUnavailable) {
				t.Fatalf("lost commit reply: %v", err)
			}
			if s, _ := w.status(w.lis, "H-8821"); s != hold.Active {
				t.Fatalf("H-8821 %s before recovery", s)
			}
			w.clk.Advance(time.Minute) // committed claims never lapse
			if _, err := w.confirm(w.iad, "H-9040", "B-3200"); !errors.Is(err, claim.ErrClaimed) {
				t.Fatalf("another hold: %v", err)
			}
			if recover == "retry" {
				_, err = w.lis.desk.Confirm(bg, "H-8821", token, "B-3107")
			} else {
				_, err = w.iad.desk.Reconcile(bg, "H-8821")
				w.sync()
			}
			must(t, err)
			if s, b := w.status(w.lis, "H-8821"); s != hold.Confirmed || b != "B-3107" {
				t.Fatalf("H-8821 %s %s after %s", s, b, recover)
			}
		})
	}
}

func mustDesk(t *testing.T, r *region, opts booking.Options) *booking.Desk {
	d, err := booking.New(r.rep, r.home, opts)
	must(t, err)
	return d
}

// TestStalledPastTheMargin: a payment that takes longer than PendingFor
// plus the margin loses the cabin to the next hold: the commit is fenced and
// the slow hold is not confirmed.
func TestStalledPastTheMargin(t *testing.T) {
	w := twoHoldsOnC14(t)
	w.lis.desk = mustDesk(t, w.lis, booking.Options{PendingFor: 10 * time.Second, Now: w.clk.Now,
		BeforeCommit: func(context.Context, hold.Hold, string) error {
			w.clk.Advance(time.Minute) // the payment provider is slow
			_, err := w.confirm(w.iad, "H-9040", "B-3200")
			return err
		}})
	_, err := w.confirm(w.lis, "H-8821", "B-3107")
	if !errors.Is(err, claim.ErrFenced) {
		t.Fatalf("stalled confirm: %v", err)
	}
	w.sync()
	if s, _ := w.status(w.iad, "H-8821"); s != hold.Active {
		t.Errorf("stalled hold %s", s)
	}
	if s, b := w.status(w.lis, "H-9040"); s != hold.Confirmed || b != "B-3200" {
		t.Errorf("H-9040 %s %s", s, b)
	}
}

// TestBeforeCommitFails: a refused payment gives the cabin back at once.
func TestBeforeCommitFails(t *testing.T) {
	w := twoHoldsOnC14(t)
	declined := errors.New("card declined")
	w.lis.desk = mustDesk(t, w.lis, booking.Options{Now: w.clk.Now,
		BeforeCommit: func(context.Context, hold.Hold, string) error { return declined }})
	if _, err := w.confirm(w.lis, "H-8821", "B-3107"); !errors.Is(err, declined) {
		t.Fatalf("declined: %v", err)
	}
	w.c14FreeForBaltimore()
}

// TestRefusedBeforeClaiming: a stale token, an open conflict, an expired or
// released hold are refused before the home is asked: no claim is taken.
func TestRefusedBeforeClaiming(t *testing.T) {
	w := newWorld(t, booking.Options{})
	created := w.create(w.lis, "H-1", "C1")
	if _, _, err := w.lis.rep.Command(bg, "H-1", "ext", func(h *hold.Hold, _ replica.Write) error {
		return h.Extend(h.ExpiresAt.Add(time.Minute))
	}); err != nil {
		t.Fatal(err)
	}
	_, err := w.lis.desk.Confirm(bg, "H-1", created.Token, "B-1")
	var pf *replica.PreconditionFailed
	if !errors.As(err, &pf) || pf.Current != w.token(w.lis, "H-1") {
		t.Errorf("stale token: %v", err)
	}
	if _, err := w.lis.desk.Confirm(bg, "H-1", "", "B-1"); !errors.Is(err, replica.ErrPreconditionRequired) {
		t.Errorf("no token: %v", err)
	}
	if _, err := w.lis.desk.Confirm(bg, "H-1", "%%%", "B-1"); !errors.Is(err, version.ErrMalformedToken) {
		t.Errorf("bad token: %v", err)
	}
	if _, err := w.confirm(w.lis, "H-1", ""); !errors.Is(err, hold.ErrNoBooking) {
		t.Errorf("no booking: %v", err)
	}
	w.create(w.lis, "H-2", "C2")
	w.clk.Advance(time.Hour)
	if _, err := w.confirm(w.lis, "H-2", "B-2"); !errors.Is(err, hold.ErrExpired) {
		t.Errorf("expired: %v", err)
	}
	// released in Baltimore while Lisbon extends: an open conflict.
	w.create(w.lis, "H-3", "C3")
	if _, err := w.iad.rep.Update(bg, "H-3", w.token(w.iad, "H-3"), func(h *hold.Hold, _ replica.Write) error { return h.Release() }); err != nil {
		t.Fatal(err)
	}
	if _, _, err := w.lis.rep.Command(bg, "H-3", "ext", func(h *hold.Hold, _ replica.Write) error { return h.Extend(h.ExpiresAt.Add(time.Hour)) }); err != nil {
		t.Fatal(err)
	}
	w.sync()
	if _, err := w.confirm(w.lis, "H-3", "B-3"); !errors.Is(err, resolve.ErrConflict) {
		t.Errorf("open conflict: %v", err)
	}
	for _, c := range []string{"cabin/C1", "cabin/C2", "cabin/C3"} {
		if got := w.claimOf(c); got.Token != 0 {
			t.Errorf("%s claimed: %v", c, got)
		}
	}
}

// TestReleaseGivesTheCabinBack: releasing a hold whose confirmation
// crashed before committing frees its pending claim at once.
func TestReleaseGivesTheCabinBack(t *testing.T) {
	w := twoHoldsOnC14(t)
	w.lis.link.Set(false, true)
	_, _ = w.confirm(w.lis, "H-8821", "B-3107")
	if _, err := w.lis.desk.Release(bg, "H-8821", w.token(w.lis, "H-8821")); err != nil {
		t.Fatal(err)
	}
	w.c14FreeForBaltimore()
}

// TestReleaseLosesToADecidedBooking: Baltimore's confirmation is committed
// at the home but its write is lost; Lisbon then releases the hold. The
// release finds the booking decided: the hold ends confirmed, and the
// releasing client is told.
func TestReleaseLosesToADecidedBooking(t *testing.T) {
	w := newWorld(t, booking.Options{})
	w.create(w.lis, "H-8821", "C14")
	_, _ = w.commitLost(w.iad, "H-8821", "B-3107")
	rec, err := w.lis.desk.Release(bg, "H-8821", w.token(w.lis, "H-8821"))
	var te *hold.TransitionError
	if !errors.As(err, &te) || te.Action != "release" || rec.Value.Status != hold.Confirmed || rec.Value.BookingID != "B-3107" {
		t.Fatalf("release: %v %v", rec.Value, err)
	}
	w.sync()
	if s, b := w.status(w.iad, "H-8821"); s != hold.Confirmed || b != "B-3107" {
		t.Fatalf("H-8821 %s %s", s, b)
	}
}

// TestReconcileSettlesAConflict: the booking is decided while the hold's
// branches conflict (released in one region, extended in the other): the
// roll-forward settles them confirmed, keeping every agency.
func TestReconcileSettlesAConflict(t *testing.T) {
	w := newWorld(t, booking.Options{})
	w.create(w.lis, "H-1", "C1")
	_, _ = w.commitLost(w.lis, "H-1", "B-1") // committed, not written
	w.iad.link.Set(true, false)              // Baltimore releases without reaching the home
	if _, err := w.iad.desk.Release(bg, "H-1", w.token(w.iad, "H-1")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := w.lis.rep.Command(bg, "H-1", "ext", func(h *hold.Hold, _ replica.Write) error {
		h.Touch("phone")
		return h.Extend(h.ExpiresAt.Add(time.Minute))
	}); err != nil {
		t.Fatal(err)
	}
	w.sync()
	if rec, _ := w.lis.rep.Get(bg, "H-1"); rec.Conflict == nil {
		t.Fatalf("want an open conflict, got %v", rec.Value)
	}
	if _, err := w.lis.desk.Reconcile(bg, "H-1"); err != nil {
		t.Fatal(err)
	}
	w.sync()
	rec, _ := w.iad.rep.Get(bg, "H-1")
	if rec.Conflict != nil || rec.Value.Status != hold.Confirmed || rec.Value.BookingID != "B-1" || !rec.Value.Agencies.Has("phone") {
		t.Fatalf("settled %v agencies %v", rec.Value, rec.Value.Agencies)
	}
}

// TestReconcileFreesLapsedClaims: the sweeper frees a lapsed pending claim
// of a crashed confirmation, and leaves a live one alone.
func TestReconcileFreesLapsedClaims(t *testing.T) {
	w := newWorld(t, booking.Options{})
	w.create(w.lis, "H-8821", "C14")
	w.lis.link.Set(false, true)
	_, _ = w.confirm(w.lis, "H-8821", "B-3107")
	if c, err := w.iad.desk.Reconcile(bg, "H-8821"); err != nil || c.State != claim.StatePending {
		t.Fatalf("live claim: %v %v", c, err)
	}
	w.clk.Advance(10*time.Second + margin + time.Millisecond)
	if c, err := w.iad.desk.Reconcile(bg, "H-8821"); err != nil || c.State != claim.StateFree {
		t.Fatalf("lapsed claim: %v %v", c, err)
	}
	if w.counters.Get(claim.Reconciled) != 1 {
		t.Errorf("events %v", w.counters.Snapshot())
	}
}

// TestConfirmWithAnotherBookingAfterTheDecision: a retry with a different
// booking writes the decided one and says the hold is confirmed.
func TestConfirmWithAnotherBookingAfterTheDecision(t *testing.T) {
	w := newWorld(t, booking.Options{})
	w.create(w.lis, "H-1", "C1")
	token, _ := w.commitLost(w.lis, "H-1", "B-1")
	rec, err := w.lis.desk.Confirm(bg, "H-1", token, "B-2")
	if !errors.Is(err, hold.ErrIllegalTransition) || rec.Value.BookingID != "B-1" {
		t.Fatalf("%v %v", rec.Value, err)
	}
}

// TestRetryAfterExpiryFindsTheDecision: the reply of a decided confirmation
// is lost, and the client retries after the hold's expiry: the retry finds
// the booking committed and writes it, instead of refusing an expired hold.
func TestRetryAfterExpiryFindsTheDecision(t *testing.T) {
	w := newWorld(t, booking.Options{})
	w.create(w.lis, "H-1", "C1")
	token, _ := w.commitLost(w.lis, "H-1", "B-1")
	w.clk.Advance(time.Hour)
	rec, err := w.lis.desk.Confirm(bg, "H-1", token, "B-1")
	if err != nil || rec.Value.Status != hold.Confirmed {
		t.Fatalf("retry: %v %v", rec.Value, err)
	}
	w.create(w.lis, "H-2", "C2")
	w.clk.Advance(time.Hour)
	if _, err := w.confirm(w.lis, "H-2", "B-2"); !errors.Is(err, hold.ErrExpired) {
		t.Fatalf("an expired hold never confirmed: %v", err)
	}
}

// hookedLink is a link that runs a function once, right after its next
// Get returns: an interleaving of two processes, made deterministic.
type hookedLink struct {
	*claimtest.Link
	after func()
}

func (l *hookedLink) Get(ctx context.Context, key string) ([]byte, uint64, error) {
	v, rev, err := l.Link.Get(ctx, key)
	if f := l.after; f != nil {
		l.after = nil
		f()
	}
	return v, rev, err
}

// TestReleaseRacingACommit: Baltimore's confirmation has claimed the cabin;
// Lisbon releases the hold and reads the claim as pending; Baltimore
// commits; then Lisbon's cleanup runs. It must not free the committed
// claim (a Release by token would): the hold ends confirmed, the cabin
// stays its, and another hold is refused.
func TestReleaseRacingACommit(t *testing.T) {
	w := newWorld(t, booking.Options{})
	w.create(w.lis, "H-8821", "C14")
	w.create(w.lis, "H-9040", "C14")
	hooked := &hookedLink{Link: w.lis.link}
	lisHome, err := claim.NewHome(hooked, claim.Options{Margin: margin, Now: w.clk.Now})
	must(t, err)
	lisDesk, err := booking.New(w.lis.rep, lisHome, booking.Options{Now: w.clk.Now})
	must(t, err)
	var releaseErr error
	w.iad.desk = mustDesk(t, w.iad, booking.Options{Now: w.clk.Now, BeforeCommit: func(ctx context.Context, h hold.Hold, b string) error {
		c := w.claimOf("cabin/C14")
		hooked.after = func() { // Lisbon has read the claim as pending: Baltimore commits now
			if _, err := w.iad.home.Commit(ctx, "cabin/C14", h.ID, c.Token, b); err != nil {
				t.Error(err)
			}
		}
		_, releaseErr = lisDesk.Release(ctx, "H-8821", w.token(w.lis, "H-8821"))
		return nil
	}})
	if _, err := w.confirm(w.iad, "H-8821", "B-3107"); err != nil {
		t.Fatal(err)
	}
	if !errors.Is(releaseErr, hold.ErrIllegalTransition) {
		t.Errorf("release: %v", releaseErr)
	}
	if c := w.claimOf("cabin/C14"); c.State != claim.StateCommitted || c.Owner != "H-8821" {
		t.Fatalf("claim %v", c)
	}
	w.sync()
	if _, err := w.confirm(w.lis, "H-9040", "B-3200"); !errors.Is(err, claim.ErrClaimed) {
		t.Fatalf("second hold on the cabin: %v", err)
	}
	if s, _ := w.status(w.lis, "H-8821"); s != hold.Confirmed {
		t.Fatalf("H-8821 %s", s)
	}
}
