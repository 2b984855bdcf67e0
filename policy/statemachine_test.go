package policy_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/harborpoint/concord/policy"
	"github.com/harborpoint/concord/version"
)

// t0 is 14:04:52, the time of Harbor Point's story, on an arbitrary day.
var t0 = time.Date(2026, 3, 14, 14, 4, 52, 0, time.UTC)

func stamp(sec int64, id version.ID, n uint64) version.Stamp {
	return version.Stamp{Time: version.Timestamp{Wall: t0.UnixNano() + sec*1e9}, Dot: version.Dot{ID: id, Counter: n}}
}

func TestHoldLifecycleMerges(t *testing.T) {
	sm := holdLifecycle(t)
	lis, iad := replicas[0], replicas[1]
	extend := policy.Branch[string]{Value: "active", Stamp: stamp(2, lis, 19)}
	confirm := policy.Branch[string]{Value: "confirmed", Stamp: stamp(1, iad, 1)}
	release := policy.Branch[string]{Value: "released", Stamp: stamp(3, lis, 20)}

	// confirmed is absorbing, even against a later stamp.
	for _, pair := range [][2]policy.Branch[string]{{extend, confirm}, {confirm, extend}} {
		got, d, err := policy.Merge(sm, pair[0], pair[1])
		if err != nil || got != confirm || d.Outcome != policy.Picked || d.Winner != confirm.Stamp ||
			d.Loser != extend.Stamp || d.Reason != "confirmed is absorbing" || d.Policy != "hold-status" {
			t.Fatalf("Merge = %v, %+v, %v", got, d, err)
		}
	}
	// released vs active is rejected, with the rule's reason.
	_, d, err := policy.Merge(sm, release, extend)
	var rej *policy.Rejection
	if !errors.Is(err, policy.ErrRejected) || !errors.As(err, &rej) || d.Outcome != policy.Rejected ||
		rej.Reason != "released vs active: reopening a released hold needs a retry" || rej.Policy != "hold-status" {
		t.Fatalf("Merge(released, active) = %+v, %v", d, err)
	}
	// Equal states: Same, later stamp.
	other := policy.Branch[string]{Value: "active", Stamp: stamp(5, iad, 2)}
	if got, d, err := policy.Merge(sm, extend, other); err != nil || got != other || d.Outcome != policy.Same {
		t.Fatalf("Merge(active, active) = %v, %+v, %v", got, d, err)
	}
	// Undeclared states are rejected, not guessed.
	if _, _, err := policy.Merge(sm, extend, policy.Branch[string]{Value: "expired"}); !errors.Is(err, policy.ErrRejected) ||
		!strings.Contains(err.Error(), "undeclared state expired") {
		t.Fatalf("Merge(active, expired) = %v", err)
	}
}

func TestStateMachineRuleLookup(t *testing.T) {
	sm := holdLifecycle(t)
	for _, tc := range []struct {
		a, b    string
		outcome policy.Verdict
		reason  string
	}{
		{"active", "confirmed", policy.Picked, "confirmed is absorbing"},
		{"confirmed", "released", policy.Picked, "confirmed is absorbing"},
		{"active", "released", policy.Rejected, "released vs active: reopening a released hold needs a retry"},
		{"active", "active", policy.Same, "equal states"},
	} {
		r, ok := sm.Rule(tc.a, tc.b)
		if !ok || r.Outcome != tc.outcome || r.Reason != tc.reason {
			t.Errorf("Rule(%s, %s) = %+v, %v", tc.a, tc.b, r, ok)
		}
	}
	if _, ok := sm.Rule("active", "expired"); ok {
		t.Error("Rule with an undeclared state reported ok")
	}
	if got := sm.States(); strings.Join(got, ",") != "active,released,confirmed" || sm.Name() != "hold-status" {
		t.Errorf("States() = %v, Name() = %q", got, sm.Name())
	}
}

