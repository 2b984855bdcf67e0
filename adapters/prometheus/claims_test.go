package prometheus

import (
	"strings"
	"testing"

	prom "github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/harborpoint/concord/claim"
	"github.com/harborpoint/concord/internal/story"
)

// TestClaims counts the outcomes of a home's calls — a claim, a refusal, a
// commit — as the home's own claim.Counters do, and exposes every outcome.
func TestClaims(t *testing.T) {
	c := NewClaims(Options{ConstLabels: prom.Labels{"region": "lisbon"}})
	reg := prom.NewPedanticRegistry()
	if err := reg.Register(c); err != nil {
		t.Fatal(err)
	}
	counters := story.Claims(t, c)
	for _, k := range claim.Kinds() {
		if n := testutil.ToFloat64(c.outcomes.WithLabelValues(k.String())); n != float64(counters.Get(k)) {
			t.Errorf("%s: %v, the home's counters say %d", k, n, counters.Get(k))
		}
	}
	if n, err := testutil.GatherAndCount(reg, "concord_claim_outcomes_total"); err != nil || n != len(claim.Kinds()) {
		t.Errorf("%d series (%v), want one per outcome", n, err)
	}
	want := `# HELP concord_claim_outcomes_total Outcomes of calls to claim homes: claimed, already_owner, refused_claimed, unavailable, committed, released, taken_over, reconciled, fenced.
# TYPE concord_claim_outcomes_total counter
concord_claim_outcomes_total{outcome="already_owner",region="lisbon"} 0
concord_claim_outcomes_total{outcome="claimed",region="lisbon"} 1
concord_claim_outcomes_total{outcome="committed",region="lisbon"} 1
concord_claim_outcomes_total{outcome="fenced",region="lisbon"} 0
concord_claim_outcomes_total{outcome="reconciled",region="lisbon"} 0
concord_claim_outcomes_total{outcome="refused_claimed",region="lisbon"} 1
concord_claim_outcomes_total{outcome="released",region="lisbon"} 0
concord_claim_outcomes_total{outcome="taken_over",region="lisbon"} 0
concord_claim_outcomes_total{outcome="unavailable",region="lisbon"} 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "concord_claim_outcomes_total"); err != nil {
		t.Error(err)
	}
}
