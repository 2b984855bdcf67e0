package replica_test

import (
	"context"
	"fmt"

	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/version"
)

// A replica over a HorizonStore (here a MemoryStore kept across two
// Replica values, as a file or a database is across processes) refuses a
// late copy of a record it reaped, also after a restart.
func ExampleHorizonStore() {
	ctx := context.Background()
	ids := []version.ID{version.MustID("lisbon"), version.MustID("baltimore")}
	store := replica.NewMemoryStore()
	open := func(id version.ID, s replica.Store) *replica.Replica[Doc] {
		r, err := replica.New(id, s, docResolver(), replica.Options[Doc]{Members: ids})
		if err != nil {
			panic(err)
		}
		return r
	}
	lisbon, baltimore := open(ids[0], store), open(ids[1], replica.NewMemoryStore())
	rec, _ := lisbon.Create(ctx, "D-1", Doc{Size: 1})
	_ = replica.AntiEntropy(ctx, lisbon, baltimore)
	late, _ := lisbon.Export(ctx, "D-1") // a message that will arrive late
	_, _ = lisbon.Delete(ctx, "D-1", rec.Token)
	_ = replica.AntiEntropy(ctx, lisbon, baltimore)
	n, _ := lisbon.Reap(ctx)
	fmt.Println("reaped:", n)

	lisbon = open(ids[0], store) // restarts over its store
	class, err := lisbon.Apply(ctx, "D-1", late)
	fmt.Println("late copy:", class, err)
	_, err = lisbon.Get(ctx, "D-1")
	fmt.Println("read:", err)
	// Output:
	// reaped: 1
	// late copy: stale-write <nil>
	// read: replica: "D-1": record not found
}
