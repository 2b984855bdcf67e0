// Command holdservice serves Harbor Point's cabin holds over HTTP from two
// in-memory regions, "lisbon" and "baltimore", that replicate to each other
// in the background. It shows the lesson's three write styles as an API:
//
//	go run ./examples/holdservice [-addr 127.0.0.1:8080] [-sync 2s]
//
// Every route takes ?region=lisbon (the default) or ?region=baltimore: the
// region that serves the request. The regions converge by anti-entropy
// every -sync interval (0 turns the background loop off; POST /admin/sync
// runs a round now).
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
//	POST   /holds/{id}/resolve  settle an open conflict: If-Match the conflict's
//	                            ETag, {"keep":"baltimore:1"} (a branch's dot or tag).
//	GET    /conflicts           the review queues (?region= for one).
//	GET    /debug/vars          expvar JSON: resolve counters by kind and
//	                            entity.field policy, review-queue depths.
//	POST   /admin/sync          one anti-entropy round now.
//	POST   /admin/partition     stop replication (to stage concurrent writes);
//	DELETE /admin/partition     heal it and run a round.
//
// Errors are application/problem+json (RFC 9457); see package httpapi for
// the mapping. Illegal transitions (confirming a released hold, an expired
// hold) are 409; a command that cannot be carried out as written
// (shortening a hold, a confirm without booking) is 422.
//
// curl.sh in this folder starts the service and walks through the lesson
// with curl.
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

// run serves until ctx is done. ready, if not nil, is called with the
// listening address once the service accepts connections.
func run(ctx context.Context, args []string, stdout io.Writer, ready func(addr string)) error {
	fs := flag.NewFlagSet("holdservice", flag.ContinueOnError)
	fs.SetOutput(stdout)
	addr := fs.String("addr", "127.0.0.1:8080", "listen address")
	every := fs.Duration("sync", 2*time.Second, "anti-entropy interval between the regions (0: only on POST /admin/sync)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(stdout, nil))
	svc, err := NewService(Config{Logger: logger})
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
	if *every > 0 {
		ticker := time.NewTicker(*every)
		defer ticker.Stop()
		wg.Go(func() { _ = svc.Replicate(ctx, ticker.C) })
	}
	fmt.Fprintf(stdout, "holdservice: listening on http://%s (regions lisbon, baltimore; anti-entropy every %v)\n", ln.Addr(), *every)
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
