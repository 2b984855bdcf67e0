// Package otel exports concord's resolution events through the
// OpenTelemetry metrics API: an [Observer] is a resolve.Observer (give it to
// replica.Options, the one place concord reports events) whose instruments
// come from a metric.Meter.
//
// The instruments are those of the Prometheus adapter under OpenTelemetry
// names (a Prometheus exporter turns concord.conflicts into
// concord_conflicts_total). Attributes are concord.entity, concord.field and
// concord.policy — names from the resolver's declarations, fixed by code —
// and, for drift, concord.origin: the name of the replica whose clock ran
// ahead (without its incarnation, so there are as many as regions); never
// record keys, tokens or dots:
//
//	concord.auto_resolved     counter   {concord.entity}
//	concord.policy_fired      counter   {concord.entity, concord.field, concord.policy}
//	concord.conflicts         counter   {concord.entity, concord.field, concord.policy}
//	concord.review.sent       counter   {concord.entity, concord.field, concord.policy}
//	concord.reviewed          counter   {concord.entity, concord.field}
//	concord.rejected_writes   counter   {concord.entity}
//	concord.stale_versions    counter   {concord.entity}
//	concord.duplicate_versions counter  {concord.entity}
//	concord.skew_window       counter   {concord.entity, concord.field, concord.policy}
//	concord.drift             counter   {concord.entity, concord.origin}
//	concord.siblings          histogram {concord.entity, concord.outcome}
//	concord.review.queue_depth up-down counter, or a gauge read from Options.QueueDepth
//
// A [Replication] exports a replica.Replicator's per-peer status the same
// way, on observable instruments named concord.replication.*, and a
// [Reaping] a replica's reaping state (replica.Replica.Reaping) on
// instruments named concord.reaping.*.
//
// docs/METRICS.md in the concord repository says what each means and what
// to alert on.
package otel
