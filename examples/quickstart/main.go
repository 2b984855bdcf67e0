// Command quickstart is the README's Quickstart: one record type whose
// fields merge by different rules, kept in two regions that write it
// concurrently and then converge.
//
//	go run ./examples/quickstart
package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"slices"

	"github.com/harborpoint/concord/policy"
	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

// Ticket is the record. Each field declares how concurrent writes merge.
type Ticket struct {
	Title    string             `json:"title"`    // replaceable: last writer wins
	Tags     policy.Set[string] `json:"tags"`     // additive: set union
	Priority int                `json:"priority"` // only goes up: max
	Owner    string             `json:"owner"`    // set once: two owners is a conflict, not a coin toss
}

// newResolver binds each field to its policy, with typed accessors.
func newResolver() (*resolve.Resolver[Ticket], error) {
	return resolve.New("ticket", []resolve.Field[Ticket]{
		resolve.Bind("title", func(t *Ticket) *string { return &t.Title }, policy.LWW[string]()),
		resolve.Bind("tags", func(t *Ticket) *policy.Set[string] { return &t.Tags }, policy.Union[string]()),
		resolve.Bind("priority", func(t *Ticket) *int { return &t.Priority }, policy.Max[int]()),
		resolve.Bind("owner", func(t *Ticket) *string { return &t.Owner }, policy.Once[string]()),
	}, nil, resolve.Options{})
}

func main() {
	ctx := context.Background()
	res, err := newResolver()
	check(err)
	// An Observer counts merges, conflicts and reviews; the replicas tell
	// it of each once, after storing it.
	var counters resolve.Counters

	// Two regions, each with its own store. An in-memory store loses its
	// state on restart, so each start is a new incarnation of the region.
	region := func(name string) *replica.Replica[Ticket] {
		id, err := version.NewIncarnation(name)
		check(err)
		r, err := replica.New(id, replica.NewMemoryStore(), res, replica.Options[Ticket]{Observer: &counters})
		check(err)
		return r
	}
	lisbon, baltimore := region("lisbon"), region("baltimore")

	// Create in Lisbon; anti-entropy copies it to Baltimore.
	_, err = lisbon.Create(ctx, "T-1", Ticket{Title: "Printer jams", Tags: policy.NewSet("hardware"), Priority: 1})
	check(err)
	check(replica.AntiEntropy(ctx, lisbon, baltimore))

	// Both regions change the version they read, concurrently: a
	// conditional write (If-Match) with the token each one read.
	update := func(r *replica.Replica[Ticket], change func(*Ticket)) error {
		rec, err := r.Get(ctx, "T-1")
		if err != nil {
			return err
		}
		_, err = r.Update(ctx, "T-1", rec.Token, func(t *Ticket, _ replica.Write) error { change(t); return nil })
		return err
	}
	check(update(lisbon, func(t *Ticket) { t.Tags = t.Tags.Add("lisbon-desk"); t.Priority = 3 }))
	check(update(baltimore, func(t *Ticket) { t.Tags = t.Tags.Add("baltimore-desk") }))

	// The regions converge; each field's policy merged the two writes.
	check(replica.AntiEntropy(ctx, lisbon, baltimore))
	rec, err := baltimore.Get(ctx, "T-1")
	check(err)
	fmt.Printf("merged: %q tags=%v priority=%d\n", rec.Value.Title, rec.Value.Tags.Elements(), rec.Value.Priority)
	for _, d := range rec.Decisions {
		if d.Outcome != policy.Same {
			fmt.Printf("  decision: %s %s %s (%s)\n", d.Field, d.Policy, d.Outcome, d.Reason)
		}
	}

	// Two owners set concurrently: the write-once policy refuses to guess.
	check(update(lisbon, func(t *Ticket) { t.Owner = "ana" }))
	check(update(baltimore, func(t *Ticket) { t.Owner = "ben" }))
	check(replica.AntiEntropy(ctx, lisbon, baltimore))
	// Both branches are kept, and a write that has not seen both is refused.
	err = update(lisbon, func(t *Ticket) { t.Priority = 4 })
	var conflict *resolve.ConflictRequiresRetry
	if !errors.As(err, &conflict) {
		log.Fatalf("want a conflict, got %v", err)
	}
	// Reading the record shows the branches the conflict names.
	rec, err = lisbon.Get(ctx, "T-1")
	check(err)
	var owners []string
	for _, b := range rec.Branches {
		owners = append(owners, b.Value.Owner)
	}
	slices.Sort(owners)
	fmt.Printf("conflict: %s (%s) keeps %d branches, owners %v\n", conflict.Field, conflict.Policy, len(conflict.Stamps), owners)

	// Someone who saw both branches decides; the write covers both.
	decided := rec.Branches[0].Value
	decided.Owner = "ana"
	_, err = lisbon.ResolveConflict(ctx, "T-1", rec.Token, decided)
	check(err)
	check(replica.AntiEntropy(ctx, lisbon, baltimore))

	// A replaceable field needs no token: a blind write, last writer wins.
	_, err = baltimore.Blind(ctx, "T-1", "title", Ticket{Title: "Printer jams on tray 2"})
	check(err)
	check(replica.AntiEntropy(ctx, lisbon, baltimore))
	rec, err = lisbon.Get(ctx, "T-1")
	check(err)
	fmt.Printf("settled: %q owner=%s, open conflicts: %d\n", rec.Value.Title, rec.Value.Owner, len(lisbon.Conflicts()))

	// What the observer counted, for dashboards and alerts.
	fmt.Println("observed:")
	for _, k := range counters.Keys() {
		fmt.Printf("  %-14s %-8s %-6s %d\n", k.Kind, k.Field, k.Policy, counters.Get(k))
	}
}

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
