package otel

import (
	"context"

	"go.opentelemetry.io/otel/metric"

	"github.com/harborpoint/concord/claim"
)

// Claims records the outcomes of claim homes (package claim) on the
// counter concord.claim.outcomes, with the attribute concord.outcome set to
// the claim.Kind ("claimed", "refused_claimed", "unavailable", ...). It
// implements claim.Observer and is safe for concurrent use; make one with
// [NewClaims] and give it to claim.Options.Observer.
type Claims struct {
	outcomes metric.Int64Counter
}

// NewClaims creates the counter on meter.
func NewClaims(meter metric.Meter) (*Claims, error) {
	c, err := meter.Int64Counter("concord.claim.outcomes", metric.WithUnit("{call}"),
		metric.WithDescription("Outcomes of calls to claim homes: claimed, already_owner, refused_claimed, unavailable, committed, released, taken_over, reconciled, fenced."))
	if err != nil {
		return nil, err
	}
	return &Claims{outcomes: c}, nil
}

// Observe implements claim.Observer.
func (c *Claims) Observe(e claim.Event) {
	c.outcomes.Add(context.Background(), 1, metric.WithAttributes(OutcomeKey.String(e.Kind.String())))
}

var _ claim.Observer = (*Claims)(nil)
