package sim_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/harborpoint/concord/internal/proof"
	"github.com/harborpoint/concord/policy"
	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/sim"
)

// Bag is the record of the growth campaign: a grow-only set that gains a
// member with every command, so every record grows until it reaches the
// record limit.
type Bag struct {
	Items policy.Set[string] `json:"items"`
	Keys  policy.Applied     `json:"keys"`
}

// growthLimit is the record limit of the growth campaign: a bag reaches it
// after about 20 items, a few seconds into a history.
const growthLimit = 2048

// growthHorizon bounds a bag's command keys well under the limit: a
// settlement of a merge refused for size keeps the keys of every branch,
// and keys of up to five branches over the limit could be settled by no
// value (see replica's TestRecordLimitConflictOfCommandKeysNeedsAHigherLimit).
var growthHorizon = policy.Horizon{Age: policy.DefaultHorizon.Age, Keys: 16}

// growthHistories is the size of the growth campaign of a plain `go test`
// (under 2 s of CPU); CONCORD_PROOF_SCALE multiplies it.
const growthHistories = 20

// growthConfig runs the growth campaign over two records, so that each
// gets enough commands to reach the limit in most histories.
func growthConfig(t *testing.T) sim.Config {
	return sim.Config{Seed: 1, Histories: proof.Histories(t, growthHistories), Keys: 2}
}

// bagWorkload adds an item of about 70 bytes by command; the reviewers
// settle a merge refused for size with every branch's items, and the
// operator drops items when that settlement is itself too large.
func bagWorkload() sim.Workload[Bag] { return bagWorkloadWith(growthHorizon) }

// bagWorkloadWith is bagWorkload with the command keys bounded by h.
func bagWorkloadWith(h policy.Horizon) sim.Workload[Bag] {
	r, err := resolve.New("bag", []resolve.Field[Bag]{
		resolve.Bind("items", func(b *Bag) *policy.Set[string] { return &b.Items }, policy.Union[string]()),
		resolve.Bind("keys", func(b *Bag) *policy.Applied { return &b.Keys }, policy.AppliedKeys(h)),
	}, nil, resolve.Options{})
	if err != nil {
		panic(err)
	}
	return sim.Workload[Bag]{
		KeyPrefix:      "B-",
		NewResolver:    func() *resolve.Resolver[Bag] { return r },
		CommandKeys:    func(b *Bag) *policy.Applied { return &b.Keys },
		CommandHorizon: h,
		MaxRecordBytes: growthLimit,
		Next: func(t sim.Turn[Bag]) sim.Op[Bag] {
			if t.Last == nil {
				return sim.Op[Bag]{Style: sim.Create, Label: "create"}
			}
			item := fmt.Sprintf("c%d-item-%04d-%s", t.Client, t.Rand.IntN(10000), strings.Repeat("x", 48))
			return sim.Op[Bag]{Style: sim.Command, Label: "add", Apply: func(b *Bag, _ replica.Write) error {
				b.Items = b.Items.Add(item)
				return nil
			}}
		},
		Resolve: func(_ *rand.Rand, it replica.ReviewItem[Bag]) Bag {
			var b Bag // every item of every branch: too large, unless some were already shared
			for _, br := range it.Branches {
				b.Items = b.Items.Union(br.Value.Items)
			}
			return b
		},
		Shrink:  shrinkBag,
		Equal:   func(a, b Bag) bool { return a.Items.Equal(b.Items) && a.Keys.Equal(b.Keys) },
		Project: func(b *Bag) sim.Projection { return sim.Projection{Union: [][]string{b.Items.Elements()}} },
	}
}

// shrinkBag drops items from b, the first in order, until their encoding
// ("item",) adds up to over bytes: what an operator archives to settle a
// record that is over the limit.
func shrinkBag(b *Bag, over int) bool {
	items := b.Items.Elements()
	dropped := 0
	for len(items) > 0 && dropped < over {
		dropped += len(items[0]) + len(`"",`)
		b.Items = b.Items.Remove(items[0])
		items = items[1:]
	}
	return dropped > 0
}

// TestRecordsGrowToTheLimit: records that only grow, with a 2 KiB record
// limit, reach it in most histories: the writes past it are refused as too
// large and acknowledge nothing, the merges past it keep the local record
// and go to review, and every check holds — nothing acknowledged is lost,
// the replicas converge once the operator has settled every such review
// with its token (smaller, when the settlement with the command keys of
// every branch is itself too large), the stores stay within the limit
// (check Storage) and the values are the plain model's.
func TestRecordsGrowToTheLimit(t *testing.T) {
	rep, err := sim.Run(growthConfig(t), bagWorkload())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", rep.String())
	if !rep.OK() {
		t.Fatal("the growth campaign failed a check")
	}
	o := rep.Oversize
	if o.Records < rep.Histories || o.Writes == 0 || o.Merges == 0 || o.AtHeal == 0 {
		t.Fatalf("%d histories: %d records reached the limit, %d writes refused as too large, %d merges sent to review, %d settled by the operator: the limit is not exercised",
			rep.Histories, o.Records, o.Writes, o.Merges, o.AtHeal)
	}
	if !sim.RaceEnabled && o.Shrunk == 0 {
		t.Fatalf("no settlement was refused as too large in %d histories: the operator's 413 path is not exercised", rep.Histories)
	}
}

// TestGrowthWithoutShrinkDiverges: an operator who settles a merge refused
// for size with a branch as it is, and does nothing when the settlement is
// refused as too large (it keeps the command keys of every branch), leaves
// the record in review and the replicas apart — check Convergence alone
// catches it. Seed 34 of the growth campaign found it (cb4d795).
//
// The keys' compact binary form (state format 6) makes 16 keys small enough
// that a branch with every key still fits; this test keeps 64.
func TestGrowthWithoutShrinkDiverges(t *testing.T) {
	w := bagWorkloadWith(divergeHorizon)
	w.Resolve, w.Shrink = nil, nil
	sim.SetHooks(&w, sim.Hooks[Bag]{Mute: func(c sim.Check) bool { return c != sim.Convergence }})
	rep, err := sim.Run(sim.Config{Seed: 1, Histories: 200, Keys: 2, Shrink: sim.ShrinkNone}, w)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Failures) == 0 {
		t.Fatalf("an operator who never makes a settlement smaller survived %d histories", rep.Histories)
	}
	t.Logf("caught after %d histories: %v", rep.Histories, rep.Failures[0].Violations[0])
}

// divergeHorizon keeps enough command keys that a settlement with a
// branch's value and every branch's keys can exceed growthLimit.
var divergeHorizon = policy.Horizon{Age: policy.DefaultHorizon.Age, Keys: 64}
