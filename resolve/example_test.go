package resolve_test

import (
	"errors"
	"fmt"

	"github.com/harborpoint/concord/policy"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

type cart struct {
	Items policy.Set[string]
	Note  string
}

func cartResolver() *resolve.Resolver[cart] {
	r, err := resolve.New("cart", []resolve.Field[cart]{
		resolve.Bind("items", func(c *cart) *policy.Set[string] { return &c.Items }, policy.Union[string]()),
		resolve.Bind("note", func(c *cart) *string { return &c.Note }, policy.LWW[string]()),
	}, nil, resolve.Options{})
	if err != nil {
		panic(err)
	}
	return r
}

// A resolver over a two-field record: concurrent writes in two regions are
// classified, merged field by field, and every decision is recorded.
func ExampleResolver_Apply() {
	r := cartResolver()
	lis, iad := version.MustID("lisbon"), version.MustID("baltimore")
	write := func(s resolve.Siblings[cart], id version.ID, sec int64, c cart) resolve.Siblings[cart] {
		o, _ := r.Write(s, resolve.Change[cart]{Context: s.Join(), Replica: id, Time: version.Timestamp{Wall: sec},
			Value: func(version.Dot) cart { return c }})
		return o.State
	}
	var empty resolve.Siblings[cart]
	atLis := write(empty, lis, 1, cart{Items: policy.NewSet("tent"), Note: "gift"})
	atIad := write(empty, iad, 2, cart{Items: policy.NewSet("stove"), Note: "ring first"})

	o := r.Apply(atLis, atIad)
	fmt.Println(o.Class)
	fmt.Println(o.Resolution.Value.Items, o.Resolution.Value.Note)
	for _, d := range o.Resolution.Decisions() {
		fmt.Println(d.Field, d.Policy, d.Outcome)
	}
	// Output:
	// concurrent-conflict
	// {stove tent} ring first
	// items union combined
	// note lww picked
}

// A merge that a policy refuses comes back as ConflictRequiresRetry: every
// branch is kept, and a write whose context covers them settles it.
func ExampleConflictRequiresRetry() {
	type doc struct{ Owner string }
	r, _ := resolve.New("doc", []resolve.Field[doc]{
		resolve.Bind("owner", func(d *doc) *string { return &d.Owner }, policy.Once[string]()),
	}, nil, resolve.Options{})
	lis, iad := version.MustID("lisbon"), version.MustID("baltimore")
	var s resolve.Siblings[doc]
	write := func(s resolve.Siblings[doc], seen version.Vector, id version.ID, wall int64, owner string) resolve.Outcome[doc] {
		o, _ := r.Write(s, resolve.Change[doc]{Context: seen, Replica: id, Time: version.Timestamp{Wall: wall},
			Value: func(version.Dot) doc { return doc{owner} }})
		return o
	}
	a := write(s, version.Vector{}, lis, 1, "ana")
	b := write(s, version.Vector{}, iad, 2, "bo")
	merged := r.Apply(a.State, b.State).State

	_, err := r.Resolve(merged)
	var conflict *resolve.ConflictRequiresRetry
	if errors.As(err, &conflict) {
		fmt.Println(conflict.Field, "-", conflict.Reason)
		for _, st := range conflict.Stamps {
			owner, _ := merged.Get(st.Dot)
			fmt.Println(" ", st.Dot, owner.Value.Owner)
		}
		// Someone who saw both branches decides, with the covering context.
		fixed := write(merged, conflict.Context, iad, 3, "ana")
		res, _ := r.Resolve(fixed.State)
		fmt.Println("settled:", res.Value.Owner, fixed.State.Len(), "sibling")
	}
	// Output:
	// owner - write-once field set to ana and to bo
	//   lisbon:1 ana
	//   baltimore:1 bo
	// settled: ana 1 sibling
}

// A write that settles branches it does not hold — a review queue's, whose
// merge was never stored — takes their Agreement as its base. The
// settlement keeps Lisbon's note, but Baltimore's branch held another one:
// the note is the settlement's change and takes its stamp, while the items
// both branches agree on keep theirs.
func ExampleResolver_Agreement() {
	r := cartResolver()
	lis, iad := version.MustID("lisbon"), version.MustID("baltimore")
	write := func(s resolve.Siblings[cart], seen version.Vector, base *resolve.Branch[cart], id version.ID, sec int64, c cart) resolve.Outcome[cart] {
		o, _ := r.Write(s, resolve.Change[cart]{Context: seen, Base: base, Replica: id, Time: version.Timestamp{Wall: sec},
			Value: func(version.Dot) cart { return c }})
		return o
	}
	var empty resolve.Siblings[cart]
	a := write(empty, version.Vector{}, nil, lis, 1, cart{Items: policy.NewSet("tent"), Note: "gift"})
	b := write(empty, version.Vector{}, nil, iad, 2, cart{Items: policy.NewSet("tent"), Note: "ring first"})
	branches := []resolve.Branch[cart]{a.Resolution.Branch, b.Resolution.Branch}

	// Lisbon holds its own branch only; the settlement's context covers both.
	seen := a.State.Join().Join(b.State.Join())
	settled := write(a.State, seen, r.Agreement(branches), lis, 3, cart{Items: policy.NewSet("tent"), Note: "gift"})
	for i, f := range r.Fields() {
		fmt.Println(f.Name(), settled.Resolution.FieldStamp(i).Dot)
	}
	// Output:
	// items baltimore:1
	// note lisbon:2
}
