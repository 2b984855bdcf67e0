package httpapi

import (
	"fmt"
	"net/http"
	"strings"
)

// methods are the methods whose patterns Routes looks for when it builds an
// Allow header.
var methods = []string{
	http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut,
	http.MethodPatch, http.MethodDelete, http.MethodOptions,
}

// Routes serves mux and answers the requests that no pattern of mux matches
// with problem details instead of net/http's plain text: 405 Method Not
// Allowed, with an Allow header listing the methods the path does support
// (RFC 9110 §15.5.6), when a pattern matches the path with another method,
// and 404 Not Found otherwise. Register method-qualified patterns such as
// "GET /holds/{id}" and no catch-all "/": a catch-all matches every method
// and path, so nothing would be a 405.
func Routes(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := mux.Handler(r); pattern != "" {
			mux.ServeHTTP(w, r)
			return
		}
		if allow := allowed(mux, r); len(allow) > 0 {
			list := strings.Join(allow, ", ")
			(&Problem{Title: "Method not allowed", Status: http.StatusMethodNotAllowed, Instance: r.URL.Path,
				Detail: fmt.Sprintf("%s is not supported here; this resource supports %s.", r.Method, list),
				Header: http.Header{"Allow": {list}}}).Write(w)
			return
		}
		(&Problem{Type: TypeNotFound, Title: "Not found", Status: http.StatusNotFound, Instance: r.URL.Path,
			Detail: "There is no resource at this path."}).Write(w)
	})
}

// allowed returns the methods for which mux has a pattern matching r's path.
func allowed(mux *http.ServeMux, r *http.Request) []string {
	var out []string
	for _, m := range methods {
		q := r.WithContext(r.Context()) // a shallow copy
		q.Method = m
		if _, pattern := mux.Handler(q); pattern != "" {
			out = append(out, m)
		}
	}
	return out
}
