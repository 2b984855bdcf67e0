package service

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/harborpoint/concord/httpapi"
)

// clock is the simulated wall clock the test moves.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.now = t }

var day = time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)

func at(h, m, s int) time.Time {
	return day.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(s)*time.Second)
}

// token is the replication token of the tests' regions.
const token = "test-token"

// harness runs the two regions as two services, each behind its own
// loopback server, replicating with each other over HTTP.
type harness struct {
	t     *testing.T
	urls  map[string]string // region → base URL
	url   string            // lisbon's, the default region
	http  *http.Client
	clock *clock
	svcs  map[string]*Service
}

func newHarness(t *testing.T) *harness {
	c := &clock{now: at(14, 0, 0)}
	h := &harness{t: t, http: &http.Client{}, clock: c, urls: map[string]string{}, svcs: map[string]*Service{}}
	// The servers start first, so that each service can name the other's URL.
	handlers := map[string]*handlerSlot{}
	for _, region := range regions {
		handlers[region] = &handlerSlot{}
		srv := httptest.NewServer(handlers[region])
		t.Cleanup(srv.Close)
		h.urls[region] = srv.URL
	}
	for i, region := range regions {
		svc, err := New(t.Context(), Config{Region: region, Now: c.Now, Token: token, Peers: []string{h.urls[regions[1-i]]}})
		if err != nil {
			t.Fatal(err)
		}
		h.svcs[region] = svc
		handlers[region].set(svc.Handler())
	}
	h.url = h.urls["lisbon"]
	return h
}

var regions = []string{"lisbon", "baltimore"}

// handlerSlot is a handler set after its server started.
type handlerSlot struct {
	mu sync.Mutex
	h  http.Handler
}

func (s *handlerSlot) set(h http.Handler) { s.mu.Lock(); s.h = h; s.mu.Unlock() }

func (s *handlerSlot) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	h := s.h
	s.mu.Unlock()
	h.ServeHTTP(w, r)
}

type response struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

// do sends one request to the region the path names with ?region=
// (lisbon by default); hdr alternates names and values. The admin routes
// take the token: a partition cuts both regions off, a heal heals both and
// syncs, and a sync runs from Lisbon.
func (h *harness) do(method, path, body string, hdr ...string) response {
	h.t.Helper()
	base := h.url
	if u, err := url.Parse(path); err == nil && u.Query().Get("region") != "" && h.urls[u.Query().Get("region")] != "" {
		base = h.urls[u.Query().Get("region")]
	}
	if strings.HasPrefix(path, "/admin/") {
		hdr = append(hdr, "Authorization", "Bearer "+token)
		switch {
		case path == "/admin/partition" && method == "POST":
			h.svcs["baltimore"].setPartitioned(true)
		case path == "/admin/partition" && method == "DELETE":
			h.svcs["baltimore"].setPartitioned(false)
		}
	}
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, base+path, rd)
	if err != nil {
		h.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Add(hdr[i], hdr[i+1])
	}
	resp, err := h.http.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	r := response{status: resp.StatusCode, header: resp.Header, raw: string(data)}
	if len(data) > 0 {
		if err := json.Unmarshal(data, &r.body); err != nil {
			h.t.Fatalf("%s %s: body %q: %v", method, path, data, err)
		}
	}
	return r
}

// want checks the status (and, for problems, the type and media type).
func (r response) want(t *testing.T, status int, problemType string) response {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.raw)
	}
	if problemType != "" {
		if ct := r.header.Get("Content-Type"); ct != httpapi.ProblemMediaType {
			t.Fatalf("Content-Type %q, want problem+json: %s", ct, r.raw)
		}
		if r.body["type"] != problemType || r.body["status"] != float64(status) {
			t.Fatalf("problem %v, want type %s", r.body, problemType)
		}
	}
	return r
}

func (r response) hold() map[string]any {
	h, _ := r.body["hold"].(map[string]any)
	return h
}

func (h *harness) create(id, cabin, expires string) response {
	h.t.Helper()
	return h.do("PUT", "/holds/"+id, `{"cabin":"`+cabin+`","agency":"lisbon-desk","expires_at":"`+expires+`"}`, "If-None-Match", "*").want(h.t, 201, "")
}

