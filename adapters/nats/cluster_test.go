package nats_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	concordnats "github.com/harborpoint/concord/adapters/nats"
)

// This file is the test scaffolding: a hub server, one JetStream server per
// region (its own domain, its store in a temp dir) linked to the hub as a
// leaf node through a TCP proxy that a test can cut, and clients. All on
// 127.0.0.1 with ports picked at random.

const bucket = "holds"

// freePort returns a loopback port that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	l := listenUnreserved(t)
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	reserved.Store(port, true)
	return port
}

// reserved holds the ports freePort handed out: a server will bind them
// later, so no listener of this process may take one meanwhile (a proxy
// that did once kept a cluster's third server from starting).
var reserved sync.Map

// listenUnreserved listens on a port of the system's choosing that
// freePort has not handed out.
func listenUnreserved(t testing.TB) net.Listener {
	t.Helper()
	for {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		if _, taken := reserved.Load(l.Addr().(*net.TCPAddr).Port); !taken {
			return l
		}
		l.Close()
	}
}

// proxy forwards TCP connections to target until it is cut.
type proxy struct {
	l      net.Listener
	target string
	mu     sync.Mutex
	cut    bool
	conns  map[net.Conn]bool
	wg     sync.WaitGroup
}

func newProxy(t testing.TB, target string) *proxy {
	t.Helper()
	l := listenUnreserved(t)
	p := &proxy{l: l, target: target, conns: map[net.Conn]bool{}}
	p.wg.Go(p.accept)
	t.Cleanup(p.close)
	return p
}

func (p *proxy) addr() string { return p.l.Addr().String() }

func (p *proxy) accept() {
	for {
		c, err := p.l.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.cut {
			p.mu.Unlock()
			c.Close()
			continue
		}
		up, err := net.DialTimeout("tcp", p.target, time.Second)
		if err != nil {
			p.mu.Unlock()
			c.Close()
			continue
		}
		p.conns[c], p.conns[up] = true, true
		p.mu.Unlock()
		pipe := func(dst, src net.Conn) {
			_, _ = io.Copy(dst, src)
			dst.Close()
			src.Close()
		}
		p.wg.Go(func() { pipe(up, c) })
		p.wg.Go(func() { pipe(c, up) })
	}
}

// setCut cuts (closing every open connection) or heals the link.
func (p *proxy) setCut(cut bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = cut
	if cut {
		for c := range p.conns {
			c.Close()
		}
		clear(p.conns)
	}
}

func (p *proxy) close() {
	p.l.Close()
	p.setCut(true)
	p.wg.Wait()
}

// node is one region: its server, the proxy of its leaf link, a client.
type node struct {
	name  string
	dir   string
	port  int
	proxy *proxy
	srv   *server.Server
	nc    *natsgo.Conn
	js    jetstream.JetStream
	kv    *concordnats.Bucket
}

type cluster struct {
	t       testing.TB
	hub     *server.Server
	hubLeaf int
	names   []string
	nodes   map[string]*node
}

func startServer(t testing.TB, opts *server.Options) *server.Server {
	t.Helper()
	opts.NoLog, opts.NoSigs = true, true
	s, err := server.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		s.Shutdown()
		t.Fatalf("server %s did not start", opts.ServerName)
	}
	return s
}

// newCluster starts a hub and one JetStream region per name, links them,
// and creates the bucket in every region.
func newCluster(t testing.TB, names ...string) *cluster {
	t.Helper()
	return newClusterWith(t, concordnats.BucketOptions{}, names...)
}

// bucketHistory is the bucket options keeping n values per key.
func bucketHistory(n uint8) concordnats.BucketOptions { return concordnats.BucketOptions{History: n} }

// jetstreamSubjects asks stream info for the message count of subjects.
func jetstreamSubjects(filter string) jetstream.StreamInfoOpt {
	return jetstream.WithSubjectFilter(filter)
}

