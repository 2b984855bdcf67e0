package prometheus

import (
	prom "github.com/prometheus/client_golang/prometheus"

	"github.com/harborpoint/concord/resolve"
)

// DefaultSiblingBuckets are the buckets of concord_siblings: a merge has at
// least two branches, and more than a handful means many concurrent writers.
var DefaultSiblingBuckets = []float64{2, 3, 4, 6, 8, 16, 32}

// Options configures an [Observer]. The zero Options is valid.
type Options struct {
	// Namespace prefixes every metric name; "" means "concord".
	Namespace string
	// ConstLabels are added to every metric, such as the region.
	ConstLabels prom.Labels
	// SiblingBuckets are the buckets of the siblings histogram; nil means
	// DefaultSiblingBuckets.
	SiblingBuckets []float64
	// QueueDepth, if set, is read at every scrape for the review-queue
	// depth gauge, per entity (replica.Replica.Conflicts gives it). When
	// nil, the gauge follows SentToReview and Reviewed events instead,
	// summed over every replica that reports to this observer.
	QueueDepth func() map[string]int
}

// Observer counts resolve events as Prometheus metrics. It implements
// resolve.Observer and prometheus.Collector. It is safe for concurrent use;
// make one with [New].
type Observer struct {
	autoResolved, policyFired, conflicts, reviewSent *prom.CounterVec
	skew, reviewed, drift                            *prom.CounterVec
	perEntity                                        map[resolve.Kind]*prom.CounterVec // kinds counted by entity alone
	siblings                                         *prom.HistogramVec
	depth                                            *prom.GaugeVec
	depthDesc                                        *prom.Desc
	queueDepth                                       func() map[string]int
}

// New returns an Observer; register it with a prometheus.Registerer.
func New(opts Options) *Observer {
	ns := opts.Namespace
	if ns == "" {
		ns = "concord"
	}
	counter := func(name, help string, labels ...string) *prom.CounterVec {
		return prom.NewCounterVec(prom.CounterOpts{Namespace: ns, Name: name, Help: help, ConstLabels: opts.ConstLabels}, labels)
	}
	buckets := opts.SiblingBuckets
	if buckets == nil {
		buckets = DefaultSiblingBuckets
	}
	o := &Observer{
		autoResolved: counter("auto_resolved_total", "Records whose concurrent branches were merged automatically by their policies.", "entity"),
		policyFired:  counter("policy_fired_total", "Field policies and record rules that picked or combined values in an automatic merge.", "entity", "field", "policy"),
		conflicts:    counter("conflicts_total", "Merges a policy or rule refused: the branches stay as siblings (ConflictRequiresRetry).", "entity", "field", "policy"),
		reviewSent:   counter("review_sent_total", "Conflicts that entered a replica's review queue.", "entity", "field", "policy"),
		reviewed:     counter("reviewed_total", "Conflicts that left a review queue, settled by a write that covered every branch.", "entity", "field"),
		skew:         counter("skew_window_total", "Last-writer-wins decisions between stamps closer than the clock-skew window.", "entity", "field", "policy"),
		drift:        counter("drift_total", "Replicated writes stamped further ahead of the local clock than its maximum drift, by the replica that stamped them.", "entity", "origin"),
		perEntity: map[resolve.Kind]*prom.CounterVec{
			resolve.Rejected:         counter("rejected_writes_total", "Writes refused back to their clients, such as conditional writes with a stale token.", "entity"),
			resolve.StaleDropped:     counter("stale_versions_total", "Replicated versions dropped because the local record already covered them.", "entity"),
			resolve.DuplicateDropped: counter("duplicate_versions_total", "Replicated versions identical to the local record.", "entity"),
			resolve.Corrupt:          counter("corrupt_states_total", "Stored or replicated states refused because their checksum did not match: damaged on a disk or on the wire.", "entity"),
			resolve.UnissuedDot:      counter("unissued_dots_total", "Replicated states refused because they claimed a write the receiving replica never issued.", "entity"),
			resolve.TooLarge:         counter("too_large_total", "Record states refused for exceeding the record limit: writes, replicated states and merges.", "entity"),
			resolve.Quarantined:      counter("quarantined_total", "Records set aside because their stored state could not be read; every other record goes on replicating.", "entity"),
		},
		siblings: prom.NewHistogramVec(prom.HistogramOpts{Namespace: ns, Name: "siblings", ConstLabels: opts.ConstLabels, Buckets: buckets,
			Help: "Concurrent branches per automatic resolution (outcome=resolved) or refused merge (outcome=conflict)."}, []string{"entity", "outcome"}),
		queueDepth: opts.QueueDepth,
	}
	const depthHelp = "Open conflicts waiting in review queues."
	if o.queueDepth != nil {
		o.depthDesc = prom.NewDesc(prom.BuildFQName(ns, "", "review_queue_depth"), depthHelp, []string{"entity"}, opts.ConstLabels)
	} else {
		o.depth = prom.NewGaugeVec(prom.GaugeOpts{Namespace: ns, Name: "review_queue_depth", Help: depthHelp, ConstLabels: opts.ConstLabels}, []string{"entity"})
	}
	return o
}

