package sqlite_test

import (
	"path/filepath"
	"testing"

	concordsqlite "github.com/harborpoint/concord/adapters/sqlite"
	"github.com/harborpoint/concord/claim"
	"github.com/harborpoint/concord/claim/claimtest"
)

// TestClaimHome: a Store serves as the home of package claim for the
// processes on one machine (one database file is linearizable per row).
// Two Store values on one file — two processes — race eight owners each
// for one name, round after round: exactly one wins each round, with the
// next token, and commits; a loser's commit is refused (claimtest).
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
	claimtest.RaceAcquire(t, homes, 16, 5)
}
