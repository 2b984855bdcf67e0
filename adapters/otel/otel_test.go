package otel

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/harborpoint/concord/hold"
	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

// story plays conflicts across two hold replicas: an auto-resolved extend
// vs confirm, a refused release vs extend that goes to review and is
// settled, a stale conditional write, a stale replicated version and
// concurrent blind notes inside the skew window.
func story(t *testing.T, obs resolve.Observer) (lis, bal *replica.Replica[hold.Hold]) {
	t.Helper()
	ctx := context.Background()
	now := time.Date(2026, 11, 26, 14, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	res := hold.Resolver(resolve.Options{SkewWindow: 2 * time.Second})
	region := func(name string) *replica.Replica[hold.Hold] {
		r, err := replica.New(version.MustID(name), replica.NewMemoryStore(), res, replica.Options[hold.Hold]{
			Clock: version.NewHLC(version.HLCOptions{Now: clock}, version.Timestamp{}), Observer: obs, CommandKeys: hold.CommandKeys, Now: clock,
		})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	lis, bal = region("lisbon"), region("baltimore")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	sync := func() { t.Helper(); must(replica.AntiEntropy(ctx, lis, bal)) }
	extend := func(r *replica.Replica[hold.Hold], key, idem string) {
		t.Helper()
		_, _, err := r.Command(ctx, key, idem, func(h *hold.Hold, _ replica.Write) error { return h.Extend(h.ExpiresAt.Add(5 * time.Minute)) })
		must(err)
	}

	_, err := lis.Create(ctx, "H-8821", hold.New("H-8821", "C14", "lisbon-desk", now.Add(10*time.Minute)))
	must(err)
	_, err = lis.Create(ctx, "H-8823", hold.New("H-8823", "C16", "lisbon-desk", now.Add(10*time.Minute)))
	must(err)
	sync()
	v1, err := bal.Get(ctx, "H-8821")
	must(err)
	old, err := bal.State(ctx, "H-8821")
	must(err)
	base, err := bal.Get(ctx, "H-8823")
	must(err)

	now = now.Add(time.Minute)
	extend(lis, "H-8821", "lis-1")
	_, err = bal.Update(ctx, "H-8821", v1.Token, func(h *hold.Hold, _ replica.Write) error { return h.Confirm("B-3107", now) })
	must(err)
	extend(lis, "H-8823", "lis-2")
	_, err = bal.Update(ctx, "H-8823", base.Token, func(h *hold.Hold, _ replica.Write) error { return h.Release() })
	must(err)
	sync()

	// A stale If-Match, and a stale replicated version.
	if _, err := bal.Update(ctx, "H-8821", v1.Token, func(h *hold.Hold, _ replica.Write) error { return h.Release() }); err == nil {
		t.Fatal("stale token accepted")
	}
	_, err = lis.ApplyState(ctx, "H-8821", old)
	must(err)

	// Notes 400ms apart in both regions.
	now = now.Add(time.Minute)
	_, err = lis.Blind(ctx, "H-8821", "note", hold.NoteEdit("deck 3"))
	must(err)
	now = now.Add(400 * time.Millisecond)
	_, err = bal.Blind(ctx, "H-8821", "note", hold.NoteEdit("call back"))
	must(err)
	sync()

	// Settle H-8823 in Lisbon only: Baltimore's queue still holds it.
	rec, err := lis.Get(ctx, "H-8823")
	must(err)
	_, err = lis.ResolveConflict(ctx, "H-8823", rec.Token, rec.Branches[0].Value)
	must(err)

	// Bristol's clock runs ten minutes ahead: Lisbon applies its note, and
	// counts the drift.
	ahead := func() time.Time { return now.Add(10 * time.Minute) }
	bristol, err := replica.New(version.MustID("bristol"), replica.NewMemoryStore(), res, replica.Options[hold.Hold]{
		Clock: version.NewHLC(version.HLCOptions{Now: ahead}, version.Timestamp{}), CommandKeys: hold.CommandKeys,
	})
	must(err)
	must(replica.AntiEntropy(ctx, lis, bristol))
	_, err = bristol.Blind(ctx, "H-8821", "note", hold.NoteEdit("from the future"))
	must(err)
	data, err := bristol.Export(ctx, "H-8821")
	must(err)
	_, err = lis.Apply(ctx, "H-8821", data)
	must(err)
	// A message damaged on the wire, and a state claiming a write Lisbon
	// never made (a second process under its ID): both refused.
	damaged, err := lis.Export(ctx, "H-8821")
	must(err)
	damaged[len(damaged)/2] ^= 1
	if _, err := bal.Apply(ctx, "H-8821", damaged); !errors.Is(err, replica.ErrCorrupt) {
		t.Fatalf("damaged state: %v, want ErrCorrupt", err)
	}
	twin, err := replica.New(version.MustID("lisbon"), replica.NewMemoryStore(), res, replica.Options[hold.Hold]{CommandKeys: hold.CommandKeys})
	must(err)
	_, err = twin.Create(ctx, "H-9000", hold.New("H-9000", "C1", "twin", now.Add(time.Minute)))
	must(err)
	forged, err := twin.Export(ctx, "H-9000")
	must(err)
	if _, err := lis.Apply(ctx, "H-9000", forged); !errors.Is(err, replica.ErrUnissuedDot) {
		t.Fatalf("forged state: %v, want ErrUnissuedDot", err)
	}
	// A note past the record limit (1 MiB by default) is refused.
	if _, err := lis.Blind(ctx, "H-8821", "note", hold.NoteEdit(strings.Repeat("n", 2<<20))); !errors.Is(err, replica.ErrTooLarge) {
		t.Fatalf("2 MiB note: %v, want ErrTooLarge", err)
	}
	// A record whose stored state is damaged is quarantined.
	twinStore := replica.NewMemoryStore()
	other, err := replica.New(version.MustID("tokyo"), twinStore, res, replica.Options[hold.Hold]{Observer: obs, CommandKeys: hold.CommandKeys})
	must(err)
	_, err = other.Create(ctx, "H-9001", hold.New("H-9001", "C1", "tokyo", now.Add(time.Minute)))
	must(err)
	stored, rev, err := twinStore.Get(ctx, "H-9001")
	must(err)
	stored[len(stored)/2] ^= 1
	_, err = twinStore.CompareAndSet(ctx, "H-9001", stored, rev)
	must(err)
	if _, err := other.Get(ctx, "H-9001"); !errors.Is(err, replica.ErrQuarantined) {
		t.Fatalf("damaged stored state: %v, want ErrQuarantined", err)
	}
	return lis, bal
}

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

func TestObserverMatchesCounters(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	o, err := New(provider.Meter("github.com/harborpoint/concord"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var counters resolve.Counters
	story(t, resolve.ObserverFunc(func(e resolve.Event) { counters.Observe(e); o.Observe(e) }))
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
	for key, want := range map[string]int64{
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
	} {
		if sums[key] != want {
			t.Errorf("%s = %d, want %d", key, sums[key], want)
		}
	}
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
	reader := sdkmetric.NewManualReader()
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	var lis, bal *replica.Replica[hold.Hold]
	o, err := New(provider.Meter("test"), Options{SiblingBuckets: []float64{2, 4}, QueueDepth: func() map[string]int {
		if lis == nil {
			return nil
		}
		return map[string]int{hold.Entity: len(lis.Conflicts()) + len(bal.Conflicts())}
	}})
	if err != nil {
		t.Fatal(err)
	}
	lis, bal = story(t, o)
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
