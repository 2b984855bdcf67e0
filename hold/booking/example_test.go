package booking_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/harborpoint/concord/claim"
	"github.com/harborpoint/concord/hold"
	"github.com/harborpoint/concord/hold/booking"
	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

// Two holds on cabin C14, one per region, confirmed at the same time: the
// cabin's home decides, and the losing region is told which hold has it.
func Example() {
	ctx := context.Background()
	now := func() time.Time { return time.Date(2027, 3, 1, 14, 4, 53, 0, time.UTC) }
	cabins := replica.NewMemoryStore() // the cabins' home store, shared by both regions
	home, _ := claim.NewHome(cabins, claim.Options{Now: now})
	desk := func(name string) (*replica.Replica[hold.Hold], *booking.Desk) {
		rep, _ := replica.New(version.MustID(name), replica.NewMemoryStore(), hold.Resolver(resolve.Options{}), replica.Options[hold.Hold]{})
		d, _ := booking.New(rep, home, booking.Options{Now: now})
		return rep, d
	}
	lisbon, lisDesk := desk("lisbon")
	baltimore, iadDesk := desk("baltimore")

	expires := now().Add(10 * time.Minute)
	a, _ := baltimore.Create(ctx, "H-8821", hold.New("H-8821", "C14", "baltimore-payments", expires))
	b, _ := lisbon.Create(ctx, "H-9040", hold.New("H-9040", "C14", "lisbon-desk", expires))

	rec, err := iadDesk.Confirm(ctx, "H-8821", a.Token, "B-3107")
	fmt.Println("baltimore:", rec.Value, err)

	_, err = lisDesk.Confirm(ctx, "H-9040", b.Token, "B-3200")
	var held *claim.ClaimedError
	if errors.As(err, &held) {
		fmt.Println("lisbon: refused, cabin held by", held.Current.Owner, "with", held.Current.Data)
	}
	// Output:
	// baltimore: H-8821 C14 confirmed B-3107 until 14:14 <nil>
	// lisbon: refused, cabin held by H-8821 with B-3107
}
