package prometheus

import (
	prom "github.com/prometheus/client_golang/prometheus"

	"github.com/harborpoint/concord/replica"
)

// Replication exports a replica.Replicator's per-peer status as metrics,
// read at every scrape. It is a prometheus.Collector; make one with
// [NewReplication] and register it. Its only label is the peer's name, as
// the Replicator was given it.
type Replication struct {
	status                                 func() []replica.PeerStatus
	lastSuccess, failures                  *prom.Desc
	sessions, records, rounds, bytes, errs *prom.Desc
	acked                                  *prom.Desc
}

// NewReplication returns a collector of status, typically a
// Replicator's Status method. Namespace and ConstLabels come from opts;
// the other options do not apply.
func NewReplication(status func() []replica.PeerStatus, opts Options) *Replication {
	ns := opts.Namespace
	if ns == "" {
		ns = "concord"
	}
	desc := func(name, help string, labels ...string) *prom.Desc {
		return prom.NewDesc(prom.BuildFQName(ns, "replication", name), help, append([]string{"peer"}, labels...), opts.ConstLabels)
	}
	return &Replication{
		status:      status,
		lastSuccess: desc("last_success_timestamp_seconds", "Start of the last anti-entropy session with the peer that completed (0: none yet)."),
		failures:    desc("consecutive_failures", "Anti-entropy sessions with the peer that failed in a row; the replicator backs off while it is above 0."),
		sessions:    desc("sessions_total", "Anti-entropy sessions with the peer, by outcome.", "outcome"),
		records:     desc("records_total", "Records sent to the peer, received from it, or skipped because they could not be read or applied.", "direction"),
		rounds:      desc("round_trips_total", "Reconciliation round trips with the peer."),
		bytes:       desc("protocol_bytes_total", "Reconciliation protocol bytes exchanged with the peer, both ways (records not included)."),
		acked:       desc("acknowledged_tombstones_total", "Tombstones the peer acknowledged holding at the end of sessions; a tombstone is reaped once every member has."),
		errs:        desc("last_error_info", "1 while the last session with the peer failed, with the error as a label.", "error"),
	}
}

// Describe implements prometheus.Collector.
func (c *Replication) Describe(ch chan<- *prom.Desc) {
	for _, d := range []*prom.Desc{c.lastSuccess, c.failures, c.sessions, c.records, c.rounds, c.bytes, c.acked, c.errs} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *Replication) Collect(ch chan<- prom.Metric) {
	for _, s := range c.status() {
		var last float64
		if !s.LastSuccess.IsZero() {
			last = float64(s.LastSuccess.UnixNano()) / 1e9
		}
		ch <- prom.MustNewConstMetric(c.lastSuccess, prom.GaugeValue, last, s.Peer)
		ch <- prom.MustNewConstMetric(c.failures, prom.GaugeValue, float64(s.Failures), s.Peer)
		ch <- prom.MustNewConstMetric(c.sessions, prom.CounterValue, float64(s.Sessions), s.Peer, "completed")
		ch <- prom.MustNewConstMetric(c.sessions, prom.CounterValue, float64(s.Failed), s.Peer, "failed")
		ch <- prom.MustNewConstMetric(c.records, prom.CounterValue, float64(s.Sent), s.Peer, "sent")
		ch <- prom.MustNewConstMetric(c.records, prom.CounterValue, float64(s.Received), s.Peer, "received")
		ch <- prom.MustNewConstMetric(c.records, prom.CounterValue, float64(s.Skipped), s.Peer, "skipped")
		ch <- prom.MustNewConstMetric(c.rounds, prom.CounterValue, float64(s.Rounds), s.Peer)
		ch <- prom.MustNewConstMetric(c.bytes, prom.CounterValue, float64(s.Bytes), s.Peer)
		ch <- prom.MustNewConstMetric(c.acked, prom.CounterValue, float64(s.Acked), s.Peer)
		if s.LastError != "" {
			ch <- prom.MustNewConstMetric(c.errs, prom.GaugeValue, 1, s.Peer, s.LastError)
		}
	}
}

var _ prom.Collector = (*Replication)(nil)
