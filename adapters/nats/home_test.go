package nats_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	concordnats "github.com/harborpoint/concord/adapters/nats"
	"github.com/harborpoint/concord/claim"
	"github.com/harborpoint/concord/hold"
	"github.com/harborpoint/concord/hold/booking"
	"github.com/harborpoint/concord/replica"
)

const homeBucket = "claims"

// homeCluster is a 3-server JetStream cluster, each server a child process
// that a test can kill, with a TCP proxy in front of each for a client that
// a test can cut off.
type homeCluster struct {
	t       testing.TB
	procs   []*proc
	proxies []*proxy
}

func newHomeCluster(t testing.TB) *homeCluster {
	t.Helper()
	hc := &homeCluster{t: t}
	clusterPorts := []int{freePort(t), freePort(t), freePort(t)}
	for i := range 3 {
		var routes []int
		for j, p := range clusterPorts {
			if j != i {
				routes = append(routes, p)
			}
		}
		p := startProc(t, childSpec{Name: fmt.Sprintf("home-%d", i), Port: freePort(t), Dir: t.TempDir(),
			Cluster: "home", ClusterPort: clusterPorts[i], Routes: routes})
		hc.procs = append(hc.procs, p)
		hc.proxies = append(hc.proxies, newProxy(t, strings.TrimPrefix(p.url(), "nats://")))
	}
	_, js := hc.connect(false)
	eventually(t, 30*time.Second, func() error { // a meta leader, and three peers to place a stream on
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "probe", Subjects: []string{"probe"}, Replicas: 3, Storage: jetstream.MemoryStorage})
		if err == nil {
			err = js.DeleteStream(ctx, "probe")
		}
		return err
	})
	return hc
}

// connect returns a client of the cluster: straight to its servers, or
// through the proxies (a route a test can cut).
func (hc *homeCluster) connect(proxied bool) (*natsgo.Conn, jetstream.JetStream) {
	hc.t.Helper()
	var urls []string
	for i, p := range hc.procs {
		if proxied {
			urls = append(urls, "nats://"+hc.proxies[i].addr())
		} else {
			urls = append(urls, p.url())
		}
	}
	opts := []natsgo.Option{natsgo.MaxReconnects(-1), natsgo.ReconnectWait(50 * time.Millisecond)}
	if proxied {
		opts = append(opts, natsgo.IgnoreDiscoveredServers()) // or it reconnects around the proxies
	}
	nc, err := natsgo.Connect(strings.Join(urls, ","), opts...)
	if err != nil {
		hc.t.Fatal(err)
	}
	hc.t.Cleanup(nc.Close)
	js, err := jetstream.New(nc, jetstream.WithDefaultTimeout(2*time.Second))
	if err != nil {
		hc.t.Fatal(err)
	}
	return nc, js
}

// cut cuts or heals the proxied route to every server.
func (hc *homeCluster) cut(cut bool) {
	for _, p := range hc.proxies {
		p.setCut(cut)
	}
}

// leader returns the server leading the home bucket's stream.
func (hc *homeCluster) leader(ctx context.Context, js jetstream.JetStream) *proc {
	hc.t.Helper()
	s, err := js.Stream(ctx, "KV_"+homeBucket)
	must(hc.t, err)
	info, err := s.Info(ctx)
	must(hc.t, err)
	for _, p := range hc.procs {
		if info.Cluster != nil && p.spec.Name == info.Cluster.Leader {
			return p
		}
	}
	hc.t.Fatalf("no leader among %+v", info.Cluster)
	return nil
}

