package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/harborpoint/concord/claim"
	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

var errDomain = errors.New("domain: illegal transition")

func TestResponderMapping(t *testing.T) {
	_, badToken := version.ParseToken("!!", version.Limits{})
	_, bodyErr := DecodeJSON[struct{}](httptest.NewRequest("POST", "/", strings.NewReader("{")), DecodeOptions{})
	rs := Responder{Classify: Map(http.StatusConflict, "", "Illegal transition", errDomain)}
	for _, tc := range []struct {
		err    error
		ifNone bool
		status int
		typ    string
	}{
		{fmt.Errorf("x: %w", replica.ErrPreconditionFailed), false, 412, TypeStaleToken},
		{fmt.Errorf("x: %w", replica.ErrPreconditionRequired), false, 428, TypePreconditionRequired},
		{headerError("If-Match", "", replica.ErrPreconditionRequired, ""), false, 428, TypePreconditionRequired},
		{fmt.Errorf("x: %w", resolve.ErrConflict), false, 409, TypeConflict},
		{headerError("If-Match", "x", ErrMalformedHeader, ""), false, 400, TypeMalformedHeader},
		{headerError("If-Match", "x", ErrWeakTag, ""), false, 400, TypeMalformedHeader},
		{fmt.Errorf("replica: \"k\": %w", badToken), false, 400, TypeMalformedToken},
		{badToken, false, 400, TypeMalformedToken},
		{bodyErr, false, 400, TypeMalformedBody},
		{&BodyError{Err: ErrBodyTooLarge}, false, 413, TypeMalformedBody},
		{fmt.Errorf("x: %w", replica.ErrKeyTooLong), false, 400, "about:blank"},
		{&BodyError{Err: ErrUnsupportedMediaType}, false, 415, TypeMalformedBody},
		{fmt.Errorf("apply: %w", replica.ErrMalformed), false, 400, TypeMalformedBody},
		{headerError("Idempotency-Key", "", replica.ErrIdempotencyKeyRequired, ""), false, 400, TypeIdempotencyKeyRequired},
		{replica.ErrIdempotencyKeyRequired, false, 400, TypeIdempotencyKeyRequired},
		{ErrIdempotencyKeyReused, false, 422, TypeIdempotencyKeyReused},
		{ErrIdempotencyKeyInFlight, false, 409, TypeIdempotencyKeyInFlight},
		{fmt.Errorf("x: %w", replica.ErrNotBlindWritable), false, 422, TypeNotBlindWritable},
		{fmt.Errorf("x: %w", replica.ErrNotFound), false, 404, TypeNotFound},
		{fmt.Errorf("x: %w", replica.ErrExists), false, 409, TypeExists},
		{fmt.Errorf("x: %w", replica.ErrExists), true, 412, TypeExists},
		{fmt.Errorf("x: %w", replica.ErrContention), false, 503, TypeUnavailable},
		{context.DeadlineExceeded, false, 503, TypeUnavailable},
		{fmt.Errorf("%w: read: %w", claim.ErrUnavailable, errors.New("no route")), false, 503, TypeUnavailable},
		{&claim.StaleError{Err: claim.ErrFenced}, false, 409, TypeClaimLost},
		{&claim.StaleError{Err: claim.ErrNotOwner}, false, 409, TypeClaimLost},
		{fmt.Errorf("hold: %w", errDomain), false, 409, "about:blank"},
		{&Problem{Title: "Teapot", Status: 418}, false, 418, "about:blank"},
		{errors.New("disk on fire"), false, 500, TypeInternal},
		{&replica.TooLargeError{Key: "H-1", What: "bytes", Size: 2 << 20, Limit: 1 << 20}, false, 413, TypeTooLarge},
		{fmt.Errorf("x: %w: %w", replica.ErrQuarantined, replica.ErrCorrupt), false, 500, TypeQuarantined},
		{fmt.Errorf("respond: %w", &replica.ExpiredError{Member: version.MustID("baltimore"), Retention: time.Hour}), false, 403, TypeMemberExpired},
	} {
		r := httptest.NewRequest("POST", "/holds/H-1/confirm", nil)
		if tc.ifNone {
			r.Header.Set("If-None-Match", "*")
		}
		w := httptest.NewRecorder()
		rs.Error(w, r, tc.err)
		var p Problem
		if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
			t.Fatalf("%v: body %q: %v", tc.err, w.Body, err)
		}
		if w.Code != tc.status || p.Status != tc.status || p.Type != tc.typ || p.Instance != "/holds/H-1/confirm" || p.Title == "" {
			t.Errorf("%v: %d %+v; want %d %s", tc.err, w.Code, p, tc.status, tc.typ)
		}
		if ct := w.Header().Get("Content-Type"); ct != ProblemMediaType {
			t.Errorf("%v: Content-Type %q", tc.err, ct)
		}
		if tc.status == 500 && strings.Contains(w.Body.String(), "fire") {
			t.Errorf("500 leaks the error text: %s", w.Body)
		}
		if tc.typ != "about:blank" && goErrorText(p.Detail) {
			t.Errorf("%v: detail %q is a Go error chain, not words for people", tc.err, p.Detail)
		}
	}
}

