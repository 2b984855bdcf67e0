package nats_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	concordnats "github.com/harborpoint/concord/adapters/nats"
	"github.com/harborpoint/concord/hold"
	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

// TestHardStopKeepsAcknowledgedWrites kills a region's server with SIGKILL
// — no shutdown, no flush — while goroutines are writing, restarts it from
// its store directory, and checks that every write the server acknowledged
// is there: its dot in the record's context, its agency in the hold. The
// server runs with the durability setting the README recommends for a
// region of one server, sync_interval: always (server.Options.SyncAlways).
//
// A process kill leaves the kernel's page cache to the disk, so this
// proves that JetStream writes a message before acknowledging it and that
// concord's records come back from what it wrote; only a power loss tests
// the fsync, and no test here can cut the power.
func TestHardStopKeepsAcknowledgedWrites(t *testing.T) {
	p := startProc(t, childSpec{Name: "lisbon", Port: freePort(t), Dir: t.TempDir(), Domain: "lisbon", SyncAlways: true})
	nc, err := natsgo.Connect(p.url(), natsgo.MaxReconnects(-1), natsgo.ReconnectWait(50*time.Millisecond))
	must(t, err)
	defer nc.Close()
	js, err := jetstream.New(nc, jetstream.WithDefaultTimeout(2*time.Second))
	must(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	topo := concordnats.Topology{Bucket: bucket, Local: "lisbon", Regions: []string{"lisbon"}}
	kv, err := concordnats.CreateBucket(ctx, js, topo, concordnats.BucketOptions{})
	must(t, err)
	region, err := concordnats.NewRegion(kv, topo, concordnats.Options{Conn: nc})
	must(t, err)
	r, err := replica.New(version.MustID("lisbon"), region.Store(), hold.Resolver(resolve.Options{}),
		replica.Options[hold.Hold]{CommandKeys: hold.CommandKeys, Codec: hold.Codec{}, Peers: region})
	must(t, err)
	keys := []string{"H-1", "H-2", "H-3", "H-4"}
	for _, k := range keys {
		_, err := r.Create(ctx, k, hold.New(k, "C"+k[2:], "web", time.Now().Add(time.Hour)))
		must(t, err)
	}

	var (
		mu      sync.Mutex
		acked   []ack
		failed  int
		stop    = make(chan struct{})
		wg      sync.WaitGroup
		started = make(chan struct{}, len(keys))
	)
	for g, k := range keys {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				agency := fmt.Sprintf("w%d-%d", g, i)
				var dot version.Dot
				wctx, wcancel := context.WithTimeout(ctx, 500*time.Millisecond)
				_, _, err := r.Command(wctx, k, agency, func(h *hold.Hold, w replica.Write) error {
					dot = w.Dot
					h.Touch(agency)
					return h.Extend(h.ExpiresAt.Add(time.Second))
				})
				wcancel()
				mu.Lock()
				if err == nil {
					acked = append(acked, ack{key: k, dot: dot, agency: agency})
				} else {
					failed++
				}
				mu.Unlock()
				if i == 20 {
					started <- struct{}{}
				}
			}
		})
	}
	for range keys {
		<-started
	}
	p.kill() // writes in flight
	time.Sleep(300 * time.Millisecond)
	close(stop)
	wg.Wait()
	p.start()

	for _, k := range keys {
		var rec replica.Record[hold.Hold]
		eventually(t, 20*time.Second, func() error {
			rctx, rcancel := context.WithTimeout(ctx, time.Second)
			defer rcancel()
			rec, err = r.Get(rctx, k)
			return err
		})
		for _, a := range acked {
			if a.key != k {
				continue
			}
			if !rec.Context.Contains(a.dot) || !rec.Value.Agencies.Has(a.agency) {
				t.Errorf("%s: acknowledged write %v (%s) lost in the hard stop: context %v", k, a.dot, a.agency, rec.Context)
			}
		}
	}
	t.Logf("%d writes acknowledged before the SIGKILL, all present after the restart; %d failed or unanswered", len(acked), failed)
	if len(acked) < len(keys)*20 || failed == 0 {
		t.Errorf("the kill did not land among writes: %d acknowledged, %d failed", len(acked), failed)
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatal("out of time")
	}
}
