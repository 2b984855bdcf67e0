package prometheus

import (
	prom "github.com/prometheus/client_golang/prometheus"

	"github.com/harborpoint/concord/replica"
)

// Reaping exports a replica's reaping state (replica.Replica.Reaping) as
// metrics, read at every scrape: what an operator watches so that
// tombstones are reaped, horizons stay bounded and no member expires
// unnoticed. It is a prometheus.Collector; make one with [NewReaping] and
// register it.
type Reaping struct {
	status                           func() replica.ReapStatus
	waiting, horizons, oldest, floor *prom.Desc
	reaped, dropped, expired, heard  *prom.Desc
}

// NewReaping returns a collector of status, typically a Replica's Reaping
// method. Namespace and ConstLabels come from opts; the other options do
// not apply.
func NewReaping(status func() replica.ReapStatus, opts Options) *Reaping {
	ns := opts.Namespace
	if ns == "" {
		ns = "concord"
	}
	desc := func(name, help string, labels ...string) *prom.Desc {
		return prom.NewDesc(prom.BuildFQName(ns, "reaping", name), help, labels, opts.ConstLabels)
	}
	return &Reaping{
		status:   status,
		waiting:  desc("tombstones_waiting", "Tombstones stored and not reaped yet; they grow while a member does not acknowledge."),
		horizons: desc("horizons", "Horizons of reaped keys kept, one per key reaped within the retention."),
		oldest:   desc("oldest_horizon_timestamp_seconds", "When the oldest horizon kept was reaped (0: none)."),
		floor:    desc("counter_floor", "The replica's counter floor: every write it makes is numbered above it."),
		reaped:   desc("tombstones_reaped_total", "Tombstones reaped since the replica started."),
		dropped:  desc("horizons_dropped_total", "Horizons dropped after the retention since the replica started."),
		expired:  desc("member_expired", "1 while the member has not been heard from for longer than the retention: it is refused until added again.", "member"),
		heard:    desc("member_last_heard_timestamp_seconds", "When the member was added or last heard from (a session completed, a session it opened answered, an acknowledgement recorded).", "member"),
	}
}

// Describe implements prometheus.Collector.
func (c *Reaping) Describe(ch chan<- *prom.Desc) {
	for _, d := range []*prom.Desc{c.waiting, c.horizons, c.oldest, c.floor, c.reaped, c.dropped, c.expired, c.heard} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *Reaping) Collect(ch chan<- prom.Metric) {
	s := c.status()
	var oldest float64
	if !s.Oldest.IsZero() {
		oldest = float64(s.Oldest.UnixNano()) / 1e9
	}
	ch <- prom.MustNewConstMetric(c.waiting, prom.GaugeValue, float64(s.Waiting))
	ch <- prom.MustNewConstMetric(c.horizons, prom.GaugeValue, float64(s.Horizons))
	ch <- prom.MustNewConstMetric(c.oldest, prom.GaugeValue, oldest)
	ch <- prom.MustNewConstMetric(c.floor, prom.GaugeValue, float64(s.CounterFloor))
	ch <- prom.MustNewConstMetric(c.reaped, prom.CounterValue, float64(s.Reaped))
	ch <- prom.MustNewConstMetric(c.dropped, prom.CounterValue, float64(s.Dropped))
	expired := map[string]bool{}
	for _, m := range s.Expired {
		expired[m.String()] = true
	}
	for m, at := range s.Heard {
		var e float64
		if expired[m.String()] {
			e = 1
		}
		ch <- prom.MustNewConstMetric(c.expired, prom.GaugeValue, e, m.String())
		ch <- prom.MustNewConstMetric(c.heard, prom.GaugeValue, float64(at.UnixNano())/1e9, m.String())
	}
}

var _ prom.Collector = (*Reaping)(nil)
