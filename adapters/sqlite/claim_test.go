package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	concordsqlite "github.com/harborpoint/concord/adapters/sqlite"
	"github.com/harborpoint/concord/claim"
)

// TestClaimHome: a Store serves as the home of package claim for the
// processes on one machine (one database file is linearizable per row).
// Two Store values on one file — two processes — race eight owners each
// for one name, round after round: exactly one wins each round, with the
// next token, and commits; a loser's commit is refused.
func TestClaimHome(t *testing.T) {
	path := filepath.Join(t.TempDir(), "claims.db")
	var homes []*claim.Home
	for range 2 {
		h, err := claim.NewHome(open(t, path, concordsqlite.Options{}), claim.Options{})
		if err != nil {
			t.Fatal(err)
		}
		homes = append(homes, h)
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
				c, err := homes[g%2].Acquire(ctx, name, fmt.Sprintf("H-%d-%d", round, g), time.Now().Add(time.Minute))
				switch {
				case err == nil:
					mu.Lock()
					winners = append(winners, c)
					mu.Unlock()
				case !errors.Is(err, claim.ErrClaimed):
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if len(winners) != 1 || winners[0].Token != uint64(round) {
			t.Fatalf("round %d: winners %v", round, winners)
		}
		w := winners[0]
		if _, err := homes[1].Commit(ctx, name, "H-loser", w.Token, "B-0"); !errors.Is(err, claim.ErrNotOwner) {
			t.Fatalf("a loser commits: %v", err)
		}
		if _, err := homes[0].Commit(ctx, name, w.Owner, w.Token, "B-1"); err != nil {
			t.Fatal(err)
		}
		if _, err := homes[1].Release(ctx, name, w.Owner, w.Token); err != nil {
			t.Fatal(err)
		}
	}
}
