package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/harborpoint/concord/claim"
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

// BranchRef names one concurrent branch of a record as a client sees it:
// the write that made it. A 409 problem lists the branches this way; a read
// of the record shows them with their values ([Branch]).
type BranchRef struct {
	// Tag is a strong entity tag naming the branch's write (its dot as a
	// token). It identifies the branch; it is not current, so a write must
	// carry the record's ETag, which covers every branch.
	Tag string `json:"tag"`
	// Dot names the write in words, such as "lisbon:19".
	Dot string `json:"dot"`
	// Written is the hybrid-logical-clock time of the write.
	Written time.Time `json:"written"`
}

// BranchRefs returns the branches whose write stamps are stamps, as clients
// see them.
func BranchRefs(stamps []version.Stamp) []BranchRef {
	out := make([]BranchRef, len(stamps))
	for i, st := range stamps {
		out[i] = BranchRef{Dot: st.Dot.String(), Written: st.Time.Time()}
		if v, err := version.NewVector(st.Dot); err == nil {
			out[i].Tag = ETag(v.Token())
		}
	}
	return out
}

// Branch is one concurrent branch of a record with its value, as a read of
// a record with siblings shows it.
type Branch[T any] struct {
	BranchRef
	// Value is the branch's record value.
	Value T `json:"value"`
}

// Branches returns bs as clients see them.
func Branches[T any](bs []resolve.Branch[T]) []Branch[T] {
	out := make([]Branch[T], len(bs))
	for i, b := range bs {
		out[i] = Branch[T]{BranchRef: BranchRefs([]version.Stamp{b.Stamp})[0], Value: b.Value}
	}
	return out
}

// Responder writes errors from concord's packages and from the service's
// domain as problem details: a replica.PreconditionFailed gives the current
// ETag of a 412, a resolve.ConflictRequiresRetry the branches of a 409.
//
// The zero Responder is ready to use; a Responder is safe for concurrent use
// once its fields are set.
type Responder struct {
	// Classify maps the service's own errors; it is consulted first.
	// Nil means none.
	Classify Classifier
	// Logger receives every error mapped to a 5xx status. Nil means none.
	Logger *slog.Logger
}

// Error writes the problem for err (see [Responder.Problem]).
func (rs Responder) Error(w http.ResponseWriter, r *http.Request, err error) {
	rs.Problem(r, err).Write(w)
}

