package policy_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/harborpoint/concord/policy"
	"github.com/harborpoint/concord/version"
)

var (
	lisbon    = version.MustID("lisbon")
	baltimore = version.MustID("baltimore")
)

// at returns the stamp of a write at hh:mm:ss.ms on the day of Harbor
// Point's story (see package hold), with the given dot.
func at(clock string, id version.ID, n uint64) version.Stamp {
	t, err := time.Parse("2006-01-02 15:04:05.000", "2026-03-14 "+clock)
	if err != nil {
		panic(err)
	}
	return version.Stamp{Time: version.Timestamp{Wall: t.UnixNano()}, Dot: version.Dot{ID: id, Counter: n}}
}

// Two agents edit the draft note of hold H-8821 concurrently. The note is
// replaceable text, so last-writer-wins is acceptable: the later stamp wins,
// and the other edit is discarded. (The stamps are only 200ms apart: a
// resolver configured with a skew window of 500ms flags such a decision,
// since clock skew could have inverted the order.)
func ExampleLWW() {
	notes := policy.LWW[string]()
	lis := policy.Branch[string]{Value: "customer still on the phone", Stamp: at("14:04:52.100", lisbon, 19)}
	iad := policy.Branch[string]{Value: "card authorised", Stamp: at("14:04:52.300", baltimore, 1)}

	got, d, _ := policy.Merge(notes, lis, iad)
	fmt.Printf("%q\n", got.Value)
	fmt.Println(d.Outcome, "-", d.Reason)
	// Output:
	// "card authorised"
	// picked - later stamp
}

// The agencies that touched a hold only accumulate: the merge keeps both.
func ExampleUnion() {
	agencies := policy.Union[string]()
	lis := policy.Branch[policy.Set[string]]{Value: policy.NewSet("Lisbon-Desk"), Stamp: at("14:04:52.000", lisbon, 19)}
	iad := policy.Branch[policy.Set[string]]{Value: policy.NewSet("Baltimore-Pay", "Lisbon-Desk"), Stamp: at("14:04:53.000", baltimore, 1)}

	got, d, _ := policy.Merge(agencies, lis, iad)
	fmt.Println(got.Value, d.Outcome)
	// Output: {Baltimore-Pay Lisbon-Desk} combined
}

// Lisbon removes a watcher from the hold while Baltimore adds it again
// without having seen the removal: the concurrent add wins. A remove that
// had seen the add would have won.
func ExampleAddWins() {
	var watchers policy.AWSet[string]
	watchers = watchers.Add("ops-desk", version.Dot{ID: lisbon, Counter: 1})

	removed := watchers.Remove("ops-desk")                                      // at Lisbon
	readded := watchers.Add("ops-desk", version.Dot{ID: baltimore, Counter: 1}) // at Baltimore

	aw := policy.AddWins[string]()
	got, _, _ := policy.Merge(aw,
		policy.Branch[policy.AWSet[string]]{Value: removed, Stamp: at("14:04:52.000", lisbon, 2)},
		policy.Branch[policy.AWSet[string]]{Value: readded, Stamp: at("14:04:53.000", baltimore, 1)})
	fmt.Println(got.Value)

	seen, _, _ := policy.Merge(aw,
		policy.Branch[policy.AWSet[string]]{Value: removed, Stamp: at("14:04:52.000", lisbon, 2)},
		policy.Branch[policy.AWSet[string]]{Value: watchers, Stamp: at("14:04:51.000", lisbon, 1)})
	fmt.Println(seen.Value)
	// Output:
	// {ops-desk} seen={baltimore:1 lisbon:1}
	// {} seen={lisbon:1}
}

// Loading the agencies that touched a day's holds from a sorted list builds
// the set in one pass; the same adds on the set would copy it each time.
func ExampleAWSetBuilder() {
	var b policy.AWSetBuilder[string]
	for i, agency := range []string{"atlas-travel", "baltic-lines", "harbor-desk"} {
		b.Add(agency, version.Dot{ID: lisbon, Counter: uint64(i + 1)})
	}
	b.Remove("baltic-lines")
	agencies := b.AWSet()
	fmt.Println(agencies)
	// Output:
	// {atlas-travel harbor-desk} seen={lisbon:3}
}

// Two concurrent extensions of the same active hold: the later expiry wins,
// whatever the stamps say.
func ExampleMax() {
	expiry := policy.Max[int64]()
	at1410 := time.Date(2026, 3, 14, 14, 10, 0, 0, time.UTC).Unix()
	at1415 := time.Date(2026, 3, 14, 14, 15, 0, 0, time.UTC).Unix()
	lis := policy.Branch[int64]{Value: at1415, Stamp: at("14:04:52.000", lisbon, 19)}
	iad := policy.Branch[int64]{Value: at1410, Stamp: at("14:04:53.000", baltimore, 1)}

	got, d, _ := policy.Merge(expiry, iad, lis)
	fmt.Println(time.Unix(got.Value, 0).UTC().Format("15:04"), d.Outcome, d.Winner == lis.Stamp)
	// Output: 14:15 picked true
}

// A flag whose enabling must not be lost: "needs review" set on one side
// survives a concurrent clear.
func ExampleEnableWins() {
	got, d, _ := policy.Merge(policy.EnableWins(),
		policy.Branch[bool]{Value: true, Stamp: at("14:04:52.000", lisbon, 19)},
		policy.Branch[bool]{Value: false, Stamp: at("14:04:53.000", baltimore, 1)})
	fmt.Println(got.Value, d.Reason)
	// Output: true enable wins
}

