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

// TestRestartAfterReapingKeepsTheID: a replica over a SQLite file reaps a
// tombstone, restarts over the reopened file with the ID the file keeps,
// and re-creates the record: the write is numbered above the counter floor
// the file kept, so the peer, whose horizon covers the writes made before
// the delete, applies it.
func TestRestartAfterReapingKeepsTheID(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "lisbon.db")
	store := open(t, path, concordsqlite.Options{})
	id, err := store.ReplicaID(ctx, "lisbon")
	if err != nil {
		t.Fatal(err)
	}
	peer := version.MustID("baltimore")
	members := []version.ID{id, peer}
	newReplica := func(id version.ID, s replica.Store) *replica.Replica[hold.Hold] {
		r, err := replica.New(id, s, hold.Resolver(resolve.Options{}), replica.Options[hold.Hold]{CommandKeys: hold.CommandKeys, Members: members})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	lis, iad := newReplica(id, store), newReplica(peer, replica.NewMemoryStore())
	expires := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	rec, err := lis.Create(ctx, "H-1", hold.New("H-1", "C1", "desk", expires))
	must(t, err)
	must(t, replica.AntiEntropy(ctx, lis, iad))
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
	again, err := store.ReplicaID(ctx, "lisbon")
	if err != nil || again != id {
		t.Fatalf("reopened: %v, %v; want the ID %v", again, err, id)
	}
	lis = newReplica(id, store)
	_, err = lis.Create(ctx, "H-1", hold.New("H-1", "C2", "desk", expires))
	must(t, err)
	must(t, replica.AntiEntropy(ctx, lis, iad))
	got, err := iad.Get(ctx, "H-1")
	if err != nil || got.Value.Cabin != "C2" {
		t.Fatalf("baltimore holds %+v, %v; want the re-created hold in C2", got.Value, err)
	}
	if f, err := lis.CounterFloor(ctx); err != nil || f != 2 {
		t.Errorf("counter floor after the restart = %d, %v; want 2 (the create and the delete)", f, err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
