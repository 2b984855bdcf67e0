package prometheus

import (
	"fmt"
	"strings"
	"testing"
	"time"

	prom "github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/harborpoint/concord/internal/story"
)

// TestReaping: a tombstone waiting, a horizon kept and one dropped after
// the retention, and a member expired show up in the reaping metrics.
func TestReaping(t *testing.T) {
	lis, reapedH2 := story.Reaping(t, time.Date(2026, 11, 26, 14, 0, 0, 0, time.UTC))
	reg := prom.NewRegistry()
	reg.MustRegister(NewReaping(lis.Reaping, Options{ConstLabels: prom.Labels{"region": "lisbon"}}))
	at := fmt.Sprint(float64(reapedH2.Unix())) // H-2's reap, and baltimore's last session
	want := `
# HELP concord_reaping_counter_floor The replica's counter floor: every write it makes is numbered above it.
# TYPE concord_reaping_counter_floor gauge
concord_reaping_counter_floor{region="lisbon"} 4
# HELP concord_reaping_horizons Horizons of reaped keys kept, one per key reaped within the retention.
# TYPE concord_reaping_horizons gauge
concord_reaping_horizons{region="lisbon"} 1
# HELP concord_reaping_horizons_dropped_total Horizons dropped after the retention since the replica started.
# TYPE concord_reaping_horizons_dropped_total counter
concord_reaping_horizons_dropped_total{region="lisbon"} 1
# HELP concord_reaping_member_expired 1 while the member has not been heard from for longer than the retention: it is refused until added again.
# TYPE concord_reaping_member_expired gauge
concord_reaping_member_expired{member="baltimore",region="lisbon"} 1
# HELP concord_reaping_member_last_heard_timestamp_seconds When the member was added or last heard from (a session completed, a session it opened answered, an acknowledgement recorded).
# TYPE concord_reaping_member_last_heard_timestamp_seconds gauge
concord_reaping_member_last_heard_timestamp_seconds{member="baltimore",region="lisbon"} ` + at + `
# HELP concord_reaping_oldest_horizon_timestamp_seconds When the oldest horizon kept was reaped (0: none).
# TYPE concord_reaping_oldest_horizon_timestamp_seconds gauge
concord_reaping_oldest_horizon_timestamp_seconds{region="lisbon"} ` + at + `
# HELP concord_reaping_tombstones_reaped_total Tombstones reaped since the replica started.
# TYPE concord_reaping_tombstones_reaped_total counter
concord_reaping_tombstones_reaped_total{region="lisbon"} 2
# HELP concord_reaping_tombstones_waiting Tombstones stored and not reaped yet; they grow while a member does not acknowledge.
# TYPE concord_reaping_tombstones_waiting gauge
concord_reaping_tombstones_waiting{region="lisbon"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want)); err != nil {
		t.Fatal(err)
	}
}
