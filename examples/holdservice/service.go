package main

import (
	"context"
	"encoding/json"
	"errors"
	"expvar"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
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

// Regions are the service's replicas, the first the default.
var Regions = []string{"lisbon", "baltimore"}

// Config configures a Service. The zero Config is valid.
type Config struct {
	// Now reads the wall clock for stamps, expiries and the review queue.
	// Nil means time.Now.
	Now func() time.Time
	// Logger receives 5xx errors and replication failures. Nil means none.
	Logger *slog.Logger
	// SkewWindow is the clock skew tolerated between regions; LWW note
	// decisions closer than it are counted. Zero means 2s.
	SkewWindow time.Duration
}

// Service is the hold service: two in-memory regions behind one HTTP
// handler. It is safe for concurrent use.
type Service struct {
	regions  map[string]*replica.Replica[hold.Hold]
	counters *resolve.Counters
	idem     *httpapi.Idempotency
	resp     httpapi.Responder[hold.Hold]
	vars     *expvar.Map
	now      func() time.Time
	logger   *slog.Logger

	// syncMu runs one anti-entropy round at a time and guards changes of
	// partitioned, so that a round never starts before a partition and
	// ends after it; partitioned is atomic only for /debug/vars to read.
	syncMu      sync.Mutex
	partitioned atomic.Bool
	rounds      atomic.Uint64
}

// NewService returns a service with empty regions.
func NewService(cfg Config) (*Service, error) {
	s := &Service{
		regions:  map[string]*replica.Replica[hold.Hold]{},
		counters: &resolve.Counters{},
		now:      cfg.Now,
		logger:   cfg.Logger,
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
	res := hold.Resolver(resolve.Options{SkewWindow: cfg.SkewWindow})
	for _, name := range Regions {
		// Incarnation 0 is safe here only because the regions live and die
		// together in memory: a restart loses every dot they issued, in both.
		// A region that can restart alone needs version.NewIncarnation.
		id, err := version.NewID(name, 0)
		if err != nil {
			return nil, err
		}
		clock := version.NewHLC(version.HLCOptions{Now: s.now}, version.Timestamp{})
		r, err := replica.New(id, replica.NewMemoryStore(), res, replica.Options[hold.Hold]{
			Clock: clock, Observer: s.counters, CommandKeys: hold.CommandKeys, Now: s.now,
		})
		if err != nil {
			return nil, err
		}
		s.regions[name] = r
	}
	s.idem = httpapi.NewIdempotency(httpapi.IdempotencyOptions{
		Now: s.now,
		// The region is left out of the fingerprint: a client whose region
		// failed may retry an extend in the other with the same key.
		Target: func(r *http.Request) string { return r.Method + " " + r.URL.Path },
	})
	s.resp = httpapi.Responder[hold.Hold]{Logger: s.logger, Classify: httpapi.Classifiers(
		// The hold's state forbids the command: the request is fine, the
		// resource's state conflicts with it (RFC 9110 409).
		httpapi.Map(http.StatusConflict, "", "Illegal transition for the hold's state", hold.ErrIllegalTransition, hold.ErrExpired),
		// The request cannot be carried out as written (422).
		httpapi.Map(http.StatusUnprocessableEntity, "", "Invalid command", hold.ErrWouldShorten, hold.ErrNoBooking),
	)}
	s.vars = new(expvar.Map).Init()
	s.vars.Set("concord", expvar.Func(s.counterVars))
	s.vars.Set("review_queue", expvar.Func(func() any {
		m := map[string]int{}
		for name, r := range s.regions {
			m[name] = len(r.Conflicts())
		}
		return m
	}))
	s.vars.Set("idempotency_keys", expvar.Func(func() any { return s.idem.Len() }))
	s.vars.Set("anti_entropy_rounds", expvar.Func(func() any { return s.rounds.Load() }))
	s.vars.Set("partitioned", expvar.Func(func() any { return s.partitioned.Load() }))
	return s, nil
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
	mux.HandleFunc("POST /holds/{id}/resolve", s.resolveConflict)
	mux.HandleFunc("GET /conflicts", s.conflicts)
	mux.HandleFunc("GET /debug/vars", s.debugVars)
	mux.HandleFunc("POST /admin/sync", s.sync)
	mux.HandleFunc("POST /admin/partition", s.partition)
	mux.HandleFunc("DELETE /admin/partition", s.heal)
	// No catch-all route: Routes answers an unknown path with 404 and a
	// known path with another method with 405 and Allow.
	return httpapi.Routes(mux)
}

// errPartitioned is returned by Sync while the regions are partitioned.
var errPartitioned = errors.New("holdservice: regions are partitioned")

// Sync runs one anti-entropy round between the regions, unless they are
// partitioned. It checks the partition under the lock that partitioning
// takes, so no round runs across a partition: once setPartitioned(true) has
// returned, nothing more replicates until setPartitioned(false).
func (s *Service) Sync(ctx context.Context) error {
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	if s.partitioned.Load() {
		return errPartitioned
	}
	err := replica.AntiEntropy(ctx, s.regions[Regions[0]], s.regions[Regions[1]])
	if err == nil {
		s.rounds.Add(1)
	}
	return err
}

// setPartitioned partitions the regions (stops replication between them) or
// heals them. It waits for a round in progress to finish.
func (s *Service) setPartitioned(p bool) {
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	s.partitioned.Store(p)
}

// Replicate runs an anti-entropy round at every tick until ctx is done,
// skipping rounds while the regions are partitioned. It returns ctx's error.
func (s *Service) Replicate(ctx context.Context, tick <-chan time.Time) error {
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick:
			if err := s.Sync(ctx); err != nil && !errors.Is(err, errPartitioned) && ctx.Err() == nil {
				s.logger.Error("holdservice: anti-entropy", "err", err)
			}
		}
	}
}