func (o *Observer) collectors() []prom.Collector {
	cs := []prom.Collector{o.autoResolved, o.policyFired, o.conflicts, o.reviewSent, o.reviewed, o.skew, o.drift, o.siblings}
	for _, c := range o.perEntity {
		cs = append(cs, c)
	}
	if o.depth != nil {
		cs = append(cs, o.depth)
	}
	return cs
}

// Describe implements prometheus.Collector.
func (o *Observer) Describe(ch chan<- *prom.Desc) {
	for _, c := range o.collectors() {
		c.Describe(ch)
	}
	if o.depthDesc != nil {
		ch <- o.depthDesc
	}
}

// Collect implements prometheus.Collector.
func (o *Observer) Collect(ch chan<- prom.Metric) {
	for _, c := range o.collectors() {
		c.Collect(ch)
	}
	if o.queueDepth != nil {
		for entity, n := range o.queueDepth() {
			ch <- prom.MustNewConstMetric(o.depthDesc, prom.GaugeValue, float64(n), entity)
		}
	}
}

// Observe implements resolve.Observer.
func (o *Observer) Observe(e resolve.Event) {
	if c, ok := o.perEntity[e.Kind]; ok {
		c.WithLabelValues(e.Entity).Inc()
		return
	}
	switch e.Kind {
	case resolve.AutoResolved:
		o.autoResolved.WithLabelValues(e.Entity).Inc()
		if e.Siblings > 0 {
			o.siblings.WithLabelValues(e.Entity, "resolved").Observe(float64(e.Siblings))
		}
	case resolve.PolicyFired:
		o.policyFired.WithLabelValues(e.Entity, e.Field, e.Policy).Inc()
	case resolve.Conflict:
		o.conflicts.WithLabelValues(e.Entity, e.Field, e.Policy).Inc()
		if e.Siblings > 0 {
			o.siblings.WithLabelValues(e.Entity, "conflict").Observe(float64(e.Siblings))
		}
	case resolve.SentToReview:
		o.reviewSent.WithLabelValues(e.Entity, e.Field, e.Policy).Inc()
		if o.depth != nil {
			o.depth.WithLabelValues(e.Entity).Inc()
		}
	case resolve.Reviewed:
		o.reviewed.WithLabelValues(e.Entity, e.Field).Inc()
		if o.depth != nil {
			o.depth.WithLabelValues(e.Entity).Dec()
		}
	case resolve.SkewWindow:
		o.skew.WithLabelValues(e.Entity, e.Field, e.Policy).Inc()
	case resolve.Drift:
		o.drift.WithLabelValues(e.Entity, e.Origin.Name()).Inc()
	}
}

var (
	_ resolve.Observer = (*Observer)(nil)
	_ prom.Collector   = (*Observer)(nil)
)