// goErrorText reports whether s reads like a Go error chain: a package
// prefix such as "replica: " or a %! formatting slip, or no sentence at all.
func goErrorText(s string) bool {
	for _, prefix := range []string{"replica", "resolve", "version", "httpapi", "policy", "hold", "json", "x", "wrapped"} {
		if strings.HasPrefix(s, prefix+": ") || strings.Contains(s, " "+prefix+": ") {
			return true
		}
	}
	return s == "" || strings.Contains(s, "%!") || !strings.HasSuffix(s, ".")
}

// TestUnsupportedMediaTypeSendsAccept: a 415 says which media type the
// content may have (RFC 9110 §15.5.16).
func TestUnsupportedMediaTypeSendsAccept(t *testing.T) {
	r := httptest.NewRequest("POST", "/holds/H-1/confirm", strings.NewReader("booking=B-1"))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	_, err := DecodeJSON[struct{}](r, DecodeOptions{})
	w := httptest.NewRecorder()
	Responder{}.Error(w, r, err)
	if w.Code != 415 || w.Header().Get("Accept") != "application/json" {
		t.Errorf("415: %d, Accept %q", w.Code, w.Header().Get("Accept"))
	}
}

// TestHeaderErrorHasOnePrefix: header errors read "httpapi: field value:
// detail", with no sentinel prefix repeated inside.
func TestHeaderErrorHasOnePrefix(t *testing.T) {
	for _, h := range []http.Header{{}, {"If-Match": {`"a" "b"`}}, {"If-Match": {`W/"a"`}}} {
		_, err := RequireIfMatch(request(h))
		if err == nil || !strings.HasPrefix(err.Error(), "httpapi: If-Match") || strings.Count(err.Error(), "httpapi") != 1 || strings.Contains(err.Error(), "replica:") {
			t.Errorf("RequireIfMatch(%v): %q", h, err)
		}
	}
	_, err := IdempotencyKey(request(http.Header{}))
	if err == nil || !strings.HasPrefix(err.Error(), "httpapi: Idempotency-Key: ") || strings.Contains(err.Error(), "replica:") {
		t.Errorf("IdempotencyKey: %q", err)
	}
}

func TestResponderStaleTokenAndConflict(t *testing.T) {
	rs := Responder{}
	r := httptest.NewRequest("POST", "/x", nil)

	w := httptest.NewRecorder()
	rs.Error(w, r, fmt.Errorf("wrapped: %w", &replica.PreconditionFailed{Key: "x", Given: "old", Current: "cur"}))
	if w.Code != 412 || w.Header().Get("ETag") != `"cur"` || !strings.Contains(w.Body.String(), `"etag":"\"cur\""`) {
		t.Errorf("stale token: %d %v %s", w.Code, w.Header(), w.Body)
	}

	lis, bal := version.MustID("lisbon"), version.MustID("baltimore")
	ctx := version.MustVector("{baltimore:1, lisbon:19}")
	c := &resolve.ConflictRequiresRetry{
		Entity: "hold", Key: "H-1", Field: "status", Policy: "lifecycle", Reason: "released vs active",
		Stamps:  []version.Stamp{{Dot: version.Dot{ID: bal, Counter: 1}}, {Dot: version.Dot{ID: lis, Counter: 19}}},
		Context: ctx,
	}
	w = httptest.NewRecorder()
	rs.Error(w, r, c)
	var p Problem
	if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
		t.Fatal(err)
	}
	branches, _ := p.Extensions["branches"].([]any)
	if w.Code != 409 || w.Header().Get("ETag") != ETag(ctx.Token()) || p.Extensions["etag"] != ETag(ctx.Token()) ||
		p.Extensions["field"] != "status" || p.Extensions["reason"] != "released vs active" || len(branches) != 2 {
		t.Fatalf("conflict: %d %v %+v", w.Code, w.Header(), p)
	}
	b0 := branches[0].(map[string]any)
	want := ETag(version.MustVector("{baltimore:1}").Token())
	if b0["dot"] != "baltimore:1" || b0["tag"] != want {
		t.Errorf("branch 0 = %v, want dot baltimore:1, tag %s", b0, want)
	}
}

