package otel

import (
	"context"
	"errors"
	"testing"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/harborpoint/concord/claim"
	"github.com/harborpoint/concord/replica"
)

// TestClaims records the outcomes of a home's calls — a claim, a refusal, a
// commit — as the home's own claim.Counters count them.
func TestClaims(t *testing.T) {
	ctx := context.Background()
	reader := sdkmetric.NewManualReader()
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	c, err := NewClaims(provider.Meter("concord"))
	if err != nil {
		t.Fatal(err)
	}
	counters := &claim.Counters{}
	home, err := claim.NewHome(replica.NewMemoryStore(), claim.Options{Observer: claim.ObserverFunc(func(e claim.Event) {
		c.Observe(e)
		counters.Observe(e)
	})})
	if err != nil {
		t.Fatal(err)
	}
	until := time.Now().Add(time.Minute)
	got, _ := home.Acquire(ctx, "cabin/C14", "H-8821", until)
	if _, err := home.Acquire(ctx, "cabin/C14", "H-9040", until); !errors.Is(err, claim.ErrClaimed) {
		t.Fatal(err)
	}
	if _, err := home.Commit(ctx, "cabin/C14", "H-8821", got.Token, "B-3107"); err != nil {
		t.Fatal(err)
	}
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