// A booking ID is written once. An unset branch takes the other's value;
// two different bookings for one hold cannot be merged and are rejected.
func ExampleOnce() {
	booking := policy.Once[string]()
	unset := policy.Branch[string]{Stamp: at("14:04:52.000", lisbon, 19)}
	b3107 := policy.Branch[string]{Value: "B-3107", Stamp: at("14:04:53.000", baltimore, 1)}
	b3112 := policy.Branch[string]{Value: "B-3112", Stamp: at("14:04:54.000", lisbon, 20)}

	got, _, _ := policy.Merge(booking, unset, b3107)
	fmt.Println(got.Value)

	_, d, err := policy.Merge(booking, b3107, b3112)
	fmt.Println(d.Outcome, errors.Is(err, policy.ErrRejected))
	fmt.Println(err)
	// Output:
	// B-3107
	// rejected true
	// policy: once rejected the merge: write-once field set to B-3107 and to B-3112
}

// Two regions set a single-valued field differently and no rule can choose:
// the register keeps both, and the conflict is visible.
func ExampleMultiValue() {
	cabin := policy.MultiValue[string]()
	got, _, _ := policy.Merge(cabin,
		policy.Branch[policy.Multi[string]]{Value: policy.Single("C14"), Stamp: at("14:04:52.000", lisbon, 19)},
		policy.Branch[policy.Multi[string]]{Value: policy.Single("C16"), Stamp: at("14:04:53.000", baltimore, 1)})
	fmt.Println(got.Value, got.Value.Conflicted())
	// Output: {C14 C16} true
}

// A cabin hold's lifecycle: confirmed is absorbing, and a released hold
// cannot be silently reopened by a concurrent extension.
func ExampleNewStateMachine() {
	status, err := policy.NewStateMachine(policy.StateMachineSpec[string]{
		Name:      "hold-status",
		States:    []string{"active", "released", "confirmed"},
		Absorbing: []string{"confirmed"},
		Rules: []policy.Rule[string]{
			policy.RejectRule("released", "active", "released vs active: reopening a released hold needs a retry"),
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	extend := policy.Branch[string]{Value: "active", Stamp: at("14:04:52.000", lisbon, 19)}
	confirm := policy.Branch[string]{Value: "confirmed", Stamp: at("14:04:53.000", baltimore, 1)}
	release := policy.Branch[string]{Value: "released", Stamp: at("14:04:54.000", lisbon, 20)}

	got, d, _ := policy.Merge(status, extend, confirm)
	fmt.Println(got.Value, "-", d.Outcome, "-", d.Reason)

	_, d, err = policy.Merge(status, release, extend)
	fmt.Println(d.Outcome, "-", err)
	// Output:
	// confirmed - picked - confirmed is absorbing
	// rejected - policy: hold-status rejected the merge: released vs active: reopening a released hold needs a retry
}

// A spec that leaves pairs undecided does not build; the error lists every
// missing pair at once.
func ExampleNewStateMachine_missingPairs() {
	_, err := policy.NewStateMachine(policy.StateMachineSpec[string]{
		Name:   "hold-status",
		States: []string{"active", "released", "confirmed", "expired"},
		Rules: []policy.Rule[string]{
			policy.PickRule("active", "confirmed", "confirmed", "payment captured"),
		},
	})
	fmt.Println(errors.Is(err, policy.ErrInvalidSpec))
	fmt.Println(err)
	// Output:
	// true
	// policy: invalid state machine "hold-status": 5 problems
	// 	no rule for active vs released
	// 	no rule for active vs expired
	// 	no rule for released vs confirmed
	// 	no rule for released vs expired
	// 	no rule for confirmed vs expired
}

// A hybrid logical clock never goes backwards, even when the physical clock
// does, and refuses to be dragged far into the future by another replica.
func ExampleHLC() {
	now := time.Date(2026, 3, 14, 14, 4, 52, 0, time.UTC)
	clock := version.NewHLC(version.HLCOptions{
		Now:      func() time.Time { return now },
		MaxDrift: time.Second,
	}, version.Timestamp{})

	fmt.Println(clock.Now())
	now = now.Add(-time.Minute) // NTP steps the clock back
	fmt.Println(clock.Now())

	remote := version.Timestamp{Wall: now.Add(time.Hour).UnixNano()}
	err := clock.Observe(remote)
	fmt.Println(errors.Is(err, version.ErrClockDrift))
	// Output:
	// 2026-03-14T14:04:52Z
	// 2026-03-14T14:04:52Z+1
	// true
}

// The binary form of applied keys: a few bytes per key, canonical, and a
// typed error for anything else.
func ExampleApplied_AppendBinary() {
	at := time.Date(2026, 11, 26, 14, 0, 0, 0, time.UTC)
	a := policy.NewApplied(
		policy.AppliedKey{Key: "cmd-1", At: at},
		policy.AppliedKey{Key: "cmd-2", At: at.Add(time.Second)},
	)
	data, _ := a.AppendBinary(nil)
	var back policy.Applied
	err := back.UnmarshalBinary(data)
	fmt.Println(len(data), back, err, back.Equal(a))

	err = back.UnmarshalBinary(data[:len(data)-1])
	fmt.Println(errors.Is(err, policy.ErrInvalidApplied))
	// Output:
	// 28 {cmd-1 cmd-2} <nil> true
	// true
}