// Problem returns the problem for err, a request's failure. See the package
// documentation for the mapping. The problem's Instance is the request path.
// Errors mapped to 5xx are logged and their text is not sent.
func (rs Responder) Problem(r *http.Request, err error) *Problem {
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

func (rs Responder) problem(r *http.Request, err error) *Problem {
	if err == nil {
		return &Problem{Type: TypeInternal, Title: "Internal error", Status: http.StatusInternalServerError, Detail: "No error to report."}
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
	var (
		pf       *replica.PreconditionFailed
		conflict *resolve.ConflictRequiresRetry
		claimed  *claim.ClaimedError
		tl       *replica.TooLargeError
		he       *HeaderError
		be       *BodyError
		expired  *replica.ExpiredError
	)
	switch {
	case errors.As(err, &pf):
		return staleProblem(pf.Current)
	case errors.Is(err, replica.ErrPreconditionFailed):
		return staleProblem("")
	case errors.As(err, &conflict):
		ext := map[string]any{
			"etag":     ETag(conflict.Context.Token()),
			"reason":   conflict.Reason,
			"branches": BranchRefs(conflict.Stamps),
		}
		for k, v := range map[string]string{"entity": conflict.Entity, "key": conflict.Key, "field": conflict.Field, "rule": conflict.Rule, "policy": conflict.Policy} {
			if v != "" {
				ext[k] = v
			}
		}
		h := http.Header{}
		SetETag(h, conflict.Context.Token())
		return &Problem{Type: TypeConflict, Title: conflictTitle, Status: http.StatusConflict, Header: h, Extensions: ext,
			Detail: conflictDetail(len(conflict.Stamps), conflict.Field, conflict.Policy, conflict.Rule, conflict.Reason)}
	case errors.As(err, &claimed):
		return &Problem{Type: TypeClaimed, Title: "Claimed by another owner", Status: http.StatusConflict,
			Detail:     fmt.Sprintf("%s is held by %s: another owner has what this write needs. Do not retry.", claimed.Current.Name, claimed.Current.Owner),
			Extensions: map[string]any{"owner": claimed.Current.Owner, "claim": claimed.Current.Name}}
	case errors.Is(err, claim.ErrFenced), errors.Is(err, claim.ErrNotOwner):
		return &Problem{Type: TypeClaimLost, Title: "Claim lost before the write was decided", Status: http.StatusConflict,
			Detail: "The claim this write held was taken over or released before the write was decided (it took too long); start over."}
	case errors.Is(err, claim.ErrUnavailable):
		return unavailable("The home of the claim this write needs is out of reach; retry after the Retry-After delay. The write may have taken effect: retry it as it was.")
	case errors.Is(err, resolve.ErrConflict), errors.Is(err, policy.ErrRejected):
		return &Problem{Type: TypeConflict, Title: conflictTitle, Status: http.StatusConflict,
			Detail: "Concurrent versions of this record cannot be merged automatically; read it to see them."}
	case errors.As(err, &expired):
		return &Problem{Type: TypeMemberExpired, Title: "Replica expired: rejoin with an empty store", Status: http.StatusForbidden,
			Detail:     fmt.Sprintf("This replica has not heard from %v for longer than its retention of %v; rejoin with an empty store and have the operators add it again.", expired.Member, expired.Retention),
			Extensions: map[string]any{"member": expired.Member.String()}}
	case errors.Is(err, replica.ErrQuarantined):
		return &Problem{Type: TypeQuarantined, Title: "Record unreadable: set aside for the operators",
			Status: http.StatusInternalServerError,
			Detail: "The stored state of this record cannot be read; it is kept as it is and the operators are told. Other records are not affected."}
	case errors.As(err, &tl):
		return &Problem{Type: TypeTooLarge, Title: "Record too large", Status: http.StatusRequestEntityTooLarge,
			Detail:     fmt.Sprintf("The record would take %d %s, over the limit of %d; send a smaller value.", tl.Size, tl.What, tl.Limit),
			Extensions: map[string]any{"size": tl.Size, "limit": tl.Limit, "measure": tl.What}}
	case errors.Is(err, replica.ErrPreconditionRequired):
		return &Problem{Type: TypePreconditionRequired, Title: "Precondition required: send If-Match with the ETag you read",
			Status: http.StatusPreconditionRequired, Detail: "This write is conditional: send If-Match with the ETag you read."}
	case errors.Is(err, version.ErrMalformedToken):
		return &Problem{Type: TypeMalformedToken, Title: "Malformed token", Status: http.StatusBadRequest,
			Detail: "The token sent is not a version this service issued; read the record again and use its ETag."}
	case errors.As(err, &be):
		return bodyProblem(be)
	case errors.Is(err, replica.ErrMalformed):
		return &Problem{Type: TypeMalformedBody, Title: "Malformed record", Status: http.StatusBadRequest,
			Detail: "The record sent does not decode as a replicated record of this service."}
	case errors.Is(err, replica.ErrKeyTooLong):
		return &Problem{Title: "Key too long", Status: http.StatusBadRequest,
			Detail: fmt.Sprintf("A record key is at most %d bytes.", replica.MaxKeyLen)}
	case errors.Is(err, replica.ErrIdempotencyKeyRequired):
		return &Problem{Type: TypeIdempotencyKeyRequired, Title: "Idempotency-Key required", Status: http.StatusBadRequest,
			Detail: "This operation is a command that must apply once: send an Idempotency-Key header."}
	case errors.Is(err, ErrIdempotencyKeyReused):
		return &Problem{Type: TypeIdempotencyKeyReused, Title: "Idempotency-Key reused with another payload", Status: http.StatusUnprocessableEntity,
			Detail: "This Idempotency-Key was used before with another payload; use a new key for a new request."}
	case errors.Is(err, ErrIdempotencyKeyInFlight):
		return &Problem{Type: TypeIdempotencyKeyInFlight, Title: "A request with this Idempotency-Key is in progress", Status: http.StatusConflict,
			Detail: "The first request with this Idempotency-Key has not finished; retry later to get its response."}
	case errors.As(err, &he):
		return &Problem{Type: TypeMalformedHeader, Title: "Malformed header field", Status: http.StatusBadRequest,
			Detail: sentence(he.Field + ": " + he.Detail), Extensions: map[string]any{"field": he.Field}}
	case errors.Is(err, replica.ErrNotBlindWritable):
		return &Problem{Type: TypeNotBlindWritable, Title: "Field does not accept blind writes", Status: http.StatusUnprocessableEntity,
			Detail: "This field is not last-writer-wins, so it cannot be overwritten without a condition: send If-Match with the ETag you read."}
	case errors.Is(err, replica.ErrNotFound):
		return &Problem{Type: TypeNotFound, Title: "Not found", Status: http.StatusNotFound, Detail: "There is no record under this key."}
	case errors.Is(err, replica.ErrExists):
		status := http.StatusConflict
		if r != nil && r.Header.Get("If-None-Match") != "" {
			status = http.StatusPreconditionFailed
		}
		return &Problem{Type: TypeExists, Title: "Record already exists", Status: status, Detail: "A record already exists under this key."}
	case errors.Is(err, replica.ErrContention):
		return unavailable("Too many concurrent writes to this record; retry after the Retry-After delay.")
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return unavailable("The request ran out of time; retry after the Retry-After delay.")
	}
	return &Problem{Type: TypeInternal, Title: "Internal error", Status: http.StatusInternalServerError,
		Detail: "The service failed; the details are in its log."}
}

// sentence ends s with a period.
func sentence(s string) string {
	if strings.HasSuffix(s, ".") {
		return s
	}
	return s + "."
}

const conflictTitle = "Conflict requires retry: concurrent branches cannot be merged"

// staleProblem is the 412 of a conditional write whose If-Match does not
// name the record's current version, current ("" when unknown or absent).
func staleProblem(current string) *Problem {
	p := &Problem{Type: TypeStaleToken, Title: "Precondition failed: the record changed since it was read",
		Status: http.StatusPreconditionFailed}
	if current == "" {
		p.Detail = "If-Match does not name the record's current version; read the record again and retry with its ETag."
		return p
	}
	p.Detail = "If-Match does not name the record's current version: it changed since you read it. " +
		"Read it again (its current ETag is in the ETag header), decide again, and retry with that ETag."
	p.Header = http.Header{}
	SetETag(p.Header, current)
	p.Extensions = map[string]any{"etag": ETag(current)}
	return p
}

// conflictDetail explains a conflict in words.
func conflictDetail(branches int, field, policyName, rule, reason string) string {
	what := "a record rule"
	switch {
	case rule != "":
		what = fmt.Sprintf("the rule %q", rule)
	case field != "":
		what = fmt.Sprintf("the %s policy of field %q", policyName, field)
	}
	s := fmt.Sprintf("%d concurrent versions of this record cannot be merged: %s refused", branches, what)
	if reason != "" {
		s += " (" + reason + ")"
	}
	return s + ". Look at the branches, decide, and write the decision with If-Match set to the etag member."
}

// bodyProblem is the problem of request content that cannot be used; 415
// says which media type would be (RFC 9110 §15.5.16).
func bodyProblem(be *BodyError) *Problem {
	p := &Problem{Type: TypeMalformedBody, Title: "Malformed request content", Status: be.status()}
	switch p.Status {
	case http.StatusUnsupportedMediaType:
		p.Title = "Unsupported media type"
		p.Detail = sentence("The request content must be JSON: " + be.Detail)
		p.Header = http.Header{"Accept": {"application/json"}}
	case http.StatusRequestEntityTooLarge:
		p.Title = "Request content too large"
		p.Detail = sentence("The request content is too large: " + be.Detail)
	default:
		p.Detail = sentence("The request content is not the JSON this operation expects: " + strings.TrimPrefix(be.Detail, "json: "))
	}
	return p
}

func unavailable(detail string) *Problem {
	return &Problem{Type: TypeUnavailable, Title: "Service unavailable, retry", Status: http.StatusServiceUnavailable,
		Detail: detail, Header: http.Header{"Retry-After": {"1"}}}
}
