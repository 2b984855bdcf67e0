package policy_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/harborpoint/concord/internal/proof"
	"github.com/harborpoint/concord/policy"
	"github.com/harborpoint/concord/policy/policytest"
	"github.com/harborpoint/concord/version"
)

var smallHorizon = policy.Horizon{Age: 5, Keys: 3}

// applied generates key sets as replicas reach them: keys added at times
// in a small range (so that both bounds of smallHorizon prune), normalized
// as every written value is.
func applied() *rapid.Generator[policy.Applied] {
	return rapid.Custom(func(t *rapid.T) policy.Applied {
		var a policy.Applied
		for range rapid.IntRange(0, 6).Draw(t, "keys") {
			k := rapid.SampledFrom([]string{"c1", "c2", "c3", "c4", "c5"}).Draw(t, "key")
			a = a.Add(k, version.Timestamp{Wall: rapid.Int64Range(0, 12).Draw(t, "at")})
		}
		return a.Prune(smallHorizon)
	})
}

func appliedEq(a, b policy.Applied) bool { return a.Equal(b) }

// TestLawsApplied: the applied-keys merge is a join, with pruning by age
// and by count both in play.
func TestLawsApplied(t *testing.T) {
	policytest.Laws(t, policy.AppliedKeys(smallHorizon), applied(), appliedEq)
	policytest.Laws(t, policy.AppliedKeys(policy.Horizon{}), applied(), appliedEq)
}

// TestAppliedPrune: pruning keeps the newest key, is idempotent, forgets a
// key only for age or count, and forgets in a union what it forgets in a
// part (so a key once forgotten never comes back by merging).
func TestAppliedPrune(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		a, b := applied().Draw(t, "a"), applied().Draw(t, "b")
		u := a.Union(b)
		p := u.Prune(smallHorizon)
		if !p.Prune(smallHorizon).Equal(p) {
			t.Fatalf("pruning twice differs: %v", p)
		}
		if p.Len() > smallHorizon.Keys {
			t.Fatalf("%d keys kept, bound %d", p.Len(), smallHorizon.Keys)
		}
		var newest time.Time
		for _, at := range u.All() {
			if at.After(newest) {
				newest = at
			}
		}
		for k, at := range u.All() {
			if at.Equal(newest) && p.Len() < smallHorizon.Keys && !p.Has(k) {
				t.Fatalf("a newest key %s was forgotten: %v", k, p)
			}
			if !p.Has(k) && newest.Sub(at) <= time.Duration(smallHorizon.Age) {
				newer := 0
				for _, at2 := range p.All() {
					if !at2.Before(at) {
						newer++
					}
				}
				if newer < smallHorizon.Keys {
					t.Fatalf("%s (at %v) forgotten with %d newer keys, newest %v: %v", k, at, newer, newest, p)
				}
			}
		}
	})
}

// TestAppliedBoundsCommands is the bound: commands on one record, a
// few milliseconds apart (10,000 by default, 100,000 with
// CONCORD_PROOF_SCALE=10), keep the key set at DefaultHorizon.Keys keys,
// about 50 KiB of JSON with keys like those of the simulator; a retry within
// the horizon is found, one after it is not.
func TestAppliedBoundsCommands(t *testing.T) {
	var a policy.Applied
	start := time.Date(2026, 11, 26, 14, 0, 0, 0, time.UTC)
	p := policy.AppliedKeys(policy.DefaultHorizon).(policy.Normalizer[policy.Applied])
	n := max(proof.Histories(t, 10_000), 2*policy.DefaultHorizon.Keys)
	for i := range n {
		at := start.Add(time.Duration(i) * 3 * time.Millisecond)
		a = p.Normalize(a.Add(fmt.Sprintf("c%d-%d", i%6, i), version.Timestamp{Wall: at.UnixNano()}))
	}
	if a.Len() != policy.DefaultHorizon.Keys {
		t.Fatalf("%d keys, want %d", a.Len(), policy.DefaultHorizon.Keys)
	}
	data, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) > 64<<10 {
		t.Fatalf("JSON of the keys: %d bytes", len(data))
	}
	t.Logf("%d commands: %d keys kept, %d bytes of JSON", n, a.Len(), len(data))
	if !a.Has(fmt.Sprintf("c%d-%d", (n-1)%6, n-1)) || a.Has("c0-0") {
		t.Fatalf("the newest key is forgotten or the oldest kept")
	}

	var b policy.Applied
	b = p.Normalize(b.Add("early", version.Timestamp{Wall: start.UnixNano()}))
	b = p.Normalize(b.Add("within", version.Timestamp{Wall: start.Add(23 * time.Hour).UnixNano()}))
	if !b.Has("early") {
		t.Fatalf("a key 23 h old was forgotten")
	}
	b = p.Normalize(b.Add("later", version.Timestamp{Wall: start.Add(25 * time.Hour).UnixNano()}))
	if b.Has("early") || !b.Has("within") {
		t.Fatalf("after 25 h: %v", b)
	}
}

// TestAppliedJSON round-trips and accepts unsorted, duplicated input.
func TestAppliedJSON(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		a := applied().Draw(t, "a")
		data, err := json.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		var back policy.Applied
		if err := json.Unmarshal(data, &back); err != nil || !back.Equal(a) {
			t.Fatalf("%s: %v, %v", data, back, err)
		}
	})
	var a policy.Applied
	if err := json.Unmarshal([]byte(`[{"key":"b","at":"2026-11-26T14:00:00Z"},{"key":"a","at":"2026-11-26T14:00:01Z"},{"key":"b","at":"2026-11-26T14:00:02Z"}]`), &a); err != nil {
		t.Fatal(err)
	}
	if a.String() != "{a b}" {
		t.Fatalf("%v", a)
	}
	for k, at := range a.All() {
		if k == "b" && at.Second() != 2 {
			t.Fatalf("b kept %v, not its later time", at)
		}
	}
	// The empty set (what a replica hands its codec: it stores the keys
	// itself) takes a short cut that must agree with the long way.
	for _, in := range []string{`[]`, ` [ ] `, `null`} {
		b := a
		if err := json.Unmarshal([]byte(in), &b); err != nil || b.Len() != 0 {
			t.Fatalf("%s: %v, %v", in, b, err)
		}
	}
	if data, err := json.Marshal(policy.Applied{}); err != nil || string(data) != "[]" {
		t.Fatalf("empty set: %s, %v", data, err)
	}
}
