package otel

import (
	"testing"
	"time"

	"github.com/harborpoint/concord/internal/story"
)

// TestReaping: a tombstone waiting, a horizon kept and one dropped after
// the retention, and a member expired show up in the reaping instruments,
// as they do in the Prometheus adapter's TestReaping; Close stops the
// reading.
func TestReaping(t *testing.T) {
	lis, reapedH2 := story.Reaping(t, time.Date(2026, 11, 26, 14, 0, 0, 0, time.UTC))
	meter, reader := newReader("concord")
	r, err := NewReaping(meter, lis.Reaping)
	if err != nil {
		t.Fatal(err)
	}
	sums, _, units := collect(t, reader)
	want := map[string]int64{
		"concord.reaping.tombstones_waiting":                         1,
		"concord.reaping.horizons":                                   1,
		"concord.reaping.oldest_horizon":                             reapedH2.Unix(),
		"concord.reaping.counter_floor":                              4,
		"concord.reaping.tombstones_reaped":                          2,
		"concord.reaping.horizons_dropped":                           1,
		"concord.reaping.member_expired concord.member=baltimore":    1,
		"concord.reaping.member_last_heard concord.member=baltimore": reapedH2.Unix(),
	}
	checkSums(t, sums, want)
	if len(sums) != len(want) {
		t.Errorf("instruments %v, want exactly %v", sums, want)
	}
	if units["concord.reaping.oldest_horizon"] != "s" || units["concord.reaping.member_last_heard"] != "s" {
		t.Errorf("units %v", units)
	}
	closeStopsReading(t, r, reader)
}
