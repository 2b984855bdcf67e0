package nats_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// This file runs nats-servers as child processes — the test binary itself,
// re-executed — so that a test can kill one with SIGKILL: a hard stop, with
// no chance to flush, unlike Server.Shutdown.

// childEnv carries a child's server spec, as JSON.
const childEnv = "CONCORD_NATS_TEST_SERVER"

// childSpec is a server to run in a child process.
type childSpec struct {
	Name        string `json:"name"`
	Port        int    `json:"port"`
	Dir         string `json:"dir"`
	Cluster     string `json:"cluster,omitempty"`
	ClusterPort int    `json:"cluster_port,omitempty"`
	Routes      []int  `json:"routes,omitempty"` // the other members' cluster ports
	Domain      string `json:"domain,omitempty"`
	SyncAlways  bool   `json:"sync_always,omitempty"`
}

func TestMain(m *testing.M) {
	if spec := os.Getenv(childEnv); spec != "" {
		os.Exit(runChild(spec))
	}
	os.Exit(m.Run())
}

// runChild runs the server spec describes until its stdin closes (the
// parent stops it) or it is killed.
func runChild(spec string) int {
	var c childSpec
	if err := json.Unmarshal([]byte(spec), &c); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	opts := &server.Options{
		ServerName: c.Name, Host: "127.0.0.1", Port: c.Port, NoLog: true, NoSigs: true,
		JetStream: true, StoreDir: c.Dir, JetStreamDomain: c.Domain, SyncAlways: c.SyncAlways,
		JetStreamMaxMemory: 64 << 20, JetStreamMaxStore: 256 << 20,
	}
	if c.ClusterPort != 0 {
		opts.Cluster = server.ClusterOpts{Name: c.Cluster, Host: "127.0.0.1", Port: c.ClusterPort}
		for _, p := range c.Routes {
			u, _ := url.Parse("nats-route://127.0.0.1:" + strconv.Itoa(p))
			opts.Routes = append(opts.Routes, u)
		}
	}
	s, err := server.NewServer(opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	s.Start()
	if !s.ReadyForConnections(20 * time.Second) {
		fmt.Fprintln(os.Stderr, "not ready")
		return 2
	}
	fmt.Println("ready")
	_, _ = io.Copy(io.Discard, os.Stdin)
	s.Shutdown()
	s.WaitForShutdown()
	return 0
}

// proc is a nats-server in a child process.
type proc struct {
	t     testing.TB
	spec  childSpec
	cmd   *exec.Cmd
	stdin io.WriteCloser
}

// startProc starts spec's server in a child process and waits until it
// accepts connections; the test's cleanup kills it.
func startProc(t testing.TB, spec childSpec) *proc {
	t.Helper()
	p := &proc{t: t, spec: spec}
	p.start()
	t.Cleanup(p.kill)
	return p
}

func (p *proc) start() {
	p.t.Helper()
	b, _ := json.Marshal(p.spec)
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), childEnv+"="+string(b))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		p.t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		p.t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		p.t.Fatal(err)
	}
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		ok := sc.Scan() && sc.Text() == "ready"
		ready <- ok
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case ok := <-ready:
		if !ok {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			p.t.Fatalf("server %s did not start", p.spec.Name)
		}
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		p.t.Fatalf("server %s did not start within 30s", p.spec.Name)
	}
	p.cmd, p.stdin = cmd, stdin
}

// kill stops the server with SIGKILL: nothing is flushed, nothing closed
// cleanly. It does nothing if the server is not running.
func (p *proc) kill() {
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Kill()
	_ = p.cmd.Wait()
	_ = p.stdin.Close()
	p.cmd = nil
}

func (p *proc) url() string { return "nats://127.0.0.1:" + strconv.Itoa(p.spec.Port) }
