package httpapi

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestRoutes: a matched route is served; a path served for other methods
// answers 405 with Allow; an unknown path 404; both as problem details.
func TestRoutes(t *testing.T) {
	mux := http.NewServeMux()
	ok := func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }
	mux.HandleFunc("GET /holds/{id}", ok)
	mux.HandleFunc("PUT /holds/{id}", ok)
	mux.HandleFunc("POST /holds/{id}/confirm", ok)
	h := Routes(mux)
	for _, tc := range []struct {
		method, path string
		status       int
		allow        string
	}{
		{"GET", "/holds/H-1", 204, ""},
		{"HEAD", "/holds/H-1", 204, ""},
		{"DELETE", "/holds/H-1", 405, "GET, HEAD, PUT"},
		{"PATCH", "/holds/H-1", 405, "GET, HEAD, PUT"},
		{"GET", "/holds/H-1/confirm", 405, "POST"},
		{"GET", "/nowhere", 404, ""},
		{"DELETE", "/holds", 404, ""},
	} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(tc.method, tc.path, nil))
		if w.Code != tc.status || w.Header().Get("Allow") != tc.allow {
			t.Errorf("%s %s: %d Allow %q, want %d Allow %q", tc.method, tc.path, w.Code, w.Header().Get("Allow"), tc.status, tc.allow)
		}
		if tc.status < 400 {
			continue
		}
		var p Problem
		if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil || w.Header().Get("Content-Type") != ProblemMediaType ||
			p.Status != tc.status || p.Instance != tc.path || goErrorText(p.Detail) {
			t.Errorf("%s %s: not a problem for people: %s (%v)", tc.method, tc.path, w.Body, err)
		}
	}
}