// TestCheckHome: the home configuration passes its own check, and each
// setting that would break a claim's promise is named when it is wrong.
func TestCheckHome(t *testing.T) {
	good := concordnats.HomeConfig(homeBucket, concordnats.HomeOptions{})
	if err := concordnats.CheckHome(good); err != nil {
		t.Fatalf("the home config: %v", err)
	}
	if good.Replicas != 3 || good.AllowDirect || good.MirrorDirect || good.Mirror != nil || len(good.Sources) != 0 ||
		good.MaxAge != 0 || !good.DenyDelete || !good.DenyPurge || good.AllowRollup || good.MaxMsgsPerSubject != 1 ||
		good.Storage != jetstream.FileStorage {
		t.Fatalf("home config %+v", good)
	}
	for name, c := range map[string]struct {
		change func(*jetstream.StreamConfig)
		says   string
	}{
		"one replica":   {func(c *jetstream.StreamConfig) { c.Replicas = 1 }, "replicas 1"},
		"two replicas":  {func(c *jetstream.StreamConfig) { c.Replicas = 2 }, "replicas 2"},
		"a mirror":      {func(c *jetstream.StreamConfig) { c.Mirror = &jetstream.StreamSource{Name: "KV_x"} }, "mirror or sources"},
		"sources":       {func(c *jetstream.StreamConfig) { c.Sources = []*jetstream.StreamSource{{Name: "KV_x"}} }, "mirror or sources"},
		"direct get":    {func(c *jetstream.StreamConfig) { c.AllowDirect = true }, "direct get"},
		"mirror direct": {func(c *jetstream.StreamConfig) { c.MirrorDirect = true }, "direct get"},
		"a TTL":         {func(c *jetstream.StreamConfig) { c.MaxAge = time.Hour }, "expire"},
		"deletes":       {func(c *jetstream.StreamConfig) { c.DenyDelete = false }, "deleted"},
		"purges":        {func(c *jetstream.StreamConfig) { c.DenyPurge = false }, "purged"},
		"rollups":       {func(c *jetstream.StreamConfig) { c.AllowRollup = true }, "purged"},
		"message TTLs":  {func(c *jetstream.StreamConfig) { c.AllowMsgTTL = true }, "expire"},
		"a byte limit":  {func(c *jetstream.StreamConfig) { c.MaxBytes = 1 << 20 }, "limits"},
	} {
		cfg := good
		c.change(&cfg)
		err := concordnats.CheckHome(cfg)
		if !errors.Is(err, concordnats.ErrNotAHome) || !strings.Contains(err.Error(), c.says) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestHomeSettings creates a claim home on a 3-server JetStream cluster
// and reads back, from the servers, the settings that make it one; a KV
// bucket made with nats.go's defaults is refused as a home; and a claim
// deleted behind the home's back is reported malformed, never reused.
func TestHomeSettings(t *testing.T) {
	hc := newHomeCluster(t)
	_, js := hc.connect(false)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	store, err := concordnats.CreateHome(ctx, js, homeBucket, concordnats.HomeOptions{})
	must(t, err)
	s, err := js.Stream(ctx, "KV_"+homeBucket)
	must(t, err)
	info, err := s.Info(ctx)
	must(t, err)
	cfg := info.Config
	if cfg.Replicas != 3 || cfg.AllowDirect || cfg.MirrorDirect || cfg.Mirror != nil || len(cfg.Sources) > 0 || cfg.MaxAge != 0 ||
		!cfg.DenyDelete || !cfg.DenyPurge || cfg.AllowRollup {
		t.Fatalf("the servers hold %+v", cfg)
	}
	if info.Cluster == nil || info.Cluster.Leader == "" || len(info.Cluster.Replicas) != 2 {
		t.Fatalf("not a 3-replica Raft group: %+v", info.Cluster)
	}
	if _, err := concordnats.CreateHome(ctx, js, "two", concordnats.HomeOptions{Replicas: 2}); !errors.Is(err, concordnats.ErrNotAHome) {
		t.Errorf("2 replicas: %v", err)
	}
	if _, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "plain", Replicas: 3}); err != nil {
		t.Fatal(err)
	}
	if _, err := concordnats.OpenHome(ctx, js, "plain"); !errors.Is(err, concordnats.ErrNotAHome) || !strings.Contains(err.Error(), "direct get") {
		t.Errorf("a default KV bucket opened as a home: %v", err)
	}

	home, err := claim.NewHome(store, claim.Options{})
	must(t, err)
	c, err := home.Acquire(ctx, "cabin/C14", "H-8821", time.Now().Add(time.Minute))
	must(t, err)
	if _, err := home.Commit(ctx, "cabin/C14", "H-8821", c.Token, "B-3107"); err != nil {
		t.Fatal(err)
	}
	if _, err := home.Acquire(ctx, "cabin/C14", "H-9040", time.Now().Add(time.Minute)); !errors.Is(err, claim.ErrClaimed) {
		t.Fatalf("second owner: %v", err)
	}
	kv, err := js.KeyValue(ctx, homeBucket)
	must(t, err)
	must(t, kv.Delete(ctx, "cabin/C14"))
	if _, err := home.Acquire(ctx, "cabin/C14", "H-9040", time.Now().Add(time.Minute)); !errors.Is(err, claim.ErrMalformed) {
		t.Fatalf("after a delete behind the home's back: %v", err)
	}
}

