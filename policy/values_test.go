package policy_test

import (
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/harborpoint/concord/policy"
	"github.com/harborpoint/concord/version"
	"pgregory.net/rapid"
)

func TestSetOperations(t *testing.T) {
	var zero policy.Set[string]
	if zero.Len() != 0 || zero.Has("x") || zero.String() != "{}" || zero.Elements() != nil {
		t.Fatalf("zero set: %v", zero)
	}
	s := policy.NewSet("Porto-Web", "Lisbon-Desk", "Porto-Web")
	s2 := s.Add("Faro-Partner")
	s3 := s2.Remove("Porto-Web")
	if got := s.String(); got != "{Lisbon-Desk Porto-Web}" {
		t.Fatalf("s = %s", got)
	}
	if got := s2.Elements(); !slices.Equal(got, []string{"Faro-Partner", "Lisbon-Desk", "Porto-Web"}) {
		t.Fatalf("s2 = %v", got)
	}
	if got := slices.Collect(s3.All()); !slices.Equal(got, []string{"Faro-Partner", "Lisbon-Desk"}) {
		t.Fatalf("s3 = %v", got)
	}
	if s.Add("Lisbon-Desk").Len() != 2 || !s.Remove("nope").Equal(s) || !s.Remove("Porto-Web").Remove("Lisbon-Desk").Equal(zero) {
		t.Fatal("no-op add/remove or remove-all")
	}
	e := s.Elements()
	e[0] = "mutated"
	if !s.Has("Lisbon-Desk") {
		t.Fatal("Elements shares memory with the set")
	}
	nan := policy.NewSet(math.NaN(), 1, math.NaN())
	if nan.Len() != 2 || !nan.Has(math.NaN()) || !nan.Equal(policy.NewSet(1, math.NaN())) {
		t.Fatalf("NaN set: %v", nan)
	}
}

func TestSetJSON(t *testing.T) {
	s := policy.NewSet("b", "a")
	b, err := json.Marshal(s)
	if err != nil || string(b) != `["a","b"]` {
		t.Fatalf("Marshal = %s, %v", b, err)
	}
	if b, _ := json.Marshal(policy.Set[int]{}); string(b) != "[]" {
		t.Fatalf("Marshal(empty) = %s", b)
	}
	var got policy.Set[string]
	if err := json.Unmarshal([]byte(`["b","a","b"]`), &got); err != nil || !got.Equal(s) {
		t.Fatalf("Unmarshal = %v, %v", got, err)
	}
	if err := json.Unmarshal([]byte(`null`), &got); err != nil || got.Len() != 0 {
		t.Fatalf("Unmarshal(null) = %v, %v", got, err)
	}
	if err := json.Unmarshal([]byte(`{"a":1}`), &got); err == nil {
		t.Fatal("Unmarshal(object) succeeded")
	}
	var m policy.Multi[string]
	if err := json.Unmarshal([]byte(`["B-3112","B-3107"]`), &m); err != nil || !m.Conflicted() {
		t.Fatalf("Multi Unmarshal = %v, %v", m, err)
	}
	if b, _ := json.Marshal(m); string(b) != `["B-3107","B-3112"]` {
		t.Fatalf("Multi Marshal = %s", b)
	}
}

// FuzzSetJSON checks that any input either fails to decode or decodes to a
// set that re-encodes canonically and decodes back to itself.
func FuzzSetJSON(f *testing.F) {
	for _, s := range []string{`[]`, `null`, `[3,1,2,1]`, `[-0, 0]`, `[1e308]`, `"x"`, `[1,"a"]`, `[`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var s policy.Set[float64]
		if err := json.Unmarshal(data, &s); err != nil {
			return
		}
		b, err := json.Marshal(s)
		if err != nil {
			t.Fatalf("Marshal(%v) = %v", s, err)
		}
		var s2 policy.Set[float64]
		if err := json.Unmarshal(b, &s2); err != nil || !s2.Equal(s) {
			t.Fatalf("round trip of %s: %s -> %v, %v", data, b, s2, err)
		}
		if !slices.IsSorted(s.Elements()) {
			t.Fatalf("decoded set not sorted: %v", s)
		}
	})
}

func TestMulti(t *testing.T) {
	var zero policy.Multi[string]
	if _, ok := zero.Value(); ok || zero.Conflicted() || zero.Len() != 0 {
		t.Fatalf("zero Multi: %v", zero)
	}
	one := policy.Single("B-3107")
	if v, ok := one.Value(); !ok || v != "B-3107" || one.Conflicted() {
		t.Fatalf("Single: %v", one)
	}
	m, d, err := policy.Merge(policy.MultiValue[string](),
		policy.Branch[policy.Multi[string]]{Value: one, Stamp: stamp(1, replicas[0], 1)},
		policy.Branch[policy.Multi[string]]{Value: policy.Single("B-3112"), Stamp: stamp(2, replicas[1], 1)})
	if err != nil || d.Outcome != policy.Combined || !m.Value.Conflicted() || m.Value.String() != "{B-3107 B-3112}" ||
		!slices.Equal(slices.Collect(m.Value.All()), m.Value.Values()) {
		t.Fatalf("MultiValue merge = %v, %+v, %v", m, d, err)
	}
	if _, ok := m.Value.Value(); ok {
		t.Fatal("Value() of a conflict reported ok")
	}
}

