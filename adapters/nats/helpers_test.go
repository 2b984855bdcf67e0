package nats_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	concordnats "github.com/harborpoint/concord/adapters/nats"
	"github.com/harborpoint/concord/hold"
	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

var day = time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)

func at(h, m, s int) time.Time {
	return day.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(s)*time.Second)
}

// wall is the simulated wall clock the regions of a test share.
type wall struct {
	mu  sync.Mutex
	now time.Time
}

func (w *wall) Now() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.now
}

func (w *wall) set(t time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.now = t
}

// regionOf is a running Region of holds and its counters.
type regionOf struct {
	*concordnats.Region[hold.Hold]
	name     string
	counters *resolve.Counters
}

// openRegion makes the Region of holds in n's bucket, with its own
// observer counters, and runs its watcher until the test ends.
func (c *cluster) openRegion(n *node, clock *wall) *regionOf {
	c.t.Helper()
	r := c.region(n, clock, version.MustID(n.name))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	c.t.Cleanup(func() {
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			c.t.Errorf("%s: Run: %v", n.name, err)
		}
	})
	return r
}

// region makes the Region of holds in n's bucket without running it; its
// records are in the default codec, JSON.
func (c *cluster) region(n *node, clock *wall, id version.ID) *regionOf {
	c.t.Helper()
	return c.regionWith(n, clock, id, nil)
}

// regionWith is region with the records in codec (nil: JSON).
func (c *cluster) regionWith(n *node, clock *wall, id version.ID, codec replica.Codec[hold.Hold]) *regionOf {
	c.t.Helper()
	counters := &resolve.Counters{}
	res := hold.Resolver(resolve.Options{SkewWindow: 2 * time.Second})
	opts := concordnats.Options[hold.Hold]{Replica: replica.Options[hold.Hold]{
		Observer: counters, CommandKeys: hold.CommandKeys, Codec: codec,
	}, Conn: n.nc, Logger: slog.New(slog.NewTextHandler(testLog{c.t}, nil))}
	if clock != nil {
		opts.Replica.Clock = version.NewHLC(version.HLCOptions{Now: clock.Now}, version.Timestamp{})
		opts.Replica.Now = clock.Now
	}
	r, err := concordnats.NewRegion(n.kv, c.topology(n.name), id, res, opts)
	if err != nil {
		c.t.Fatal(err)
	}
	return &regionOf{Region: r, name: n.name, counters: counters}
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
