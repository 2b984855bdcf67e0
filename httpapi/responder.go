package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/harborpoint/concord/policy"
	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

// A Classifier maps an error the service knows — a domain rule such as an
// illegal state transition — to a problem, or returns nil to leave the error
// to the built-in mapping. A Status of 0 in the returned problem means 422.
type Classifier func(err error) *Problem

// Map returns a Classifier that maps every error matching one of targets
// (errors.Is) to a problem with status and title, the error's text as
// detail, and type typ ("" means "about:blank").
func Map(status int, typ, title string, targets ...error) Classifier {
	return func(err error) *Problem {
		for _, t := range targets {
			if errors.Is(err, t) {
				return &Problem{Type: typ, Title: title, Status: status, Detail: err.Error()}
			}
		}
		return nil
	}
}

// Classifiers returns a Classifier that tries each of cs in order.
func Classifiers(cs ...Classifier) Classifier {
	return func(err error) *Problem {
		for _, c := range cs {
			if c == nil {
				continue
			}
			if p := c(err); p != nil {
				return p
			}
		}
		return nil
	}
}

// Branch is one concurrent branch of a record as a client sees it, in a
// 409 problem or a read of a record with siblings.
type Branch[T any] struct {
	// Tag is a strong entity tag naming the branch's write (its dot as a
	// token). It identifies the branch; it is not current, so a write must
	// carry the record's ETag, which covers every branch.
	Tag string `json:"tag"`
	// Dot names the write in words, such as "lisbon:19".
	Dot string `json:"dot"`
	// Written is the hybrid-logical-clock time of the write.
	Written time.Time `json:"written"`
	// Value is the branch's record value.
	Value T `json:"value"`
}

// Branches returns bs as clients see them.
func Branches[T any](bs []policy.Branch[T]) []Branch[T] {
	out := make([]Branch[T], len(bs))
	for i, b := range bs {
		out[i] = Branch[T]{Dot: b.Stamp.Dot.String(), Written: b.Stamp.Time.Time(), Value: b.Value}
		if v, err := version.NewVector(b.Stamp.Dot); err == nil {
			out[i].Tag = ETag(v.Token())
		}
	}
	return out
}

// Responder writes errors from concord's packages and from the service's
// domain as problem details. T is the record type of the service's replica:
// it lets the responder find a replica.PreconditionFailed[T] (for the
// current ETag) and a resolve.ConflictRequiresRetry[T] (for the branches).
//
// The zero Responder is ready to use; a Responder is safe for concurrent use
// once its fields are set.
type Responder[T any] struct {
	// Classify maps the service's own errors; it is consulted first.
	// Nil means none.
	Classify Classifier
	// Logger receives every error mapped to a 5xx status. Nil means none.
	Logger *slog.Logger
}

// Error writes the problem for err (see [Responder.Problem]).
func (rs Responder[T]) Error(w http.ResponseWriter, r *http.Request, err error) {
	rs.Problem(r, err).Write(w)
}

// Problem returns the problem for err, a request's failure. See the package
// documentation for the mapping. The problem's Instance is the request path.
// Errors mapped to 5xx are logged and their text is not sent.
func (rs Responder[T]) Problem(r *http.Request, err error) *Problem {
	p := rs.problem(r, err)
	if p.Instance == "" && r != nil && r.URL != nil {
		p.Instance = r.URL.Path
	}
	if p.status() >= 500 && rs.Logger != nil {
		attrs := []any{"status", p.status(), "err", err}
		if r != nil {
			attrs = append(attrs, "method", r.Method, "path", r.URL.Path)
		}
		rs.Logger.Error("httpapi: request failed", attrs...)
	}
	return p
}