// TestLessonTimeline drives the lesson's H-8821 over HTTP: an extend in
// Lisbon and a confirmation in Baltimore, both from v18, while the regions
// are partitioned; after healing, confirmed wins in both regions.
func TestLessonTimeline(t *testing.T) {
	h := newHarness(t)
	created := h.create("H-8821", "C14", "2026-11-26T14:10:00Z")
	if created.header.Get("Location") != "/holds/H-8821" || created.hold()["status"] != "active" {
		t.Fatalf("create: %v %v", created.header, created.body)
	}
	for i := 2; i <= 18; i++ {
		h.clock.Set(at(14, 0, 10*i))
		h.do("PATCH", "/holds/H-8821/note", `{"note":"draft `+string(rune('0'+i%10))+`"}`).want(t, 200, "")
	}
	h.do("POST", "/admin/sync", "").want(t, 204, "")
	v18 := h.do("GET", "/holds/H-8821?region=baltimore", "").want(t, 200, "")
	lis := h.do("GET", "/holds/H-8821", "").want(t, 200, "")
	if v18.header.Get("ETag") != lis.header.Get("ETag") || v18.header.Get("Concord-Region") != "baltimore" {
		t.Fatalf("regions differ after sync: %v / %v", v18.header, lis.header)
	}
	etag18 := v18.header.Get("ETag")

	h.do("POST", "/admin/partition", "").want(t, 204, "")
	h.do("POST", "/admin/sync", "").want(t, 409, "about:blank")
	h.clock.Set(at(14, 4, 52))
	ext := h.do("POST", "/holds/H-8821/extend?region=lisbon", `{"by":"5m","agency":"lisbon-desk"}`, "Idempotency-Key", `"lis-extend-1"`).want(t, 200, "")
	if ext.hold()["expires_at"] != "2026-11-26T14:15:00Z" || ext.header.Get("Concord-Write") != "command; merge=later-expiry" {
		t.Fatalf("extend: %v %v", ext.header, ext.body)
	}
	h.clock.Set(at(14, 4, 53))
	conf := h.do("POST", "/holds/H-8821/confirm?region=baltimore", `{"booking_id":"B-3107","agency":"baltimore-payments"}`, "If-Match", etag18).want(t, 200, "")
	if conf.hold()["status"] != "confirmed" || conf.header.Get("ETag") == etag18 {
		t.Fatalf("confirm: %v %v", conf.header, conf.body)
	}

	h.do("DELETE", "/admin/partition", "").want(t, 204, "")
	var etags []string
	for _, region := range regions {
		r := h.do("GET", "/holds/H-8821?region="+region, "").want(t, 200, "")
		hd := r.hold()
		if hd["status"] != "confirmed" || hd["booking_id"] != "B-3107" || hd["expires_at"] != "2026-11-26T14:10:00Z" {
			t.Errorf("%s: %v", region, r.body)
		}
		if !strings.Contains(r.raw, "hold.status: lifecycle picked") || !strings.Contains(r.raw, "confirmed-keeps-terms") {
			t.Errorf("%s: decisions missing: %s", region, r.raw)
		}
		etags = append(etags, r.header.Get("ETag"))
	}
	if etags[0] != etags[1] {
		t.Errorf("regions disagree: %v", etags)
	}

	// The replayed extend returns its first response in Lisbon; in
	// Baltimore, which never saw the request, the hold itself carries the
	// key: the command is not applied again, and the hold is answered as
	// it is now.
	again := h.do("POST", "/holds/H-8821/extend?region=lisbon", `{"by":"5m","agency":"lisbon-desk"}`, "Idempotency-Key", `"lis-extend-1"`).want(t, 200, "")
	if again.raw != ext.raw || again.header.Get(httpapi.ReplayedHeader) != "true" {
		t.Errorf("replay: %v %s", again.header, again.raw)
	}
	there := h.do("POST", "/holds/H-8821/extend?region=baltimore", `{"by":"5m","agency":"lisbon-desk"}`, "Idempotency-Key", `"lis-extend-1"`).want(t, 200, "")
	if there.header.Get(httpapi.ReplayedHeader) != "true" || there.hold()["status"] != "confirmed" || there.hold()["expires_at"] != "2026-11-26T14:10:00Z" {
		t.Errorf("replay in the other region: %v %s", there.header, there.raw)
	}

	// A stale If-Match: 412 with the current ETag; with it, the lifecycle refuses (409).
	stale := h.do("POST", "/holds/H-8821/release", "", "If-Match", etag18).want(t, 412, httpapi.TypeStaleToken)
	if stale.header.Get("ETag") != etags[0] || stale.body["etag"] != etags[0] {
		t.Errorf("412 ETag %q / %v, want %s", stale.header.Get("ETag"), stale.body["etag"], etags[0])
	}
	h.do("POST", "/holds/H-8821/release", "", "If-Match", etags[0]).want(t, 409, "about:blank")
	h.do("POST", "/holds/H-8821/extend", `{"by":"5m"}`, "Idempotency-Key", "late").want(t, 409, "about:blank")

	vars := h.do("GET", "/debug/vars", "").want(t, 200, "")
	concord, _ := vars.body["concord"].(map[string]any)
	if auto, _ := concord["auto_resolved"].(map[string]any); auto["hold"] == nil {
		t.Errorf("debug vars: %s", vars.raw)
	}
	if rej, _ := concord["rejected"].(map[string]any); rej["hold"] != float64(1) {
		t.Errorf("rejected: %v", concord["rejected"])
	}
}

