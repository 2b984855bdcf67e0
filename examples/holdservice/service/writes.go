package service

import (
	"fmt"
	"net/http"
	"time"

	"github.com/harborpoint/concord/hold"
	"github.com/harborpoint/concord/httpapi"
	"github.com/harborpoint/concord/replica"
)

type createRequest struct {
	Cabin     string    `json:"cabin"`
	Agency    string    `json:"agency"`
	ExpiresAt time.Time `json:"expires_at"`
	ExpiresIn string    `json:"expires_in"` // a Go duration, such as "10m"
}

// PUT /holds/{id} with If-None-Match: * creates a hold.
func (s *Service) create(w http.ResponseWriter, r *http.Request) error {
	inm, err := httpapi.IfNoneMatch(r)
	if err != nil {
		return err
	}
	if !inm.Any {
		return &httpapi.Problem{Type: httpapi.TypePreconditionRequired, Title: "Precondition required",
			Status: http.StatusPreconditionRequired, Detail: "PUT only creates holds: send If-None-Match: *"}
	}
	req, err := httpapi.DecodeJSON[createRequest](r, httpapi.DecodeOptions{})
	if err != nil {
		return err
	}
	expires, err := s.expiry(req.ExpiresAt, req.ExpiresIn, "expires_at", "expires_in")
	if req.Cabin == "" {
		err = invalid("cabin is required")
	}
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	rec, err := s.rep.Create(r.Context(), id, hold.New(id, req.Cabin, req.Agency, expires))
	if err == nil {
		w.Header().Set("Location", r.URL.Path)
	}
	return s.written(w, http.StatusCreated, rec, err)
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
func (s *Service) note(w http.ResponseWriter, r *http.Request) error {
	cond, err := httpapi.IfMatch(r)
	if err != nil {
		return err
	}
	req, err := httpapi.DecodeJSON[noteRequest](r, httpapi.DecodeOptions{})
	if err != nil {
		return err
	}
	if !cond.IsZero() {
		return s.conditional(w, r, cond, func(h *hold.Hold) error { h.Note = req.Note; return nil })
	}
	w.Header().Set("Concord-Write", "blind; policy=lww")
	rec, err := s.rep.Blind(r.Context(), r.PathValue("id"), "note", hold.NoteEdit(req.Note))
	return s.written(w, http.StatusOK, rec, err)
}

// current reads the hold the request names and evaluates the If-Match
// condition cond against its ETag: the token to write with, or a 412 when
// the tag is not current. A missing hold is a 404 before any precondition
// (RFC 9110 §13.2.1: a request that would fail without its preconditions
// fails so).
func (s *Service) current(r *http.Request, cond httpapi.Condition) (cur replica.Record[hold.Hold], token string, err error) {
	if cur, err = s.rep.Get(r.Context(), r.PathValue("id")); err != nil {
		return cur, "", err
	}
	token, err = cond.Token(cur.Token)
	return cur, token, err
}

// conditional runs fn on the hold as a conditional write with the If-Match
// condition cond, and answers with the hold it stored.
func (s *Service) conditional(w http.ResponseWriter, r *http.Request, cond httpapi.Condition, fn func(*hold.Hold) error) error {
	w.Header().Set("Concord-Write", "conditional")
	_, token, err := s.current(r, cond)
	if err != nil {
		return err
	}
	rec, err := s.rep.Update(r.Context(), r.PathValue("id"), token, func(h *hold.Hold, _ replica.Write) error { return fn(h) })
	return s.written(w, http.StatusOK, rec, err)
}

type extendRequest struct {
	Until  time.Time `json:"until"`
	By     string    `json:"by"` // a Go duration added to the current expiry
	Agency string    `json:"agency"`
}

// POST /holds/{id}/extend (Idempotency-Key): a merge-aware command — two
// concurrent extends merge to the later expiry, so no If-Match is needed.
func (s *Service) extend(w http.ResponseWriter, r *http.Request) error {
	key, err := httpapi.IdempotencyKey(r)
	if err != nil {
		return err
	}
	req, err := httpapi.DecodeJSON[extendRequest](r, httpapi.DecodeOptions{})
	if err != nil {
		return err
	}
	var by time.Duration
	if req.By != "" {
		if by, err = time.ParseDuration(req.By); err != nil || by <= 0 {
			return invalid(fmt.Sprintf("by %q is not a positive duration such as \"5m\"", req.By))
		}
	}
	if req.Until.IsZero() == (by == 0) {
		return invalid("send exactly one of until and by")
	}
	w.Header().Set("Concord-Write", "command; merge=later-expiry")
	rec, replayed, err := s.rep.Command(r.Context(), r.PathValue("id"), key, func(h *hold.Hold, _ replica.Write) error {
		touch(h, req.Agency)
		until := req.Until
		if by != 0 {
			until = h.ExpiresAt.Add(by)
		}
		return h.Extend(until)
	})
	if replayed {
		w.Header().Set(httpapi.ReplayedHeader, "true")
	}
	return s.written(w, http.StatusOK, rec, err)
}

// touch records the agency, if the request named one, among the hold's.
func touch(h *hold.Hold, agency string) {
	if agency != "" {
		h.Touch(agency)
	}
}

type confirmRequest struct {
	BookingID string `json:"booking_id"`
	Agency    string `json:"agency"`
}

// POST /holds/{id}/confirm (If-Match required): a conditional lifecycle change.
func (s *Service) confirm(w http.ResponseWriter, r *http.Request) error {
	req, cond, err := lifecycle[confirmRequest](r, httpapi.DecodeOptions{})
	if err != nil {
		return err
	}
	return s.conditional(w, r, cond, func(h *hold.Hold) error {
		touch(h, req.Agency)
		return h.Confirm(req.BookingID, s.now())
	})
}

type releaseRequest struct {
	Agency string `json:"agency"`
}

// POST /holds/{id}/release (If-Match required): a conditional lifecycle
// change; the body may be empty.
func (s *Service) release(w http.ResponseWriter, r *http.Request) error {
	req, cond, err := lifecycle[releaseRequest](r, httpapi.DecodeOptions{AllowEmpty: true})
	if err != nil {
		return err
	}
	return s.conditional(w, r, cond, func(h *hold.Hold) error {
		touch(h, req.Agency)
		return h.Release()
	})
}

// lifecycle reads what a lifecycle change needs: its If-Match condition
// (428 without one) and then its JSON body.
func lifecycle[Req any](r *http.Request, opts httpapi.DecodeOptions) (Req, httpapi.Condition, error) {
	var req Req
	cond, err := httpapi.RequireIfMatch(r)
	if err == nil {
		req, err = httpapi.DecodeJSON[Req](r, opts)
	}
	return req, cond, err
}

// DELETE /holds/{id} (If-Match): delete a hold — a conditional write that
// leaves a tombstone, replicated and reaped once every region has it. 204 on
// success; 428 without If-Match; 412 when stale; 409 when the hold has an
// open conflict the client has not seen (If-Match: * or another tag than
// the conflict's ETag) — a DELETE naming the conflict's ETag settles it.
func (s *Service) deleteHold(w http.ResponseWriter, r *http.Request) error {
	cond, err := httpapi.RequireIfMatch(r)
	if err != nil {
		return err
	}
	cur, token, err := s.current(r, cond)
	// An unseen conflict answers 409 even to a stale tag: the client must
	// see the branches it would delete. (A failed read has no conflict.)
	if cur.Conflict != nil && (cond.Any || !cond.MatchStrong(cur.Token)) {
		return cur.Conflict
	}
	if err == nil {
		_, err = s.rep.Delete(r.Context(), r.PathValue("id"), token)
	}
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type resolveRequest struct {
	Keep string `json:"keep"` // the dot ("lisbon:19") or tag of the branch to keep
}

// POST /holds/{id}/resolve (If-Match: the conflict's ETag): settle an open
// conflict by keeping one branch. The write covers every branch, and the
// idempotency keys of the others are kept, so their commands do not apply
// again. A keep that names no branch is a 422, whatever the If-Match.
func (s *Service) resolveConflict(w http.ResponseWriter, r *http.Request) error {
	req, cond, err := lifecycle[resolveRequest](r, httpapi.DecodeOptions{})
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	cur, err := s.rep.Get(r.Context(), id)
	if err != nil {
		return err
	}
	var dots []string
	for _, b := range httpapi.Branches(cur.Branches) {
		dots = append(dots, b.Dot)
		if req.Keep != b.Dot && req.Keep != b.Tag && httpapi.ETag(req.Keep) != b.Tag {
			continue
		}
		token, err := cond.Token(cur.Token)
		if err != nil {
			return err
		}
		w.Header().Set("Concord-Write", "conditional")
		rec, err := s.rep.ResolveConflict(r.Context(), id, token, b.Value)
		return s.written(w, http.StatusOK, rec, err)
	}
	return &httpapi.Problem{Title: "No such branch", Status: http.StatusUnprocessableEntity,
		Detail: fmt.Sprintf("keep %q names no branch of %s", req.Keep, id), Extensions: map[string]any{"branches": dots}}
}