func TestStateMachineValidation(t *testing.T) {
	first := func(a, b string) string { return a }
	_, err := policy.NewStateMachine(policy.StateMachineSpec[string]{
		Name:      "broken",
		States:    []string{"a", "b", "c", "d", "a", "z1", "z2"},
		Absorbing: []string{"z1", "z2", "nope", "z1"},
		Rules: []policy.Rule[string]{
			policy.PickRule("a", "x", "a", "unknown state"),
			policy.PickRule("a", "a", "a", "same state"),
			policy.PickRule("a", "b", "c", "winner neither"),
			policy.RejectRule("a", "c", "first"),
			policy.RejectRule("c", "a", "again"),
			policy.PickRule("a", "d", "a", "first"),
			policy.PickRule("d", "a", "d", "contradicts"),
			policy.MergeRule("b", "c", first, "not commutative"),
			policy.MergeRule("b", "d", nil, "no function"),
			policy.MergeRule("c", "d", func(a, b string) string { return "q" }, "undeclared result"),
			policy.RejectRule("z1", "a", "contradicts absorption"),
			{A: "z1", B: "b", Outcome: policy.Same},
		},
	})
	var se *policy.SpecError
	if !errors.Is(err, policy.ErrInvalidSpec) || !errors.As(err, &se) {
		t.Fatalf("NewStateMachine = %v, want a *SpecError", err)
	}
	want := []string{
		"duplicate state a",
		"absorbing state nope is not declared",
		"absorbing state z1 listed twice",
		"rule 1 (a vs x): undeclared state x",
		"rule 2 (a vs a): a rule needs two different states; equal states always merge to themselves",
		"rule 3 (a vs b): winner c is neither state",
		"duplicate rules for c vs a: rules 4 and 5",
		"contradicting rules for d vs a: rules 6 and 7",
		"rule 8 (b vs c): merge function is not commutative: f(b, c) = b but f(c, b) = c",
		"rule 9 (b vs d): merge rule without a merge function",
		"rule 10 (c vs d): merge function returns undeclared state q",
		"rule 11 (z1 vs a): contradicts absorbing state z1, which must win",
		"rule 12 (z1 vs b): outcome same; want picked, combined or rejected",
		"no rule for a vs b",
		"no rule for b vs c",
		"no rule for b vs d",
		"no rule for c vs d",
		"no rule for z1 vs z2 (both absorbing)",
	}
	if got := strings.Join(se.Problems, "\n"); got != strings.Join(want, "\n") {
		t.Fatalf("problems:\n%s\n\nwant:\n%s", got, strings.Join(want, "\n"))
	}
	if !strings.HasPrefix(err.Error(), `policy: invalid state machine "broken": 18 problems`+"\n\tduplicate state a\n") {
		t.Fatalf("error text:\n%s", err)
	}
	if _, err := policy.NewStateMachine(policy.StateMachineSpec[int]{}); err == nil || !strings.Contains(err.Error(), "no states") {
		t.Fatalf("empty spec: %v", err)
	}
}

// A cycle of picks is not a join; the builder finds it.
func TestStateMachineRejectsNonAssociativeRules(t *testing.T) {
	_, err := policy.NewStateMachine(policy.StateMachineSpec[string]{
		States: []string{"rock", "paper", "scissors"},
		Rules: []policy.Rule[string]{
			policy.PickRule("paper", "rock", "paper", "covers"),
			policy.PickRule("rock", "scissors", "rock", "blunts"),
			policy.PickRule("scissors", "paper", "scissors", "cuts"),
		},
	})
	if err == nil || !strings.Contains(err.Error(), "not associative: with stamps rock@1 paper@2 scissors@3, (rock ⊔ paper) ⊔ scissors = scissors@3 but rock ⊔ (paper ⊔ scissors) = rock@1") {
		t.Fatalf("NewStateMachine(rock-paper-scissors) = %v", err)
	}
	// A merge to a third state that then loses by picking has a stamp that
	// depends on grouping.
	_, err = policy.NewStateMachine(policy.StateMachineSpec[string]{
		Name:   "document",
		States: []string{"draft-a", "draft-b", "review"},
		Rules: []policy.Rule[string]{
			policy.MergeRule("draft-a", "draft-b", func(a, b string) string { return "review" }, "concurrent drafts go to review"),
			policy.PickRule("draft-a", "review", "review", "review supersedes a draft"),
			policy.PickRule("draft-b", "review", "review", "review supersedes a draft"),
		},
	})
	if err == nil || !strings.Contains(err.Error(), "not associative in the stamp") {
		t.Fatalf("NewStateMachine(document) = %v", err)
	}
	// Redundant rules that agree with absorption are fine and keep their reason.
	sm, err := policy.NewStateMachine(policy.StateMachineSpec[string]{
		States:    []string{"active", "confirmed"},
		Absorbing: []string{"confirmed"},
		Rules:     []policy.Rule[string]{policy.PickRule("active", "confirmed", "confirmed", "payment captured")},
	})
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := sm.Rule("confirmed", "active"); r.Reason != "payment captured" || sm.Name() != "state-machine" {
		t.Fatalf("Rule = %+v, name %q", r, sm.Name())
	}
}
