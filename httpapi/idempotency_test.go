package httpapi

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"time"

	"github.com/harborpoint/concord/replica"
)

func TestIdempotencyKey(t *testing.T) {
	for _, tc := range []struct {
		lines []string
		want  string
		err   error
	}{
		{[]string{`"8e03978e-40d5"`}, "8e03978e-40d5", nil},
		{[]string{`8e03978e-40d5`}, "8e03978e-40d5", nil},
		{[]string{` "a\"b\\c" `}, `a"b\c`, nil},
		{nil, "", replica.ErrIdempotencyKeyRequired},
		{[]string{`""`}, "", replica.ErrIdempotencyKeyRequired},
		{[]string{``}, "", replica.ErrIdempotencyKeyRequired},
		{[]string{`"a"`, `"b"`}, "", ErrMalformedHeader},
		{[]string{`"a`}, "", ErrMalformedHeader},
		{[]string{`"a"b`}, "", ErrMalformedHeader},
		{[]string{`"a\x"`}, "", ErrMalformedHeader},
		{[]string{"\"a\x01\""}, "", ErrMalformedHeader},
		{[]string{`a b`}, "", ErrMalformedHeader},
		{[]string{`a,b`}, "", ErrMalformedHeader},
		{[]string{strings.Repeat("k", MaxIdempotencyKeyLen+1)}, "", ErrMalformedHeader},
		{[]string{`"` + strings.Repeat("k", MaxIdempotencyKeyLen+1) + `"`}, "", ErrMalformedHeader},
	} {
		r := httptest.NewRequest("POST", "/", nil)
		r.Header["Idempotency-Key"] = tc.lines
		got, err := IdempotencyKey(r)
		if got != tc.want || tc.err == nil && err != nil || tc.err != nil && !errors.Is(err, tc.err) {
			t.Errorf("IdempotencyKey(%q) = %q, %v; want %q, %v", tc.lines, got, err, tc.want, tc.err)
		}
	}
}

// counting is a command handler that counts its runs and answers with the
// run number.
type counting struct {
	runs   atomic.Int32
	status int
}

func (c *counting) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := c.runs.Add(1)
	body, _ := io.ReadAll(r.Body)
	w.Header().Set("ETag", fmt.Sprintf(`"run%d"`, n))
	if c.status != 0 {
		w.WriteHeader(c.status)
	}
	fmt.Fprintf(w, "run %d of %s", n, body)
}

func do(t *testing.T, h http.Handler, key, path, body string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest("POST", path, strings.NewReader(body))
	if key != "" {
		r.Header.Set("Idempotency-Key", key)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestIdempotencyReplay(t *testing.T) {
	store := NewIdempotency(IdempotencyOptions{})
	cmd := &counting{status: http.StatusCreated}
	h := store.Require(cmd)

	first := do(t, h, `"k1"`, "/holds/H-1/extend", `{"by":"5m"}`)
	if first.Code != 201 || first.Body.String() != `run 1 of {"by":"5m"}` || first.Header().Get(ReplayedHeader) != "" {
		t.Fatalf("first: %d %q %v", first.Code, first.Body, first.Header())
	}
	again := do(t, h, `k1`, "/holds/H-1/extend", `{"by":"5m"}`)
	if again.Code != 201 || again.Body.String() != first.Body.String() || again.Header().Get("ETag") != `"run1"` ||
		again.Header().Get(ReplayedHeader) != "true" {
		t.Fatalf("replay: %d %q %v", again.Code, again.Body, again.Header())
	}
	for _, tc := range []struct{ path, body string }{
		{"/holds/H-1/extend", `{"by":"6m"}`},
		{"/holds/H-2/extend", `{"by":"5m"}`},
		{"/holds/H-1/extend?region=baltimore", `{"by":"5m"}`},
	} {
		w := do(t, h, "k1", tc.path, tc.body)
		if w.Code != 422 || !strings.Contains(w.Body.String(), TypeIdempotencyKeyReused) {
			t.Errorf("%s %s with a used key: %d %s", tc.path, tc.body, w.Code, w.Body)
		}
	}
	if w := do(t, h, "", "/holds/H-1/extend", `{}`); w.Code != 400 || !strings.Contains(w.Body.String(), TypeIdempotencyKeyRequired) {
		t.Errorf("no key: %d %s", w.Code, w.Body)
	}
	if w := do(t, h, `"k`, "/holds/H-1/extend", `{}`); w.Code != 400 || !strings.Contains(w.Body.String(), TypeMalformedHeader) {
		t.Errorf("malformed key: %d %s", w.Code, w.Body)
	}
	if n := cmd.runs.Load(); n != 1 {
		t.Errorf("handler ran %d times, want 1", n)
	}
}

func TestIdempotencyTargetScopeAndLimits(t *testing.T) {
	store := NewIdempotency(IdempotencyOptions{
		Target:       func(r *http.Request) string { return r.URL.Path },
		Scope:        func(r *http.Request) string { return r.Header.Get("Client") },
		MaxBodyBytes: 16, MaxResponseBytes: 20,
	})
	cmd := &counting{}
	h := store.Require(cmd)
	do(t, h, "k", "/x?region=lisbon", `{}`)
	if w := do(t, h, "k", "/x?region=baltimore", `{}`); w.Header().Get(ReplayedHeader) != "true" {
		t.Errorf("Target without the query: %d %v", w.Code, w.Header())
	}
	r := httptest.NewRequest("POST", "/x", strings.NewReader(`{}`))
	r.Header.Set("Idempotency-Key", "k")
	r.Header.Set("Client", "other")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Header().Get(ReplayedHeader) != "" || cmd.runs.Load() != 2 {
		t.Errorf("another scope replayed: %v, runs %d", w.Header(), cmd.runs.Load())
	}
	if w := do(t, h, "big", "/x", strings.Repeat("x", 17)); w.Code != 413 {
		t.Errorf("large content: %d", w.Code)
	}
	// A response over MaxResponseBytes is sent whole but not remembered.
	long := do(t, h, "long", "/x", `0123456789ab`)
	if !strings.HasSuffix(long.Body.String(), "0123456789ab") {
		t.Errorf("long response cut: %q", long.Body)
	}
	if again := do(t, h, "long", "/x", `0123456789ab`); again.Header().Get(ReplayedHeader) != "" {
		t.Error("long response was replayed")
	}
}

func TestIdempotencyServerErrorsAreNotRemembered(t *testing.T) {
	store := NewIdempotency(IdempotencyOptions{})
	for _, status := range []int{http.StatusServiceUnavailable, http.StatusConflict} {
		cmd := &counting{status: status}
		h := store.Require(cmd)
		do(t, h, "k", "/x", "a")
		do(t, h, "k", "/x", "a")
		if n := cmd.runs.Load(); n != 2 || store.Len() != 0 {
			t.Errorf("%d: runs %d, remembered %d; want 2, 0", status, n, store.Len())
		}
	}
	// A handler that panics frees its key too.
	boom := store.Require(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic(http.ErrAbortHandler) }))
	func() {
		defer func() { _ = recover() }()
		do(t, boom, "p", "/x", "")
	}()
	if store.Len() != 0 {
		t.Errorf("panicking handler left its key: %d", store.Len())
	}
}

