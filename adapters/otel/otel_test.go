package otel

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/harborpoint/concord/hold"
	"github.com/harborpoint/concord/internal/story"
	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/resolve"
)

// collect reads every data point, keyed by instrument name and attributes.
func collect(t *testing.T, reader *sdkmetric.ManualReader) (sums map[string]int64, hists map[string]metricdata.HistogramDataPoint[int64], units map[string]string) {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	sums, hists, units = map[string]int64{}, map[string]metricdata.HistogramDataPoint[int64]{}, map[string]string{}
	key := func(name string, set attribute.Set) string {
		s := name
		for _, kv := range set.ToSlice() {
			s += " " + string(kv.Key) + "=" + kv.Value.String()
		}
		return s
	}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			units[m.Name] = m.Unit
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					sums[key(m.Name, p.Attributes)] = p.Value
				}
			case metricdata.Gauge[int64]:
				for _, p := range d.DataPoints {
					sums[key(m.Name, p.Attributes)] = p.Value
				}
			case metricdata.Histogram[int64]:
				for _, p := range d.DataPoints {
					hists[key(m.Name, p.Attributes)] = p
				}
			default:
				t.Errorf("%s: unexpected data %T", m.Name, m.Data)
			}
		}
	}
	return sums, hists, units
}

// newReader returns a meter of a new SDK provider, named name, and the
// reader that collects it by hand.
func newReader(name string) (metric.Meter, *sdkmetric.ManualReader) {
	reader := sdkmetric.NewManualReader()
	return sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)).Meter(name), reader
}

// checkSums reports every instrument of want that sums lacks or holds at
// another value.
func checkSums(t *testing.T, sums, want map[string]int64) {
	t.Helper()
	for name, w := range want {
		if got, ok := sums[name]; !ok || got != w {
			t.Errorf("%s = %d (present %v), want %d", name, got, ok, w)
		}
	}
}

// closeStopsReading closes c and checks that reader then collects nothing.
func closeStopsReading(t *testing.T, c interface{ Close() error }, reader *sdkmetric.ManualReader) {
	t.Helper()
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if sums, _, _ := collect(t, reader); len(sums) != 0 {
		t.Errorf("after Close: %v", sums)
	}
}

func TestObserverMatchesCounters(t *testing.T) {
	meter, reader := newReader("github.com/harborpoint/concord")
	o, err := New(meter, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var counters resolve.Counters
	story.Holds(t, resolve.ObserverFunc(func(e resolve.Event) { counters.Observe(e); o.Observe(e) }))
	sums, hists, units := collect(t, reader)

	names := map[resolve.Kind]string{
		resolve.AutoResolved: "concord.auto_resolved", resolve.PolicyFired: "concord.policy_fired",
		resolve.Conflict: "concord.conflicts", resolve.SentToReview: "concord.review.sent", resolve.Reviewed: "concord.reviewed",
		resolve.Rejected: "concord.rejected_writes", resolve.StaleDropped: "concord.stale_versions",
		resolve.DuplicateDropped: "concord.duplicate_versions", resolve.SkewWindow: "concord.skew_window",
		resolve.Drift:   "concord.drift",
		resolve.Corrupt: "concord.corrupt_states", resolve.UnissuedDot: "concord.unissued_dots", resolve.TooLarge: "concord.too_large", resolve.Quarantined: "concord.quarantined",
	}
	for _, k := range counters.Keys() {
		key := names[k.Kind] + " concord.entity=" + k.Entity
		switch k.Kind {
		case resolve.PolicyFired, resolve.Conflict, resolve.SentToReview, resolve.SkewWindow:
			key += " concord.field=" + k.Field + " concord.policy=" + k.Policy
		case resolve.Reviewed:
			key += " concord.field=" + k.Field
		case resolve.Drift:
			key += " concord.origin=bristol"
		}
		if got, want := sums[key], int64(counters.Get(k)); got != want {
			t.Errorf("%s = %d, counter %d", key, got, want)
		}
	}
	checkSums(t, sums, map[string]int64{
		"concord.auto_resolved concord.entity=hold":                                           4,
		"concord.conflicts concord.entity=hold concord.field=status concord.policy=lifecycle": 2,
		"concord.rejected_writes concord.entity=hold":                                         1,
		"concord.skew_window concord.entity=hold concord.field=note concord.policy=lww":       2,
		"concord.review.queue_depth concord.entity=hold":                                      1,
		"concord.drift concord.entity=hold concord.origin=bristol":                            1,
		"concord.unissued_dots concord.entity=hold":                                           1,
		"concord.too_large concord.entity=hold":                                               1,
		"concord.quarantined concord.entity=hold":                                             1,
		"concord.corrupt_states concord.entity=hold":                                          2,
	})
	for _, outcome := range []string{"resolved", "conflict"} {
		p, ok := hists["concord.siblings concord.entity=hold concord.outcome="+outcome]
		if !ok || p.Count == 0 || p.Sum != 2*int64(p.Count) || len(p.Bounds) != len(DefaultSiblingBuckets) {
			t.Errorf("siblings %s: %+v", outcome, p)
		}
	}
	if units["concord.conflicts"] != "{conflict}" {
		t.Errorf("units: %v", units)
	}
	if err := o.Close(); err != nil {
		t.Error(err)
	}
}

func TestQueueDepthFunc(t *testing.T) {
	meter, reader := newReader("test")
	var lis, bal *replica.Replica[hold.Hold]
	o, err := New(meter, Options{SiblingBuckets: []float64{2, 4}, QueueDepth: func() map[string]int {
		if lis == nil {
			return nil
		}
		return map[string]int{hold.Entity: len(lis.Conflicts()) + len(bal.Conflicts())}
	}})
	if err != nil {
		t.Fatal(err)
	}
	lis, bal = story.Holds(t, o)
	sums, hists, _ := collect(t, reader)
	if got := sums["concord.review.queue_depth concord.entity=hold"]; got != 1 {
		t.Errorf("queue depth gauge = %d, want 1", got)
	}
	if p := hists["concord.siblings concord.entity=hold concord.outcome=resolved"]; len(p.Bounds) != 2 {
		t.Errorf("buckets: %v", p.Bounds)
	}
	if err := o.Close(); err != nil {
		t.Error(err)
	}
	sums, _, _ = collect(t, reader)
	if _, ok := sums["concord.review.queue_depth concord.entity=hold"]; ok {
		t.Error("callback still registered after Close")
	}
}
