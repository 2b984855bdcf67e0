package replica_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/version"
)

// A record is deleted with the token read, the tombstone replicates, and
// once both regions have acknowledged it, it is reaped everywhere; a late
// copy of the record from before the delete changes nothing.
func ExampleReplica_Delete() {
	ctx := context.Background()
	ids := []version.ID{version.MustID("lisbon"), version.MustID("baltimore")}
	var rs []*replica.Replica[Doc]
	for _, id := range ids {
		r, err := replica.New(id, replica.NewMemoryStore(), docResolver(), replica.Options[Doc]{Members: ids})
		if err != nil {
			panic(err)
		}
		rs = append(rs, r)
	}
	lisbon, baltimore := rs[0], rs[1]
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

	for _, r := range rs {
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