// TestReleaseRacesExtend: released vs active is refused; the conflict is
// served with both branches, queued for review, refused to writers (409)
// and settled by a covering write.
func TestReleaseRacesExtend(t *testing.T) {
	h := newHarness(t)
	h.create("H-8823", "C16", "2026-11-26T14:12:00Z")
	h.do("POST", "/admin/sync", "").want(t, 204, "")
	base := h.do("GET", "/holds/H-8823?region=baltimore", "").want(t, 200, "").header.Get("ETag")
	h.do("POST", "/admin/partition", "").want(t, 204, "")
	h.clock.Set(at(14, 8, 0))
	h.do("POST", "/holds/H-8823/extend", `{"until":"2026-11-26T14:18:00Z"}`, "Idempotency-Key", "lis-extend-9").want(t, 200, "")
	h.do("POST", "/holds/H-8823/release?region=baltimore", "", "If-Match", base).want(t, 200, "")
	h.do("DELETE", "/admin/partition", "").want(t, 204, "")

	got := h.do("GET", "/holds/H-8823?region=baltimore", "").want(t, 200, "")
	conflict, _ := got.body["conflict"].(map[string]any)
	branches, _ := conflict["branches"].([]any)
	if len(branches) != 2 || conflict["field"] != "status" || got.hold() != nil {
		t.Fatalf("conflict view: %s", got.raw)
	}
	for _, region := range regions {
		queue := h.do("GET", "/conflicts?region="+region, "").want(t, 200, "")
		if items, _ := queue.body["conflicts"].([]any); len(items) != 1 {
			t.Fatalf("%s review queue: %s", region, queue.raw)
		}
	}

	etag := got.header.Get("ETag")
	p := h.do("POST", "/holds/H-8823/confirm", `{"booking_id":"B-1"}`, "If-Match", etag).want(t, 409, httpapi.TypeConflict)
	pb, _ := p.body["branches"].([]any)
	if len(pb) != 2 || p.body["etag"] != etag || p.header.Get("ETag") != etag || p.body["field"] != "status" {
		t.Fatalf("409 problem: %s", p.raw)
	}
	for _, b := range pb {
		if tag, _ := b.(map[string]any)["tag"].(string); !strings.HasPrefix(tag, `"`) {
			t.Errorf("branch without tag: %v", b)
		}
	}
	h.do("POST", "/holds/H-8823/extend", `{"by":"1m"}`, "Idempotency-Key", "k2").want(t, 409, httpapi.TypeConflict)
	h.do("PATCH", "/holds/H-8823/note", `{"note":"x"}`).want(t, 409, httpapi.TypeConflict)

	var keep string
	for _, b := range branches {
		if b.(map[string]any)["value"].(map[string]any)["status"] == "released" {
			keep = b.(map[string]any)["dot"].(string)
		}
	}
	h.do("POST", "/holds/H-8823/resolve", `{"keep":"nowhere:1"}`, "If-Match", etag).want(t, 422, "about:blank")
	h.do("POST", "/holds/H-8823/resolve", `{"keep":"`+keep+`"}`, "If-Match", base).want(t, 412, httpapi.TypeStaleToken)
	res := h.do("POST", "/holds/H-8823/resolve", `{"keep":"`+keep+`"}`, "If-Match", etag).want(t, 200, "")
	if res.hold()["status"] != "released" {
		t.Fatalf("resolved: %s", res.raw)
	}
	h.do("POST", "/admin/sync", "").want(t, 204, "")
	for _, region := range regions {
		if items, _ := h.do("GET", "/conflicts?region="+region, "").body["conflicts"].([]any); len(items) != 0 {
			t.Errorf("%s review queue after resolve: %v", region, items)
		}
	}
	// The extend applied on the discarded branch is not applied again.
	h.do("POST", "/holds/H-8823/extend?region=baltimore", `{"until":"2026-11-26T14:18:00Z"}`, "Idempotency-Key", "lis-extend-9").want(t, 200, "")
	if st := h.do("GET", "/holds/H-8823", "").hold()["status"]; st != "released" {
		t.Errorf("status after replay: %v", st)
	}
}

