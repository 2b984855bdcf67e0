package service

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/harborpoint/concord/hold"
	"github.com/harborpoint/concord/httpapi"
	"github.com/harborpoint/concord/policy"
	"github.com/harborpoint/concord/replica"
)

// Handler returns the service's routes.
func (s *Service) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /holds/{id}", s.route(s.get))
	mux.Handle("PUT /holds/{id}", s.route(s.create))
	mux.Handle("PATCH /holds/{id}/note", s.route(s.note))
	mux.Handle("POST /holds/{id}/extend", s.idem.Require(s.route(s.extend)))
	mux.Handle("POST /holds/{id}/confirm", s.route(s.confirm))
	mux.Handle("POST /holds/{id}/release", s.route(s.release))
	mux.Handle("DELETE /holds/{id}", s.route(s.deleteHold))
	mux.Handle("POST /holds/{id}/resolve", s.route(s.resolveConflict))
	mux.Handle("GET /conflicts", s.route(s.conflicts))
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

// handler is a route of the region's holds: it writes its response, or
// returns the error to answer with, which the Responder maps to a problem.
type handler func(w http.ResponseWriter, r *http.Request) error

// route serves h for this region: it checks the ?region= a request may
// name (a process serves one region), then answers h's error, if any.
func (s *Service) route(h handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if name := r.URL.Query().Get("region"); name != "" && name != s.name {
			(&httpapi.Problem{Title: "Unknown region", Status: http.StatusBadRequest, Instance: r.URL.Path,
				Detail:     fmt.Sprintf("this process serves region %s; ask %s's own service", s.name, name),
				Extensions: map[string]any{"region": s.name}}).Write(w)
			return
		}
		w.Header().Set("Concord-Region", s.name)
		if err := h(w, r); err != nil {
			s.resp.Error(w, r, err)
		}
	})
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

// written answers a write or a read with the record and its ETag, or with
// the error that refused it.
func (s *Service) written(w http.ResponseWriter, status int, rec replica.Record[hold.Hold], err error) error {
	if err != nil {
		return err
	}
	httpapi.SetETag(w.Header(), rec.Token)
	writeJSON(w, status, view(s.name, rec))
	return nil
}

// GET /holds/{id}: the hold as the region sees it — one value, or the
// branches of an open conflict — with its ETag. If-None-Match → 304.
func (s *Service) get(w http.ResponseWriter, r *http.Request) error {
	rec, err := s.rep.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	inm, err := httpapi.IfNoneMatch(r)
	if err != nil {
		return err
	}
	if inm.MatchWeak(rec.Token) {
		httpapi.SetETag(w.Header(), rec.Token)
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	return s.written(w, http.StatusOK, rec, nil)
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
func (s *Service) conflicts(w http.ResponseWriter, _ *http.Request) error {
	items := []reviewView{}
	for _, it := range s.rep.Conflicts() {
		items = append(items, reviewView{ID: it.Key, Region: s.name, ETag: httpapi.ETag(it.Token), Field: it.Field,
			Rule: it.Rule, Reason: it.Reason, FirstSeen: it.FirstSeen, Branches: httpapi.Branches(it.Branches)})
	}
	writeJSON(w, http.StatusOK, map[string]any{"conflicts": items})
	return nil
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