func TestIdempotencyInFlight(t *testing.T) {
	store := NewIdempotency(IdempotencyOptions{})
	entered, release := make(chan struct{}), make(chan struct{})
	h := store.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
		fmt.Fprint(w, "done")
	}))
	var first *httptest.ResponseRecorder
	var wg sync.WaitGroup
	wg.Go(func() { first = do(t, h, "k", "/x", "a") })
	<-entered
	if w := do(t, h, "k", "/x", "a"); w.Code != 409 || !strings.Contains(w.Body.String(), TypeIdempotencyKeyInFlight) {
		t.Errorf("in flight: %d %s", w.Code, w.Body)
	}
	close(release)
	wg.Wait()
	if w := do(t, h, "k", "/x", "a"); w.Body.String() != "done" || first.Body.String() != "done" {
		t.Errorf("after: %q %q", w.Body, first.Body)
	}
}

func TestIdempotencyBounds(t *testing.T) {
	now := time.Date(2026, 11, 26, 14, 0, 0, 0, time.UTC)
	store := NewIdempotency(IdempotencyOptions{MaxKeys: 3, TTL: time.Hour, Now: func() time.Time { return now }})
	cmd := &counting{}
	h := store.Require(cmd)
	for i := range 5 {
		do(t, h, fmt.Sprint("k", i), "/x", "")
	}
	if store.Len() != 3 {
		t.Fatalf("Len = %d, want 3", store.Len())
	}
	// k0 and k1 were evicted, oldest first; k4 is remembered.
	do(t, h, "k0", "/x", "")
	do(t, h, "k4", "/x", "")
	if n := cmd.runs.Load(); n != 6 {
		t.Errorf("runs = %d, want 6 (k0 again, k4 replayed)", n)
	}
	now = now.Add(time.Hour)
	do(t, h, "k4", "/x", "")
	if n := cmd.runs.Load(); n != 7 || store.Len() != 1 {
		t.Errorf("after the TTL: runs %d, len %d; want 7, 1", n, store.Len())
	}

	// A store full of requests in progress refuses more.
	full := NewIdempotency(IdempotencyOptions{MaxKeys: 1})
	entered, release := make(chan struct{}), make(chan struct{})
	hold := full.Require(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { close(entered); <-release }))
	var wg sync.WaitGroup
	wg.Go(func() { do(t, hold, "a", "/x", "") })
	<-entered
	if w := do(t, hold, "b", "/x", ""); w.Code != 503 || w.Header().Get("Retry-After") == "" {
		t.Errorf("full store: %d %v", w.Code, w.Header())
	}
	close(release)
	wg.Wait()
}

func TestIdempotencyConcurrentRetries(t *testing.T) {
	store := NewIdempotency(IdempotencyOptions{MaxKeys: 8})
	cmd := &counting{}
	h := store.Require(cmd)
	var wg sync.WaitGroup
	codes := make([]int, 64)
	for i := range codes {
		wg.Go(func() {
			w := do(t, h, fmt.Sprint("k", i%4), "/x", fmt.Sprint(i%4))
			codes[i] = w.Code
		})
	}
	wg.Wait()
	for i, c := range codes {
		if c != 200 && c != 409 {
			t.Errorf("request %d: status %d", i, c)
		}
	}
	if n := cmd.runs.Load(); n != 4 {
		t.Errorf("handler ran %d times for 4 keys", n)
	}
}
