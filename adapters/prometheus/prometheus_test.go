package prometheus

import (
	"strings"
	"testing"

	prom "github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/harborpoint/concord/hold"
	"github.com/harborpoint/concord/internal/story"
	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/resolve"
)

func TestObserverMatchesCounters(t *testing.T) {
	var counters resolve.Counters
	o := New(Options{})
	reg := prom.NewPedanticRegistry()
	reg.MustRegister(o)
	story.Holds(t, resolve.ObserverFunc(func(e resolve.Event) { counters.Observe(e); o.Observe(e) }))

	for _, kind := range []resolve.Kind{resolve.AutoResolved, resolve.PolicyFired, resolve.Conflict, resolve.SentToReview,
		resolve.Reviewed, resolve.Rejected, resolve.StaleDropped, resolve.SkewWindow, resolve.Drift,
		resolve.Corrupt, resolve.UnissuedDot, resolve.TooLarge, resolve.Quarantined} {
		if counters.Total(kind) == 0 {
			t.Errorf("the story produced no %s event", kind)
		}
	}
	for _, k := range counters.Keys() {
		want := float64(counters.Get(k))
		var got float64
		switch k.Kind {
		case resolve.AutoResolved:
			got = testutil.ToFloat64(o.autoResolved.WithLabelValues(k.Entity))
		case resolve.PolicyFired:
			got = testutil.ToFloat64(o.policyFired.WithLabelValues(k.Entity, k.Field, k.Policy))
		case resolve.Conflict:
			got = testutil.ToFloat64(o.conflicts.WithLabelValues(k.Entity, k.Field, k.Policy))
		case resolve.SentToReview:
			got = testutil.ToFloat64(o.reviewSent.WithLabelValues(k.Entity, k.Field, k.Policy))
		case resolve.Reviewed:
			got = testutil.ToFloat64(o.reviewed.WithLabelValues(k.Entity, k.Field))
		case resolve.SkewWindow:
			got = testutil.ToFloat64(o.skew.WithLabelValues(k.Entity, k.Field, k.Policy))
		case resolve.Drift:
			got = testutil.ToFloat64(o.drift.WithLabelValues(k.Entity, "bristol"))
		default:
			c, ok := o.perEntity[k.Kind]
			if !ok {
				t.Errorf("kind %v has no metric", k.Kind)
				continue
			}
			got = testutil.ToFloat64(c.WithLabelValues(k.Entity))
		}
		if got != want {
			t.Errorf("%+v: metric %v, counter %v", k, got, want)
		}
	}

	// Scrape the registry: exact values of the story's headline metrics.
	const want = `
# HELP concord_auto_resolved_total Records whose concurrent branches were merged automatically by their policies.
# TYPE concord_auto_resolved_total counter
concord_auto_resolved_total{entity="hold"} 4
# HELP concord_corrupt_states_total Stored or replicated states refused because their checksum did not match: damaged on a disk or on the wire.
# TYPE concord_corrupt_states_total counter
concord_corrupt_states_total{entity="hold"} 2
# HELP concord_conflicts_total Merges a policy or rule refused: the branches stay as siblings (ConflictRequiresRetry).
# TYPE concord_conflicts_total counter
concord_conflicts_total{entity="hold",field="status",policy="lifecycle"} 2
# HELP concord_drift_total Replicated writes stamped further ahead of the local clock than its maximum drift, by the replica that stamped them.
# TYPE concord_drift_total counter
concord_drift_total{entity="hold",origin="bristol"} 1
# HELP concord_rejected_writes_total Writes refused back to their clients, such as conditional writes with a stale token.
# TYPE concord_rejected_writes_total counter
concord_rejected_writes_total{entity="hold"} 1
# HELP concord_review_queue_depth Open conflicts waiting in review queues.
# TYPE concord_review_queue_depth gauge
concord_review_queue_depth{entity="hold"} 1
# HELP concord_skew_window_total Last-writer-wins decisions between stamps closer than the clock-skew window.
# TYPE concord_skew_window_total counter
concord_skew_window_total{entity="hold",field="note",policy="lww"} 2
# HELP concord_stale_versions_total Replicated versions dropped because the local record already covered them.
# TYPE concord_stale_versions_total counter
concord_stale_versions_total{entity="hold"} 1
# HELP concord_unissued_dots_total Replicated states refused because they claimed a write the receiving replica never issued.
# TYPE concord_unissued_dots_total counter
concord_unissued_dots_total{entity="hold"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want),
		"concord_auto_resolved_total", "concord_conflicts_total", "concord_drift_total", "concord_rejected_writes_total",
		"concord_review_queue_depth", "concord_skew_window_total", "concord_stale_versions_total",
		"concord_corrupt_states_total", "concord_unissued_dots_total"); err != nil {
		t.Error(err)
	}

	// Siblings: every merge in the story met two branches.
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "concord_siblings" {
			continue
		}
		for _, m := range mf.GetMetric() {
			h := m.GetHistogram()
			if h.GetSampleCount() == 0 || h.GetSampleSum() != 2*float64(h.GetSampleCount()) {
				t.Errorf("siblings %v: count %d sum %v", m.GetLabel(), h.GetSampleCount(), h.GetSampleSum())
			}
		}
	}

	// Conventional names, and no label that could hold a key or an ID.
	problems, err := testutil.GatherAndLint(reg)
	if err != nil || len(problems) > 0 {
		t.Errorf("lint: %v %v", problems, err)
	}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				switch l.GetName() {
				case "entity", "field", "policy", "outcome":
				case "origin": // a region's name, without its incarnation
					if strings.Contains(l.GetValue(), "#") {
						t.Errorf("%s: an incarnation in the origin label: %s", mf.GetName(), l.GetValue())
					}
				default:
					t.Errorf("%s: unexpected label %s", mf.GetName(), l.GetName())
				}
				if strings.HasPrefix(l.GetValue(), "H-") {
					t.Errorf("%s: a key as a label value: %s", mf.GetName(), l.GetValue())
				}
			}
		}
	}
}

func TestQueueDepthFunc(t *testing.T) {
	var lis, bal *replica.Replica[hold.Hold]
	o := New(Options{Namespace: "harbor", ConstLabels: prom.Labels{"service": "holds"}, QueueDepth: func() map[string]int {
		if lis == nil {
			return nil
		}
		return map[string]int{hold.Entity: len(lis.Conflicts()) + len(bal.Conflicts())}
	}})
	reg := prom.NewPedanticRegistry()
	reg.MustRegister(o)
	lis, bal = story.Holds(t, o)
	const want = `
# HELP harbor_review_queue_depth Open conflicts waiting in review queues.
# TYPE harbor_review_queue_depth gauge
harbor_review_queue_depth{entity="hold",service="holds"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "harbor_review_queue_depth"); err != nil {
		t.Error(err)
	}
	if n := testutil.CollectAndCount(o); n == 0 {
		t.Error("nothing collected")
	}
}
