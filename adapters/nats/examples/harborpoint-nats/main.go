// Command harborpoint-nats replays Harbor Point's hold H-8821 on NATS
// JetStream: two embedded regions, Lisbon and Baltimore, each with its own
// JetStream domain and bucket, linked as leaf nodes to a hub. Lisbon
// extends the hold while Baltimore confirms it from the same version 18;
// each region's watcher meets the other's branch, the hold's policies
// resolve it, and both regions read the same confirmed booking with the
// same token.
//
//	go run ./examples/harborpoint-nats
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	concordnats "github.com/harborpoint/concord/adapters/nats"
	"github.com/harborpoint/concord/hold"
	"github.com/harborpoint/concord/policy"
	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "harborpoint-nats:", err)
		os.Exit(1)
	}
}

var day = time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)

func at(h, m, s int) time.Time {
	return day.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(s)*time.Second)
}

// clock is the simulated wall clock of the story.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.now = t }

// region is one embedded region: its server, client, the Region that wires
// the bucket, and the replica the application uses.
type region struct {
	name     string
	srv      *server.Server
	nc       *natsgo.Conn
	wiring   *concordnats.Region
	r        *replica.Replica[hold.Hold]
	counters *resolve.Counters
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func start(opts *server.Options) (*server.Server, error) {
	opts.NoLog, opts.NoSigs = true, true
	s, err := server.NewServer(opts)
	if err != nil {
		return nil, err
	}
	s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		s.Shutdown()
		return nil, fmt.Errorf("server %s did not start", opts.ServerName)
	}
	return s, nil
}

