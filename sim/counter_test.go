package sim_test

import (
	"fmt"
	"maps"
	"testing"

	"github.com/harborpoint/concord/internal/proof"
	"github.com/harborpoint/concord/policy"
	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/sim"
)

// Counter is the record of the increment campaign: a count kept per
// replica incarnation (a grow-only counter, merged entry by entry to the
// greater count) and the idempotency keys of the commands applied. An
// increment is not idempotent in effect: only its key keeps a retry from
// counting twice.
type Counter struct {
	Counts map[string]int `json:"counts"`
	Keys   policy.Applied `json:"keys"`
}

// Total is the count: the sum over replicas.
func (c Counter) Total() int {
	n := 0
	for _, v := range c.Counts {
		n += v
	}
	return n
}

// perReplica merges two counters' entries to the greater of each: a join,
// since every entry only grows, and each grows at one replica only.
type perReplica struct{}

func (perReplica) Name() string { return "per-replica-max" }

// Equal implements policy.Equaler.
func (perReplica) Equal(a, b map[string]int) bool { return maps.Equal(a, b) }

func (p perReplica) MergeInto(out *policy.Branch[map[string]int], d *policy.Decision, a, b *policy.Branch[map[string]int]) error {
	m := maps.Clone(a.Value)
	if m == nil {
		m = map[string]int{}
	}
	for k, v := range b.Value {
		m[k] = max(m[k], v)
	}
	st := a.Stamp
	if b.Stamp.Compare(st) > 0 {
		st = b.Stamp
	}
	*out = policy.Branch[map[string]int]{Value: m, Stamp: st}
	*d = policy.Decision{Policy: p.Name(), Outcome: policy.Combined, Reason: "greater count per replica"}
	return nil
}

func counterResolver(counts policy.Policy[map[string]int]) *resolve.Resolver[Counter] {
	r, err := resolve.New("counter", []resolve.Field[Counter]{
		resolve.Bind("counts", func(c *Counter) *map[string]int { return &c.Counts }, counts),
		resolve.Bind("keys", func(c *Counter) *policy.Applied { return &c.Keys }, policy.AppliedKeys(policy.DefaultHorizon)),
	}, nil, resolve.Options{})
	if err != nil {
		panic(err)
	}
	return r
}

// counterWorkload increments counters by command, each with its own
// idempotency key, retried with it when the reply is lost; its invariant
// is exact (see counterExact).
func counterWorkload() sim.Workload[Counter] {
	return sim.Workload[Counter]{
		KeyPrefix:   "N-",
		NewResolver: func() *resolve.Resolver[Counter] { return counterResolver(perReplica{}) },
		CommandKeys: func(c *Counter) *policy.Applied { return &c.Keys },
		Next: func(t sim.Turn[Counter]) sim.Op[Counter] {
			if t.Last == nil {
				return sim.Op[Counter]{Style: sim.Create, Label: "create", Value: Counter{Counts: map[string]int{}}}
			}
			return sim.Op[Counter]{Style: sim.Command, Label: "increment", Apply: func(c *Counter, w replica.Write) error {
				c.Counts = maps.Clone(c.Counts)
				if c.Counts == nil {
					c.Counts = map[string]int{}
				}
				c.Counts[w.Replica.String()]++
				return nil
			}}
		},
		Equal: func(a, b Counter) bool {
			return maps.Equal(a.Counts, b.Counts) && a.Keys.Equal(b.Keys)
		},
		Invariant: counterExact,
	}
}

// counterExact checks a counter exactly against the ledger: its count at
// each replica incarnation is the number of acknowledged increments made
// there that its context covers — so its total is the number of distinct
// acknowledged commands plus the commands applied again — and a command is
// applied more than once only as a retry (an attempt after its reply was
// lost), at a replica that did not hold its first application (check
// AtMostOnce says that part).
func counterExact(v sim.View[Counter]) error {
	if v.Record.Conflict != nil {
		return fmt.Errorf("counter in conflict: %v", v.Record.Conflict.Reason)
	}
	want := map[string]int{}
	runs := map[string]int{}
	for _, a := range v.Seen {
		if a.Style != sim.Command {
			continue
		}
		want[a.Replica.String()]++
		if runs[a.Idem]++; runs[a.Idem] > 1 && a.Attempt < 2 {
			return fmt.Errorf("command %s applied again (%v) on its first attempt", a.Idem, a.Dot)
		}
	}
	got := v.Record.Value.Counts
	for id, n := range want {
		if got[id] != n {
			return fmt.Errorf("count at %s is %d, the ledger has %d increments there the record covers (total %d, want %d)",
				id, got[id], n, v.Record.Value.Total(), sum(want))
		}
	}
	if v.Record.Value.Total() != sum(want) {
		return fmt.Errorf("count %d (%v), the ledger has %d increments the record covers", v.Record.Value.Total(), got, sum(want))
	}
	return nil
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// counterHistories is the size of the increment campaign of a plain `go
// test`; CONCORD_PROOF_SCALE multiplies it.
const counterHistories = 12

// TestIncrementsCountExactly: after every step, at every replica, a
// counter incremented by commands — retried with their idempotency keys
// when replies are lost, under every fault — counts exactly the
// acknowledged increments its context covers; a command counts twice only
// as a retry at a replica that had not seen its first application.
func TestIncrementsCountExactly(t *testing.T) {
	rep, err := sim.Run(sim.Config{Seed: 1, Histories: proof.Histories(t, counterHistories)}, counterWorkload())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", rep.String())
	if !rep.OK() {
		t.Fatal("the increment campaign failed a check")
	}
	if rep.Clients.Retries == 0 || rep.Clients.Replayed == 0 {
		t.Fatalf("no command retried (%d) or replayed (%d)", rep.Clients.Retries, rep.Clients.Replayed)
	}
}

// totalMax merges two counters to the one with the greater total, as a
// plain max of a single count would: concurrent increments are lost.
type totalMax struct{ perReplica }

func (p totalMax) MergeInto(out *policy.Branch[map[string]int], d *policy.Decision, a, b *policy.Branch[map[string]int]) error {
	ta, tb := sum(a.Value), sum(b.Value)
	w := a
	if tb > ta || tb == ta && b.Stamp.Compare(a.Stamp) > 0 {
		w = b
	}
	*out = *w
	*d = policy.Decision{Policy: p.Name(), Outcome: policy.Picked, Winner: w.Stamp, Reason: "greater total"}
	return nil
}

// TestIncrementsCatchALostIncrement: a counter merged to the greater total
// (one count, merged by max) converges but loses concurrent increments:
// check Invariant alone catches it.
func TestIncrementsCatchALostIncrement(t *testing.T) {
	w := counterWorkload()
	w.NewResolver = func() *resolve.Resolver[Counter] { return counterResolver(totalMax{}) }
	sim.SetHooks(&w, sim.Hooks[Counter]{Mute: func(c sim.Check) bool { return c != sim.Invariant }})
	rep, err := sim.Run(sim.Config{Seed: 1, Histories: mutantBudget}, w)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Failures) == 0 {
		t.Fatalf("a greatest-total merge survived %d histories", rep.Histories)
	}
	t.Logf("caught after %d histories: %v", rep.Histories, rep.Failures[0].Violations[0])
}