// newClusterWith is newCluster with bucket options.
func newClusterWith(t testing.TB, bopts concordnats.BucketOptions, names ...string) *cluster {
	t.Helper()
	c := &cluster{t: t, names: names, nodes: map[string]*node{}, hubLeaf: freePort(t)}
	c.hub = startServer(t, &server.Options{
		ServerName: "hub", Host: "127.0.0.1", Port: -1,
		LeafNode: server.LeafNodeOpts{Host: "127.0.0.1", Port: c.hubLeaf, NoAdvertise: true},
	})
	t.Cleanup(c.hub.Shutdown)
	for _, name := range names {
		n := &node{name: name, dir: t.TempDir(), port: freePort(t)}
		n.proxy = newProxy(t, "127.0.0.1:"+strconv.Itoa(c.hubLeaf))
		c.nodes[name] = n
		c.start(n)
		t.Cleanup(func() { c.stop(n) })
	}
	c.waitLinked()
	for _, name := range names {
		n := c.nodes[name]
		kv, err := concordnats.CreateBucket(c.ctx(), n.js, c.topology(name), bopts)
		if err != nil {
			t.Fatal(err)
		}
		n.kv = kv
	}
	return c
}

func (c *cluster) ctx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	c.t.Cleanup(cancel)
	return ctx
}

func (c *cluster) topology(local string) concordnats.Topology {
	return concordnats.Topology{Bucket: bucket, Local: local, Regions: c.names}
}

// start starts n's server over its store directory and connects a client.
func (c *cluster) start(n *node) {
	c.t.Helper()
	u, _ := url.Parse("nats-leaf://" + n.proxy.addr())
	n.srv = startServer(c.t, &server.Options{
		ServerName: n.name, Host: "127.0.0.1", Port: n.port,
		JetStream: true, JetStreamDomain: n.name, StoreDir: n.dir,
		JetStreamMaxMemory: 64 << 20, JetStreamMaxStore: 256 << 20,
		LeafNode: server.LeafNodeOpts{
			ReconnectInterval: 100 * time.Millisecond,
			Remotes:           []*server.RemoteLeafOpts{{URLs: []*url.URL{u}}},
		},
	})
	if n.nc == nil {
		nc, err := natsgo.Connect(n.srv.ClientURL(), natsgo.MaxReconnects(-1), natsgo.ReconnectWait(50*time.Millisecond))
		if err != nil {
			c.t.Fatal(err)
		}
		n.nc = nc
		n.js, err = jetstream.New(nc, jetstream.WithDefaultTimeout(2*time.Second))
		if err != nil {
			c.t.Fatal(err)
		}
	}
}

// stop shuts n's server down (its client keeps trying to reconnect).
func (c *cluster) stop(n *node) {
	if n.srv != nil {
		n.srv.Shutdown()
		n.srv.WaitForShutdown()
		n.srv = nil
	}
}

// waitLinked waits until every region's leaf link is up.
func (c *cluster) waitLinked() {
	c.t.Helper()
	eventually(c.t, 10*time.Second, func() error {
		if n := c.hub.NumLeafNodes(); n != len(c.names) {
			return fmt.Errorf("%d of %d leaf links up", n, len(c.names))
		}
		return nil
	})
}

// eventually polls f until it returns nil or the deadline passes.
func eventually(t testing.TB, within time.Duration, f func() error) {
	t.Helper()
	deadline := time.Now().Add(within)
	wait := 5 * time.Millisecond
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %v", within, err)
		}
		time.Sleep(wait)
		wait = min(2*wait, 100*time.Millisecond)
	}
}

var errPending = errors.New("pending")

// cut cuts or heals region's leaf link and waits until the hub sees it.
func (c *cluster) cut(region string, cut bool) {
	c.t.Helper()
	c.nodes[region].proxy.setCut(cut)
	want := len(c.names)
	if cut {
		want--
	}
	eventually(c.t, 10*time.Second, func() error {
		if n := c.hub.NumLeafNodes(); n != want {
			return fmt.Errorf("%d leaf links up, want %d", n, want)
		}
		return nil
	})
}
