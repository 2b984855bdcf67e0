package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// argsEnv, set only in a child, holds the command line the test binary
// runs main with instead of its tests, one argument per line.
const argsEnv = "CONCORD_HOLDSERVICE_ARGS"

func TestMain(m *testing.M) {
	if args, ok := os.LookupEnv(argsEnv); ok {
		os.Args = append(os.Args[:1], strings.Split(args, "\n")...)
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestRestartKeepsHolds runs the program as a process of its own on a
// SQLite file, writes a hold over HTTP (create, a blind note, an extend
// command), kills the process with SIGKILL — a crash, not a shutdown — and
// starts it again on the file: it is the same replica, serves the hold with
// the ETag and value it last acknowledged, and takes a confirm conditional
// on that ETag. A clean stop (SIGTERM) and a third start keep the confirm.
func TestRestartKeepsHolds(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lisbon.db")
	p := start(t, path)
	p.do("PUT", "/holds/H-8821", `{"cabin":"C14","agency":"lisbon-desk","expires_at":"2030-01-01T10:00:00Z"}`, 201, "If-None-Match", "*")
	p.do("PATCH", "/holds/H-8821/note", `{"note":"window seat"}`, 200)
	acked := p.do("POST", "/holds/H-8821/extend", `{"by":"30m"}`, 200, "Idempotency-Key", "ext-1")
	p.kill()

	q := start(t, path)
	if q.replica != p.replica {
		t.Errorf("restarted as replica %s, was %s: a durable store keeps its ID", q.replica, p.replica)
	}
	got := q.do("GET", "/holds/H-8821", "", 200)
	if got.etag != acked.etag || got.hold["note"] != "window seat" || got.hold["expires_at"] != "2030-01-01T10:30:00Z" {
		t.Fatalf("after the crash: ETag %s, hold %v; acknowledged ETag %s, note and 10:30 expiry", got.etag, got.hold, acked.etag)
	}
	q.do("POST", "/holds/H-8821/confirm", `{"booking_id":"B-3107"}`, 200, "If-Match", acked.etag)
	q.stop()

	r := start(t, path)
	if got := r.do("GET", "/holds/H-8821", "", 200); got.hold["status"] != "confirmed" || got.hold["booking_id"] != "B-3107" {
		t.Errorf("after a clean stop: %v", got.hold)
	}
	r.stop()
}

// TestBadStore: stores the program does not know, and a path it cannot
// open, fail the start.
func TestBadStore(t *testing.T) {
	for _, store := range []string{"nope:x", "sqlite:", filepath.Join(t.TempDir(), "missing", "dir", "x.db")} {
		if store[0] == '/' {
			store = "sqlite:" + store
		}
		err := command.Run(t.Context(), []string{"-addr", "127.0.0.1:0", "-store", store}, io.Discard, nil)
		if err == nil {
			t.Errorf("-store %s: started", store)
		}
	}
}

// process is the program running as a child process.
type process struct {
	t       *testing.T
	cmd     *exec.Cmd
	url     string
	replica string
}

var banner = regexp.MustCompile(`replica (\S+), store sqlite:.* listening on (http://\S+);`)

// start runs the program on the SQLite file at path and waits for its
// banner.
func start(t *testing.T, path string) *process {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), argsEnv+"=-region\nlisbon\n-addr\n127.0.0.1:0\n-sync\n0\n-store\nsqlite:"+path)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &process{t: t, cmd: cmd}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	lines := bufio.NewScanner(out)
	for lines.Scan() {
		if m := banner.FindStringSubmatch(lines.Text()); m != nil {
			p.replica, p.url = m[1], m[2]
			break
		}
	}
	if p.url == "" {
		t.Fatalf("the program ended without its banner: %v", lines.Err())
	}
	go func() { _, _ = io.Copy(io.Discard, out) }() // the logs
	return p
}

// kill ends the process with SIGKILL: nothing of it runs after.
func (p *process) kill() {
	p.t.Helper()
	if err := p.cmd.Process.Kill(); err != nil {
		p.t.Fatal(err)
	}
	if err := p.cmd.Wait(); err == nil || !strings.Contains(err.Error(), "killed") {
		p.t.Fatalf("kill: %v", err)
	}
}

// stop asks the process to stop (SIGTERM) and waits for its clean exit.
func (p *process) stop() {
	p.t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		p.t.Fatal(err)
	}
	if err := p.cmd.Wait(); err != nil {
		p.t.Fatalf("stop: %v", err)
	}
}

type reply struct {
	etag string
	hold map[string]any
}

// do sends one request (hdr alternates names and values) and checks the
// status.
func (p *process) do(method, path, body string, status int, hdr ...string) reply {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.t.Context(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, p.url+path, strings.NewReader(body))
	if err != nil {
		p.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		p.t.Fatal(err)
	}
	if resp.StatusCode != status {
		p.t.Fatalf("%s %s: %d, want %d: %s", method, path, resp.StatusCode, status, data)
	}
	var v struct {
		Hold map[string]any `json:"hold"`
	}
	_ = json.Unmarshal(data, &v)
	return reply{etag: resp.Header.Get("ETag"), hold: v.Hold}
}
