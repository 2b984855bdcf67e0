package otel

import (
	"context"
	"errors"
	"testing"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/harborpoint/concord/hold"
	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

// down is a peer that cannot be reached.
type down struct{ replica.Peer }

func (down) Reconcile(context.Context, []byte) ([]byte, error) {
	return nil, errors.New("connection refused")
}

// TestReplication: a replicator's sessions with a healthy and a dead peer
// show up as the peers' instruments, and Close stops the reading.
func TestReplication(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 26, 14, 0, 0, 0, time.UTC)
	members := []version.ID{version.MustID("lisbon"), version.MustID("baltimore")}
	mk := func(name string) *replica.Replica[hold.Hold] {
		r, err := replica.New(version.MustID(name), replica.NewMemoryStore(), hold.Resolver(resolve.Options{}), replica.Options[hold.Hold]{Members: members})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	lis, bal := mk("lisbon"), mk("baltimore")
	var last replica.Record[hold.Hold]
	for _, k := range []string{"H-1", "H-2"} {
		rec, err := lis.Create(ctx, k, hold.New(k, "C1", "desk", now.Add(time.Hour)))
		if err != nil {
			t.Fatal(err)
		}
		last = rec
	}
	// H-2 is deleted: baltimore receives its tombstone and acknowledges it.
	if _, err := lis.Delete(ctx, "H-2", last.Token); err != nil {
		t.Fatal(err)
	}
	p := replica.NewReplicator(lis, map[string]replica.Peer{"baltimore": replica.Local(bal), "tokyo": down{}},
		replica.ReplicatorOptions{Now: func() time.Time { return now }})
	_ = p.SyncNow(ctx)

	reader := sdkmetric.NewManualReader()
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	r, err := NewReplication(provider.Meter("concord"), p.Status)
	if err != nil {
		t.Fatal(err)
	}
	sums, _, units := collect(t, reader)
	for name, want := range map[string]int64{
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
	} {
		if got, ok := sums[name]; !ok || got != want {
			t.Errorf("%s = %d (present %v), want %d", name, got, ok, want)
		}
	}
	if sums["concord.replication.round_trips concord.peer=baltimore"] < 1 || sums["concord.replication.protocol_bytes concord.peer=baltimore"] < 1 {
		t.Errorf("a completed session counts its round trips and bytes: %v", sums)
	}
	if units["concord.replication.protocol_bytes"] != "By" || units["concord.replication.last_success"] != "s" {
		t.Errorf("units %v", units)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if sums, _, _ := collect(t, reader); len(sums) != 0 {
		t.Errorf("after Close: %v", sums)
	}
}
