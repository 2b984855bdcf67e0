package claim_test

import (
	"context"
	"time"

	"github.com/harborpoint/concord/claim"
	"github.com/harborpoint/concord/claim/claimtest"
	"github.com/harborpoint/concord/replica"
)

var bg = context.Background()

// t0 is the start of every test's simulated clock.
var t0 = time.Date(2027, 3, 1, 12, 0, 0, 0, time.UTC)

// newHome returns a home over a link to a memory store, its clock and its
// counters.
func newHome(t interface{ Fatal(...any) }, margin time.Duration) (*claim.Home, *claimtest.Link, *claimtest.Clock, *claim.Counters) {
	s, c, n := claimtest.NewLink(replica.NewMemoryStore()), claimtest.NewClock(t0), &claim.Counters{}
	h, err := claim.NewHome(s, claim.Options{Margin: margin, Now: c.Now, Observer: n})
	if err != nil {
		t.Fatal(err)
	}
	return h, s, c, n
}
