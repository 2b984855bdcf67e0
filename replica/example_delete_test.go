package replica_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/harborpoint/concord/replica"
)

// A record is deleted with the token read, the tombstone replicates, and
// once both regions have acknowledged it, it is reaped everywhere; a late
// copy of the record from before the delete changes nothing.
func ExampleReplica_Delete() {
	ctx := context.Background()
	lisbon, baltimore := members(replica.Options[Doc]{})
	rec, _ := lisbon.Create(ctx, "D-1", Doc{Size: 1})
	_ = replica.AntiEntropy(ctx, lisbon, baltimore)
	late, _ := baltimore.Export(ctx, "D-1")

	if _, err := lisbon.Delete(ctx, "D-1", rec.Token); err != nil {
		panic(err)
	}
	_ = replica.AntiEntropy(ctx, lisbon, baltimore)
	_, err := baltimore.Get(ctx, "D-1")
	var del *replica.Deleted
	fmt.Println("baltimore reads a tombstone:", errors.As(err, &del))

	for _, r := range []*replica.Replica[Doc]{lisbon, baltimore} {
		n, _ := r.Reap(ctx)
		fmt.Println(r.ID(), "reaped", n)
	}
	class, _ := baltimore.Apply(ctx, "D-1", late)
	_, err = baltimore.Get(ctx, "D-1")
	fmt.Println("late copy:", class, "; now:", errors.Is(err, replica.ErrNotFound), errors.Is(err, replica.ErrDeleted))
	// Output:
	// baltimore reads a tombstone: true
	// lisbon reaped 1
	// baltimore reaped 1
	// late copy: stale-write ; now: true false
}

// Sessions carry acknowledgements: each region's Sync ends by asking its
// peer what it holds of the tombstones waiting to be reaped, so sessions
// both ways — over any transport whose Peer is an Acknowledger, such as
// httpapi's ReplicationClient with the peer's ID — let both regions reap.
func ExampleAcknowledger() {
	ctx := context.Background()
	lisbon, baltimore := members(replica.Options[Doc]{})
	rec, _ := lisbon.Create(ctx, "D-1", Doc{Size: 1})
	_, _ = lisbon.Sync(ctx, replica.Local(baltimore))
	if _, err := lisbon.Delete(ctx, "D-1", rec.Token); err != nil {
		panic(err)
	}
	there, _ := lisbon.Sync(ctx, replica.Local(baltimore))
	back, _ := baltimore.Sync(ctx, replica.Local(lisbon))
	fmt.Println("acknowledged:", there.Acked, back.Acked)
	for _, r := range []*replica.Replica[Doc]{lisbon, baltimore} {
		n, _ := r.Reap(ctx)
		fmt.Println(r.ID(), "reaped", n)
	}
	// Output:
	// acknowledged: 1 1
	// lisbon reaped 1
	// baltimore reaped 1
}
