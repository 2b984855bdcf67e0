package nats_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/harborpoint/concord/claim/claimtest"
	"github.com/harborpoint/concord/hold"
	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

// timelineInMemory runs the lesson's H-8821 timeline on two in-memory
// replicas, as examples/harborpoint does, and returns Lisbon's record.
func timelineInMemory(t *testing.T) replica.Record[hold.Hold] {
	t.Helper()
	ctx := context.Background()
	clock := claimtest.NewClock(at(14, 0, 0))
	res := hold.Resolver(resolve.Options{SkewWindow: 2 * time.Second})
	mk := func(name string) *replica.Replica[hold.Hold] {
		r, err := replica.New(version.MustID(name), replica.NewMemoryStore(), res, replica.Options[hold.Hold]{
			Clock: version.NewHLC(version.HLCOptions{Now: clock.Now}, version.Timestamp{}), CommandKeys: hold.CommandKeys, Now: clock.Now,
		})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	lis, bal := mk("lisbon"), mk("baltimore")
	must(t, timelineV18(ctx, clock, lis.Create, lis.Blind))
	must(t, replica.AntiEntropy(ctx, lis, bal))
	v18, err := bal.Get(ctx, "H-8821")
	must(t, err)
	must(t, extendAndConfirm(ctx, clock, lis.Command, bal.Update, v18.Token))
	must(t, replica.AntiEntropy(ctx, lis, bal))
	rec, err := lis.Get(ctx, "H-8821")
	must(t, err)
	return rec
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

type (
	createFn  func(context.Context, string, hold.Hold) (replica.Record[hold.Hold], error)
	blindFn   func(context.Context, string, string, hold.Hold) (replica.Record[hold.Hold], error)
	commandFn func(context.Context, string, string, func(*hold.Hold, replica.Write) error) (replica.Record[hold.Hold], bool, error)
	updateFn  func(context.Context, string, string, func(*hold.Hold, replica.Write) error) (replica.Record[hold.Hold], error)
)

// timelineV18 creates H-8821 in Lisbon and edits it to version 18.
func timelineV18(ctx context.Context, clock *claimtest.Clock, create createFn, blind blindFn) error {
	clock.Set(at(14, 0, 0))
	if _, err := create(ctx, "H-8821", hold.New("H-8821", "C14", "lisbon-desk", at(14, 10, 0))); err != nil {
		return err
	}
	for i := 2; i <= 18; i++ {
		clock.Set(clock.Now().Add(10 * time.Second))
		if _, err := blind(ctx, "H-8821", "note", hold.NoteEdit(fmt.Sprintf("draft %d", i))); err != nil {
			return err
		}
	}
	return nil
}

// extendAndConfirm makes the lesson's two concurrent writes from v18.
func extendAndConfirm(ctx context.Context, clock *claimtest.Clock, extend commandFn, confirm updateFn, v18 string) error {
	clock.Set(at(14, 4, 52))
	_, _, err := extend(ctx, "H-8821", "lis-extend-1", func(h *hold.Hold, _ replica.Write) error {
		h.Touch("lisbon-desk")
		return h.Extend(at(14, 15, 0))
	})
	if err != nil {
		return err
	}
	clock.Set(at(14, 4, 53))
	_, err = confirm(ctx, "H-8821", v18, func(h *hold.Hold, _ replica.Write) error {
		h.Touch("baltimore-payments")
		return h.Confirm("B-3107", at(14, 4, 53))
	})
	return err
}

// TestTimelineAcrossRegions runs the lesson on JetStream: Lisbon extends
// H-8821 while Baltimore, cut off, confirms it from the same v18; after the
// link heals every region's watcher detects and resolves the conflict, and
// every region reads what the in-memory replicas read.
func TestTimelineAcrossRegions(t *testing.T) {
	want := timelineInMemory(t)
	if want.Value.Status != hold.Confirmed || want.Value.BookingID != "B-3107" || !want.Value.ExpiresAt.Equal(at(14, 10, 0)) {
		t.Fatalf("in memory: %v", want.Value)
	}
	for _, names := range [][]string{{"lisbon", "baltimore"}, {"lisbon", "baltimore", "singapore"}} {
		t.Run(fmt.Sprintf("%d regions", len(names)), func(t *testing.T) {
			c := newCluster(t, names...)
			clock := claimtest.NewClock(at(14, 0, 0))
			var regions []*regionOf
			for _, name := range names {
				regions = append(regions, c.openRegion(c.nodes[name], clock))
			}
			lis, bal := regions[0], regions[1]
			ctx := c.ctx()
			must(t, timelineV18(ctx, clock, lis.Create, lis.Blind))

			// Baltimore reads v18 once Lisbon's writes reached it.
			var v18 replica.Record[hold.Hold]
			eventually(t, 10*time.Second, func() error {
				var err error
				v18, err = bal.Get(ctx, "H-8821")
				if err == nil && v18.Token != version.MustVector("lisbon:18").Token() {
					err = fmt.Errorf("baltimore reads %v", v18.Context)
				}
				return err
			})

			// The link to Baltimore is cut: neither region sees the other's write.
			c.cut("baltimore", true)
			must(t, extendAndConfirm(ctx, clock, lis.Command, bal.Update, v18.Token))
			c.cut("baltimore", false)

			// Every region's watcher meets the two branches and resolves them.
			eventually(t, 20*time.Second, func() error {
				for _, r := range regions {
					if r.counters.Total(resolve.AutoResolved) == 0 {
						return fmt.Errorf("%s has not resolved the conflict yet", r.name)
					}
				}
				return nil
			})
			recs := converged(t, 20*time.Second, "H-8821", regions...)
			for i, rec := range recs {
				if !rec.Value.Equal(want.Value) || rec.Token != want.Token {
					t.Errorf("%s: %v token %s, in memory %v token %s", names[i], rec.Value, rec.Token, want.Value, want.Token)
				}
				if len(rec.Branches) != 2 {
					t.Errorf("%s: %d branches, want the two children of v18", names[i], len(rec.Branches))
				}
				if n := len(regions[i].Conflicts()); n != 0 {
					t.Errorf("%s: %d conflicts in review", names[i], n)
				}
			}
			t.Logf("every region: %v, token %s", recs[0].Value, recs[0].Token)
		})
	}
}