// region returns the replica a request names with ?region= (default lisbon).
func (s *Service) region(w http.ResponseWriter, r *http.Request) (*replica.Replica[hold.Hold], bool) {
	name := r.URL.Query().Get("region")
	if name == "" {
		name = Regions[0]
	}
	rep, ok := s.regions[name]
	if !ok {
		(&httpapi.Problem{Title: "Unknown region", Status: http.StatusBadRequest, Instance: r.URL.Path,
			Detail:     fmt.Sprintf("region %q; use ?region=%s", name, strings.Join(Regions, " or ?region=")),
			Extensions: map[string]any{"regions": Regions}}).Write(w)
		return nil, false
	}
	w.Header().Set("Concord-Region", name)
	return rep, true
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
		v.Conflict = &conflictView{Reason: c.Reason, Field: c.Field, Rule: c.Rule, Branches: httpapi.Branches(c.Branches)}
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

// GET /conflicts: the review queue of one region (?region=) or of both.
func (s *Service) conflicts(w http.ResponseWriter, r *http.Request) {
	names := Regions
	if name := r.URL.Query().Get("region"); name != "" {
		if _, ok := s.region(w, r); !ok {
			return
		}
		names = []string{name}
	}
	items := []reviewView{}
	for _, name := range names {
		for _, it := range s.regions[name].Conflicts() {
			items = append(items, reviewView{ID: it.Key, Region: name, ETag: httpapi.ETag(it.Token), Field: it.Field,
				Rule: it.Rule, Reason: it.Reason, FirstSeen: it.FirstSeen, Branches: httpapi.Branches(it.Branches)})
		}
	}
	slices.SortStableFunc(items, func(a, b reviewView) int { return a.FirstSeen.Compare(b.FirstSeen) })
	writeJSON(w, http.StatusOK, map[string]any{"conflicts": items})
}

// GET /debug/vars: the resolve counters, review-queue depths and
// replication state, in expvar's JSON format.
func (s *Service) debugVars(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	fmt.Fprintln(w, s.vars.String())
}

// POST /admin/sync: one anti-entropy round now.
func (s *Service) sync(w http.ResponseWriter, r *http.Request) {
	if err := s.Sync(r.Context()); err != nil {
		if errors.Is(err, errPartitioned) {
			(&httpapi.Problem{Title: "Partitioned", Status: http.StatusConflict, Instance: r.URL.Path,
				Detail: "the regions are partitioned; DELETE /admin/partition heals them"}).Write(w)
			return
		}
		s.resp.Error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// POST /admin/partition: stop replication between the regions.
func (s *Service) partition(w http.ResponseWriter, _ *http.Request) {
	s.setPartitioned(true)
	w.WriteHeader(http.StatusNoContent)
}

// DELETE /admin/partition: heal the partition and run an anti-entropy round.
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
