package otel_test

import (
	"context"
	"fmt"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/harborpoint/concord/adapters/otel"
	"github.com/harborpoint/concord/hold"
	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

// The Observer takes its instruments from a Meter (here the SDK's, read by
// hand; in a service, the global MeterProvider with its exporter) and is
// given to the replica: a conditional write with a token that is no longer
// current is refused, and counted.
func Example() {
	ctx := context.Background()
	reader := sdkmetric.NewManualReader()
	meter := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)).Meter("concord")
	metrics, err := otel.New(meter, otel.Options{})
	if err != nil {
		panic(err)
	}
	r, err := replica.New(version.MustID("lisbon"), replica.NewMemoryStore(), hold.Resolver(resolve.Options{}),
		replica.Options[hold.Hold]{CommandKeys: hold.CommandKeys, Observer: metrics})
	if err != nil {
		panic(err)
	}
	rec, _ := r.Create(ctx, "H-8821", hold.New("H-8821", "C14", "lisbon-desk", time.Now().Add(10*time.Minute)))
	note := func(h *hold.Hold, _ replica.Write) error { h.Note = "window seat"; return nil }
	_, _ = r.Update(ctx, "H-8821", rec.Token, note)
	_, err = r.Update(ctx, "H-8821", rec.Token, note) // the token read before the first update
	fmt.Println("stale token refused:", err != nil)

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(ctx, &rm); err != nil {
		panic(err)
	}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if sum, ok := m.Data.(metricdata.Sum[int64]); ok && m.Name == "concord.rejected_writes" {
				fmt.Println(m.Name, sum.DataPoints[0].Value)
			}
		}
	}
	// Output:
	// stale token refused: true
	// concord.rejected_writes 1
}
