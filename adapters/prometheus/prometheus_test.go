package prometheus

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	prom "github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/harborpoint/concord/hold"
	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

// story plays conflicts across two hold replicas: an auto-resolved extend
// vs confirm, a refused release vs extend that goes to review and is
// settled, a stale conditional write, a stale replicated version,
// concurrent blind notes inside the skew window, and a note from a region
// whose clock runs ten minutes ahead.
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

func TestObserverMatchesCounters(t *testing.T) {
	var counters resolve.Counters
	o := New(Options{})
	reg := prom.NewPedanticRegistry()
	reg.MustRegister(o)
	story(t, resolve.ObserverFunc(func(e resolve.Event) { counters.Observe(e); o.Observe(e) }))

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
		case resolve.Rejected:
			got = testutil.ToFloat64(o.rejected.WithLabelValues(k.Entity))
		case resolve.StaleDropped:
			got = testutil.ToFloat64(o.stale.WithLabelValues(k.Entity))
		case resolve.DuplicateDropped:
			got = testutil.ToFloat64(o.duplicate.WithLabelValues(k.Entity))
		case resolve.SkewWindow:
			got = testutil.ToFloat64(o.skew.WithLabelValues(k.Entity, k.Field, k.Policy))
		case resolve.Drift:
			got = testutil.ToFloat64(o.drift.WithLabelValues(k.Entity, "bristol"))
		case resolve.Corrupt:
			got = testutil.ToFloat64(o.corrupt.WithLabelValues(k.Entity))
		case resolve.UnissuedDot:
			got = testutil.ToFloat64(o.unissuedDot.WithLabelValues(k.Entity))
		case resolve.TooLarge:
			got = testutil.ToFloat64(o.tooLarge.WithLabelValues(k.Entity))
		case resolve.Quarantined:
			got = testutil.ToFloat64(o.quarantined.WithLabelValues(k.Entity))
		default:
			t.Errorf("kind %v has no metric", k.Kind)
			continue
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
	lis, bal = story(t, o)
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
