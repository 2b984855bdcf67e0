package service

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

	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/version"
)

// Command is the holdservice program: its flags, its store, its listener
// and its replication loop. The core module's examples/holdservice runs it
// with its records in memory; adapters/sqlite/cmd/holdservice runs it with
// Open for -store sqlite:PATH, so that the core module never depends on a
// database driver. The zero Command is valid: memory only.
type Command struct {
	// Stores names, for -help, the -store values Open accepts besides
	// "memory", such as "sqlite:PATH".
	Stores string
	// Open opens the store a -store value other than "memory" names, for
	// the replica of region. Nil means memory only.
	Open func(ctx context.Context, spec, region string) (Storage, error)
}

// Storage is what [Command.Open] opened: the region's records, the replica
// ID kept beside them (zero for a store that starts empty: see
// [Config].ID), and how to close them.
type Storage struct {
	Store replica.Store
	ID    version.ID
	// Close releases the store once the service has stopped. Nil means
	// nothing to close.
	Close func() error
}

// Memory is the -store value of a store in memory, empty at every start.
const Memory = "memory"

// peers collects the repeatable -peer flag.
type peers []string

func (p *peers) String() string     { return strings.Join(*p, ",") }
func (p *peers) Set(v string) error { *p = append(*p, v); return nil }

// flags are the program's command line.
type flags struct {
	region, addr, token, store string
	peers                      peers
	every                      time.Duration
}

func (c Command) parse(args []string, stdout io.Writer) (flags, error) {
	var f flags
	fs := flag.NewFlagSet("holdservice", flag.ContinueOnError)
	fs.SetOutput(stdout)
	fs.StringVar(&f.region, "region", "lisbon", "the region this process serves")
	fs.StringVar(&f.addr, "addr", "127.0.0.1:8080", "listen address")
	fs.Var(&f.peers, "peer", "base URL of another region's service, such as http://127.0.0.1:8082 (repeatable)")
	fs.StringVar(&f.token, "token", os.Getenv("HOLDSERVICE_TOKEN"), "bearer token the regions share (default $HOLDSERVICE_TOKEN)")
	fs.DurationVar(&f.every, "sync", 2*time.Second, "anti-entropy interval with each peer (0: only on POST /admin/sync)")
	stores := Memory
	if c.Stores != "" {
		stores += " | " + c.Stores
	}
	fs.StringVar(&f.store, "store", Memory, "where the region's records live: "+stores)
	return f, fs.Parse(args)
}

// open opens the store f names.
func (c Command) open(ctx context.Context, f flags) (Storage, error) {
	switch {
	case f.store == Memory:
		return Storage{}, nil
	case c.Open == nil:
		return Storage{}, fmt.Errorf("holdservice: unknown -store %q: this build keeps its records in memory only", f.store)
	}
	st, err := c.Open(ctx, f.store, f.region)
	if err == nil && st.Store == nil {
		err = fmt.Errorf("holdservice: -store %q opened no store", f.store)
	}
	return st, err
}

// Main runs the program as a process's main function: with its command
// line, until SIGINT or SIGTERM, and exits with status 1 on an error.
func (c Command) Main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := c.Run(ctx, os.Args[1:], os.Stdout, nil)
	stop()
	if err != nil {
		// The service's own errors carry the program's name already;
		// others (a flag, a listener) are given it, once.
		msg := err.Error()
		if !strings.HasPrefix(msg, "holdservice: ") {
			msg = "holdservice: " + msg
		}
		fmt.Fprintln(os.Stderr, msg)
		os.Exit(1)
	}
}

// Run runs the program with args (the command line without the program's
// name) until ctx is done, printing its banner and logs to stdout. ready,
// if not nil, is called with the listening address once the service
// accepts connections.
func (c Command) Run(ctx context.Context, args []string, stdout io.Writer, ready func(addr string)) (err error) {
	f, err := c.parse(args, stdout)
	if err != nil {
		return err
	}
	st, err := c.open(ctx, f)
	if err != nil {
		return err
	}
	if st.Close != nil {
		defer func() { err = errors.Join(err, st.Close()) }()
	}
	logger := slog.New(slog.NewTextHandler(stdout, nil))
	svc, err := New(ctx, Config{Region: f.region, Store: st.Store, ID: st.ID, Peers: f.peers, Token: f.token, Every: f.every, Logger: logger})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		return err
	}
	replication := "alone (no -peer)"
	if len(f.peers) > 0 {
		replication = fmt.Sprintf("anti-entropy with %s every %v", f.peers.String(), f.every)
	}
	fmt.Fprintf(stdout, "holdservice: region %s (replica %v, store %s) listening on http://%s; %s\n", f.region, svc.rep.ID(), f.store, ln.Addr(), replication)
	if ready != nil {
		ready(ln.Addr().String())
	}
	return svc.serve(ctx, ln)
}

// serve serves on ln and replicates until ctx is done, then shuts down.
func (s *Service) serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() { _ = s.Replicate(ctx) })
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	var err error
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
