// Command cart shows concord on a record that is not a hold: Dynamo's
// shopping cart, kept in two regions. Items are an add-wins set, so an item
// added in one region while another region removes it stays in the cart —
// and an item removed after both regions saw it stays removed, which a plain
// set union (Dynamo's "deleted items resurface") cannot do.
//
//	go run ./examples/cart
package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/harborpoint/concord/policy"
	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

// Cart is the record: every field declares how concurrent writes merge.
type Cart struct {
	Items    policy.AWSet[string] `json:"items"`    // add wins over a concurrent remove
	Coupon   string               `json:"coupon"`   // replaceable: last writer wins
	Commands policy.Applied       `json:"commands"` // idempotency keys of applied commands
}

func resolver() (*resolve.Resolver[Cart], error) {
	return resolve.New("cart", []resolve.Field[Cart]{
		resolve.Bind("items", func(c *Cart) *policy.AWSet[string] { return &c.Items }, policy.AddWins[string]()),
		resolve.Bind("coupon", func(c *Cart) *string { return &c.Coupon }, policy.LWW[string]()),
		resolve.Bind("commands", func(c *Cart) *policy.Applied { return &c.Commands }, policy.AppliedKeys(policy.DefaultHorizon)),
	}, nil, resolve.Options{})
}

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "cart:", err)
		os.Exit(1)
	}
}

func run(w io.Writer) error {
	ctx := context.Background()
	counters := &resolve.Counters{}
	res, err := resolver()
	if err != nil {
		return err
	}
	region := func(name string) (*replica.Replica[Cart], error) {
		return replica.New(version.MustID(name), replica.NewMemoryStore(), res, replica.Options[Cart]{
			CommandKeys: func(c *Cart) *policy.Applied { return &c.Commands },
			Observer:    counters,
		})
	}
	lis, err := region("lisbon")
	if err != nil {
		return err
	}
	iad, err := region("baltimore")
	if err != nil {
		return err
	}
	// add and remove are merge-aware commands: the add-wins set merges
	// concurrent runs, so no token is needed, only an idempotency key.
	add := func(r *replica.Replica[Cart], key, item string) error {
		_, _, err := r.Command(ctx, "cart-7", key, func(c *Cart, wr replica.Write) error {
			c.Items = c.Items.JoinContext(wr.Context).Add(item, wr.Dot)
			return nil
		})
		return err
	}
	remove := func(r *replica.Replica[Cart], key, item string) error {
		_, _, err := r.Command(ctx, "cart-7", key, func(c *Cart, wr replica.Write) error {
			c.Items = c.Items.JoinContext(wr.Context).Remove(item)
			return nil
		})
		return err
	}
	show := func(label string) error {
		for _, r := range []*replica.Replica[Cart]{lis, iad} {
			rec, err := r.Get(ctx, "cart-7")
			if err != nil {
				return err
			}
			fmt.Fprintf(w, "%-34s %-9v items=%v\n", label, r.ID(), rec.Value.Items.Elements())
		}
		return nil
	}
	sync := func() error { return replica.AntiEntropy(ctx, lis, iad) }

	if _, err := lis.Create(ctx, "cart-7", Cart{}); err != nil {
		return err
	}
	if err := add(lis, "a1", "tent"); err != nil {
		return err
	}
	if err := sync(); err != nil {
		return err
	}
	if err := show("tent added in Lisbon, replicated:"); err != nil {
		return err
	}

	// Concurrently: Lisbon removes the tent; Baltimore adds it again and a stove.
	if err := remove(lis, "r1", "tent"); err != nil {
		return err
	}
	if err := add(iad, "a2", "tent"); err != nil {
		return err
	}
	if err := add(iad, "a3", "stove"); err != nil {
		return err
	}
	if err := show("before the regions reconcile:"); err != nil {
		return err
	}
	if err := sync(); err != nil {
		return err
	}
	if err := show("after: the concurrent add wins:"); err != nil {
		return err
	}

	// A remove that saw every add stays a remove everywhere.
	if err := remove(lis, "r2", "stove"); err != nil {
		return err
	}
	if err := add(lis, "a2", "tent"); err != nil { // a retried command: applied once
		return err
	}
	if err := sync(); err != nil {
		return err
	}
	if err := show("stove removed after both saw it:"); err != nil {
		return err
	}
	fmt.Fprintf(w, "auto-resolved merges: %d; add-wins decisions: %d\n",
		counters.Total(resolve.AutoResolved),
		counters.Get(resolve.CounterKey{Kind: resolve.PolicyFired, Entity: "cart", Field: "items", Policy: "add-wins"}))
	return nil
}
