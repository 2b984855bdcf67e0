package replica_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/harborpoint/concord/hold"
	"github.com/harborpoint/concord/policy"
	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

// Doc is the record of these examples: tags that accumulate, a size that
// only grows.
type Doc struct {
	Tags policy.Set[string] `json:"tags"`
	Size int                `json:"size"`
}

func docResolver() *resolve.Resolver[Doc] {
	r, err := resolve.New("doc", []resolve.Field[Doc]{
		resolve.Bind("tags", func(d *Doc) *policy.Set[string] { return &d.Tags }, policy.Union[string]()),
		resolve.Bind("size", func(d *Doc) *int { return &d.Size }, policy.Max[int]()),
	}, nil, resolve.Options{})
	if err != nil {
		panic(err)
	}
	return r
}

// members is two regions, lisbon and baltimore, each over its own store
// and listing both as members (so they reap), with opts otherwise.
func members(opts replica.Options[Doc]) (lisbon, baltimore *replica.Replica[Doc]) {
	ids := []version.ID{version.MustID("lisbon"), version.MustID("baltimore")}
	opts.Members = ids
	var rs []*replica.Replica[Doc]
	for _, id := range ids {
		r, err := replica.New(id, replica.NewMemoryStore(), docResolver(), opts)
		if err != nil {
			panic(err)
		}
		rs = append(rs, r)
	}
	return rs[0], rs[1]
}

func region(name string) *replica.Replica[Doc] {
	r, err := replica.New(version.MustID(name), replica.NewMemoryStore(), docResolver(), replica.Options[Doc]{})
	if err != nil {
		panic(err)
	}
	return r
}

// Two regions write the same record concurrently; anti-entropy brings them
// to the same record, merged field by field.
func ExampleAntiEntropy() {
	ctx := context.Background()
	lisbon, baltimore := region("lisbon"), region("baltimore")
	if _, err := lisbon.Create(ctx, "D-1", Doc{Tags: policy.NewSet("draft"), Size: 1}); err != nil {
		panic(err)
	}
	if err := replica.AntiEntropy(ctx, lisbon, baltimore); err != nil {
		panic(err)
	}

	// Each region changes the version it read.
	for _, w := range []struct {
		r   *replica.Replica[Doc]
		tag string
		n   int
	}{{lisbon, "lisbon", 3}, {baltimore, "baltimore", 2}} {
		rec, _ := w.r.Get(ctx, "D-1")
		if _, err := w.r.Update(ctx, "D-1", rec.Token, func(d *Doc, _ replica.Write) error {
			d.Tags, d.Size = d.Tags.Add(w.tag), w.n
			return nil
		}); err != nil {
			panic(err)
		}
	}

	if err := replica.AntiEntropy(ctx, lisbon, baltimore); err != nil {
		panic(err)
	}
	for _, r := range []*replica.Replica[Doc]{lisbon, baltimore} {
		rec, _ := r.Get(ctx, "D-1")
		fmt.Println(r.ID(), rec.Value.Tags.Elements(), rec.Value.Size, rec.Context)
	}
	// Output:
	// lisbon [baltimore draft lisbon] 3 {baltimore:1 lisbon:2}
	// baltimore [baltimore draft lisbon] 3 {baltimore:1 lisbon:2}
}

// A conditional write carries the token its writer read. A token that is no
// longer current is refused with the current record, so the client can look
// again and decide.
func ExampleReplica_Update() {
	ctx := context.Background()
	r := region("lisbon")
	first, _ := r.Create(ctx, "D-1", Doc{Size: 1})
	grow := func(d *Doc, _ replica.Write) error { d.Size++; return nil }

	if _, err := r.Update(ctx, "D-1", first.Token, grow); err != nil {
		panic(err)
	}
	_, err := r.Update(ctx, "D-1", first.Token, grow) // the same, stale, token again
	var stale *replica.PreconditionFailed
	fmt.Println(errors.Is(err, replica.ErrPreconditionFailed), errors.As(err, &stale))
	cur, _ := r.Get(ctx, "D-1") // look again
	fmt.Println("current:", stale.Current == cur.Token, cur.Value.Size, stale.Context)

	_, err = r.Update(ctx, "D-1", "", grow) // no token at all
	fmt.Println(errors.Is(err, replica.ErrPreconditionRequired))
	// Output:
	// true true
	// current: true 2 {lisbon:2}
	// true
}

// An anti-entropy session between two replicas of a thousand holds that
// differ in one: two round trips of reconciliation find it, and only that
// record travels, only the way it is missing (Baltimore's newer note to
// Lisbon). A session between replicas that agree is one round trip of 20
// bytes.
func ExampleReplica_Sync() {
	ctx := context.Background()
	holdRegion := func(name string) *replica.Replica[hold.Hold] {
		r, err := replica.New(version.MustID(name), replica.NewMemoryStore(), hold.Resolver(resolve.Options{}), replica.Options[hold.Hold]{CommandKeys: hold.CommandKeys})
		if err != nil {
			panic(err)
		}
		return r
	}
	lisbon, baltimore := holdRegion("lisbon"), holdRegion("baltimore")
	expires := time.Date(2026, 11, 26, 14, 10, 0, 0, time.UTC)
	for i := range 1000 {
		key := fmt.Sprintf("H-%04d", i)
		_, _ = lisbon.Create(ctx, key, hold.New(key, "C1", "lisbon-desk", expires))
	}
	_ = replica.AntiEntropy(ctx, lisbon, baltimore) // the first session ships all thousand
	_, _ = baltimore.Blind(ctx, "H-0421", "note", hold.NoteEdit("window seat"))

	rep, err := lisbon.Sync(ctx, replica.Local(baltimore)) // replica.Local: a peer in this process
	fmt.Printf("round trips %d, records sent %d, received %d, %v\n", rep.Rounds, rep.Sent, rep.Received, err)
	rep, _ = lisbon.Sync(ctx, replica.Local(baltimore))
	fmt.Printf("round trips %d, protocol bytes %d\n", rep.Rounds, rep.Bytes)
	// Output:
	// round trips 2, records sent 0, received 1, <nil>
	// round trips 1, protocol bytes 20
}
