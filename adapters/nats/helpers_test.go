package nats_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	concordnats "github.com/harborpoint/concord/adapters/nats"
	"github.com/harborpoint/concord/claim/claimtest"
	"github.com/harborpoint/concord/hold"
	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

var day = time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)

func at(h, m, s int) time.Time {
	return day.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(s)*time.Second)
}

// regionOf is a region of holds: its replica (embedded: the API the
// tests use), the Region that wires it to the bucket, and its counters.
type regionOf struct {
	*replica.Replica[hold.Hold]
	region   *concordnats.Region
	name     string
	counters *resolve.Counters
}

// run runs the region's watcher until the test ends.
func (r *regionOf) run(t testing.TB) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.region.Run(ctx, r.Replica) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("%s: Run: %v", r.name, err)
		}
	})
}

// openRegion makes the region of holds in n's bucket, with its own
// observer counters, and runs its watcher until the test ends.
func (c *cluster) openRegion(n *node, clock *claimtest.Clock) *regionOf {
	c.t.Helper()
	r := c.region(n, clock, version.MustID(n.name))
	r.run(c.t)
	return r
}

// lisbonAndBaltimore is a cluster of lisbon and baltimore with a region
// running on each, both on one wall clock at 14:00.
func lisbonAndBaltimore(t *testing.T) (c *cluster, lis, bal *regionOf, clock *claimtest.Clock) {
	t.Helper()
	c = newCluster(t, "lisbon", "baltimore")
	clock = claimtest.NewClock(at(14, 0, 0))
	return c, c.openRegion(c.nodes["lisbon"], clock), c.openRegion(c.nodes["baltimore"], clock), clock
}

// region makes the region of holds in n's bucket without running it; its
// records are in the default codec, JSON.
func (c *cluster) region(n *node, clock *claimtest.Clock, id version.ID) *regionOf {
	c.t.Helper()
	return c.regionWith(n, clock, id, replica.Options[hold.Hold]{}, nil)
}

// regionWith is region with the replica options opts (its observer,
// command keys, peers and clock are set here) and the log in logs (nil:
// the test's log).
func (c *cluster) regionWith(n *node, clock *claimtest.Clock, id version.ID, opts replica.Options[hold.Hold], logs io.Writer) *regionOf {
	c.t.Helper()
	if logs == nil {
		logs = testLog{c.t}
	}
	region, err := concordnats.NewRegion(n.kv, c.topology(n.name), concordnats.Options{
		Conn: n.nc, Logger: slog.New(slog.NewTextHandler(logs, nil)), Limits: version.Limits{MaxBytes: opts.MaxRecordBytes},
	})
	if err != nil {
		c.t.Fatal(err)
	}
	counters := &resolve.Counters{}
	opts.Observer, opts.CommandKeys, opts.Peers = counters, hold.CommandKeys, region
	if clock != nil {
		opts.Clock = version.NewHLC(version.HLCOptions{Now: clock.Now}, version.Timestamp{})
		opts.Now = clock.Now
	}
	rep, err := replica.New(id, region.Store(), hold.Resolver(resolve.Options{SkewWindow: 2 * time.Second}), opts)
	if err != nil {
		c.t.Fatal(err)
	}
	return &regionOf{Replica: rep, region: region, name: n.name, counters: counters}
}

// testLog writes a Region's log to the test's log.
type testLog struct{ t testing.TB }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// converged waits until every region reads key with the same token and
// value and returns the records.
func converged(t testing.TB, within time.Duration, key string, regions ...*regionOf) []replica.Record[hold.Hold] {
	t.Helper()
	var recs []replica.Record[hold.Hold]
	eventually(t, within, func() error {
		recs = recs[:0]
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		for _, r := range regions {
			rec, err := r.Get(ctx, key)
			if err != nil {
				return fmt.Errorf("%s: %w", r.name, err)
			}
			recs = append(recs, rec)
		}
		for i, rec := range recs[1:] {
			if rec.Token != recs[0].Token {
				return fmt.Errorf("%s reads token %s, %s reads %s", regions[0].name, recs[0].Token, regions[i+1].name, rec.Token)
			}
			if rec.Conflict == nil && !rec.Value.Equal(recs[0].Value) {
				return fmt.Errorf("%s reads %v, %s reads %v", regions[0].name, recs[0].Value, regions[i+1].name, rec.Value)
			}
		}
		return nil
	})
	return recs
}
