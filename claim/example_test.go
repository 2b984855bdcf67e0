package claim_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/harborpoint/concord/claim"
	"github.com/harborpoint/concord/replica"
)

// Two holds race for cabin C14: the first claim wins, the second is told
// who holds it. The winner commits its booking; a claim is never lost to a
// crash — a pending one lapses and is taken over.
func Example() {
	ctx := context.Background()
	now := time.Date(2027, 3, 1, 14, 4, 53, 0, time.UTC)
	home, err := claim.NewHome(replica.NewMemoryStore(), claim.Options{
		Margin: 5 * time.Second, Now: func() time.Time { return now },
	})
	if err != nil {
		panic(err)
	}
	const cabin = "cabin/C14/sailing/2027-03-14"

	c, _ := home.Acquire(ctx, cabin, "H-8821", now.Add(30*time.Second))
	fmt.Println(c)

	_, err = home.Acquire(ctx, cabin, "H-9040", now.Add(30*time.Second))
	var claimed *claim.ClaimedError
	if errors.As(err, &claimed) {
		fmt.Println("H-9040 refused: held by", claimed.Current.Owner)
	}

	c, _ = home.Commit(ctx, cabin, "H-8821", c.Token, "B-3107")
	fmt.Println(c)
	// Output:
	// cabin/C14/sailing/2027-03-14: pending for H-8821 (token 1, until 2027-03-01T14:05:23Z)
	// H-9040 refused: held by H-8821
	// cabin/C14/sailing/2027-03-14: committed by H-8821 (token 1, B-3107)
}

// A confirmation that crashed between claiming and committing: its pending
// claim lapses at its deadline plus the margin, the next claimant takes it
// over under a new token, and the stalled owner is fenced when it wakes.
func ExampleHome_Acquire_takeover() {
	ctx := context.Background()
	now := time.Date(2027, 3, 1, 14, 0, 0, 0, time.UTC)
	home, _ := claim.NewHome(replica.NewMemoryStore(), claim.Options{
		Margin: 5 * time.Second, Now: func() time.Time { return now },
	})
	const cabin = "cabin/C14"
	stalled, _ := home.Acquire(ctx, cabin, "H-8821", now.Add(10*time.Second))

	now = now.Add(16 * time.Second) // past Until + Margin
	c, _ := home.Acquire(ctx, cabin, "H-9040", now.Add(10*time.Second))
	fmt.Println(c.Owner, "token", c.Token)

	_, err := home.Commit(ctx, cabin, "H-8821", stalled.Token, "B-3107")
	fmt.Println(errors.Is(err, claim.ErrFenced))
	// Output:
	// H-9040 token 2
	// true
}
