package main

import (
	"context"
	"crypto/subtle"
	"encoding/json"
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
	"github.com/harborpoint/concord/policy"
	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

// Config configures a Service. The zero Config is valid: region lisbon,
// no peers.
type Config struct {
	// Region names this process's replica, such as "lisbon". "" means
	// "lisbon".
	Region string
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

// Service is the hold service of one region: its replica, in memory, behind
// an HTTP handler, replicating with the services of the other regions over
// HTTP. It is safe for concurrent use.
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

// NewService returns the service of an empty region.
func NewService(cfg Config) (*Service, error) {
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
	// The store is in memory, so every start is a replica without state: a
	// new incarnation, so that it never reissues the dots of the last one.
	id, err := version.NewIncarnation(s.name)
	if err != nil {
		return nil, err
	}
	res := hold.Resolver(resolve.Options{SkewWindow: cfg.SkewWindow})
	clock := version.NewHLC(version.HLCOptions{Now: s.now}, version.Timestamp{})
	s.rep, err = replica.New(id, replica.NewMemoryStore(), res, replica.Options[hold.Hold]{
		Clock: clock, Observer: s.counters, CommandKeys: hold.CommandKeys, Now: s.now, Logger: s.logger,
	})
	if err != nil {
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

// Handler returns the service's routes.
func (s *Service) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /holds/{id}", s.get)
	mux.HandleFunc("PUT /holds/{id}", s.create)
	mux.HandleFunc("PATCH /holds/{id}/note", s.note)
	mux.Handle("POST /holds/{id}/extend", s.idem.Require(http.HandlerFunc(s.extend)))
	mux.HandleFunc("POST /holds/{id}/confirm", s.confirm)
	mux.HandleFunc("POST /holds/{id}/release", s.release)
	mux.HandleFunc("DELETE /holds/{id}", s.deleteHold)
	mux.HandleFunc("POST /holds/{id}/resolve", s.resolveConflict)
	mux.HandleFunc("GET /conflicts", s.conflicts)
	mux.HandleFunc("GET /debug/vars", s.debugVars)
	if s.replicate != nil {
		mux.Handle("POST /replicate", s.replicate)
		mux.Handle("POST /admin/sync", s.authorized(http.HandlerFunc(s.sync)))
		mux.Handle("POST /admin/partition", s.authorized(http.HandlerFunc(s.partition)))
		mux.Handle("DELETE /admin/partition", s.authorized(http.HandlerFunc(s.heal)))
	}
	// No catch-all route: Routes answers an unknown path with 404 and a
	// known path with another method with 405 and Allow.
	return httpapi.Routes(mux)
}

// region returns the replica, checking the ?region= a request may name: a
// process serves one region.
func (s *Service) region(w http.ResponseWriter, r *http.Request) (*replica.Replica[hold.Hold], bool) {
	if name := r.URL.Query().Get("region"); name != "" && name != s.name {
		(&httpapi.Problem{Title: "Unknown region", Status: http.StatusBadRequest, Instance: r.URL.Path,
			Detail:     fmt.Sprintf("this process serves region %s; ask %s's own service", s.name, name),
			Extensions: map[string]any{"region": s.name}}).Write(w)
		return nil, false
	}
	w.Header().Set("Concord-Region", s.name)
	return s.rep, true
}

// holdView is the JSON representation of a hold in one region.
type holdView struct {
	ID        string        `json:"id"`
	Region    string        `json:"region"`
	ETag      string        `json:"etag"`
	Hold      *hold.Hold    `json:"hold,omitempty"`
	Decisions []string      `json:"decisions,omitempty"`
	Conflict  *conflictView `json:"conflict,omitempty"`
}

type conflictView struct {
	Reason   string                      `json:"reason"`
	Field    string                      `json:"field,omitempty"`
	Rule     string                      `json:"rule,omitempty"`
	Branches []httpapi.Branch[hold.Hold] `json:"branches"`
}

func view(region string, rec replica.Record[hold.Hold]) holdView {
	v := holdView{ID: rec.Key, Region: region, ETag: httpapi.ETag(rec.Token)}
	if c := rec.Conflict; c != nil {
		v.Conflict = &conflictView{Reason: c.Reason, Field: c.Field, Rule: c.Rule, Branches: httpapi.Branches(rec.Branches)}
		return v
	}
	h := rec.Value
	v.Hold = &h
	for _, d := range rec.Decisions {
		if d.Outcome != policy.Same {
			v.Decisions = append(v.Decisions, d.String())
		}
	}
	return v
}

func (s *Service) writeRecord(w http.ResponseWriter, _ *http.Request, status int, rec replica.Record[hold.Hold]) {
	httpapi.SetETag(w.Header(), rec.Token)
	writeJSON(w, status, view(w.Header().Get("Concord-Region"), rec))
}

// GET /holds/{id}: the hold as the region sees it — one value, or the
// branches of an open conflict — with its ETag. If-None-Match → 304.
func (s *Service) get(w http.ResponseWriter, r *http.Request) {
	rep, ok := s.region(w, r)
	if !ok {
		return
	}
	rec, err := rep.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		s.resp.Error(w, r, err)
		return
	}
	inm, err := httpapi.IfNoneMatch(r)
	if err != nil {
		s.resp.Error(w, r, err)
		return
	}
	if inm.MatchWeak(rec.Token) {
		httpapi.SetETag(w.Header(), rec.Token)
		w.WriteHeader(http.StatusNotModified)
		return
	}
	s.writeRecord(w, r, http.StatusOK, rec)
}

type createRequest struct {
	Cabin     string    `json:"cabin"`
	Agency    string    `json:"agency"`
	ExpiresAt time.Time `json:"expires_at"`
	ExpiresIn string    `json:"expires_in"` // a Go duration, such as "10m"
}

// PUT /holds/{id} with If-None-Match: * creates a hold.
func (s *Service) create(w http.ResponseWriter, r *http.Request) {
	rep, ok := s.region(w, r)
	if !ok {
		return
	}
	inm, err := httpapi.IfNoneMatch(r)
	if err != nil {
		s.resp.Error(w, r, err)
		return
	}
	if !inm.Any {
		s.resp.Error(w, r, &httpapi.Problem{Type: httpapi.TypePreconditionRequired, Title: "Precondition required",
			Status: http.StatusPreconditionRequired, Detail: "PUT only creates holds: send If-None-Match: *"})
		return
	}
	req, err := httpapi.DecodeJSON[createRequest](r, httpapi.DecodeOptions{})
	if err != nil {
		s.resp.Error(w, r, err)
		return
	}
	expires, err := s.expiry(req.ExpiresAt, req.ExpiresIn, "expires_at", "expires_in")
	if req.Cabin == "" {
		err = invalid("cabin is required")
	}
	if err != nil {
		s.resp.Error(w, r, err)
		return
	}
	id := r.PathValue("id")
	rec, err := rep.Create(r.Context(), id, hold.New(id, req.Cabin, req.Agency, expires))
	if err != nil {
		s.resp.Error(w, r, err)
		return
	}
	w.Header().Set("Location", r.URL.Path)
	s.writeRecord(w, r, http.StatusCreated, rec)
}

// expiry reads an absolute time or a duration from now, exactly one.
func (s *Service) expiry(at time.Time, in, atName, inName string) (time.Time, error) {
	switch {
	case at.IsZero() == (in == ""):
		return time.Time{}, invalid(fmt.Sprintf("send exactly one of %s and %s", atName, inName))
	case in != "":
		d, err := time.ParseDuration(in)
		if err != nil || d <= 0 {
			return time.Time{}, invalid(fmt.Sprintf("%s %q is not a positive duration such as \"5m\"", inName, in))
		}
		return s.now().Add(d).Truncate(time.Second), nil
	}
	return at, nil
}

// invalid is a 422 problem for a request whose JSON is fine but whose values are not.
func invalid(detail string) error {
	return &httpapi.Problem{Title: "Invalid request", Status: http.StatusUnprocessableEntity, Detail: detail}
}

type noteRequest struct {
	Note string `json:"note"`
}

// PATCH /holds/{id}/note: a blind write of the agent note — last writer
// wins, so a concurrent edit in the other region can replace it. With
// If-Match it becomes a conditional write.
func (s *Service) note(w http.ResponseWriter, r *http.Request) {
	rep, ok := s.region(w, r)
	if !ok {
		return
	}
	cond, err := httpapi.IfMatch(r)
	if err != nil {
		s.resp.Error(w, r, err)
		return
	}
	req, err := httpapi.DecodeJSON[noteRequest](r, httpapi.DecodeOptions{})
	if err != nil {
		s.resp.Error(w, r, err)
		return
	}
	id := r.PathValue("id")
	var rec replica.Record[hold.Hold]
	if cond.IsZero() {
		w.Header().Set("Concord-Write", "blind; policy=lww")
		rec, err = rep.Blind(r.Context(), id, "note", hold.NoteEdit(req.Note))
	} else {
		w.Header().Set("Concord-Write", "conditional")
		rec, err = s.conditional(r, rep, cond, func(h *hold.Hold) error { h.Note = req.Note; return nil })
	}
	if err != nil {
		s.resp.Error(w, r, err)
		return
	}
	s.writeRecord(w, r, http.StatusOK, rec)
}

// conditional runs a conditional write with the If-Match condition cond,
// evaluated against the hold's current ETag first (a tag that is not current
// is a 412). A missing hold is a 404 before any precondition (RFC 9110
// §13.2.1: a request that would fail without its preconditions fails so).
func (s *Service) conditional(r *http.Request, rep *replica.Replica[hold.Hold], cond httpapi.Condition, fn func(*hold.Hold) error) (replica.Record[hold.Hold], error) {
	id := r.PathValue("id")
	cur, err := rep.Get(r.Context(), id)
	if err != nil {
		return cur, err
	}
	token, err := cond.Token(cur.Token)
	if err != nil {
		return cur, err
	}
	return rep.Update(r.Context(), id, token, func(h *hold.Hold, _ replica.Write) error { return fn(h) })
}

type extendRequest struct {
	Until  time.Time `json:"until"`
	By     string    `json:"by"` // a Go duration added to the current expiry
	Agency string    `json:"agency"`
}

// POST /holds/{id}/extend (Idempotency-Key): a merge-aware command — two
// concurrent extends merge to the later expiry, so no If-Match is needed.
func (s *Service) extend(w http.ResponseWriter, r *http.Request) {
	rep, ok := s.region(w, r)
	if !ok {
		return
	}
	key, err := httpapi.IdempotencyKey(r)
	if err != nil {
		s.resp.Error(w, r, err)
		return
	}
	req, err := httpapi.DecodeJSON[extendRequest](r, httpapi.DecodeOptions{})
	if err != nil {
		s.resp.Error(w, r, err)
		return
	}
	var by time.Duration
	if req.By != "" {
		if by, err = time.ParseDuration(req.By); err != nil || by <= 0 {
			s.resp.Error(w, r, invalid(fmt.Sprintf("by %q is not a positive duration such as \"5m\"", req.By)))
			return
		}
	}
	if req.Until.IsZero() == (by == 0) {
		s.resp.Error(w, r, invalid("send exactly one of until and by"))
		return
	}
	w.Header().Set("Concord-Write", "command; merge=later-expiry")
	rec, replayed, err := rep.Command(r.Context(), r.PathValue("id"), key, func(h *hold.Hold, _ replica.Write) error {
		if req.Agency != "" {
			h.Touch(req.Agency)
		}
		until := req.Until
		if by != 0 {
			until = h.ExpiresAt.Add(by)
		}
		return h.Extend(until)
	})
	if err != nil {
		s.resp.Error(w, r, err)
		return
	}
	if replayed {
		w.Header().Set(httpapi.ReplayedHeader, "true")
	}
	s.writeRecord(w, r, http.StatusOK, rec)
}

type confirmRequest struct {
	BookingID string `json:"booking_id"`
	Agency    string `json:"agency"`
}

// POST /holds/{id}/confirm (If-Match required): a conditional lifecycle change.
func (s *Service) confirm(w http.ResponseWriter, r *http.Request) {
	s.lifecycle(w, r, func(r *http.Request) (func(*hold.Hold) error, error) {
		req, err := httpapi.DecodeJSON[confirmRequest](r, httpapi.DecodeOptions{})
		if err != nil {
			return nil, err
		}
		return func(h *hold.Hold) error {
			if req.Agency != "" {
				h.Touch(req.Agency)
			}
			return h.Confirm(req.BookingID, s.now())
		}, nil
	})
}

type releaseRequest struct {
	Agency string `json:"agency"`
}

// POST /holds/{id}/release (If-Match required): a conditional lifecycle change.
func (s *Service) release(w http.ResponseWriter, r *http.Request) {
	s.lifecycle(w, r, func(r *http.Request) (func(*hold.Hold) error, error) {
		req, err := httpapi.DecodeJSON[releaseRequest](r, httpapi.DecodeOptions{AllowEmpty: true})
		if err != nil {
			return nil, err
		}
		return func(h *hold.Hold) error {
			if req.Agency != "" {
				h.Touch(req.Agency)
			}
			return h.Release()
		}, nil
	})
}

func (s *Service) lifecycle(w http.ResponseWriter, r *http.Request, parse func(*http.Request) (func(*hold.Hold) error, error)) {
	rep, ok := s.region(w, r)
	if !ok {
		return
	}
	cond, err := httpapi.RequireIfMatch(r)
	if err != nil {
		s.resp.Error(w, r, err)
		return
	}
	fn, err := parse(r)
	if err != nil {
		s.resp.Error(w, r, err)
		return
	}
	w.Header().Set("Concord-Write", "conditional")
	rec, err := s.conditional(r, rep, cond, fn)
	if err != nil {
		s.resp.Error(w, r, err)
		return
	}
	s.writeRecord(w, r, http.StatusOK, rec)
}

// DELETE /holds/{id} (If-Match): delete a hold — a conditional write that
// leaves a tombstone, replicated and reaped once every region has it. 204 on
// success; 428 without If-Match; 412 when stale; 409 when the hold has an
// open conflict the client has not seen (If-Match: * or another tag than
// the conflict's ETag) — a DELETE naming the conflict's ETag settles it.
func (s *Service) deleteHold(w http.ResponseWriter, r *http.Request) {
	rep, ok := s.region(w, r)
	if !ok {
		return
	}
	cond, err := httpapi.RequireIfMatch(r)
	if err != nil {
		s.resp.Error(w, r, err)
		return
	}
	id := r.PathValue("id")
	cur, err := rep.Get(r.Context(), id)
	if err != nil {
		s.resp.Error(w, r, err)
		return
	}
	if cur.Conflict != nil && (cond.Any || !cond.MatchStrong(cur.Token)) {
		s.resp.Error(w, r, cur.Conflict)
		return
	}
	token, err := cond.Token(cur.Token)
	if err == nil {
		_, err = rep.Delete(r.Context(), id, token)
	}
	if err != nil {
		s.resp.Error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type resolveRequest struct {
	Keep string `json:"keep"` // the dot ("lisbon:19") or tag of the branch to keep
}

// POST /holds/{id}/resolve (If-Match: the conflict's ETag): settle an open
// conflict by keeping one branch. The write covers every branch, and the
// idempotency keys of the others are kept, so their commands do not apply
// again.
func (s *Service) resolveConflict(w http.ResponseWriter, r *http.Request) {
	rep, ok := s.region(w, r)
	if !ok {
		return
	}
	cond, err := httpapi.RequireIfMatch(r)
	if err != nil {
		s.resp.Error(w, r, err)
		return
	}
	req, err := httpapi.DecodeJSON[resolveRequest](r, httpapi.DecodeOptions{})
	if err != nil {
		s.resp.Error(w, r, err)
		return
	}
	id := r.PathValue("id")
	cur, err := rep.Get(r.Context(), id)
	if err != nil {
		s.resp.Error(w, r, err)
		return
	}
	var dots []string
	for _, b := range httpapi.Branches(cur.Branches) {
		dots = append(dots, b.Dot)
		if req.Keep != b.Dot && req.Keep != b.Tag && httpapi.ETag(req.Keep) != b.Tag {
			continue
		}
		token, err := cond.Token(cur.Token)
		if err != nil {
			s.resp.Error(w, r, err)
			return
		}
		w.Header().Set("Concord-Write", "conditional")
		rec, err := rep.ResolveConflict(r.Context(), id, token, b.Value)
		if err != nil {
			s.resp.Error(w, r, err)
			return
		}
		s.writeRecord(w, r, http.StatusOK, rec)
		return
	}
	s.resp.Error(w, r, &httpapi.Problem{Title: "No such branch", Status: http.StatusUnprocessableEntity,
		Detail: fmt.Sprintf("keep %q names no branch of %s", req.Keep, id), Extensions: map[string]any{"branches": dots}})
}

type reviewView struct {
	ID        string                      `json:"id"`
	Region    string                      `json:"region"`
	ETag      string                      `json:"etag"`
	Field     string                      `json:"field,omitempty"`
	Rule      string                      `json:"rule,omitempty"`
	Reason    string                      `json:"reason"`
	FirstSeen time.Time                   `json:"first_seen"`
	Branches  []httpapi.Branch[hold.Hold] `json:"branches"`
}

// GET /conflicts: the region's review queue.
func (s *Service) conflicts(w http.ResponseWriter, r *http.Request) {
	rep, ok := s.region(w, r)
	if !ok {
		return
	}
	items := []reviewView{}
	for _, it := range rep.Conflicts() {
		items = append(items, reviewView{ID: it.Key, Region: s.name, ETag: httpapi.ETag(it.Token), Field: it.Field,
			Rule: it.Rule, Reason: it.Reason, FirstSeen: it.FirstSeen, Branches: httpapi.Branches(it.Branches)})
	}
	writeJSON(w, http.StatusOK, map[string]any{"conflicts": items})
}

// GET /debug/vars: the resolve counters, review-queue depths and
// replication state, in expvar's JSON format.
func (s *Service) debugVars(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	fmt.Fprintln(w, s.vars.String())
}

// POST /admin/sync: one anti-entropy session with each peer now.
func (s *Service) sync(w http.ResponseWriter, r *http.Request) {
	if err := s.Sync(r.Context()); err != nil {
		switch {
		case errors.Is(err, errPartitioned):
			(&httpapi.Problem{Title: "Partitioned", Status: http.StatusConflict, Instance: r.URL.Path,
				Detail: "this region is partitioned; DELETE /admin/partition heals it"}).Write(w)
		case r.Context().Err() == nil:
			(&httpapi.Problem{Title: "A peer failed", Status: http.StatusBadGateway, Instance: r.URL.Path,
				Detail: err.Error()}).Write(w)
		default:
			s.resp.Error(w, r, err)
		}
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// POST /admin/partition: cut this region off from the others.
func (s *Service) partition(w http.ResponseWriter, _ *http.Request) {
	s.setPartitioned(true)
	w.WriteHeader(http.StatusNoContent)
}

// DELETE /admin/partition: heal the partition and run a session with each
// peer.
func (s *Service) heal(w http.ResponseWriter, r *http.Request) {
	s.setPartitioned(false)
	s.sync(w, r)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		(&httpapi.Problem{Title: "Internal error", Status: http.StatusInternalServerError}).Write(w)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}