func TestProblemJSON(t *testing.T) {
	p := Problem{Type: TypeConflict, Title: "t", Status: 409, Detail: "d", Instance: "/i",
		Extensions: map[string]any{"b": 1, "a": "x", "status": "ignored"}}
	data, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"type":"` + TypeConflict + `","title":"t","status":409,"detail":"d","instance":"/i","a":"x","b":1}`
	if string(data) != want {
		t.Errorf("got  %s\nwant %s", data, want)
	}
	var q Problem
	if err := json.Unmarshal(data, &q); err != nil || q.Status != 409 || q.Type != TypeConflict || q.Extensions["a"] != "x" {
		t.Errorf("round trip: %+v, %v", q, err)
	}
	if data, _ := json.Marshal(Problem{}); string(data) != `{"type":"about:blank","title":"","status":500}` {
		t.Errorf("zero problem: %s", data)
	}
	// An extension that does not marshal: the standard members still go out.
	w := httptest.NewRecorder()
	(&Problem{Title: "t", Status: 400, Extensions: map[string]any{"f": func() {}}}).Write(w)
	if w.Code != 400 || !strings.Contains(w.Body.String(), `"title":"t"`) {
		t.Errorf("unmarshalable extension: %d %s", w.Code, w.Body)
	}
}

func TestDecodeJSON(t *testing.T) {
	type req struct {
		A int `json:"a"`
	}
	for _, tc := range []struct {
		ct, body string
		opts     DecodeOptions
		want     error
	}{
		{"application/json", `{"a":1}`, DecodeOptions{}, nil},
		{"", `{"a":1}`, DecodeOptions{}, nil},
		{"application/merge-patch+json; charset=utf-8", `{"a":1}`, DecodeOptions{}, nil},
		{"application/x-www-form-urlencoded", `{"a":1}`, DecodeOptions{}, ErrUnsupportedMediaType},
		{"application/json", `{"a":1}`, DecodeOptions{MaxBytes: 3}, ErrBodyTooLarge},
		{"application/json", ``, DecodeOptions{}, ErrMalformedBody},
		{"application/json", ` `, DecodeOptions{AllowEmpty: true}, nil},
		{"application/json", `{"a":1} {}`, DecodeOptions{}, ErrMalformedBody},
		{"application/json", `{"a":1,"b":2}`, DecodeOptions{}, ErrMalformedBody},
		{"application/json", `{"a":1,"b":2}`, DecodeOptions{AllowUnknownFields: true}, nil},
		{"application/json", `{"a":"x"}`, DecodeOptions{}, ErrMalformedBody},
	} {
		r := httptest.NewRequest("POST", "/", strings.NewReader(tc.body))
		if tc.ct != "" {
			r.Header.Set("Content-Type", tc.ct)
		}
		_, err := DecodeJSON[req](r, tc.opts)
		var be *BodyError
		if tc.want == nil && err != nil || tc.want != nil && (!errors.Is(err, tc.want) || !errors.As(err, &be)) {
			t.Errorf("%q %q: error %v, want %v", tc.ct, tc.body, err, tc.want)
		}
	}
}

// TestResponderClaims: a cabin claimed by another hold is a 409 naming the
// holder; the claim's home out of reach is a 503 with Retry-After.
func TestResponderClaims(t *testing.T) {
	rs := Responder{}
	r := httptest.NewRequest("POST", "/holds/H-9040/confirm", nil)
	w := httptest.NewRecorder()
	rs.Error(w, r, &claim.ClaimedError{Requester: "H-9040", Current: claim.Claim{Name: "cabin/C14", State: claim.StateCommitted, Owner: "H-8821", Token: 3}})
	var p Problem
	if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
		t.Fatal(err)
	}
	if w.Code != 409 || p.Type != TypeClaimed || p.Extensions["owner"] != "H-8821" || p.Extensions["claim"] != "cabin/C14" {
		t.Errorf("claimed: %d %+v", w.Code, p)
	}
	w = httptest.NewRecorder()
	rs.Error(w, r, fmt.Errorf("%w: read %q: %w", claim.ErrUnavailable, "cabin/C14", context.DeadlineExceeded))
	if w.Code != 503 || w.Header().Get("Retry-After") == "" {
		t.Errorf("unavailable: %d %v", w.Code, w.Header())
	}
}