func (rs Responder[T]) problem(r *http.Request, err error) *Problem {
	if err == nil {
		return &Problem{Type: TypeInternal, Title: "Internal error", Status: http.StatusInternalServerError, Detail: "no error to report"}
	}
	if rs.Classify != nil {
		if p := rs.Classify(err); p != nil {
			q := *p
			if q.Status == 0 {
				q.Status = http.StatusUnprocessableEntity
			}
			return &q
		}
	}
	var prob *Problem
	if errors.As(err, &prob) {
		q := *prob
		return &q
	}
	detail := err.Error()
	var (
		pf       *replica.PreconditionFailed[T]
		conflict *resolve.ConflictRequiresRetry[T]
		he       *HeaderError
		be       *BodyError
	)
	switch {
	case errors.As(err, &pf):
		h := http.Header{}
		SetETag(h, pf.Current.Token)
		return &Problem{Type: TypeStaleToken, Title: "Precondition failed: the record changed since it was read",
			Status: http.StatusPreconditionFailed, Detail: detail, Header: h,
			Extensions: map[string]any{"etag": ETag(pf.Current.Token)}}
	case errors.Is(err, replica.ErrPreconditionFailed):
		return &Problem{Type: TypeStaleToken, Title: "Precondition failed: the record changed since it was read",
			Status: http.StatusPreconditionFailed, Detail: detail}
	case errors.As(err, &conflict):
		ext := map[string]any{
			"etag":     ETag(conflict.Context.Token()),
			"reason":   conflict.Reason,
			"branches": Branches(conflict.Branches),
		}
		for k, v := range map[string]string{"entity": conflict.Entity, "key": conflict.Key, "field": conflict.Field, "rule": conflict.Rule, "policy": conflict.Policy} {
			if v != "" {
				ext[k] = v
			}
		}
		h := http.Header{}
		SetETag(h, conflict.Context.Token())
		return &Problem{Type: TypeConflict, Title: "Conflict requires retry: concurrent branches cannot be merged",
			Status: http.StatusConflict, Detail: detail, Header: h, Extensions: ext}
	case errors.Is(err, resolve.ErrConflict), errors.Is(err, policy.ErrRejected):
		return &Problem{Type: TypeConflict, Title: "Conflict requires retry: concurrent branches cannot be merged",
			Status: http.StatusConflict, Detail: detail}
	case errors.Is(err, ErrPreconditionRequired), errors.Is(err, replica.ErrPreconditionRequired):
		return &Problem{Type: TypePreconditionRequired, Title: "Precondition required: send If-Match with the ETag you read",
			Status: http.StatusPreconditionRequired, Detail: detail}
	case errors.Is(err, replica.ErrBadToken), isDecodeError(err):
		return &Problem{Type: TypeMalformedToken, Title: "Malformed token", Status: http.StatusBadRequest, Detail: detail}
	case errors.As(err, &be):
		return &Problem{Type: TypeMalformedBody, Title: "Malformed request content", Status: be.status(), Detail: detail}
	case errors.Is(err, replica.ErrMalformed):
		return &Problem{Type: TypeMalformedBody, Title: "Malformed record", Status: http.StatusBadRequest, Detail: detail}
	case errors.Is(err, ErrIdempotencyKeyRequired), errors.Is(err, replica.ErrIdempotencyKeyRequired):
		return &Problem{Type: TypeIdempotencyKeyRequired, Title: "Idempotency-Key required", Status: http.StatusBadRequest, Detail: detail}
	case errors.Is(err, ErrIdempotencyKeyReused):
		return &Problem{Type: TypeIdempotencyKeyReused, Title: "Idempotency-Key reused with another payload",
			Status: http.StatusUnprocessableEntity, Detail: detail}
	case errors.Is(err, ErrIdempotencyKeyInFlight):
		return &Problem{Type: TypeIdempotencyKeyInFlight, Title: "A request with this Idempotency-Key is in progress",
			Status: http.StatusConflict, Detail: detail}
	case errors.As(err, &he):
		return &Problem{Type: TypeMalformedHeader, Title: "Malformed header field", Status: http.StatusBadRequest,
			Detail: detail, Extensions: map[string]any{"field": he.Field}}
	case errors.Is(err, replica.ErrNotBlindWritable):
		return &Problem{Type: TypeNotBlindWritable, Title: "Field does not accept blind writes",
			Status: http.StatusUnprocessableEntity, Detail: detail}
	case errors.Is(err, replica.ErrNotFound), errors.Is(err, resolve.ErrNotFound):
		return &Problem{Type: TypeNotFound, Title: "Not found", Status: http.StatusNotFound, Detail: detail}
	case errors.Is(err, replica.ErrExists):
		status := http.StatusConflict
		if r != nil && r.Header.Get("If-None-Match") != "" {
			status = http.StatusPreconditionFailed
		}
		return &Problem{Type: TypeExists, Title: "Record already exists", Status: status, Detail: detail}
	case errors.Is(err, replica.ErrContention), errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return &Problem{Type: TypeUnavailable, Title: "Service unavailable, retry", Status: http.StatusServiceUnavailable,
			Detail: detail, Header: http.Header{"Retry-After": {"1"}}}
	}
	return &Problem{Type: TypeInternal, Title: "Internal error", Status: http.StatusInternalServerError,
		Detail: "the service failed; the details are in its log"}
}

// isDecodeError reports whether err is a token that did not decode.
func isDecodeError(err error) bool {
	var de *version.DecodeError
	return errors.As(err, &de)
}
