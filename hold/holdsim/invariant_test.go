package holdsim_test

import (
	"strings"
	"testing"
	"time"

	"github.com/harborpoint/concord/hold"
	"github.com/harborpoint/concord/hold/holdsim"
	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/sim"
	"github.com/harborpoint/concord/version"
)

// TestAnExtendDoesNotBindTheHoldCreatedAgain is the ledger of history 2697
// (campaign ×30, TestDurableRestartsAfterReapingKeepTheirID, over a store
// keeping the counter floor but not the reaped horizons), shrunk to the
// writes of H-1 lisbon's record covers: lisbon created the hold (lisbon:1)
// and extended it to 14:12 (lisbon:4); baltimore deleted it (baltimore:5);
// both replicas reaped the tombstone; lisbon restarted and forgot it; a
// client created H-1 again at lisbon (lisbon:5, context {lisbon:4}: the
// replica writes above its counter floor), active until 14:00. The record's
// context {lisbon:5} covers the extend but not the delete. The created hold
// is a new hold: the extend of the deleted one must not bind it. An extend
// no create or delete covered still does.
func TestAnExtendDoesNotBindTheHoldCreatedAgain(t *testing.T) {
	at := func(hm string) time.Time {
		v, err := time.Parse("2006-01-02 15:04", "2026-11-26 "+hm)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	lisbon, err := version.ParseID("lisbon")
	if err != nil {
		t.Fatal(err)
	}
	dot := func(n uint64) version.Dot { return version.Dot{ID: lisbon, Counter: n} }
	created := &sim.Ack[hold.Hold]{Step: 2, Key: "H-1", Style: sim.Create, Label: holdsim.LabelCreate,
		Dot: dot(1), Acked: version.MustVector("{lisbon:1}"), Value: hold.New("H-1", "C1", "", at("14:10"))}
	extend := &sim.Ack[hold.Hold]{Step: 56, Key: "H-1", Style: sim.Command, Label: holdsim.LabelExtend,
		Dot: dot(4), Context: version.MustVector("{lisbon:3}"), Acked: version.MustVector("{lisbon:4}"),
		Value: hold.New("H-1", "C1", "", at("14:12"))}
	again := hold.New("H-1", "C1", "", at("14:00"))
	recreated := &sim.Ack[hold.Hold]{Step: 184, Key: "H-1", Style: sim.Create, Label: holdsim.LabelCreate,
		Dot: dot(5), Context: version.MustVector("{lisbon:4}"), Acked: version.MustVector("{lisbon:5}"), Value: again}
	rec := replica.Record[hold.Hold]{Key: "H-1", Value: again, Context: version.MustVector("{lisbon:5}")}

	if err := holdsim.Invariant(sim.View[hold.Hold]{Key: "H-1", Record: rec, Seen: []*sim.Ack[hold.Hold]{created, extend, recreated}}); err != nil {
		t.Fatalf("the hold created again over a forgotten reap: %v", err)
	}
	// Without the re-creation the record is the extended hold gone back to
	// 14:00: shortened.
	err = holdsim.Invariant(sim.View[hold.Hold]{Key: "H-1", Record: rec, Seen: []*sim.Ack[hold.Hold]{created, extend}})
	if err == nil || !strings.Contains(err.Error(), "shortened") {
		t.Fatalf("an extend no create covered: got %v, want it reported shortened", err)
	}
	// A create that did not cover the extend (concurrent with it) does not
	// excuse it either.
	concurrent := *recreated
	concurrent.Context = version.MustVector("{lisbon:3}")
	err = holdsim.Invariant(sim.View[hold.Hold]{Key: "H-1", Record: rec, Seen: []*sim.Ack[hold.Hold]{created, extend, &concurrent}})
	if err == nil || !strings.Contains(err.Error(), "shortened") {
		t.Fatalf("an extend a create did not cover: got %v, want it reported shortened", err)
	}
}
