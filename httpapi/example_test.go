package httpapi_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/harborpoint/concord/hold"
	"github.com/harborpoint/concord/httpapi"
	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

// A concord token is a strong entity tag as is.
func ExampleETag() {
	v := version.MustVector("{lisbon:18}")
	fmt.Println(httpapi.ETag(v.Token()))
	// Output: "AQEGbGlzYm9uABI"
}

// If-Match lists, "*" and weak tags, parsed per RFC 9110.
func ExampleParseCondition() {
	c, err := httpapi.ParseCondition("If-Match", []string{`"AQEGbGlzYm9uABI", "AQEGbGlzYm9uABM"`})
	fmt.Println(c.Tags, err)
	fmt.Println(c.MatchStrong("AQEGbGlzYm9uABM"))

	c, _ = httpapi.ParseCondition("If-None-Match", []string{"*"})
	fmt.Println(c.Any)

	_, err = httpapi.ParseCondition("If-Match", []string{`"a" "b"`})
	fmt.Println(errors.Is(err, httpapi.ErrMalformedHeader))
	// Output:
	// ["AQEGbGlzYm9uABI" "AQEGbGlzYm9uABM"] <nil>
	// true
	// true
	// true
}

// A conditional write needs If-Match, evaluated against the record's
// current ETag (RFC 9110 §13.1.1): the current tag, or "*" for a record that
// exists, lets the write through; a stale token goes to the replica, which
// refuses it with 412 (atomically with its write, and counted); a tag that
// is no concord token at all is a 412 at once; no If-Match at all is 428.
func ExampleCondition_Token() {
	const current = "AQEGbGlzYm9uABM" // the record's token, {lisbon:19}
	rs := httpapi.Responder{}
	for _, h := range []string{`"AQEGbGlzYm9uABM"`, `"AQEGbGlzYm9uABI"`, `"zzz"`, "*", "", `W/"AQEGbGlzYm9uABM"`} {
		r := httptest.NewRequest("POST", "/holds/H-8821/confirm", nil)
		if h != "" {
			r.Header.Set("If-Match", h)
		}
		c, err := httpapi.RequireIfMatch(r)
		token := ""
		if err == nil {
			token, err = c.Token(current)
		}
		if err != nil {
			w := httptest.NewRecorder()
			rs.Error(w, r, err)
			fmt.Println(strings.TrimSpace(fmt.Sprintf("%-22q %d %s", h, w.Code, w.Header().Get("ETag"))))
			continue
		}
		if token != current {
			fmt.Printf("%-22q the replica refuses %s as stale: 412\n", h, token)
			continue
		}
		fmt.Printf("%-22q write with %s\n", h, token)
	}
	// Output:
	// "\"AQEGbGlzYm9uABM\""  write with AQEGbGlzYm9uABM
	// "\"AQEGbGlzYm9uABI\""  the replica refuses AQEGbGlzYm9uABI as stale: 412
	// "\"zzz\""              412 "AQEGbGlzYm9uABM"
	// "*"                    write with AQEGbGlzYm9uABM
	// ""                     428
	// "W/\"AQEGbGlzYm9uABM\"" 400
}

var errIllegal = errors.New("illegal transition")

// Errors become problem details: concord's by the built-in mapping, the
// domain's by a Classifier.
func ExampleResponder() {
	rs := httpapi.Responder{
		Classify: httpapi.Map(http.StatusConflict, "", "Illegal transition", errIllegal),
	}
	r := httptest.NewRequest("POST", "/holds/H-8821/confirm", nil)
	for _, err := range []error{
		&replica.PreconditionFailed{Key: "H-8821", Given: "AQEGbGlzYm9uABI", Current: "AQEGbGlzYm9uABM"},
		replica.ErrPreconditionRequired,
		fmt.Errorf("confirm: %w", errIllegal),
		fmt.Errorf("note: %w", replica.ErrNotBlindWritable),
	} {
		w := httptest.NewRecorder()
		rs.Error(w, r, err)
		fmt.Println(strings.TrimSpace(fmt.Sprint(w.Code, " ", w.Header().Get("Content-Type"), " ", w.Header().Get("ETag"))))
	}
	p := rs.Problem(r, replica.ErrPreconditionRequired)
	fmt.Println(p.Type)
	// Output:
	// 412 application/problem+json "AQEGbGlzYm9uABM"
	// 428 application/problem+json
	// 409 application/problem+json
	// 422 application/problem+json
	// https://pkg.go.dev/github.com/harborpoint/concord/httpapi#TypePreconditionRequired
}

// Merge-aware commands: a replay gets the first response.
func ExampleIdempotency() {
	store := httpapi.NewIdempotency(httpapi.IdempotencyOptions{})
	runs := 0
	h := store.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		runs++
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprintf(w, "extended (run %d)", runs)
	}))
	for _, key := range []string{`"lis-extend-1"`, `"lis-extend-1"`, ""} {
		r := httptest.NewRequest("POST", "/holds/H-8821/extend", nil)
		if key != "" {
			r.Header.Set("Idempotency-Key", key)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		fmt.Printf("%d replayed=%t %s\n", w.Code, w.Header().Get(httpapi.ReplayedHeader) == "true", w.Header().Get("Content-Type"))
	}
	// Output:
	// 200 replayed=false text/plain
	// 200 replayed=true text/plain
	// 400 replayed=false application/problem+json
}

// Two regions replicate over HTTP: Baltimore serves its replication
// endpoint behind a token check, and Lisbon runs a session against it with
// a ReplicationClient. Only the records that differ travel.
func ExampleNewReplicationHandler() {
	ctx := context.Background()
	region := func(name string) *replica.Replica[hold.Hold] {
		r, err := replica.New(version.MustID(name), replica.NewMemoryStore(), hold.Resolver(resolve.Options{}), replica.Options[hold.Hold]{CommandKeys: hold.CommandKeys})
		if err != nil {
			panic(err)
		}
		return r
	}
	lisbon, baltimore := region("lisbon"), region("baltimore")
	expires := time.Date(2026, 11, 26, 14, 10, 0, 0, time.UTC)
	_, _ = lisbon.Create(ctx, "H-8821", hold.New("H-8821", "C14", "lisbon-desk", expires))
	_, _ = baltimore.Create(ctx, "H-8822", hold.New("H-8822", "C15", "baltimore-desk", expires))

	token := "shared-secret" // in production: a secret of the deployment, or mTLS
	auth := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") != "Bearer "+token {
				http.Error(w, "unauthorized", http.StatusUnauthorized)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
	endpoint, err := httpapi.NewReplicationHandler(baltimore, httpapi.ReplicationOptions{Auth: auth})
	if err != nil {
		panic(err)
	}
	srv := httptest.NewServer(endpoint)
	defer srv.Close()

	peer := &httpapi.ReplicationClient{URL: srv.URL, Header: http.Header{"Authorization": {"Bearer " + token}}}
	rep, err := lisbon.Sync(ctx, peer)
	fmt.Println(rep.Sent, rep.Received, err)
	rec, err := baltimore.Get(ctx, "H-8821")
	fmt.Println(rec.Value.Cabin, err)

	_, err = lisbon.Sync(ctx, &httpapi.ReplicationClient{URL: srv.URL})
	fmt.Println(errors.Is(err, httpapi.ErrPeer))
	// Output:
	// 1 1 <nil>
	// C14 <nil>
	// true
}
