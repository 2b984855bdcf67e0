package booking_test

import (
	"context"
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

var bg = context.Background()

var t0 = time.Date(2027, 3, 1, 14, 0, 0, 0, time.UTC)

// region is one region: its replica of holds, its link to the home, its desk.
type region struct {
	name string
	rep  *replica.Replica[hold.Hold]
	link *claimtest.Link
	home *claim.Home
	desk *booking.Desk
}

// world is two regions, Lisbon and Baltimore, and the cabins' home store.
type world struct {
	t        testing.TB
	clk      *claimtest.Clock
	home     *replica.MemoryStore
	counters *claim.Counters
	lis, iad *region
}

const margin = 2 * time.Second

func newWorld(t testing.TB, opts booking.Options) *world {
	t.Helper()
	w := &world{t: t, clk: claimtest.NewClock(t0), home: replica.NewMemoryStore(), counters: &claim.Counters{}}
	if opts.PendingFor == 0 {
		opts.PendingFor = 10 * time.Second
	}
	opts.Now = w.clk.Now
	res := hold.Resolver(resolve.Options{})
	mk := func(name string) *region {
		rep, err := replica.New(version.MustID(name), replica.NewMemoryStore(), res, replica.Options[hold.Hold]{
			Clock: version.NewHLC(version.HLCOptions{Now: w.clk.Now}, version.Timestamp{}), CommandKeys: hold.CommandKeys, Now: w.clk.Now,
		})
		must(t, err)
		l := claimtest.NewLink(w.home)
		home, err := claim.NewHome(l, claim.Options{Margin: margin, Now: w.clk.Now, Observer: w.counters})
		must(t, err)
		desk, err := booking.New(rep, home, opts)
		must(t, err)
		return &region{name: name, rep: rep, link: l, home: home, desk: desk}
	}
	w.lis, w.iad = mk("lisbon"), mk("baltimore")
	return w
}

// twoHoldsOnC14 is a world where Lisbon's hold H-8821 and Baltimore's
// H-9040 are both on cabin C14, created and synced in both regions.
func twoHoldsOnC14(t testing.TB) *world {
	t.Helper()
	w := newWorld(t, booking.Options{})
	w.create(w.lis, "H-8821", "C14")
	w.create(w.iad, "H-9040", "C14")
	return w
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// sync runs anti-entropy between the regions.
func (w *world) sync() {
	w.t.Helper()
	must(w.t, replica.AntiEntropy(bg, w.lis.rep, w.iad.rep))
}

// create makes hold id on cabin in r, expiring in ten minutes, and syncs.
func (w *world) create(r *region, id, cabin string) replica.Record[hold.Hold] {
	w.t.Helper()
	rec, err := r.rep.Create(bg, id, hold.New(id, cabin, r.name+"-desk", w.clk.Now().Add(10*time.Minute)))
	must(w.t, err)
	w.sync()
	return rec
}

// token reads hold id's current token in r.
func (w *world) token(r *region, id string) string {
	w.t.Helper()
	rec, err := r.rep.Get(bg, id)
	must(w.t, err)
	return rec.Token
}

// confirm confirms hold id in r with booking b, with the token r reads now.
func (w *world) confirm(r *region, id, b string) (replica.Record[hold.Hold], error) {
	w.t.Helper()
	return r.desk.Confirm(bg, id, w.token(r, id), b)
}

// commitLost confirms hold id in r with booking b through a new desk of
// r's that loses the home's replies from just before the commit: the home
// commits the booking, r never hears it and writes nothing. It returns the
// token it confirmed with and Confirm's error; r keeps that desk.
func (w *world) commitLost(r *region, id, b string) (string, error) {
	w.t.Helper()
	token := w.token(r, id)
	desk, err := booking.New(r.rep, r.home, booking.Options{PendingFor: 10 * time.Second, Now: w.clk.Now,
		BeforeCommit: func(context.Context, hold.Hold, string) error { r.link.Set(false, true); return nil }})
	must(w.t, err)
	r.desk = desk
	_, err = desk.Confirm(bg, id, token, b)
	return token, err
}

// status returns hold id's status and booking in r.
func (w *world) status(r *region, id string) (hold.Status, string) {
	w.t.Helper()
	rec, err := r.rep.Get(bg, id)
	must(w.t, err)
	return rec.Value.Status, rec.Value.BookingID
}

// claimOf reads the claim on name straight from the home.
func (w *world) claimOf(name string) claim.Claim {
	w.t.Helper()
	h, err := claim.NewHome(w.home, claim.Options{})
	must(w.t, err)
	c, err := h.Get(bg, name)
	must(w.t, err)
	return c
}

// c14FreeForBaltimore checks that Lisbon's failed confirmation of H-8821
// left nothing behind: cabin/C14's claim is free, and Baltimore's H-9040
// confirms it.
func (w *world) c14FreeForBaltimore() {
	w.t.Helper()
	if c := w.claimOf("cabin/C14"); c.State != claim.StateFree {
		w.t.Fatalf("claim kept: %v", c)
	}
	if _, err := w.confirm(w.iad, "H-9040", "B-3200"); err != nil {
		w.t.Fatal(err)
	}
}
