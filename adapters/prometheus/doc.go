// Package prometheus exports concord's resolution events as Prometheus
// metrics: an [Observer] is a resolve.Observer (give it to replica.Options,
// the one place concord reports events) and a prometheus.Collector (register
// it).
//
// Labels are entity, field and policy — names from the resolver's
// declarations, so their number is fixed by code — and, for drift, the name
// of the replica whose clock ran ahead (a region's name, without its
// incarnation, so there are as many as regions); never record keys, tokens
// or dots. The metrics, what they mean and what to alert on are listed
// in docs/METRICS.md of the concord repository:
//
//	concord_auto_resolved_total{entity}                  records whose concurrent branches merged by policy
//	concord_policy_fired_total{entity,field,policy}      field policies and rules that decided a merge
//	concord_conflicts_total{entity,field,policy}         merges refused: branches kept (ConflictRequiresRetry)
//	concord_review_sent_total{entity,field,policy}       conflicts that entered a review queue
//	concord_reviewed_total{entity,field}                 conflicts settled by a covering write
//	concord_rejected_writes_total{entity}                conditional writes refused (stale token)
//	concord_stale_versions_total{entity}                 replicated versions already covered
//	concord_duplicate_versions_total{entity}             replicated versions identical to the local one
//	concord_skew_window_total{entity,field,policy}       LWW decisions inside the clock-skew window
//	concord_drift_total{entity,origin}                   replicated writes stamped beyond the clock's drift bound
//	concord_siblings{entity,outcome}                     histogram: branches per resolution or conflict
//	concord_review_queue_depth{entity}                   gauge: open conflicts in review queues
//
// [Replication] exports a replica.Replicator's per-peer status (register
// NewReplication(replicator.Status, opts)):
//
//	concord_replication_last_success_timestamp_seconds{peer}  last completed anti-entropy session
//	concord_replication_consecutive_failures{peer}            failed sessions in a row (backing off)
//	concord_replication_sessions_total{peer,outcome}          completed / failed sessions
//	concord_replication_records_total{peer,direction}         records sent, received, skipped
//	concord_replication_round_trips_total{peer}               reconciliation round trips
//	concord_replication_protocol_bytes_total{peer}            reconciliation bytes, both ways
//	concord_replication_last_error_info{peer,error}           1 while the last session failed
//
// [Reaping] exports a replica's reaping state (register
// NewReaping(replica.Reaping, opts)):
//
//	concord_reaping_tombstones_waiting                   tombstones stored, not reaped yet
//	concord_reaping_horizons                             horizons kept (keys reaped within the retention)
//	concord_reaping_oldest_horizon_timestamp_seconds     when the oldest horizon kept was reaped
//	concord_reaping_counter_floor                        every write is numbered above it
//	concord_reaping_tombstones_reaped_total              tombstones reaped
//	concord_reaping_horizons_dropped_total               horizons dropped after the retention
//	concord_reaping_member_expired{member}               1 while the member is refused as expired
//	concord_reaping_member_last_heard_timestamp_seconds{member}  added or last heard from
package prometheus
