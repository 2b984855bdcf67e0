package hold_test

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/harborpoint/concord/hold"
)

// TestRoundTripsIsHonest: a hold that Codec.RoundTrips or RoundTripsJSON
// vouches for comes back deep-equal from that codec's round trip, on holds
// of every shape (local times with monotonic readings, invalid UTF-8, zero
// times, empty sets), and the holds the domain makes with UTC times are
// vouched for.
func TestRoundTripsIsHonest(t *testing.T) {
	var binary, viaJSON int
	rapid.Check(t, func(t *rapid.T) {
		h := genAnyHold().Draw(t, "hold")
		if rapid.Bool().Draw(t, "canonical times") {
			h.ExpiresAt = h.ExpiresAt.Round(0).UTC()
		}
		if rapid.IntRange(0, 5).Draw(t, "invalid UTF-8") == 0 {
			h.Note += "\xff" // encoding/json writes U+FFFD in its place
		}
		if (hold.Codec{}).RoundTrips(&h) {
			if data, err := (hold.Codec{}).Append(nil, h); err == nil {
				binary++
				back, err := hold.Codec{}.Decode(data)
				if err != nil || !reflect.DeepEqual(back, h) {
					t.Fatalf("Codec vouched for %#v, decoded %#v (%v)", h, back, err)
				}
			}
		}
		if h.RoundTripsJSON() {
			if data, err := json.Marshal(h); err == nil {
				viaJSON++
				var back hold.Hold
				if err := json.Unmarshal(data, &back); err != nil || !reflect.DeepEqual(back, h) {
					t.Fatalf("RoundTripsJSON vouched for %#v, decoded %#v (%v)", h, back, err)
				}
			}
		}
	})
	if binary == 0 || viaJSON == 0 {
		t.Fatalf("vouched for %d holds in binary, %d in JSON: the check is vacuous", binary, viaJSON)
	}
	h := hold.New("H-1", "C1", "desk", time.Now().Add(10*time.Minute).Round(0))
	if !h.RoundTripsJSON() || !(hold.Codec{}).RoundTrips(&h) {
		t.Fatalf("a new hold with a UTC expiry is not vouched for: %#v", h)
	}
}
