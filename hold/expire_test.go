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
	merge := func(x, y hold.Hold) (resolve.Resolution[hold.Hold], error) {
		base, _ := res.Write(resolve.Siblings[hold.Hold]{}, resolve.Change[hold.Hold]{Replica: version.MustID("lisbon"),
			Time: version.Timestamp{Wall: 1}, Value: func(version.Dot) hold.Hold { return h }})
		ctx := base.State.Join()
		l, _ := res.Write(base.State, resolve.Change[hold.Hold]{Context: ctx, Replica: version.MustID("lisbon"),
			Time: version.Timestamp{Wall: 2}, Value: func(version.Dot) hold.Hold { return x }})
		r, _ := res.Write(base.State, resolve.Change[hold.Hold]{Context: ctx, Replica: version.MustID("baltimore"),
			Time: version.Timestamp{Wall: 3}, Value: func(version.Dot) hold.Hold { return y }})
		return res.Resolve(res.Apply(l.State, r.State).State)
	}
	m, err := merge(a, b)
	if err != nil || m.Value.Status != hold.Released {
		t.Fatalf("two expiries: %v %v", m.Value, err)
	}
	c := h
	if err := c.Confirm("B-1", at.Add(9*time.Minute)); err != nil {
		t.Fatal(err)
	}
	m, err = merge(a, c)
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
