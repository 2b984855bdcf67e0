package booking_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/harborpoint/concord/claim"
	"github.com/harborpoint/concord/hold"
	"github.com/harborpoint/concord/hold/booking"
	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

// BenchmarkConfirm measures Desk.Confirm — check, claim, commit, write —
// against its baseline in the same run: the confirmation without a claim, a
// conditional replica.Update with hold.Confirm. Both on in-memory stores, so
// the ratio is the claim's computation; across a WAN to the cabins' home the
// two extra round trips (claim, commit) dominate it.
//
//	go test -run '^$' -bench Confirm -benchmem -count 5 ./hold/booking
func BenchmarkConfirm(b *testing.B) {
	now := time.Date(2027, 3, 1, 14, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	setup := func(b *testing.B) (*replica.Replica[hold.Hold], *booking.Desk, []string) {
		rep, err := replica.New(version.MustID("lisbon"), replica.NewMemoryStore(), hold.Resolver(resolve.Options{}), replica.Options[hold.Hold]{
			Codec: hold.Codec{}, Clock: version.NewHLC(version.HLCOptions{Now: clock}, version.Timestamp{}), Now: clock})
		if err != nil {
			b.Fatal(err)
		}
		home, _ := claim.NewHome(replica.NewMemoryStore(), claim.Options{Now: clock})
		desk, _ := booking.New(rep, home, booking.Options{Now: clock})
		tokens := make([]string, b.N)
		for i := range b.N {
			id := fmt.Sprintf("H-%d", i)
			rec, err := rep.Create(bg, id, hold.New(id, fmt.Sprintf("C%d", i), "web", now.Add(time.Hour)))
			if err != nil {
				b.Fatal(err)
			}
			tokens[i] = rec.Token
		}
		return rep, desk, tokens
	}
	b.Run("update-without-claim", func(b *testing.B) {
		rep, _, tokens := setup(b)
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			if _, err := rep.Update(bg, fmt.Sprintf("H-%d", i), tokens[i], func(h *hold.Hold, _ replica.Write) error {
				return h.Confirm("B-1", now)
			}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("desk-confirm", func(b *testing.B) {
		_, desk, tokens := setup(b)
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			if _, err := desk.Confirm(bg, fmt.Sprintf("H-%d", i), tokens[i], "B-1"); err != nil {
				b.Fatal(err)
			}
		}
	})
}
