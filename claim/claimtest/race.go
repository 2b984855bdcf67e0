package claimtest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/harborpoint/concord/claim"
)

// RaceAcquire has owners goroutines race for one name through homes (one
// Home, or several over one store: several processes), round after round,
// for rounds rounds. Each round exactly one must win, with the token after
// the last one; each loser must be refused with a *claim.ClaimedError
// naming an owner; a loser's commit must be refused with claim.ErrNotOwner;
// the winner then commits and releases through other homes than the one it
// won through, when there are several. The claims' deadlines are a minute
// after now.
func RaceAcquire(t *testing.T, homes []*claim.Home, owners, rounds int) {
	t.Helper()
	ctx := context.Background()
	const name = "cabin/C14/sailing/2027-03-14"
	var last uint64
	for round := range rounds {
		w := race(t, homes, name, round, owners)
		if w.Token != last+1 {
			t.Fatalf("round %d: token %d after %d", round, w.Token, last)
		}
		last = w.Token
		at := func(i int) *claim.Home { return homes[(round+i)%len(homes)] }
		if _, err := at(1).Commit(ctx, name, "H-loser", w.Token, "B-0"); !errors.Is(err, claim.ErrNotOwner) {
			t.Fatalf("round %d: a loser commits: %v", round, err)
		}
		if _, err := at(2).Commit(ctx, name, w.Owner, w.Token, "B-1"); err != nil {
			t.Fatalf("round %d: the winner commits: %v", round, err)
		}
		if _, err := at(3).Release(ctx, name, w.Owner, w.Token); err != nil {
			t.Fatalf("round %d: the winner releases: %v", round, err)
		}
	}
}

// race runs one round and returns its one winner.
func race(t *testing.T, homes []*claim.Home, name string, round, owners int) claim.Claim {
	t.Helper()
	var (
		mu      sync.Mutex
		winners []claim.Claim
		wg      sync.WaitGroup
	)
	for g := range owners {
		wg.Go(func() {
			c, err := homes[g%len(homes)].Acquire(context.Background(), name, fmt.Sprintf("H-%d-%d", round, g), time.Now().Add(time.Minute))
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
	if len(winners) != 1 {
		t.Fatalf("round %d: winners %v", round, winners)
	}
	return winners[0]
}