func run(w io.Writer) (err error) {
	say := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dir, err := os.MkdirTemp("", "harborpoint-nats-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	// The hub and two regions, on loopback.
	leafPort, err := freePort()
	if err != nil {
		return err
	}
	startHub := func() (*server.Server, error) {
		return start(&server.Options{ServerName: "hub", Host: "127.0.0.1", Port: -1,
			LeafNode: server.LeafNodeOpts{Host: "127.0.0.1", Port: leafPort, NoAdvertise: true}})
	}
	hub, err := startHub()
	if err != nil {
		return err
	}
	defer func() { hub.Shutdown() }()
	names := []string{"lisbon", "baltimore"}
	wall := &clock{now: at(14, 0, 0)}
	regions := map[string]*region{}
	for _, name := range names {
		hubURL, _ := url.Parse("nats-leaf://127.0.0.1:" + strconv.Itoa(leafPort))
		srv, err := start(&server.Options{ServerName: name, Host: "127.0.0.1", Port: -1,
			JetStream: true, JetStreamDomain: name, StoreDir: dir + "/" + name,
			LeafNode: server.LeafNodeOpts{ReconnectInterval: 100 * time.Millisecond,
				Remotes: []*server.RemoteLeafOpts{{URLs: []*url.URL{hubURL}}}}})
		if err != nil {
			return err
		}
		defer srv.Shutdown()
		nc, err := natsgo.Connect(srv.ClientURL())
		if err != nil {
			return err
		}
		defer nc.Close()
		js, err := jetstream.New(nc)
		if err != nil {
			return err
		}
		topo := concordnats.Topology{Bucket: "holds", Local: name, Regions: names}
		kv, err := concordnats.CreateBucket(ctx, js, topo, concordnats.BucketOptions{})
		if err != nil {
			return err
		}
		// The record limit is what the bucket and the server take, less
		// JetStream's framing, so that the replica refuses an oversized
		// write itself (replica.ErrTooLarge) instead of the bucket.
		limit, err := kv.MaxRecordBytes(ctx)
		if err != nil {
			return err
		}
		// The Region is the bucket's wiring: the store of this region's
		// keys, and the other regions' copies, which the replica merges
		// before every read and write (replica.Options.Peers).
		wiring, err := concordnats.NewRegion(kv, topo, concordnats.Options{Conn: nc, Limits: version.Limits{MaxBytes: limit}})
		if err != nil {
			return err
		}
		counters := &resolve.Counters{}
		r, err := replica.New(version.MustID(name), wiring.Store(), hold.Resolver(resolve.Options{}), replica.Options[hold.Hold]{
			Peers:          wiring,
			MaxRecordBytes: limit,
			Clock:          version.NewHLC(version.HLCOptions{Now: wall.Now}, version.Timestamp{}),
			Now:            wall.Now,
			Observer:       counters,
			CommandKeys:    hold.CommandKeys,
			Codec:          hold.Codec{}, // compact binary records; replica.JSON is the default
		})
		if err != nil {
			return err
		}
		regions[name] = &region{name: name, srv: srv, nc: nc, wiring: wiring, r: r, counters: counters}
	}
	linked := func(want bool) error {
		for _, name := range names {
			for (regions[name].srv.NumLeafNodes() > 0) != want {
				if ctx.Err() != nil {
					return fmt.Errorf("%s: leaf link up %v, want %v", name, !want, want)
				}
				time.Sleep(10 * time.Millisecond)
			}
		}
		return nil
	}
	if err := linked(true); err != nil {
		return err
	}
	lis, bal := regions["lisbon"], regions["baltimore"]
	say("Harbor Point on NATS JetStream: regions %v, one JetStream domain each, leaf nodes of a hub.", names)
	say("Bucket \"holds\" in each; a region writes only its own keys and sources the other's.")

	// v18 in Lisbon.
	if _, err := lis.r.Create(ctx, "H-8821", hold.New("H-8821", "C14", "lisbon-desk", at(14, 10, 0))); err != nil {
		return err
	}
	for i := 2; i <= 18; i++ {
		wall.set(wall.Now().Add(10 * time.Second))
		if _, err := lis.r.Blind(ctx, "H-8821", "note", hold.NoteEdit(fmt.Sprintf("draft %d", i))); err != nil {
			return err
		}
	}
	var v18 replica.Record[hold.Hold]
	for v18.Token != version.MustVector("lisbon:18").Token() {
		if ctx.Err() != nil {
			return errors.New("v18 did not reach baltimore")
		}
		if v18, err = bal.r.Get(ctx, "H-8821"); err != nil && !errors.Is(err, replica.ErrNotFound) {
			return err
		}
	}
	say("Baltimore reads v18 %v (token %s): %s", v18.Context, v18.Token, v18.Value)

	// The two concurrent writes, made while the regions are cut off from
	// each other (the hub is down): each region's replica merges the copies
	// its own bucket holds before it writes, and neither holds the other's
	// write yet.
	hub.Shutdown()
	if err := linked(false); err != nil {
		return err
	}
	say("the link between the regions goes down")
	wall.set(at(14, 4, 52))
	if _, _, err := lis.r.Command(ctx, "H-8821", "lis-extend-1", func(h *hold.Hold, _ replica.Write) error {
		h.Touch("lisbon-desk")
		return h.Extend(at(14, 15, 0))
	}); err != nil {
		return err
	}
	say("14:04:52 Lisbon extends the hold to 14:15 (key lisbon.H-8821)")
	wall.set(at(14, 4, 53))
	if _, err := bal.r.Update(ctx, "H-8821", v18.Token, func(h *hold.Hold, _ replica.Write) error {
		h.Touch("baltimore-payments")
		return h.Confirm("B-3107", at(14, 4, 53))
	}); err != nil {
		return err
	}
	say("14:04:53 Baltimore confirms booking B-3107, If-Match %s (key baltimore.H-8821)", v18.Token)

	// The link comes back and the watchers start: each meets the other
	// region's branch.
	if hub, err = startHub(); err != nil {
		return err
	}
	if err := linked(true); err != nil {
		return err
	}
	say("the link is back")
	runCtx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() { stop(); wg.Wait() }()
	for _, name := range names {
		r := regions[name]
		wg.Go(func() { _ = r.wiring.Run(runCtx, r.r) })
	}
	for lis.counters.Total(resolve.AutoResolved) == 0 || bal.counters.Total(resolve.AutoResolved) == 0 {
		if ctx.Err() != nil {
			return errors.New("the watchers did not resolve the conflict")
		}
		time.Sleep(10 * time.Millisecond)
	}
	say("the watchers met the two branches and resolved them:")
	rec, err := lis.r.Get(ctx, "H-8821")
	if err != nil {
		return err
	}
	for _, b := range rec.Branches {
		say("  branch %-12v status=%-9s expires_at=%s booking_id=%q", b.Stamp.Dot, b.Value.Status, b.Value.ExpiresAt.Format("15:04"), b.Value.BookingID)
	}
	for _, d := range rec.Decisions {
		if d.Outcome != policy.Same {
			say("  - %s", d)
		}
	}
	var tokens []string
	for _, name := range names {
		var rec replica.Record[hold.Hold]
		for {
			if rec, err = regions[name].r.Get(ctx, "H-8821"); err != nil {
				return err
			}
			if rec.Context.Equal(version.MustVector("baltimore:1,lisbon:19")) || ctx.Err() != nil {
				break
			}
		}
		tokens = append(tokens, rec.Token)
		say("outcome in %-9s: %s  agencies=%v  token %s", name, rec.Value, rec.Value.Agencies, rec.Token)
	}
	if tokens[0] != tokens[1] {
		return fmt.Errorf("regions disagree: %v", tokens)
	}
	say("identical in both regions: yes")
	for _, name := range names {
		c := regions[name].counters
		say("%-9s counted: auto-resolved %d, sent to review %d, stale %d, duplicates %d", name,
			c.Total(resolve.AutoResolved), c.Total(resolve.SentToReview), c.Total(resolve.StaleDropped), c.Total(resolve.DuplicateDropped))
	}
	return nil
}