func TestOrderPolicies(t *testing.T) {
	lis, iad := replicas[0], replicas[1]
	early := policy.Branch[int64]{Value: 100, Stamp: stamp(1, lis, 1)}
	late := policy.Branch[int64]{Value: 50, Stamp: stamp(2, iad, 1)}
	if got, d, _ := policy.Merge(policy.Max[int64](), late, early); got != early || d.Outcome != policy.Picked || d.Reason != "greater value" {
		t.Fatalf("Max = %v, %+v", got, d)
	}
	if got, d, _ := policy.Merge(policy.Min[int64](), early, late); got != late || d.Reason != "smaller value" {
		t.Fatalf("Min = %v, %+v", got, d)
	}
	on := policy.Branch[bool]{Value: true, Stamp: stamp(1, lis, 2)}
	off := policy.Branch[bool]{Value: false, Stamp: stamp(9, iad, 2)}
	if got, d, _ := policy.Merge(policy.EnableWins(), off, on); got != on || d.Reason != "enable wins" || d.Policy != "enable-wins" {
		t.Fatalf("EnableWins = %v, %+v", got, d)
	}
	unset := policy.Branch[string]{Stamp: stamp(5, lis, 3)}
	b1 := policy.Branch[string]{Value: "B-3107", Stamp: stamp(1, iad, 3)}
	b2 := policy.Branch[string]{Value: "B-3112", Stamp: stamp(2, lis, 4)}
	if got, d, err := policy.Merge(policy.Once[string](), unset, b1); err != nil || got != b1 || d.Outcome != policy.Picked {
		t.Fatalf("Once(unset, set) = %v, %+v, %v", got, d, err)
	}
	_, d, err := policy.Merge(policy.Once[string](), b2, b1)
	_, d2, err2 := policy.Merge(policy.Once[string](), b1, b2)
	if !errors.Is(err, policy.ErrRejected) || !errors.Is(err2, policy.ErrRejected) ||
		d.Outcome != policy.Rejected || err.Error() != err2.Error() || d != d2 ||
		err.Error() != "policy: once rejected the merge: write-once field set to B-3107 and to B-3112" {
		t.Fatalf("Once(two bookings) = %+v, %v / %v", d, err, err2)
	}
}

func TestLWWDecisions(t *testing.T) {
	lis, iad := replicas[0], replicas[1]
	p := policy.LWW[string]()
	a := policy.Branch[string]{Value: "a", Stamp: stamp(0, lis, 1)}
	b := policy.Branch[string]{Value: "b", Stamp: version.Stamp{Time: version.Timestamp{Wall: a.Stamp.Time.Wall + 499e6}, Dot: version.Dot{ID: iad, Counter: 1}}}
	tie := policy.Branch[string]{Value: "tie", Stamp: version.Stamp{Time: a.Stamp.Time, Dot: version.Dot{ID: iad, Counter: 3}}}
	for _, tc := range []struct {
		x, y   policy.Branch[string]
		want   string
		reason string
	}{
		{a, b, "b", "later stamp"},
		{b, a, "b", "later stamp"},
		{a, tie, "a", "equal time, dot tiebreak"}, // lisbon > baltimore
		{a, a, "a", "same write"},
	} {
		got, d, err := policy.Merge(p, tc.x, tc.y)
		if err != nil || got.Value != tc.want || d.Reason != tc.reason || d.InSkewWindow {
			t.Errorf("Merge(%s, %s) = %v, %+v, %v", tc.x.Value, tc.y.Value, got, d, err)
		}
	}
	if r, ok := p.(policy.Replaceable); !ok || !r.Replaceable() {
		t.Error("LWW is not replaceable")
	}
}

// TestSetOfStringsDecodesAsEncodingJSON: the direct reading of string sets
// gives what encoding/json gives — the same set or an error — for arrays of
// strings with escapes, control characters, invalid UTF-8, odd spacing and
// broken syntax.
func TestSetOfStringsDecodesAsEncodingJSON(t *testing.T) {
	piece := rapid.SampledFrom([]string{`"a"`, `"b c"`, `"\u00e9"`, `"é"`, `"q\"q"`, `"\n"`, "\"\x01\"", "\"\xff\"", `"\/"`, `""`, ` `, "\t", `,`, `[`, `]`, `null`, `1`, `"`})
	rapid.Check(t, func(t *rapid.T) {
		var data string
		if rapid.Bool().Draw(t, "well formed") {
			elems := rapid.SliceOfN(rapid.SampledFrom([]string{"a", "b c", "é", "q\"q", "\n", "\x01", "\xff", "/", ""}), 0, 4).Draw(t, "elems")
			b, _ := json.Marshal(elems)
			data = string(b)
		} else {
			data = "[" + strings.Join(rapid.SliceOfN(piece, 0, 6).Draw(t, "pieces"), "") + "]"
		}
		var got policy.Set[string]
		gotErr := got.UnmarshalJSON([]byte(data))
		var elems []string
		wantErr := json.Unmarshal([]byte(data), &elems)
		if (gotErr == nil) != (wantErr == nil) {
			t.Fatalf("%q: error %v, encoding/json %v", data, gotErr, wantErr)
		}
		if gotErr == nil && !got.Equal(policy.NewSet(elems...)) {
			t.Fatalf("%q: %v, encoding/json %q", data, got, elems)
		}
	})
}
