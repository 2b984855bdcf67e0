package otel

import (
	"testing"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/harborpoint/concord/internal/story"
)

// TestReaping: a tombstone waiting, a horizon kept and one dropped after
// the retention, and a member expired show up in the reaping instruments,
// as they do in the Prometheus adapter's TestReaping; Close stops the
// reading.
func TestReaping(t *testing.T) {
	lis, reapedH2 := story.Reaping(t, time.Date(2026, 11, 26, 14, 0, 0, 0, time.UTC))
	reader := sdkmetric.NewManualReader()
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	r, err := NewReaping(provider.Meter("concord"), lis.Reaping)
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
	for name, w := range want {
		if got, ok := sums[name]; !ok || got != w {
			t.Errorf("%s = %d (present %v), want %d", name, got, ok, w)
		}
	}
	if len(sums) != len(want) {
		t.Errorf("instruments %v, want exactly %v", sums, want)
	}
	if units["concord.reaping.oldest_horizon"] != "s" || units["concord.reaping.member_last_heard"] != "s" {
		t.Errorf("units %v", units)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if sums, _, _ := collect(t, reader); len(sums) != 0 {
		t.Errorf("after Close: %v", sums)
	}
}
