// Command holdservice serves Harbor Point's cabin holds over HTTP for one
// region, with its records in memory, and replicates with the services of
// the other regions over HTTP. Two terminals run the lesson's two regions:
//
//	export HOLDSERVICE_TOKEN=$(openssl rand -hex 16)   # in both
//	go run ./examples/holdservice -region lisbon -addr :8081 -peer http://127.0.0.1:8082
//	go run ./examples/holdservice -region baltimore -addr :8082 -peer http://127.0.0.1:8081
//
// Each process runs anti-entropy with its peers every -sync interval (0:
// only on POST /admin/sync): the range-based reconciliation of package
// replica, whose cost grows with the records that differ, not with the
// store, then the states that differ, both ways. Replication and the admin
// routes take the shared bearer token (-token, or HOLDSERVICE_TOKEN): the
// regions trust each other's records, so nobody else may reach them.
// Without a token the service runs alone. Without -addr it listens on
// loopback only.
//
//	GET    /holds/{id}          the hold as the region sees it, with its ETag: one
//	                            value and the decisions that merged it, or the
//	                            branches of an open conflict. If-None-Match → 304.
//	PUT    /holds/{id}          create (If-None-Match: * required; 412 if it exists)
//	                            {"cabin":"C14","agency":"lisbon-desk","expires_in":"10m"}
//	                            (or "expires_at": RFC 3339)
//	PATCH  /holds/{id}/note     BLIND write of the agent note: last writer wins. A
//	                            concurrent edit in the other region may replace it,
//	                            silently; fine for a draft note only. With If-Match
//	                            it is a conditional write instead.  {"note":"..."}
//	POST   /holds/{id}/extend   merge-aware command: Idempotency-Key required (400
//	                            without; a replay returns the first response; the
//	                            key with another payload → 422). Concurrent extends
//	                            merge to the later expiry. {"by":"5m"} or
//	                            {"until": RFC 3339}, optional "agency".
//	POST   /holds/{id}/confirm  conditional: If-Match required (428 without, 412 if
//	                            stale, with the current ETag). {"booking_id":"B-3107"}
//	POST   /holds/{id}/release  conditional, like confirm; the body may be empty.
//	DELETE /holds/{id}          conditional delete (tombstone): If-Match required
//	                            (428 without, 412 if stale); 204. An open conflict
//	                            is 409 unless If-Match is the conflict's ETag. A
//	                            delete concurrent with a confirm is a conflict.
//	POST   /holds/{id}/resolve  settle an open conflict: If-Match the conflict's
//	                            ETag, {"keep":"baltimore:1"} (a branch's dot or tag).
//	GET    /conflicts           the region's review queue.
//	GET    /debug/vars          expvar JSON: resolve counters by kind and
//	                            entity.field policy, review-queue depth, and each
//	                            peer's replication status (last success, records
//	                            sent and received, errors).
//	POST   /replicate           the replication endpoint of the peers (token).
//	POST   /admin/sync          one anti-entropy session with each peer now (token).
//	POST   /admin/partition     cut this region off from the others, to stage
//	                            concurrent writes (token);
//	DELETE /admin/partition     heal it and run a session (token).
//
// Every route takes ?region=NAME as a check: a process answers only for its
// own region. Errors are application/problem+json (RFC 9457); see package
// httpapi for the mapping. Illegal transitions (confirming a released hold,
// an expired hold) are 409; a command that cannot be carried out as written
// (shortening a hold, a confirm without booking) is 422.
//
// curl.sh in this folder starts both regions and walks through the lesson
// with curl, across them: a partition, a region stopped and restarted, and
// the heal.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, nil); err != nil {
		fmt.Fprintln(os.Stderr, "holdservice:", err)
		os.Exit(1)
	}
}

// peers collects the repeatable -peer flag.
type peers []string

func (p *peers) String() string     { return strings.Join(*p, ",") }
func (p *peers) Set(v string) error { *p = append(*p, v); return nil }

// run serves until ctx is done. ready, if not nil, is called with the
// listening address once the service accepts connections.
func run(ctx context.Context, args []string, stdout io.Writer, ready func(addr string)) error {
	fs := flag.NewFlagSet("holdservice", flag.ContinueOnError)
	fs.SetOutput(stdout)
	region := fs.String("region", "lisbon", "the region this process serves")
	addr := fs.String("addr", "127.0.0.1:8080", "listen address")
	var ps peers
	fs.Var(&ps, "peer", "base URL of another region's service, such as http://127.0.0.1:8082 (repeatable)")
	token := fs.String("token", os.Getenv("HOLDSERVICE_TOKEN"), "bearer token the regions share (default $HOLDSERVICE_TOKEN)")
	every := fs.Duration("sync", 2*time.Second, "anti-entropy interval with each peer (0: only on POST /admin/sync)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(stdout, nil))
	svc, err := NewService(Config{Region: *region, Peers: ps, Token: *token, Every: *every, Logger: logger})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: svc.Handler(), ReadHeaderTimeout: 10 * time.Second}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() { _ = svc.Replicate(ctx) })
	replication := "alone (no -peer)"
	if len(ps) > 0 {
		replication = fmt.Sprintf("anti-entropy with %s every %v", ps.String(), *every)
	}
	fmt.Fprintf(stdout, "holdservice: region %s (replica %v) listening on http://%s; %s\n", *region, svc.rep.ID(), ln.Addr(), replication)
	if ready != nil {
		ready(ln.Addr().String())
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err = <-served:
	case <-ctx.Done():
		shutdown, done := context.WithTimeout(context.Background(), 5*time.Second)
		err = srv.Shutdown(shutdown)
		done()
		<-served
	}
	cancel()
	wg.Wait()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}
