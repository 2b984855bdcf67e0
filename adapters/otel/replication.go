package otel

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/harborpoint/concord/replica"
)

// Attribute keys of the replication instruments.
const (
	PeerKey      = attribute.Key("concord.peer")
	DirectionKey = attribute.Key("concord.direction")
)

// Replication exports a replica.Replicator's per-peer status on
// observable instruments, read at every collection: the same figures the
// Prometheus adapter exports as concord_replication_*. Make one with
// [NewReplication]; Close unregisters its callback.
//
//	concord.replication.last_success      gauge, s since the epoch (0: none yet)
//	concord.replication.consecutive_failures gauge
//	concord.replication.sessions          counter, concord.outcome = completed | failed
//	concord.replication.records           counter, concord.direction = sent | received | skipped
//	concord.replication.round_trips       counter
//	concord.replication.protocol_bytes    counter
//	concord.replication.acknowledged_tombstones counter
//
// Every instrument carries the attribute concord.peer, the peer's name as
// the Replicator was given it.
type Replication struct {
	reg metric.Registration
}

// NewReplication registers the instruments on meter; status is read at
// every collection, typically a Replicator's Status method.
func NewReplication(meter metric.Meter, status func() []replica.PeerStatus) (*Replication, error) {
	in := &observables{meter: meter}
	last := in.gauge("concord.replication.last_success", "s", "Start of the last anti-entropy session with the peer that completed, in seconds since the Unix epoch (0: none yet).")
	failures := in.gauge("concord.replication.consecutive_failures", "{session}", "Anti-entropy sessions with the peer that failed in a row; the replicator backs off while it is above 0.")
	sessions := in.counter("concord.replication.sessions", "{session}", "Anti-entropy sessions with the peer, by outcome.")
	records := in.counter("concord.replication.records", "{record}", "Records sent to the peer, received from it, or skipped because they could not be read or applied.")
	rounds := in.counter("concord.replication.round_trips", "{round_trip}", "Reconciliation round trips with the peer.")
	acked := in.counter("concord.replication.acknowledged_tombstones", "{tombstone}", "Tombstones the peer acknowledged holding at the end of sessions; a tombstone is reaped once every member has.")
	bytes := in.counter("concord.replication.protocol_bytes", "By", "Reconciliation protocol bytes exchanged with the peer, both ways (records not included).")
	if err := in.err(); err != nil {
		return nil, err
	}
	reg, err := meter.RegisterCallback(func(_ context.Context, obs metric.Observer) error {
		for _, s := range status() {
			peer := PeerKey.String(s.Peer)
			at := func(kvs ...attribute.KeyValue) metric.ObserveOption {
				return metric.WithAttributes(append(kvs, peer)...)
			}
			var lastSuccess int64
			if !s.LastSuccess.IsZero() {
				lastSuccess = s.LastSuccess.Unix()
			}
			obs.ObserveInt64(last, lastSuccess, at())
			obs.ObserveInt64(failures, int64(s.Failures), at())
			obs.ObserveInt64(sessions, int64(s.Sessions), at(OutcomeKey.String("completed")))
			obs.ObserveInt64(sessions, int64(s.Failed), at(OutcomeKey.String("failed")))
			obs.ObserveInt64(records, int64(s.Sent), at(DirectionKey.String("sent")))
			obs.ObserveInt64(records, int64(s.Received), at(DirectionKey.String("received")))
			obs.ObserveInt64(records, int64(s.Skipped), at(DirectionKey.String("skipped")))
			obs.ObserveInt64(rounds, int64(s.Rounds), at())
			obs.ObserveInt64(bytes, int64(s.Bytes), at())
			obs.ObserveInt64(acked, int64(s.Acked), at())
		}
		return nil
	}, last, failures, sessions, records, rounds, bytes, acked)
	if err != nil {
		return nil, err
	}
	return &Replication{reg: reg}, nil
}

// Close unregisters the instruments' callback; later collections no
// longer read the status.
func (r *Replication) Close() error { return r.reg.Unregister() }