// TestErrorPaths covers every refusal the service makes.
func TestErrorPaths(t *testing.T) {
	h := newHarness(t)
	cur := h.create("H-1", "C1", "2026-11-26T14:30:00Z").header.Get("ETag")
	unknownTag := `"` + strings.Repeat("A", 3) + `"`
	for _, tc := range []struct {
		name, method, path, body string
		hdr                      []string
		status                   int
		typ                      string
	}{
		{"create without If-None-Match", "PUT", "/holds/H-2", `{"cabin":"C2","expires_in":"10m"}`, nil, 428, httpapi.TypePreconditionRequired},
		{"create over an existing hold", "PUT", "/holds/H-1", `{"cabin":"C1","expires_in":"10m"}`, []string{"If-None-Match", "*"}, 412, httpapi.TypeExists},
		{"create without cabin", "PUT", "/holds/H-2", `{"expires_in":"10m"}`, []string{"If-None-Match", "*"}, 422, "about:blank"},
		{"create with two expiries", "PUT", "/holds/H-2", `{"cabin":"C","expires_in":"1m","expires_at":"2026-11-26T14:30:00Z"}`, []string{"If-None-Match", "*"}, 422, "about:blank"},
		{"create with a bad duration", "PUT", "/holds/H-2", `{"cabin":"C","expires_in":"soon"}`, []string{"If-None-Match", "*"}, 422, "about:blank"},
		{"malformed If-None-Match", "GET", "/holds/H-1", "", []string{"If-None-Match", `"x`}, 400, httpapi.TypeMalformedHeader},
		{"unknown hold", "GET", "/holds/H-404", "", nil, 404, httpapi.TypeNotFound},
		{"unknown region", "GET", "/holds/H-1?region=tokyo", "", nil, 400, "about:blank"},
		{"unknown route", "GET", "/nothing", "", nil, 404, httpapi.TypeNotFound},
		{"delete without If-Match", "DELETE", "/holds/H-1", "", nil, 428, httpapi.TypePreconditionRequired},
		{"delete with a stale If-Match", "DELETE", "/holds/H-1", "", []string{"If-Match", `"AQEGbGlzYm9uABI"`}, 412, httpapi.TypeStaleToken},
		{"delete of an unknown hold", "DELETE", "/holds/H-404", "", []string{"If-Match", cur}, 404, httpapi.TypeNotFound},
		{"a method the hold route lacks", "POST", "/holds/H-1", "", nil, 405, "about:blank"},
		{"confirm without If-Match", "POST", "/holds/H-1/confirm", `{"booking_id":"B-1"}`, nil, 428, httpapi.TypePreconditionRequired},
		{"confirm with a weak tag", "POST", "/holds/H-1/confirm", `{"booking_id":"B-1"}`, []string{"If-Match", "W/" + cur}, 400, httpapi.TypeMalformedHeader},
		{"confirm with a malformed If-Match", "POST", "/holds/H-1/confirm", `{"booking_id":"B-1"}`, []string{"If-Match", cur + " x"}, 400, httpapi.TypeMalformedHeader},
		{"confirm with a tag that is no token", "POST", "/holds/H-1/confirm", `{"booking_id":"B-1"}`, []string{"If-Match", `"!!"`}, 412, httpapi.TypeStaleToken},
		{"confirm with an unknown tag", "POST", "/holds/H-1/confirm", `{"booking_id":"B-1"}`, []string{"If-Match", unknownTag}, 412, httpapi.TypeStaleToken},
		{"confirm without booking", "POST", "/holds/H-1/confirm", `{}`, []string{"If-Match", cur}, 422, "about:blank"},
		{"confirm with malformed JSON", "POST", "/holds/H-1/confirm", `{"booking_id":`, []string{"If-Match", cur}, 400, httpapi.TypeMalformedBody},
		{"confirm with an unknown member", "POST", "/holds/H-1/confirm", `{"booking":"B-1"}`, []string{"If-Match", cur}, 400, httpapi.TypeMalformedBody},
		{"confirm of an unknown hold", "POST", "/holds/H-404/confirm", `{"booking_id":"B-1"}`, []string{"If-Match", cur}, 404, httpapi.TypeNotFound},
		{"release as a form", "POST", "/holds/H-1/release", "", []string{"If-Match", cur, "Content-Type", "application/x-www-form-urlencoded"}, 415, httpapi.TypeMalformedBody},
		{"extend without Idempotency-Key", "POST", "/holds/H-1/extend", `{"by":"5m"}`, nil, 400, httpapi.TypeIdempotencyKeyRequired},
		{"extend with a malformed key", "POST", "/holds/H-1/extend", `{"by":"5m"}`, []string{"Idempotency-Key", `"k`}, 400, httpapi.TypeMalformedHeader},
		{"extend that would shorten", "POST", "/holds/H-1/extend", `{"until":"2026-11-26T14:00:00Z"}`, []string{"Idempotency-Key", "k1"}, 422, "about:blank"},
		{"extend with neither until nor by", "POST", "/holds/H-1/extend", `{}`, []string{"Idempotency-Key", "k2"}, 422, "about:blank"},
		{"extend by a negative duration", "POST", "/holds/H-1/extend", `{"by":"-5m"}`, []string{"Idempotency-Key", "k3"}, 422, "about:blank"},
		{"extend of an unknown hold", "POST", "/holds/H-404/extend", `{"by":"5m"}`, []string{"Idempotency-Key", "k4"}, 404, httpapi.TypeNotFound},
		{"note with a stale If-Match", "PATCH", "/holds/H-1/note", `{"note":"x"}`, []string{"If-Match", `"AQEGbGlzYm9uABI"`}, 412, httpapi.TypeStaleToken},
		{"note of an unknown hold", "PATCH", "/holds/H-404/note", `{"note":"x"}`, nil, 404, httpapi.TypeNotFound},
		{"resolve without If-Match", "POST", "/holds/H-1/resolve", `{"keep":"lisbon:1"}`, nil, 428, httpapi.TypePreconditionRequired},
		{"conflicts of an unknown region", "GET", "/conflicts?region=tokyo", "", nil, 400, "about:blank"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hdr := tc.hdr
			r := h.do(tc.method, tc.path, tc.body, hdr...)
			r.want(t, tc.status, tc.typ)
		})
	}

	// The same key with another payload: 422; with the same: the first response.
	h.do("POST", "/holds/H-1/extend", `{"by":"5m"}`, "Idempotency-Key", "same").want(t, 200, "")
	h.do("POST", "/holds/H-1/extend", `{"by":"6m"}`, "Idempotency-Key", "same").want(t, 422, httpapi.TypeIdempotencyKeyReused)
	h.do("POST", "/holds/H-2/extend", `{"by":"5m"}`, "Idempotency-Key", "same").want(t, 422, httpapi.TypeIdempotencyKeyReused)
	// The refused shortening was remembered too: its replay is the same 422.
	h.do("POST", "/holds/H-1/extend", `{"until":"2026-11-26T14:00:00Z"}`, "Idempotency-Key", "k1").want(t, 422, "about:blank")
}

