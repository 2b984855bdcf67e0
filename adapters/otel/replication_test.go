package otel

import (
	"testing"
	"time"

	"github.com/harborpoint/concord/internal/story"
)

// TestReplication: a replicator's sessions with a healthy and a dead peer
// show up as the peers' instruments, and Close stops the reading.
func TestReplication(t *testing.T) {
	now := time.Date(2026, 11, 26, 14, 0, 0, 0, time.UTC)
	p := story.Replication(t, now)
	meter, reader := newReader("concord")
	r, err := NewReplication(meter, p.Status)
	if err != nil {
		t.Fatal(err)
	}
	sums, _, units := collect(t, reader)
	checkSums(t, sums, map[string]int64{
		"concord.replication.last_success concord.peer=baltimore":                       now.Unix(),
		"concord.replication.last_success concord.peer=tokyo":                           0,
		"concord.replication.consecutive_failures concord.peer=baltimore":               0,
		"concord.replication.consecutive_failures concord.peer=tokyo":                   1,
		"concord.replication.sessions concord.outcome=completed concord.peer=baltimore": 1,
		"concord.replication.sessions concord.outcome=failed concord.peer=tokyo":        1,
		"concord.replication.records concord.direction=sent concord.peer=baltimore":     2,
		"concord.replication.records concord.direction=received concord.peer=baltimore": 0,
		"concord.replication.records concord.direction=sent concord.peer=tokyo":         0,
		"concord.replication.round_trips concord.peer=tokyo":                            0,
	})
	if sums["concord.replication.round_trips concord.peer=baltimore"] < 1 || sums["concord.replication.protocol_bytes concord.peer=baltimore"] < 1 {
		t.Errorf("a completed session counts its round trips and bytes: %v", sums)
	}
	if units["concord.replication.protocol_bytes"] != "By" || units["concord.replication.last_success"] != "s" {
		t.Errorf("units %v", units)
	}
	closeStopsReading(t, r, reader)
}
