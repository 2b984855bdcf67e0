package replica_test

import (
	"context"
	"fmt"

	"github.com/harborpoint/concord/policy"
	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/version"
)

// otherStores is a replica.Peers over the stores of the other regions, as
// a bucket that holds every region's copy of a key (adapters/nats) is.
type otherStores map[string]replica.Store

func (o otherStores) Copies(ctx context.Context, key string) ([]replica.Copy, error) {
	var out []replica.Copy
	for name, s := range o {
		data, rev, err := s.Get(ctx, key)
		if err != nil {
			return nil, err
		}
		if rev != 0 {
			out = append(out, replica.Copy{From: name, Data: data})
		}
	}
	return out, nil
}

// Two regions whose stores see each other: each replica merges the other
// region's copy before it reads or writes, with no Apply or anti-entropy
// in between.
func ExamplePeers() {
	ctx := context.Background()
	lisStore, balStore := replica.NewMemoryStore(), replica.NewMemoryStore()
	open := func(name string, own replica.Store, other string, theirs replica.Store) *replica.Replica[Doc] {
		r, err := replica.New(version.MustID(name), own, docResolver(), replica.Options[Doc]{
			Peers: otherStores{other: theirs},
		})
		if err != nil {
			panic(err)
		}
		return r
	}
	lisbon := open("lisbon", lisStore, "baltimore", balStore)
	baltimore := open("baltimore", balStore, "lisbon", lisStore)

	if _, err := lisbon.Create(ctx, "D-1", Doc{Tags: policy.NewSet("draft"), Size: 1}); err != nil {
		panic(err)
	}
	_, err := baltimore.Create(ctx, "D-1", Doc{})
	fmt.Println(err)

	rec, _ := baltimore.Get(ctx, "D-1")
	rec, _ = baltimore.Update(ctx, "D-1", rec.Token, func(d *Doc, _ replica.Write) error {
		d.Tags = d.Tags.Add("baltimore")
		return nil
	})
	fmt.Println(rec.Context)
	rec, _ = lisbon.Get(ctx, "D-1")
	fmt.Println(rec.Value.Tags.Elements(), rec.Context)
	// Output:
	// replica: "D-1": record already exists
	// {baltimore:1 lisbon:1}
	// [baltimore draft] {baltimore:1 lisbon:1}
}