// TestHTTPDetails holds the service to RFC 9110 and RFC 9457 where clients
// notice: a valid entity tag that is not current is a 412 (not a 400), "*"
// proceeds when the hold exists, an unsupported method is a 405 with Allow,
// a 415 says what it accepts, and problem details are written for people.
func TestHTTPDetails(t *testing.T) {
	h := newHarness(t)
	cur := h.create("H-1", "C1", "2026-11-26T14:30:00Z").header.Get("ETag")
	h.create("H-2", "C2", "2026-11-26T14:30:00Z")

	r := h.do("POST", "/holds/H-1/confirm", `{"booking_id":"B-1"}`, "If-Match", `"zzz"`).want(t, 412, httpapi.TypeStaleToken)
	if r.header.Get("ETag") != cur {
		t.Errorf(`If-Match "zzz": 412 with ETag %q, want the current %q`, r.header.Get("ETag"), cur)
	}
	if st := h.do("POST", "/holds/H-2/confirm", `{"booking_id":"B-2"}`, "If-Match", "*").want(t, 200, "").hold()["status"]; st != "confirmed" {
		t.Errorf(`If-Match: * on an existing hold: status %v, want confirmed`, st)
	}
	// A hold that does not exist is a 404 before any precondition is
	// evaluated (RFC 9110 §13.2.1).
	h.do("POST", "/holds/H-404/release", "", "If-Match", "*").want(t, 404, httpapi.TypeNotFound)

	for _, path := range []string{"/holds/H-1/confirm", "/admin/partition"} {
		r := h.do("DELETE", path, "")
		if path == "/admin/partition" {
			r.want(t, 204, "")
			continue
		}
		r.want(t, 405, "about:blank")
		if allow := r.header.Get("Allow"); allow == "" || strings.Contains(allow, "DELETE") {
			t.Errorf("DELETE %s: Allow %q", path, allow)
		}
	}
	if allow := h.do("POST", "/holds/H-1", "").header.Get("Allow"); allow != "GET, HEAD, PUT, DELETE" {
		t.Errorf("POST /holds/H-1: Allow %q, want GET, HEAD, PUT, DELETE", allow)
	}

	r = h.do("POST", "/holds/H-1/release", "", "If-Match", cur, "Content-Type", "text/plain").want(t, 415, httpapi.TypeMalformedBody)
	if r.header.Get("Accept") != "application/json" {
		t.Errorf("415: Accept %q, want application/json", r.header.Get("Accept"))
	}

	for _, r := range []response{
		h.do("GET", "/holds/H-404", "").want(t, 404, httpapi.TypeNotFound),
		h.do("POST", "/holds/H-1/confirm", `{"booking_id":"B-1"}`).want(t, 428, httpapi.TypePreconditionRequired),
		h.do("POST", "/holds/H-1/extend", `{"by":"5m"}`).want(t, 400, httpapi.TypeIdempotencyKeyRequired),
		h.do("POST", "/holds/H-1/confirm", `{"booking_id":`, "If-Match", cur).want(t, 400, httpapi.TypeMalformedBody),
		h.do("PUT", "/holds/H-1", `{"cabin":"C1","expires_in":"10m"}`, "If-None-Match", "*").want(t, 412, httpapi.TypeExists),
		h.do("POST", "/holds/H-2/release", "", "If-Match", h.do("GET", "/holds/H-2", "").header.Get("ETag")).want(t, 409, "about:blank"),
	} {
		detail, _ := r.body["detail"].(string)
		for _, chain := range []string{"replica:", "resolve:", "version:", "httpapi:", "json:"} {
			if strings.Contains(detail, chain) {
				t.Errorf("%d detail %q leaks a Go error chain (%s)", r.status, detail, chain)
			}
		}
	}
}

