package postgres_test

import (
	"testing"

	"github.com/harborpoint/concord/claim"
	"github.com/harborpoint/concord/claim/claimtest"
)

// TestClaimHome: a Store serves as the home of package claim (its Get and
// CompareAndSet are all a home needs, and one PostgreSQL primary is
// linearizable per row). Sixteen owners race for one name through eight
// connections, round after round: exactly one wins each round, its token
// is the next one, its commit succeeds, the losers are told who holds the
// name, and a loser's commit is refused (claimtest).
func TestClaimHome(t *testing.T) {
	s := newStore(t, requireServer(t).pool(t, 8))
	home, err := claim.NewHome(s, claim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	claimtest.RaceAcquire(t, []*claim.Home{home}, 16, 5)
}
