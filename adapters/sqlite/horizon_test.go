package sqlite_test

import (
	"path/filepath"
	"testing"
	"time"

	concordsqlite "github.com/harborpoint/concord/adapters/sqlite"
	"github.com/harborpoint/concord/hold"
	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

// TestRestartAfterReapingRefusesALateCopy: a replica over a SQLite file
// reaps a tombstone and restarts over the reopened file; a copy of the
// record from before the delete, delivered right after the restart, is
// refused as stale and never stored: the file kept the key's horizon.
func TestRestartAfterReapingRefusesALateCopy(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "lisbon.db")
	store := open(t, path, concordsqlite.Options{})
	lisbon, baltimore := version.MustID("lisbon"), version.MustID("baltimore")
	newReplica := func(id version.ID, s replica.Store) *replica.Replica[hold.Hold] {
		r, err := replica.New(id, s, hold.Resolver(resolve.Options{}), replica.Options[hold.Hold]{
			CommandKeys: hold.CommandKeys, Members: []version.ID{lisbon, baltimore}})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	lis, iad := newReplica(lisbon, store), newReplica(baltimore, replica.NewMemoryStore())
	rec, err := lis.Create(ctx, "H-1", hold.New("H-1", "C1", "desk", time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)))
	must(t, err)
	must(t, replica.AntiEntropy(ctx, lis, iad))
	late, err := lis.Export(ctx, "H-1")
	must(t, err)
	_, err = lis.Delete(ctx, "H-1", rec.Token)
	must(t, err)
	must(t, replica.AntiEntropy(ctx, lis, iad))
	for _, r := range []*replica.Replica[hold.Hold]{lis, iad} {
		if n, err := r.Reap(ctx); err != nil || n != 1 {
			t.Fatalf("%v reaped %d, %v; want 1", r.ID(), n, err)
		}
	}
	must(t, store.Close())

	store = open(t, path, concordsqlite.Options{})
	lis = newReplica(lisbon, store)
	class, err := lis.Apply(ctx, "H-1", late)
	if err != nil || class != resolve.StaleWrite {
		t.Fatalf("the late copy applied as %v, %v; want stale", class, err)
	}
	if _, rev, err := store.Get(ctx, "H-1"); err != nil || rev != 0 {
		t.Fatalf("H-1 is stored at revision %d (%v): the late copy resurrected it", rev, err)
	}
	if got := lis.Reaped(); len(got) != 1 || got[0] != "H-1" {
		t.Fatalf("Reaped after the restart = %v, want [H-1]", got)
	}
}
