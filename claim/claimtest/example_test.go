package claimtest_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/harborpoint/concord/claim"
	"github.com/harborpoint/concord/claim/claimtest"
	"github.com/harborpoint/concord/replica"
)

// A region cut off from the home gets claim.ErrUnavailable; a lost reply
// leaves the claim taken, and the owner's retry finds it its own and renews
// it under the next token.
func ExampleLink() {
	ctx := context.Background()
	clock := claimtest.NewClock(time.Date(2027, 3, 1, 14, 0, 0, 0, time.UTC))
	link := claimtest.NewLink(replica.NewMemoryStore())
	home, err := claim.NewHome(link, claim.Options{Now: clock.Now})
	if err != nil {
		panic(err)
	}
	until := clock.Now().Add(time.Minute)

	link.Set(true, false)
	_, err = home.Acquire(ctx, "cabin/C14", "H-8821", until)
	fmt.Println(errors.Is(err, claim.ErrUnavailable), errors.Is(err, claimtest.ErrCut))

	link.Set(false, true)
	_, err = home.Acquire(ctx, "cabin/C14", "H-8821", until)
	fmt.Println(errors.Is(err, claim.ErrUnavailable))
	c, err := home.Acquire(ctx, "cabin/C14", "H-8821", until)
	fmt.Println(c.Owner, c.Token, err)
	// Output:
	// true true
	// true
	// H-8821 2 <nil>
}
