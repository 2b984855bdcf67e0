package policy_test

import (
	"encoding/json"
	"errors"
	"testing"

	"pgregory.net/rapid"

	"github.com/harborpoint/concord/policy"
	"github.com/harborpoint/concord/version"
)

func TestAWSetJSONRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		ids := []version.ID{version.MustID("lisbon"), version.MustID("baltimore")}
		var s policy.AWSet[string]
		next := map[version.ID]uint64{}
		for range rapid.IntRange(0, 20).Draw(t, "ops") {
			id := rapid.SampledFrom(ids).Draw(t, "id")
			next[id] += uint64(rapid.IntRange(1, 2).Draw(t, "gap")) // gaps put dots in the cloud
			e := rapid.SampledFrom([]string{"tent", "stove", "map"}).Draw(t, "elem")
			if rapid.Bool().Draw(t, "remove") {
				s = s.Remove(e)
			} else {
				s = s.Add(e, version.Dot{ID: id, Counter: next[id]})
			}
		}
		data, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		var back policy.AWSet[string]
		if err := json.Unmarshal(data, &back); err != nil {
			t.Fatalf("%s: %v", data, err)
		}
		if !back.Equal(s) {
			t.Fatalf("round trip: %v, want %v", back, s)
		}
	})
}

func TestAWSetJSONRejectsInvalid(t *testing.T) {
	for _, in := range []string{
		`{"elements":[{"e":"b","dots":["lisbon:1"]},{"e":"a","dots":["lisbon:2"]}],"context":"AQEGbGlzYm9uAAI"}`,
		`{"elements":[{"e":"a","dots":["lisbon:5"]}],"context":"AQEGbGlzYm9uAAI"}`,
		`{"elements":[{"e":"a","dots":[]}]}`,
		`{"elements":[],"context":"!!"}`,
		`{"elements":[],"cloud":["lisbon:2","lisbon:1"]}`,
		`{"elements":[{"e":"a","dots":["nope"]}]}`,
	} {
		var s policy.AWSet[string]
		if err := json.Unmarshal([]byte(in), &s); !errors.Is(err, policy.ErrInvalidAWSet) {
			t.Errorf("%s: got %v, want ErrInvalidAWSet", in, err)
		}
	}
}

func FuzzAWSetJSON(f *testing.F) {
	f.Add([]byte(`{"elements":[{"e":"a","dots":["lisbon:2"]}],"context":"AQEGbGlzYm9uAAI","cloud":["baltimore:3"]}`))
	f.Add([]byte(`{"elements":[]}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var s policy.AWSet[string]
		if err := json.Unmarshal(data, &s); err != nil {
			return
		}
		again, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		var back policy.AWSet[string]
		if err := json.Unmarshal(again, &back); err != nil || !back.Equal(s) {
			t.Fatalf("accepted %s but its re-encoding %s does not round-trip: %v", data, again, err)
		}
	})
}