func TestReadsAndNotes(t *testing.T) {
	h := newHarness(t)
	etag := h.create("H-8822", "C15", "2026-11-26T14:20:00Z").header.Get("ETag")
	nm := h.do("GET", "/holds/H-8822", "", "If-None-Match", `"other", W/`+etag).want(t, 304, "")
	if nm.header.Get("ETag") != etag || nm.raw != "" {
		t.Errorf("304: %v %q", nm.header, nm.raw)
	}
	h.do("GET", "/holds/H-8822", "", "If-None-Match", `"other"`).want(t, 200, "")
	head, err := h.http.Head(h.url + "/holds/H-8822")
	if err != nil || head.StatusCode != 200 || head.Header.Get("ETag") != etag {
		t.Errorf("HEAD: %v %v", head, err)
	}
	head.Body.Close()

	// Blind notes in both regions while partitioned: the later stamp wins, said so.
	h.do("POST", "/admin/sync", "").want(t, 204, "")
	h.do("POST", "/admin/partition", "").want(t, 204, "")
	h.clock.Set(at(14, 12, 0))
	blind := h.do("PATCH", "/holds/H-8822/note", `{"note":"customer prefers deck 3"}`).want(t, 200, "")
	if blind.header.Get("Concord-Write") != "blind; policy=lww" {
		t.Errorf("blind write not labelled: %v", blind.header)
	}
	h.clock.Set(at(14, 12, 0).Add(400 * time.Millisecond))
	h.do("PATCH", "/holds/H-8822/note?region=baltimore", `{"note":"call back after 3pm"}`).want(t, 200, "")
	h.do("DELETE", "/admin/partition", "").want(t, 204, "")
	r := h.do("GET", "/holds/H-8822", "").want(t, 200, "")
	if r.hold()["note"] != "call back after 3pm" || !strings.Contains(r.raw, "hold.note: lww picked") {
		t.Errorf("LWW note: %s", r.raw)
	}
	// A conditional note edit with the current tag.
	cond := h.do("PATCH", "/holds/H-8822/note", `{"note":"checked"}`, "If-Match", `"nope", `+r.header.Get("ETag")).want(t, 200, "")
	if cond.header.Get("Concord-Write") != "conditional" || cond.hold()["note"] != "checked" {
		t.Errorf("conditional note: %v %s", cond.header, cond.raw)
	}
	vars := h.do("GET", "/debug/vars", "").want(t, 200, "")
	concord, _ := vars.body["concord"].(map[string]any)
	if skew, _ := concord["skew_window"].(map[string]any); skew["hold.note lww"] == nil {
		t.Errorf("skew window not counted: %s", vars.raw)
	}
}

