package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/harborpoint/concord/claim"
)

// TestClaimHome: a Store serves as the home of package claim (its Get and
// CompareAndSet are all a home needs, and one PostgreSQL primary is
// linearizable per row). Sixteen owners race for one name through eight
// connections, round after round: exactly one wins each round, its token
// is the next one, its commit succeeds, the losers are told who holds the
// name, and a loser's commit is fenced.
func TestClaimHome(t *testing.T) {
	s := newStore(t, requireServer(t).pool(t, 8))
	home, err := claim.NewHome(s, claim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	const name = "cabin/C14/sailing/2027-03-14"
	for round := 1; round <= 5; round++ {
		var (
			mu      sync.Mutex
			winners []claim.Claim
			wg      sync.WaitGroup
		)
		for g := range 16 {
			wg.Go(func() {
				c, err := home.Acquire(ctx, name, fmt.Sprintf("H-%d-%d", round, g), time.Now().Add(time.Minute))
				var held *claim.ClaimedError
				switch {
				case err == nil:
					mu.Lock()
					winners = append(winners, c)
					mu.Unlock()
				case errors.As(err, &held):
					if held.Current.Owner == "" {
						t.Errorf("refused by nobody: %v", err)
					}
				default:
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if len(winners) != 1 || winners[0].Token != uint64(round) {
			t.Fatalf("round %d: winners %v", round, winners)
		}
		w := winners[0]
		if _, err := home.Commit(ctx, name, "H-loser", w.Token, "B-0"); !errors.Is(err, claim.ErrNotOwner) {
			t.Fatalf("a loser commits: %v", err)
		}
		if _, err := home.Commit(ctx, name, w.Owner, w.Token, "B-1"); err != nil {
			t.Fatal(err)
		}
		if _, err := home.Release(ctx, name, w.Owner, w.Token); err != nil {
			t.Fatal(err)
		}
	}
}
