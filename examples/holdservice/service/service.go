package service

import (
	"context"
	"crypto/subtle"
	"errors"
	"expvar"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/harborpoint/concord/hold"
	"github.com/harborpoint/concord/httpapi"
	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

// Config configures a Service. The zero Config is valid: region lisbon,
// in memory, no peers.
type Config struct {
	// Region names this process's replica, such as "lisbon". "" means
	// "lisbon".
	Region string
	// Store holds the region's records. Nil means a new
	// replica.MemoryStore, empty at every start.
	Store replica.Store
	// ID is the replica ID that stamps the region's writes; its name must
	// be Region. A store that keeps its records across restarts keeps its
	// ID beside them and passes it here, so that a restart adds no entry
	// to the records' contexts. The zero ID means a new incarnation of
	// Region (version.NewIncarnation): the safe choice for a store that
	// starts without state, which must never reissue the dots of the last
	// one (see version.ID). The service never reaps tombstones, so a
	// restart over a durable store may keep its ID (a replica that reaps
	// may not: see the replica package).
	ID version.ID
	// Peers are the base URLs of the other regions' services, such as
	// "http://127.0.0.1:8082"; replication goes to their /replicate.
	Peers []string
	// Token is the bearer token the regions share: it guards this
	// service's /replicate and /admin routes, and is sent to the peers.
	// Without one, the service neither serves nor starts replication.
	Token string
	// Every is the time between anti-entropy sessions with each peer,
	// which back off while a peer fails. Zero means only POST /admin/sync.
	Every time.Duration
	// Client sends the replication requests. Nil means a client with a
	// 30-second timeout.
	Client *http.Client
	// Now reads the wall clock for stamps, expiries and the review queue.
	// Nil means time.Now.
	Now func() time.Time
	// Logger receives 5xx errors and replication failures. Nil means none.
	Logger *slog.Logger
	// SkewWindow is the clock skew tolerated between regions; LWW note
	// decisions closer than it are counted. Zero means 2s.
	SkewWindow time.Duration
}

// Service is the hold service of one region: its replica, over the store
// of [Config], behind an HTTP handler, replicating with the services of the
// other regions over HTTP. It is safe for concurrent use.
type Service struct {
	name string // the region

	rep        *replica.Replica[hold.Hold]
	replicator *replica.Replicator[hold.Hold]
	replicate  http.Handler // the replication endpoint; nil without a token
	token      string
	every      time.Duration
	counters   *resolve.Counters
	idem       *httpapi.Idempotency
	resp       httpapi.Responder
	vars       *expvar.Map
	now        func() time.Time
	logger     *slog.Logger

	// netMu guards changes of partitioned: each replication request this
	// service sends holds it for reading, so that once setPartitioned(true)
	// has returned, nothing more goes out until setPartitioned(false).
	// Requests coming in read partitioned alone, so that two services
	// partitioning at once never wait for each other.
	netMu       sync.RWMutex
	partitioned atomic.Bool
}

// errPartitioned is returned while the service is partitioned.
var errPartitioned = errors.New("holdservice: partitioned from the other regions")

// New returns the service of a region over cfg.Store. A store that kept
// records from an earlier run is scanned once, so that the review queue
// and the reconciliation index start from what it holds; a record that
// cannot be read is logged and quarantined at its first read, never fatal.
func New(ctx context.Context, cfg Config) (*Service, error) {
	s := &Service{name: cfg.Region, token: cfg.Token, every: cfg.Every, counters: &resolve.Counters{}, now: cfg.Now, logger: cfg.Logger}
	if s.name == "" {
		s.name = "lisbon"
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	if cfg.SkewWindow == 0 {
		cfg.SkewWindow = 2 * time.Second
	}
	if len(cfg.Peers) > 0 && cfg.Token == "" {
		return nil, errors.New("holdservice: replication needs a shared token (-token or HOLDSERVICE_TOKEN)")
	}
	if err := s.openReplica(ctx, cfg); err != nil {
		return nil, err
	}
	if err := s.setUpReplication(cfg); err != nil {
		return nil, err
	}
	s.idem = httpapi.NewIdempotency(httpapi.IdempotencyOptions{
		Now: s.now,
		// The query (?region=) is left out of the fingerprint.
		Target: func(r *http.Request) string { return r.Method + " " + r.URL.Path },
	})
	s.resp = httpapi.Responder{Logger: s.logger, Classify: httpapi.Classifiers(
		// The hold's state forbids the command: the request is fine, the
		// resource's state conflicts with it (RFC 9110 409).
		httpapi.Map(http.StatusConflict, "", "Illegal transition for the hold's state", hold.ErrIllegalTransition, hold.ErrExpired),
		// The request cannot be carried out as written (422).
		httpapi.Map(http.StatusUnprocessableEntity, "", "Invalid command", hold.ErrWouldShorten, hold.ErrNoBooking),
	)}
	s.vars = new(expvar.Map).Init()
	s.vars.Set("region", expvar.Func(func() any { return s.name }))
	s.vars.Set("replica", expvar.Func(func() any { return s.rep.ID().String() }))
	s.vars.Set("concord", expvar.Func(s.counterVars))
	s.vars.Set("review_queue", expvar.Func(func() any { return len(s.rep.Conflicts()) }))
	s.vars.Set("quarantined", expvar.Func(func() any { return len(s.rep.Quarantined()) }))
	s.vars.Set("idempotency_keys", expvar.Func(func() any { return s.idem.Len() }))
	s.vars.Set("partitioned", expvar.Func(func() any { return s.partitioned.Load() }))
	s.vars.Set("replication", expvar.Func(func() any { return s.replicator.Status() }))
	return s, nil
}

// openReplica builds the region's replica over cfg.Store and rescans it.
func (s *Service) openReplica(ctx context.Context, cfg Config) error {
	id, store := cfg.ID, cfg.Store
	if store == nil {
		store = replica.NewMemoryStore()
	}
	if id.IsZero() {
		var err error
		if id, err = version.NewIncarnation(s.name); err != nil {
			return err
		}
	}
	if name := id.Name(); name != s.name {
		return fmt.Errorf("holdservice: replica ID %v is not region %s's", id, s.name)
	}
	res := hold.Resolver(resolve.Options{SkewWindow: cfg.SkewWindow})
	clock := version.NewHLC(version.HLCOptions{Now: s.now}, version.Timestamp{})
	var err error
	s.rep, err = replica.New(id, store, res, replica.Options[hold.Hold]{
		Clock: clock, Observer: s.counters, CommandKeys: hold.CommandKeys, Now: s.now, Logger: s.logger,
	})
	if err != nil {
		return err
	}
	// Records that cannot be read are skipped, each a *KeyError, and stay
	// in the store for an operator; a store that fails is fatal.
	var skipped *replica.KeyError
	switch err := s.rep.Rescan(ctx); {
	case errors.As(err, &skipped):
		s.logger.Error("holdservice: some stored records cannot be read; they stay in the store, quarantined", "err", err)
	case err != nil:
		return fmt.Errorf("holdservice: read the store: %w", err)
	}
	return nil
}

// setUpReplication builds the replication endpoint and the replicator.
func (s *Service) setUpReplication(cfg Config) error {
	client := cfg.Client
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	peers := map[string]replica.Peer{}
	for _, u := range cfg.Peers {
		peers[u] = gate{s, &httpapi.ReplicationClient{URL: strings.TrimSuffix(u, "/") + "/replicate", Client: client,
			Header: http.Header{"Authorization": {"Bearer " + cfg.Token}}}}
	}
	s.replicator = replica.NewReplicator(s.rep, peers, replica.ReplicatorOptions{Every: cfg.Every, Logger: s.logger, Now: s.now})
	if cfg.Token == "" {
		return nil
	}
	h, err := httpapi.NewReplicationHandler(s.rep, httpapi.ReplicationOptions{Auth: s.authorized, Logger: s.logger})
	s.replicate = s.connected(h)
	return err
}

// authorized passes on the requests that carry the shared token: the
// example's authentication. A service in production would check a client
// certificate or its own credentials here.
func (s *Service) authorized(next http.Handler) http.Handler {
	want := []byte("Bearer " + s.token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="holdservice"`)
			(&httpapi.Problem{Title: "Unauthorized", Status: http.StatusUnauthorized, Instance: r.URL.Path,
				Detail: "send Authorization: Bearer with the token the regions share"}).Write(w)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// connected refuses replication requests while the service is partitioned.
func (s *Service) connected(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.partitioned.Load() {
			(&httpapi.Problem{Title: "Partitioned", Status: http.StatusServiceUnavailable, Instance: r.URL.Path,
				Detail: "this region is partitioned from the others (DELETE /admin/partition heals it)"}).Write(w)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// gate is a peer that refuses to send while the service is partitioned.
type gate struct {
	s    *Service
	peer replica.Peer
}

func (g gate) enter() error {
	g.s.netMu.RLock()
	if g.s.partitioned.Load() {
		g.s.netMu.RUnlock()
		return errPartitioned
	}
	return nil
}

func (g gate) Reconcile(ctx context.Context, msg []byte) ([]byte, error) {
	if err := g.enter(); err != nil {
		return nil, err
	}
	defer g.s.netMu.RUnlock()
	return g.peer.Reconcile(ctx, msg)
}

func (g gate) Push(ctx context.Context, states []replica.Delta) ([]replica.KeyError, error) {
	if err := g.enter(); err != nil {
		return nil, err
	}
	defer g.s.netMu.RUnlock()
	return g.peer.Push(ctx, states)
}

func (g gate) Pull(ctx context.Context, wants []replica.Want) ([]replica.Delta, error) {
	if err := g.enter(); err != nil {
		return nil, err
	}
	defer g.s.netMu.RUnlock()
	return g.peer.Pull(ctx, wants)
}

// setPartitioned cuts this region off from the others, or heals it. It
// waits for the replication requests in flight.
func (s *Service) setPartitioned(p bool) {
	s.netMu.Lock()
	defer s.netMu.Unlock()
	s.partitioned.Store(p)
}

// Replicate runs anti-entropy with every peer until ctx is done, every
// Config.Every (nothing if that is 0), and returns ctx's error.
func (s *Service) Replicate(ctx context.Context) error {
	if s.every <= 0 {
		<-ctx.Done()
		return ctx.Err()
	}
	return s.replicator.Run(ctx)
}

// Sync runs one anti-entropy session with each peer now.
func (s *Service) Sync(ctx context.Context) error {
	if s.partitioned.Load() {
		return errPartitioned
	}
	return s.replicator.SyncNow(ctx)
}

// counterVars renders the resolve.Counters as kind → "entity[.field][ policy]" → count.
func (s *Service) counterVars() any {
	out := map[string]map[string]uint64{}
	for k, n := range s.counters.Snapshot() {
		name := k.Entity
		if k.Field != "" {
			name += "." + k.Field
		}
		if k.Policy != "" {
			name += " " + k.Policy
		}
		kind := k.Kind.String()
		if out[kind] == nil {
			out[kind] = map[string]uint64{}
		}
		out[kind][name] += n
	}
	return out
}