// TestReplicate runs the background loop: a hold created in Lisbon shows
// up in Baltimore without any request, and the loop stops with its context.
func TestReplicate(t *testing.T) {
	h := newHarness(t)
	h.create("H-9", "C9", "2026-11-26T14:20:00Z")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	svc := h.svcs["lisbon"]
	svc.every = time.Millisecond
	go func() { done <- svc.Replicate(ctx) }()
	for i := 0; h.do("GET", "/holds/H-9?region=baltimore", "").status != 200; i++ {
		if i == 10_000 {
			t.Fatal("the background loop did not replicate")
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; err != context.Canceled {
		t.Errorf("Replicate returned %v", err)
	}
	st := svc.replicator.Status()
	if len(st) != 1 || st[0].Sessions == 0 || st[0].LastSent == 0 && st[0].Sent == 0 {
		t.Errorf("status %+v", st)
	}
}

// TestReplicationNeedsTheToken: the replication and admin routes refuse a
// request without the regions' token; without a token a service has no
// such routes and refuses peers.
func TestReplicationNeedsTheToken(t *testing.T) {
	h := newHarness(t)
	for _, path := range []string{"/replicate", "/admin/sync", "/admin/partition"} {
		resp, err := h.http.Post(h.url+path, httpapi.ReplicationMediaType, strings.NewReader("R"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") == "" {
			t.Errorf("%s without the token: %d", path, resp.StatusCode)
		}
	}
	alone, err := New(t.Context(), Config{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(alone.Handler())
	defer srv.Close()
	resp, err := h.http.Post(srv.URL+"/replicate", httpapi.ReplicationMediaType, strings.NewReader("R"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("/replicate without a token configured: %d", resp.StatusCode)
	}
	if _, err := New(t.Context(), Config{Peers: []string{srv.URL}}); err == nil {
		t.Error("a service with peers and no token")
	}
}

// TestDeleteHold: DELETE with the current ETag deletes the hold in every
// region (204, then 404); a DELETE that has not seen an open conflict is a
// 409, and one naming the conflict's ETag settles it.
func TestDeleteHold(t *testing.T) {
	h := newHarness(t)
	etag := h.create("H-1", "C1", "2026-11-26T14:30:00Z").header.Get("ETag")
	h.do("DELETE", "/holds/H-1", "", "If-Match", etag).want(t, 204, "")
	h.do("GET", "/holds/H-1", "").want(t, 404, httpapi.TypeNotFound)
	h.do("POST", "/admin/sync", "").want(t, 204, "")
	h.do("GET", "/holds/H-1?region=baltimore", "").want(t, 404, httpapi.TypeNotFound)

	h.create("H-2", "C2", "2026-11-26T14:30:00Z")
	h.do("POST", "/admin/sync", "").want(t, 204, "")
	base := h.do("GET", "/holds/H-2?region=baltimore", "").want(t, 200, "").header.Get("ETag")
	h.do("POST", "/admin/partition", "").want(t, 204, "")
	h.do("DELETE", "/holds/H-2", "", "If-Match", base).want(t, 204, "")
	h.do("POST", "/holds/H-2/confirm?region=baltimore", `{"booking_id":"B-1"}`, "If-Match", base).want(t, 200, "")
	h.do("DELETE", "/admin/partition", "").want(t, 204, "")
	got := h.do("GET", "/holds/H-2?region=baltimore", "").want(t, 200, "")
	if conflict, _ := got.body["conflict"].(map[string]any); conflict["rule"] != "delete" {
		t.Fatalf("a delete concurrent with a confirm: %s", got.raw)
	}
	h.do("DELETE", "/holds/H-2", "", "If-Match", "*").want(t, 409, httpapi.TypeConflict)
	h.do("DELETE", "/holds/H-2", "", "If-Match", base).want(t, 409, httpapi.TypeConflict)
	h.do("DELETE", "/holds/H-2", "", "If-Match", got.header.Get("ETag")).want(t, 204, "")
}

// TestLargeNotes is the poisoned store over HTTP: a 900 KB note
// fits the 1 MiB record limit, reads back and replicates; two 600 KB notes
// written in each region during a partition are each legal, but their merge
// is not: the sync after healing skips that record (each region keeps its
// own note, counts the refusal and queues it for review), and a record
// created meanwhile still reaches the other region.
func TestLargeNotes(t *testing.T) {
	h := newHarness(t)
	h.create("H-1", "C1", "2026-11-26T14:20:00Z")
	big := strings.Repeat("n", 900_000)
	h.do("PATCH", "/holds/H-1/note", `{"note":"`+big+`"}`).want(t, 200, "")
	if r := h.do("GET", "/holds/H-1", "").want(t, 200, ""); r.hold()["note"] != big {
		t.Fatalf("900 KB note did not read back")
	}
	h.do("POST", "/admin/sync", "").want(t, 204, "")
	if r := h.do("GET", "/holds/H-1?region=baltimore", "").want(t, 200, ""); r.hold()["note"] != big {
		t.Fatalf("900 KB note did not replicate")
	}

	h.do("POST", "/admin/partition", "").want(t, 204, "")
	half := strings.Repeat("h", 600_000)
	h.do("PATCH", "/holds/H-1/note", `{"note":"lisbon `+half+`"}`).want(t, 200, "")
	h.do("PATCH", "/holds/H-1/note?region=baltimore", `{"note":"baltimore `+half+`"}`).want(t, 200, "")
	h.create("H-2", "C2", "2026-11-26T14:20:00Z")
	h.do("DELETE", "/admin/partition", "").want(t, 204, "")
	for _, region := range regions {
		r := h.do("GET", "/holds/H-1?region="+region, "").want(t, 200, "")
		if note, _ := r.hold()["note"].(string); !strings.HasPrefix(note, region+" ") {
			t.Errorf("%s reads a note starting %.12q", region, note)
		}
	}
	h.do("GET", "/holds/H-2?region=baltimore", "").want(t, 200, "")
	vars := h.do("GET", "/debug/vars", "").want(t, 200, "")
	concord, _ := vars.body["concord"].(map[string]any)
	if tooLarge, _ := concord["too_large"].(map[string]any); tooLarge["hold"] == nil {
		t.Errorf("too_large not counted: %v", concord)
	}
	if vars.body["quarantined"] != float64(0) {
		t.Errorf("quarantined: %v", vars.body["quarantined"])
	}
	if peers, _ := vars.body["replication"].([]any); len(peers) != 1 || peers[0].(map[string]any)["Skipped"] == float64(0) {
		t.Errorf("the replication status does not count the skipped record: %s", vars.raw)
	}
	conflicts := h.do("GET", "/conflicts", "").want(t, 200, "")
	if !strings.Contains(conflicts.raw, "record-limit") {
		t.Errorf("the refused merge is not in the review queue: %.300s", conflicts.raw)
	}
}