// confirmUntilDecided confirms hold id at desk until the home decides —
// retrying ErrUnavailable, as a client told 503 would — and returns the
// decision — nil (confirmed) or the refusal — with how many times the home
// was unavailable.
func confirmUntilDecided(ctx context.Context, r *regionOf, desk *booking.Desk, id, bk string) (int, error) {
	unavailable := 0
	for {
		rec, err := r.Get(ctx, id)
		if err == nil {
			_, err = desk.Confirm(ctx, id, rec.Token, bk)
		}
		var pf *replica.PreconditionFailed
		switch {
		case err == nil, errors.Is(err, claim.ErrClaimed):
			return unavailable, err
		case errors.Is(err, claim.ErrUnavailable):
			unavailable++
		case errors.As(err, &pf):
		default:
			return unavailable, err
		}
		select {
		case <-ctx.Done():
			return unavailable, fmt.Errorf("%s undecided: %w (last: %w)", id, ctx.Err(), err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// TestHomeClusterConfirms: holds on four cabins, two per cabin, one created
// in each of two regions; both regions confirm every hold at once against a
// claim home on a 3-server JetStream cluster, and the home's stream leader
// is killed (SIGKILL) as soon as the first confirmation is acknowledged,
// with the others in flight. Every cabin ends with exactly one confirmed
// hold, in both regions; the other was told ErrClaimed; the killed server
// restarts and catches up. Then a region cut off from the home gets
// ErrUnavailable for a confirmation while its extends still work.
func TestHomeClusterConfirms(t *testing.T) {
	c := newCluster(t, "lisbon", "baltimore")
	lis := c.openRegion(c.nodes["lisbon"], nil)
	bal := c.openRegion(c.nodes["baltimore"], nil)
	hc := newHomeCluster(t)
	_, jsL := hc.connect(false)
	_, jsB := hc.connect(true)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	storeL, err := concordnats.CreateHome(ctx, jsL, homeBucket, concordnats.HomeOptions{})
	must(t, err)
	storeB, err := concordnats.OpenHome(ctx, jsB, homeBucket)
	must(t, err)
	desk := func(r *regionOf, s claim.Store) *booking.Desk {
		home, err := claim.NewHome(s, claim.Options{Timeout: 2 * time.Second})
		must(t, err)
		d, err := booking.New(r, home, booking.Options{})
		must(t, err)
		return d
	}
	desks := map[*regionOf]*booking.Desk{lis: desk(lis, storeL), bal: desk(bal, storeB)}

	type attempt struct {
		r      *regionOf
		id, bk string
		cabin  string
	}
	var attempts []attempt
	for i := 1; i <= 4; i++ {
		cabin := fmt.Sprintf("C%d", i)
		for _, r := range []*regionOf{lis, bal} {
			id := fmt.Sprintf("H-%d-%s", i, r.name)
			_, err := r.Create(ctx, id, hold.New(id, cabin, r.name+"-desk", time.Now().Add(time.Hour)))
			must(t, err)
			attempts = append(attempts, attempt{r: r, id: id, bk: "B-" + id, cabin: cabin})
		}
	}
	for _, a := range attempts {
		converged(t, 10*time.Second, a.id, lis, bal)
	}

	// The confirmations start 150 ms apart; the first one acknowledged
	// kills the stream leader, so the later ones meet a home without one.
	leader := hc.leader(ctx, jsL)
	var (
		kill        sync.Once
		killed      time.Time
		mu          sync.Mutex
		outcome     = map[string]error{}
		unavailable int
		wg          sync.WaitGroup
	)
	for i, a := range attempts {
		wg.Go(func() {
			time.Sleep(time.Duration(i) * 150 * time.Millisecond)
			n, err := confirmUntilDecided(ctx, a.r, desks[a.r], a.id, a.bk)
			if err == nil {
				kill.Do(func() { leader.kill(); killed = time.Now() })
			}
			mu.Lock()
			outcome[a.id], unavailable = err, unavailable+n
			mu.Unlock()
		})
	}
	wg.Wait()
	t.Logf("home leader %s killed after the first confirmation; the others decided %v later, after %d ErrUnavailable retries",
		leader.spec.Name, time.Since(killed).Round(time.Millisecond), unavailable)
	if unavailable == 0 {
		t.Logf("no confirmation met the home without a leader this time")
	}

	for _, a := range attempts {
		if err := outcome[a.id]; err != nil && !errors.Is(err, claim.ErrClaimed) {
			t.Errorf("%s: %v", a.id, err)
		}
	}
	for i := 1; i <= 4; i++ {
		cabin := fmt.Sprintf("C%d", i)
		var confirmed, told []string
		for _, a := range attempts {
			if a.cabin != cabin {
				continue
			}
			rec := converged(t, 20*time.Second, a.id, lis, bal)[0]
			if rec.Conflict == nil && rec.Value.Status == hold.Confirmed {
				confirmed = append(confirmed, a.id)
			}
			if outcome[a.id] == nil {
				told = append(told, a.id)
			}
		}
		if len(confirmed) != 1 || len(told) != 1 || confirmed[0] != told[0] {
			t.Errorf("cabin %s: confirmed %v, acknowledged %v; want one and the same", cabin, confirmed, told)
		}
	}
	for _, a := range attempts { // the sweeper finds nothing to repair
		eventually(t, 20*time.Second, func() error {
			c, err := desks[a.r].Reconcile(ctx, a.id)
			if err == nil && c.State != claim.StateCommitted {
				t.Errorf("%s: claim %v after the sweep", a.id, c)
			}
			return err
		})
	}

	leader.start() // from its store directory
	eventually(t, 30*time.Second, func() error {
		s, err := jsL.Stream(ctx, "KV_"+homeBucket)
		if err != nil {
			return err
		}
		info, err := s.Info(ctx)
		if err != nil {
			return err
		}
		for _, p := range info.Cluster.Replicas {
			if !p.Current {
				return fmt.Errorf("%s not current", p.Name)
			}
		}
		if len(info.Cluster.Replicas) != 2 {
			return fmt.Errorf("replicas %+v", info.Cluster.Replicas)
		}
		return nil
	})

	// Baltimore cut off from the home: no confirmation, but extends.
	id := "H-9-baltimore"
	_, err = bal.Create(ctx, id, hold.New(id, "C9", "baltimore-desk", time.Now().Add(time.Hour)))
	must(t, err)
	hc.cut(true)
	rec, err := bal.Get(ctx, id)
	must(t, err)
	if _, err := desks[bal].Confirm(ctx, id, rec.Token, "B-9"); !errors.Is(err, claim.ErrUnavailable) {
		t.Fatalf("confirm cut off from the home: %v", err)
	}
	if _, _, err := bal.Command(ctx, id, "extend-9", func(h *hold.Hold, _ replica.Write) error {
		return h.Extend(h.ExpiresAt.Add(time.Minute))
	}); err != nil {
		t.Fatalf("extend cut off from the home: %v", err)
	}
	hc.cut(false)
	if _, err := confirmUntilDecided(ctx, bal, desks[bal], id, "B-9"); err != nil {
		t.Fatalf("confirm after the heal: %v", err)
	}
}
