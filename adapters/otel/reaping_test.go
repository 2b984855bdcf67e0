package otel

import (
	"context"
	"testing"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/harborpoint/concord/hold"
	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

// TestReaping: a tombstone reaped, its horizon dropped after the retention,
// and a member expired show up in the reaping instruments, as they do in
// the Prometheus adapter's TestReaping; Close stops the reading.
func TestReaping(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 26, 14, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	members := []version.ID{version.MustID("lisbon"), version.MustID("baltimore")}
	mk := func(name string) *replica.Replica[hold.Hold] {
		r, err := replica.New(version.MustID(name), replica.NewMemoryStore(), hold.Resolver(resolve.Options{}),
			replica.Options[hold.Hold]{CommandKeys: hold.CommandKeys, Members: members, Retention: time.Hour, Now: clock})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	lis, bal := mk("lisbon"), mk("baltimore")
	for _, k := range []string{"H-1", "H-2"} {
		rec, err := lis.Create(ctx, k, hold.New(k, "C1", "desk", now.Add(time.Hour)))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := lis.Delete(ctx, k, rec.Token); err != nil {
			t.Fatal(err)
		}
		if err := replica.AntiEntropy(ctx, lis, bal); err != nil {
			t.Fatal(err)
		}
		if n, err := lis.Reap(ctx); err != nil || n != 1 {
			t.Fatalf("reaped %d, %v", n, err)
		}
		if k == "H-1" {
			now = now.Add(30 * time.Minute)
		}
	}
	reapedH2 := now
	now = now.Add(45 * time.Minute) // H-1's horizon is past the retention, H-2's is not
	if _, err := lis.Reap(ctx); err != nil {
		t.Fatal(err)
	}
	rec, err := lis.Create(ctx, "H-3", hold.New("H-3", "C1", "desk", now.Add(time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lis.Delete(ctx, "H-3", rec.Token); err != nil { // waits: baltimore has not seen it
		t.Fatal(err)
	}
	now = now.Add(20 * time.Minute) // baltimore, last heard at H-2's session, expires

	reader := sdkmetric.NewManualReader()
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	r, err := NewReaping(provider.Meter("concord"), lis.Reaping)
	if err != nil {
		t.Fatal(err)
	}
	st := lis.Reaping()
	sums, _, units := collect(t, reader)
	want := map[string]int64{
		"concord.reaping.tombstones_waiting":                         1,
		"concord.reaping.horizons":                                   1,
		"concord.reaping.oldest_horizon":                             reapedH2.Unix(),
		"concord.reaping.counter_floor":                              int64(st.CounterFloor),
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
	if st.CounterFloor == 0 {
		t.Errorf("the counter floor is 0 after reaping")
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
