package prometheus

import (
	prom "github.com/prometheus/client_golang/prometheus"

	"github.com/harborpoint/concord/claim"
)

// Claims counts the outcomes of claim homes (package claim) as
// concord_claim_outcomes_total{outcome}, one series per claim.Kind
// ("claimed", "refused_claimed", "unavailable", ...), each present from the
// start at 0. It implements claim.Observer and prometheus.Collector and is
// safe for concurrent use; make one with [NewClaims] and give it to
// claim.Options.Observer.
type Claims struct {
	outcomes *prom.CounterVec
}

// NewClaims returns a Claims with opts' Namespace and ConstLabels; register
// it with a prometheus.Registerer.
func NewClaims(opts Options) *Claims {
	ns := opts.Namespace
	if ns == "" {
		ns = "concord"
	}
	c := &Claims{outcomes: prom.NewCounterVec(prom.CounterOpts{Namespace: ns, Name: "claim_outcomes_total", ConstLabels: opts.ConstLabels,
		Help: "Outcomes of calls to claim homes: claimed, already_owner, refused_claimed, unavailable, committed, released, taken_over, reconciled, fenced."},
		[]string{"outcome"})}
	for _, k := range claim.Kinds() {
		c.outcomes.WithLabelValues(k.String())
	}
	return c
}

// Observe implements claim.Observer.
func (c *Claims) Observe(e claim.Event) { c.outcomes.WithLabelValues(e.Kind.String()).Inc() }

// Describe implements prometheus.Collector.
func (c *Claims) Describe(ch chan<- *prom.Desc) { c.outcomes.Describe(ch) }

// Collect implements prometheus.Collector.
func (c *Claims) Collect(ch chan<- prom.Metric) { c.outcomes.Collect(ch) }

var (
	_ claim.Observer = (*Claims)(nil)
	_ prom.Collector = (*Claims)(nil)
)
