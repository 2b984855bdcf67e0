package prometheus

import (
	"strings"
	"testing"
	"time"

	prom "github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/harborpoint/concord/internal/story"
)

// TestReplication: a replicator's sessions with a healthy and a dead peer
// show up as the peers' metrics.
func TestReplication(t *testing.T) {
	p := story.Replication(t, time.Date(2026, 11, 26, 14, 0, 0, 0, time.UTC))
	reg := prom.NewRegistry()
	reg.MustRegister(NewReplication(p.Status, Options{ConstLabels: prom.Labels{"region": "lisbon"}}))
	want := `
# HELP concord_replication_acknowledged_tombstones_total Tombstones the peer acknowledged holding at the end of sessions; a tombstone is reaped once every member has.
# TYPE concord_replication_acknowledged_tombstones_total counter
concord_replication_acknowledged_tombstones_total{peer="baltimore",region="lisbon"} 1
concord_replication_acknowledged_tombstones_total{peer="tokyo",region="lisbon"} 0
# HELP concord_replication_consecutive_failures Anti-entropy sessions with the peer that failed in a row; the replicator backs off while it is above 0.
# TYPE concord_replication_consecutive_failures gauge
concord_replication_consecutive_failures{peer="baltimore",region="lisbon"} 0
concord_replication_consecutive_failures{peer="tokyo",region="lisbon"} 1
# HELP concord_replication_last_success_timestamp_seconds Start of the last anti-entropy session with the peer that completed (0: none yet).
# TYPE concord_replication_last_success_timestamp_seconds gauge
concord_replication_last_success_timestamp_seconds{peer="baltimore",region="lisbon"} 1.7957016e+09
concord_replication_last_success_timestamp_seconds{peer="tokyo",region="lisbon"} 0
# HELP concord_replication_records_total Records sent to the peer, received from it, or skipped because they could not be read or applied.
# TYPE concord_replication_records_total counter
concord_replication_records_total{direction="received",peer="baltimore",region="lisbon"} 0
concord_replication_records_total{direction="received",peer="tokyo",region="lisbon"} 0
concord_replication_records_total{direction="sent",peer="baltimore",region="lisbon"} 2
concord_replication_records_total{direction="sent",peer="tokyo",region="lisbon"} 0
concord_replication_records_total{direction="skipped",peer="baltimore",region="lisbon"} 0
concord_replication_records_total{direction="skipped",peer="tokyo",region="lisbon"} 0
# HELP concord_replication_sessions_total Anti-entropy sessions with the peer, by outcome.
# TYPE concord_replication_sessions_total counter
concord_replication_sessions_total{outcome="completed",peer="baltimore",region="lisbon"} 1
concord_replication_sessions_total{outcome="completed",peer="tokyo",region="lisbon"} 0
concord_replication_sessions_total{outcome="failed",peer="baltimore",region="lisbon"} 0
concord_replication_sessions_total{outcome="failed",peer="tokyo",region="lisbon"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "concord_replication_acknowledged_tombstones_total", "concord_replication_consecutive_failures",
		"concord_replication_last_success_timestamp_seconds", "concord_replication_records_total", "concord_replication_sessions_total"); err != nil {
		t.Fatal(err)
	}
	if n, err := testutil.GatherAndCount(reg, "concord_replication_last_error_info"); err != nil || n != 1 {
		t.Fatalf("last_error_info: %d, %v", n, err)
	}
}
