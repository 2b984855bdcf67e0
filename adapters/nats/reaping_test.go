package nats_test

import (
	"context"
	"testing"
	"time"

	concordnats "github.com/harborpoint/concord/adapters/nats"
	"github.com/harborpoint/concord/hold"
	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
	"github.com/nats-io/nats.go/jetstream"
)

// TestRestartAfterReaping: a replica over a region's Store reaps a
// tombstone and restarts — a new Store and a new Replica value with the
// same ID over the same bucket. A copy of the record from before the
// delete, delivered right after the restart, is refused as stale and never
// stored (the bucket kept the key's horizon), and a re-creation is
// numbered above the counter floor the bucket kept and supersedes the
// delete at the peer. The reaping state's keys are not records of the
// region.
func TestRestartAfterReaping(t *testing.T) {
	c := newCluster(t, "lisbon")
	ctx := context.Background()
	lisbon, baltimore := version.MustID("lisbon"), version.MustID("baltimore")
	newReplica := func(id version.ID, s replica.Store) *replica.Replica[hold.Hold] {
		r, err := replica.New(id, s, hold.Resolver(resolve.Options{}), replica.Options[hold.Hold]{
			CommandKeys: hold.CommandKeys, Members: []version.ID{lisbon, baltimore}})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	newStore := func() *concordnats.Store {
		s, err := concordnats.NewStore(c.nodes["lisbon"].kv, "lisbon")
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	lis, iad := newReplica(lisbon, newStore()), newReplica(baltimore, replica.NewMemoryStore())
	expires := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	rec, err := lis.Create(ctx, "H-1", hold.New("H-1", "C1", "desk", expires))
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

	again := newStore()
	lis = newReplica(lisbon, again)
	class, err := lis.Apply(ctx, "H-1", late)
	if err != nil || class != resolve.StaleWrite {
		t.Fatalf("the late copy applied as %v, %v; want stale", class, err)
	}
	if page, err := again.Scan(ctx, "", 10); err != nil || len(page) != 0 {
		t.Fatalf("the region's records: %d, %v; want none (the late copy must not be stored, the reaping state is no record)", len(page), err)
	}
	if f, err := lis.CounterFloor(ctx); err != nil || f != 2 {
		t.Fatalf("counter floor after the restart = %d, %v; want 2 (the create and the delete)", f, err)
	}
	created, err := lis.Create(ctx, "H-1", hold.New("H-1", "C2", "desk", expires))
	must(t, err)
	if n := created.Context.Get(lisbon); n != 3 {
		t.Fatalf("the re-creation is lisbon's write %d, want 3: above the floor", n)
	}
	info, err := c.nodes["lisbon"].js.Stream(ctx, "KV_"+c.nodes["lisbon"].kv.Bucket())
	must(t, err)
	state, err := info.Info(ctx, jetstream.WithSubjectFilter("$KV."+c.nodes["lisbon"].kv.Bucket()+".=horizon.>"))
	must(t, err)
	if len(state.State.Subjects) != 0 {
		t.Fatalf("horizon subjects left after the re-creation: %v; want none (no purge marker either)", state.State.Subjects)
	}
	must(t, replica.AntiEntropy(ctx, lis, iad))
	got, err := iad.Get(ctx, "H-1")
	if err != nil || got.Conflict != nil || got.Value.Cabin != "C2" {
		t.Fatalf("baltimore holds %+v, %v; want the re-created hold in C2", got, err)
	}
}
