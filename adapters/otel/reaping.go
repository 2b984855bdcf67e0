package otel

import (
	"context"
	"math"
	"slices"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/harborpoint/concord/replica"
)

// MemberKey is the attribute key of the per-member reaping instruments:
// the member replica's ID.
const MemberKey = attribute.Key("concord.member")

// Reaping exports a replica's reaping state (replica.Replica.Reaping) on
// observable instruments, read at every collection: the figures the
// Prometheus adapter exports as concord_reaping_*, what an operator
// watches so that tombstones are reaped, horizons stay bounded and no
// member expires unnoticed. Make one with [NewReaping]; Close unregisters
// its callback.
//
//	concord.reaping.tombstones_waiting   gauge, tombstones stored and not reaped yet
//	concord.reaping.horizons             gauge, horizons of reaped keys kept
//	concord.reaping.oldest_horizon       gauge, s since the epoch the oldest was reaped (0: none)
//	concord.reaping.counter_floor        gauge
//	concord.reaping.tombstones_reaped    counter, since the replica started
//	concord.reaping.horizons_dropped     counter, after the retention, since the replica started
//	concord.reaping.member_expired       gauge, 1 while the member is expired, {concord.member}
//	concord.reaping.member_last_heard    gauge, s since the epoch, {concord.member}
type Reaping struct {
	reg metric.Registration
}

// NewReaping registers the instruments on meter; status is read at every
// collection, typically a Replica's Reaping method.
func NewReaping(meter metric.Meter, status func() replica.ReapStatus) (*Reaping, error) {
	in := &observables{meter: meter}
	waiting := in.gauge("concord.reaping.tombstones_waiting", "{tombstone}", "Tombstones stored and not reaped yet; they grow while a member does not acknowledge.")
	horizons := in.gauge("concord.reaping.horizons", "{horizon}", "Horizons of reaped keys kept, one per key reaped within the retention.")
	oldest := in.gauge("concord.reaping.oldest_horizon", "s", "When the oldest horizon kept was reaped, in seconds since the Unix epoch (0: none).")
	floor := in.gauge("concord.reaping.counter_floor", "{counter}", "The replica's counter floor: every write it makes is numbered above it.")
	reaped := in.counter("concord.reaping.tombstones_reaped", "{tombstone}", "Tombstones reaped since the replica started.")
	dropped := in.counter("concord.reaping.horizons_dropped", "{horizon}", "Horizons dropped after the retention since the replica started.")
	expired := in.gauge("concord.reaping.member_expired", "1", "1 while the member has not been heard from for longer than the retention: it is refused until added again.")
	heard := in.gauge("concord.reaping.member_last_heard", "s", "When the member was added or last heard from (a session completed, a session it opened answered, an acknowledgement recorded), in seconds since the Unix epoch.")
	if err := in.err(); err != nil {
		return nil, err
	}
	reg, err := meter.RegisterCallback(func(_ context.Context, obs metric.Observer) error {
		s := status()
		var oldestAt int64
		if !s.Oldest.IsZero() {
			oldestAt = s.Oldest.Unix()
		}
		obs.ObserveInt64(waiting, int64(s.Waiting))
		obs.ObserveInt64(horizons, int64(s.Horizons))
		obs.ObserveInt64(oldest, oldestAt)
		obs.ObserveInt64(floor, clamp(s.CounterFloor))
		obs.ObserveInt64(reaped, clamp(s.Reaped))
		obs.ObserveInt64(dropped, clamp(s.Dropped))
		for m, at := range s.Heard {
			var e int64
			if slices.Contains(s.Expired, m) {
				e = 1
			}
			member := metric.WithAttributes(MemberKey.String(m.String()))
			obs.ObserveInt64(expired, e, member)
			obs.ObserveInt64(heard, at.Unix(), member)
		}
		return nil
	}, waiting, horizons, oldest, floor, reaped, dropped, expired, heard)
	if err != nil {
		return nil, err
	}
	return &Reaping{reg: reg}, nil
}

// clamp converts n to an int64, saturating.
func clamp(n uint64) int64 { return int64(min(n, math.MaxInt64)) }

// Close unregisters the instruments' callback; later collections no
// longer read the status.
func (r *Reaping) Close() error { return r.reg.Unregister() }
