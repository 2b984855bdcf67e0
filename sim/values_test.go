package sim_test

import (
	"fmt"
	"testing"

	"github.com/harborpoint/concord/internal/proof"
	"github.com/harborpoint/concord/policy"
	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/sim"
)

// Card is the generic record of the values campaign: two last-writer-wins
// fields, a grow-only set of tags and the commands' idempotency keys.
type Card struct {
	Name string             `json:"name"`
	City string             `json:"city"`
	Tags policy.Set[string] `json:"tags"`
	Keys policy.Applied     `json:"keys"`
}

func cardResolver(name policy.Policy[string]) *resolve.Resolver[Card] {
	r, err := resolve.New("card", []resolve.Field[Card]{
		resolve.Bind("name", func(c *Card) *string { return &c.Name }, name),
		resolve.Bind("city", func(c *Card) *string { return &c.City }, policy.LWW[string]()),
		resolve.Bind("tags", func(c *Card) *policy.Set[string] { return &c.Tags }, policy.Union[string]()),
		resolve.Bind("keys", func(c *Card) *policy.Applied { return &c.Keys }, policy.AppliedKeys(policy.DefaultHorizon)),
	}, nil, resolve.Options{})
	if err != nil {
		panic(err)
	}
	return r
}

// cardWorkload writes every style: blind renames and moves, conditional
// updates of both fields, tag commands.
func cardWorkload() sim.Workload[Card] {
	return sim.Workload[Card]{
		KeyPrefix:   "C-",
		NewResolver: func() *resolve.Resolver[Card] { return cardResolver(policy.LWW[string]()) },
		CommandKeys: func(c *Card) *policy.Applied { return &c.Keys },
		Next: func(t sim.Turn[Card]) sim.Op[Card] {
			if t.Last == nil {
				return sim.Op[Card]{Style: sim.Create, Label: "create", Value: Card{Name: "new", City: "nowhere"}}
			}
			name, city := fmt.Sprintf("n%d", t.Rand.IntN(50)), fmt.Sprintf("c%d", t.Rand.IntN(50))
			switch t.Rand.IntN(4) {
			case 0:
				return sim.Op[Card]{Style: sim.Blind, Label: "rename " + name, Field: "name", Value: Card{Name: name}}
			case 1:
				return sim.Op[Card]{Style: sim.Blind, Label: "move " + city, Field: "city", Value: Card{City: city}}
			case 2:
				tag := fmt.Sprintf("t%d", t.Rand.IntN(30))
				return sim.Op[Card]{Style: sim.Command, Label: "tag " + tag, Apply: func(c *Card, _ replica.Write) error {
					c.Tags = c.Tags.Add(tag)
					return nil
				}}
			default:
				return sim.Op[Card]{Style: sim.Update, Label: "set " + name + " " + city, Apply: func(c *Card, _ replica.Write) error {
					c.Name, c.City = name, city
					return nil
				}}
			}
		},
		Equal: func(a, b Card) bool {
			return a.Name == b.Name && a.City == b.City && a.Tags.Equal(b.Tags) && a.Keys.Equal(b.Keys)
		},
		Project: func(c *Card) sim.Projection {
			return sim.Projection{LWW: []string{c.Name, c.City}, Union: [][]string{c.Tags.Elements(), c.Keys.Keys()}}
		},
	}
}

// TestValuesMatchThePlainModel: after the final heal every card's fields
// are what per-field last-writer-wins (internal/fieldmodel) and set union
// compute from the clients' ledger.
func TestValuesMatchThePlainModel(t *testing.T) {
	// With the default faults clocks go beyond the HLC's drift bound of
	// each other: a write that read a field still never loses it to the
	// very value it replaced, whatever the stamps (internal/fieldmodel).
	rep, err := sim.Run(sim.Config{Seed: 1, Histories: proof.Histories(t, 16)}, cardWorkload())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", rep.String())
	if !rep.OK() {
		t.Fatal("the values campaign failed a check")
	}
}

// TestValuesCatchAWrongTiebreak: a name merged earlier-stamp-wins at every
// replica converges, loses nothing the ledger can see by dots, and is
// caught by check Values alone.
func TestValuesCatchAWrongTiebreak(t *testing.T) {
	w := cardWorkload()
	w.NewResolver = func() *resolve.Resolver[Card] { return cardResolver(earlierWins{policy.LWW[string]()}) }
	sim.SetHooks(&w, sim.Hooks[Card]{Mute: func(c sim.Check) bool { return c != sim.Values }})
	rep, err := sim.Run(sim.Config{Seed: 1, Histories: 100}, w)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Violations[sim.Values] == 0 {
		t.Fatalf("an earlier-wins tiebreak survived %d histories", rep.Histories)
	}
	t.Logf("caught after %d histories: %v", rep.Histories, rep.Failures[0].Violations[0])
}
