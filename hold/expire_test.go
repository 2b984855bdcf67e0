package hold_test

import (
	"testing"
	"time"

	"github.com/harborpoint/concord/hold"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

// TestExpire: only an active hold past its expiry expires; expiring twice
// changes nothing; two regions' expiries merge silently; a confirm that
// raced an expiry wins; only released holds past retention are deletable.
func TestExpire(t *testing.T) {
	at := time.Date(2026, 11, 26, 14, 0, 0, 0, time.UTC)
	h := hold.New("H-1", "C1", "desk", at.Add(10*time.Minute))
	if h.Expire(at) {
		t.Fatal("expired before its expiry")
	}
	a, b := h, h
	if !a.Expire(at.Add(10*time.Minute)) || a.Status != hold.Released || a.Expire(at.Add(time.Hour)) {
		t.Fatalf("expire: %v", a)
	}
	b.Expire(at.Add(11 * time.Minute))
	res := hold.Resolver(resolve.Options{})
	m, err := res.Merge([]resolve.Branch[hold.Hold]{branch(a, version.MustID("lisbon"), 2, at.Add(10*time.Minute)), branch(b, version.MustID("baltimore"), 2, at.Add(11*time.Minute))})
	if err != nil || m.Value.Status != hold.Released {
		t.Fatalf("two expiries: %v %v", m.Value, err)
	}
	c := h
	if err := c.Confirm("B-1", at.Add(9*time.Minute)); err != nil {
		t.Fatal(err)
	}
	m, err = res.Merge([]resolve.Branch[hold.Hold]{branch(a, version.MustID("lisbon"), 2, at.Add(10*time.Minute)), branch(c, version.MustID("baltimore"), 2, at.Add(9*time.Minute))})
	if err != nil || m.Value.Status != hold.Confirmed || m.Value.BookingID != "B-1" {
		t.Fatalf("confirm raced expiry: %v %v", m.Value, err)
	}
	if hold.Deletable(c, at.Add(1000*time.Hour), time.Hour) || hold.Deletable(h, at.Add(1000*time.Hour), time.Hour) {
		t.Fatal("a confirmed or active hold is deletable")
	}
	if hold.Deletable(a, at.Add(30*time.Minute), time.Hour) || !hold.Deletable(a, at.Add(70*time.Minute), time.Hour) {
		t.Fatal("retention not honoured")
	}
}
