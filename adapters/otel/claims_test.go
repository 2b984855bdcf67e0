package otel

import (
	"testing"

	"github.com/harborpoint/concord/claim"
	"github.com/harborpoint/concord/internal/story"
)

// TestClaims records the outcomes of a home's calls — a claim, a refusal, a
// commit — as the home's own claim.Counters count them.
func TestClaims(t *testing.T) {
	meter, reader := newReader("concord")
	c, err := NewClaims(meter)
	if err != nil {
		t.Fatal(err)
	}
	counters := story.Claims(t, c)
	sums, _, units := collect(t, reader)
	for _, k := range claim.Kinds() {
		if got := sums["concord.claim.outcomes concord.outcome="+k.String()]; got != int64(counters.Get(k)) {
			t.Errorf("%s: %d, the home's counters say %d", k, got, counters.Get(k))
		}
	}
	if units["concord.claim.outcomes"] != "{call}" {
		t.Errorf("unit %q", units["concord.claim.outcomes"])
	}
}
