package sim_test

import (
	"fmt"
	"slices"

	"github.com/harborpoint/concord/policy"
	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/sim"
)

// Profile is a user's own record type: a display name that is replaceable
// (last writer wins), tags that only accumulate (set union), and the
// idempotency keys of the commands applied to it.
type Profile struct {
	Name string             `json:"name"`
	Tags policy.Set[string] `json:"tags"`
	Keys policy.Applied     `json:"keys"`
}

// A workload for your own record type: its resolver, the writes clients
// make, and an invariant — here, that a tag added by an acknowledged
// command is never lost. (Package hold/holdsim is the workload of Harbor
// Point's cabin holds.)
func Example() {
	w := sim.Workload[Profile]{
		NewResolver: func() *resolve.Resolver[Profile] {
			r, err := resolve.New("profile", []resolve.Field[Profile]{
				resolve.Bind("name", func(p *Profile) *string { return &p.Name }, policy.LWW[string]()),
				resolve.Bind("tags", func(p *Profile) *policy.Set[string] { return &p.Tags }, policy.Union[string]()),
				resolve.Bind("keys", func(p *Profile) *policy.Applied { return &p.Keys }, policy.AppliedKeys(policy.DefaultHorizon)),
			}, nil, resolve.Options{})
			if err != nil {
				panic(err)
			}
			return r
		},
		CommandKeys: func(p *Profile) *policy.Applied { return &p.Keys },
		Next: func(t sim.Turn[Profile]) sim.Op[Profile] {
			if t.Last == nil {
				return sim.Op[Profile]{Style: sim.Create, Label: "create", Value: Profile{Name: "new"}}
			}
			name := fmt.Sprintf("user-%d", t.Rand.IntN(100))
			switch t.Rand.IntN(3) {
			case 0:
				return sim.Op[Profile]{Style: sim.Blind, Label: "rename", Field: "name", Value: Profile{Name: name}}
			case 1:
				tag := fmt.Sprintf("tag-%d", t.Rand.IntN(20))
				return sim.Op[Profile]{Style: sim.Command, Label: "tag " + tag, Apply: func(p *Profile, _ replica.Write) error {
					p.Tags = p.Tags.Add(tag)
					return nil
				}}
			default:
				return sim.Op[Profile]{Style: sim.Update, Label: "rename if unchanged", Apply: func(p *Profile, _ replica.Write) error {
					p.Name = name
					return nil
				}}
			}
		},
		Equal: func(a, b Profile) bool { return a.Name == b.Name && a.Tags.Equal(b.Tags) && a.Keys.Equal(b.Keys) },
		Invariant: func(v sim.View[Profile]) error {
			for _, a := range v.Seen {
				for tag := range a.Value.Tags.All() {
					if v.Record.Conflict == nil && !slices.Contains(v.Record.Value.Tags.Elements(), tag) {
						return fmt.Errorf("tag %s of %v lost", tag, a.Dot)
					}
				}
			}
			return nil
		},
	}
	rep, err := sim.Run(sim.Config{Seed: 7, Histories: 20}, w)
	if err != nil {
		panic(err)
	}
	fmt.Println("histories:", rep.Histories, "ok:", rep.OK(), "lost:", rep.Loss.Lost)
	// Output:
	// histories: 20 ok: true lost: 0
}
