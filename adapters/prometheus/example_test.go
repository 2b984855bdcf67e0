package prometheus_test

import (
	"context"
	"fmt"
	"time"

	prom "github.com/prometheus/client_golang/prometheus"

	"github.com/harborpoint/concord/adapters/prometheus"
	"github.com/harborpoint/concord/hold"
	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

// The Observer is given to every replica (replica.Options.Observer) and
// registered once; here two regions extend and note one hold concurrently,
// the hold's policies merge the branches, and the merges show up in the
// metrics: one auto-resolved merge in each region.
func Example() {
	ctx := context.Background()
	metrics := prometheus.New(prometheus.Options{})
	reg := prom.NewRegistry()
	reg.MustRegister(metrics)

	region := func(name string) *replica.Replica[hold.Hold] {
		r, err := replica.New(version.MustID(name), replica.NewMemoryStore(), hold.Resolver(resolve.Options{}),
			replica.Options[hold.Hold]{CommandKeys: hold.CommandKeys, Observer: metrics})
		if err != nil {
			panic(err)
		}
		return r
	}
	lisbon, baltimore := region("lisbon"), region("baltimore")
	expires := time.Date(2026, 11, 26, 14, 10, 0, 0, time.UTC)
	if _, err := lisbon.Create(ctx, "H-8821", hold.New("H-8821", "C14", "lisbon-desk", expires)); err != nil {
		panic(err)
	}
	_ = replica.AntiEntropy(ctx, lisbon, baltimore)
	_, _, _ = lisbon.Command(ctx, "H-8821", "extend-1", func(h *hold.Hold, _ replica.Write) error { return h.Extend(expires.Add(5 * time.Minute)) })
	_, _ = baltimore.Blind(ctx, "H-8821", "note", hold.NoteEdit("window seat"))
	_ = replica.AntiEntropy(ctx, lisbon, baltimore)

	families, err := reg.Gather()
	if err != nil {
		panic(err)
	}
	for _, f := range families {
		if f.GetName() == "concord_auto_resolved_total" {
			for _, m := range f.GetMetric() {
				fmt.Println(f.GetName(), m.GetLabel()[0].GetName(), m.GetLabel()[0].GetValue(), m.GetCounter().GetValue())
			}
		}
	}
	// Output:
	// concord_auto_resolved_total entity hold 2
}
