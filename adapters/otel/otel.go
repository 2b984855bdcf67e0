package otel

import (
	"context"
	"errors"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/harborpoint/concord/resolve"
)

// Attribute keys.
const (
	EntityKey  = attribute.Key("concord.entity")
	FieldKey   = attribute.Key("concord.field")
	PolicyKey  = attribute.Key("concord.policy")
	OutcomeKey = attribute.Key("concord.outcome")
	OriginKey  = attribute.Key("concord.origin")
)

// DefaultSiblingBuckets are the bucket boundaries of concord.siblings.
var DefaultSiblingBuckets = []float64{2, 3, 4, 6, 8, 16, 32}

// Options configures an [Observer]. The zero Options is valid.
type Options struct {
	// SiblingBuckets are the boundaries of the siblings histogram; nil
	// means DefaultSiblingBuckets.
	SiblingBuckets []float64
	// QueueDepth, if set, is read at every collection for the review-queue
	// depth, per entity, as an observable gauge. When nil, an up-down
	// counter follows SentToReview and Reviewed events instead, summed over
	// every replica that reports to this observer.
	QueueDepth func() map[string]int
}

// Observer records resolve events on OpenTelemetry instruments. It
// implements resolve.Observer and is safe for concurrent use; make one with
// [New].
type Observer struct {
	autoResolved, policyFired, conflicts, reviewSent metric.Int64Counter
	skew, reviewed, drift                            metric.Int64Counter
	perEntity                                        map[resolve.Kind]metric.Int64Counter // kinds counted by entity alone
	siblings                                         metric.Int64Histogram
	depth                                            metric.Int64UpDownCounter // nil with Options.QueueDepth
	reg                                              metric.Registration
}

// New creates the instruments on meter.
func New(meter metric.Meter, opts Options) (*Observer, error) {
	o := &Observer{}
	var errs []error
	counter := func(name, unit, desc string) metric.Int64Counter {
		c, err := meter.Int64Counter(name, metric.WithUnit(unit), metric.WithDescription(desc))
		errs = append(errs, err)
		return c
	}
	o.autoResolved = counter("concord.auto_resolved", "{record}", "Records whose concurrent branches were merged automatically by their policies.")
	o.policyFired = counter("concord.policy_fired", "{decision}", "Field policies and record rules that picked or combined values in an automatic merge.")
	o.conflicts = counter("concord.conflicts", "{conflict}", "Merges a policy or rule refused: the branches stay as siblings (ConflictRequiresRetry).")
	o.reviewSent = counter("concord.review.sent", "{conflict}", "Conflicts that entered a replica's review queue.")
	o.reviewed = counter("concord.reviewed", "{conflict}", "Conflicts that left a review queue, settled by a write that covered every branch.")
	o.skew = counter("concord.skew_window", "{decision}", "Last-writer-wins decisions between stamps closer than the clock-skew window.")
	o.drift = counter("concord.drift", "{write}", "Replicated writes stamped further ahead of the local clock than its maximum drift, by the replica that stamped them.")
	o.perEntity = map[resolve.Kind]metric.Int64Counter{
		resolve.Rejected:         counter("concord.rejected_writes", "{write}", "Writes refused back to their clients, such as conditional writes with a stale token."),
		resolve.StaleDropped:     counter("concord.stale_versions", "{version}", "Replicated versions dropped because the local record already covered them."),
		resolve.DuplicateDropped: counter("concord.duplicate_versions", "{version}", "Replicated versions identical to the local record."),
		resolve.Corrupt:          counter("concord.corrupt_states", "{state}", "Stored or replicated states refused because their checksum did not match: damaged on a disk or on the wire."),
		resolve.UnissuedDot:      counter("concord.unissued_dots", "{state}", "Replicated states refused because they claimed a write the receiving replica never issued."),
		resolve.TooLarge:         counter("concord.too_large", "{state}", "Record states refused for exceeding the record limit: writes, replicated states and merges."),
		resolve.Quarantined:      counter("concord.quarantined", "{record}", "Records set aside because their stored state could not be read; every other record goes on replicating."),
	}
	buckets := opts.SiblingBuckets
	if buckets == nil {
		buckets = DefaultSiblingBuckets
	}
	var err error
	o.siblings, err = meter.Int64Histogram("concord.siblings", metric.WithUnit("{branch}"),
		metric.WithDescription("Concurrent branches per automatic resolution (outcome=resolved) or refused merge (outcome=conflict)."),
		metric.WithExplicitBucketBoundaries(buckets...))
	errs = append(errs, err)
	const depthDesc = "Open conflicts waiting in review queues."
	if opts.QueueDepth == nil {
		o.depth, err = meter.Int64UpDownCounter("concord.review.queue_depth", metric.WithUnit("{conflict}"), metric.WithDescription(depthDesc))
		errs = append(errs, err)
	} else {
		g, err := meter.Int64ObservableGauge("concord.review.queue_depth", metric.WithUnit("{conflict}"), metric.WithDescription(depthDesc))
		errs = append(errs, err)
		if err == nil {
			o.reg, err = meter.RegisterCallback(func(_ context.Context, obs metric.Observer) error {
				for entity, n := range opts.QueueDepth() {
					obs.ObserveInt64(g, int64(n), metric.WithAttributes(EntityKey.String(entity)))
				}
				return nil
			}, g)
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return o, nil
}

// Close unregisters the queue-depth callback, if there is one.
func (o *Observer) Close() error {
	if o.reg == nil {
		return nil
	}
	return o.reg.Unregister()
}

// Observe implements resolve.Observer.
func (o *Observer) Observe(e resolve.Event) {
	ctx := context.Background()
	entity := metric.WithAttributes(EntityKey.String(e.Entity))
	if c, ok := o.perEntity[e.Kind]; ok {
		c.Add(ctx, 1, entity)
		return
	}
	fieldPolicy := metric.WithAttributes(EntityKey.String(e.Entity), FieldKey.String(e.Field), PolicyKey.String(e.Policy))
	switch e.Kind {
	case resolve.AutoResolved:
		o.autoResolved.Add(ctx, 1, entity)
		if e.Siblings > 0 {
			o.siblings.Record(ctx, int64(e.Siblings), metric.WithAttributes(EntityKey.String(e.Entity), OutcomeKey.String("resolved")))
		}
	case resolve.PolicyFired:
		o.policyFired.Add(ctx, 1, fieldPolicy)
	case resolve.Conflict:
		o.conflicts.Add(ctx, 1, fieldPolicy)
		if e.Siblings > 0 {
			o.siblings.Record(ctx, int64(e.Siblings), metric.WithAttributes(EntityKey.String(e.Entity), OutcomeKey.String("conflict")))
		}
	case resolve.SentToReview:
		o.reviewSent.Add(ctx, 1, fieldPolicy)
		if o.depth != nil {
			o.depth.Add(ctx, 1, entity)
		}
	case resolve.Reviewed:
		o.reviewed.Add(ctx, 1, metric.WithAttributes(EntityKey.String(e.Entity), FieldKey.String(e.Field)))
		if o.depth != nil {
			o.depth.Add(ctx, -1, entity)
		}
	case resolve.SkewWindow:
		o.skew.Add(ctx, 1, fieldPolicy)
	case resolve.Drift:
		o.drift.Add(ctx, 1, metric.WithAttributes(EntityKey.String(e.Entity), OriginKey.String(e.Origin.Name())))
	}
}

var _ resolve.Observer = (*Observer)(nil)
