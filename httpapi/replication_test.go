package httpapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/harborpoint/concord/hold"
	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/replica/rangesync"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

var bg = context.Background()

// bearer is the example's authentication: a shared token.
func bearer(token string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") != "Bearer "+token {
				(&Problem{Title: "Unauthorized", Status: http.StatusUnauthorized}).Write(w)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

func newHoldReplica(t testing.TB, name string, opts replica.Options[hold.Hold]) (*replica.Replica[hold.Hold], *replica.MemoryStore) {
	t.Helper()
	store := replica.NewMemoryStore()
	opts.CommandKeys = hold.CommandKeys
	r, err := replica.New(version.MustID(name), store, hold.Resolver(resolve.Options{}), opts)
	if err != nil {
		t.Fatal(err)
	}
	return r, store
}

func createHolds(t testing.TB, r *replica.Replica[hold.Hold], prefix string, n int, note string) {
	t.Helper()
	for i := range n {
		k := fmt.Sprintf("%s-%04d", prefix, i)
		if _, err := r.Create(bg, k, hold.New(k, "C1", note, time.Date(2026, 11, 26, 15, 0, 0, 0, time.UTC))); err != nil {
			t.Fatal(err)
		}
	}
}

// serve serves r's replication endpoint behind a bearer token and returns a
// client of it.
func serve(t *testing.T, r *replica.Replica[hold.Hold], maxBody int64) *ReplicationClient {
	t.Helper()
	h, err := NewReplicationHandler(r, ReplicationOptions{Auth: bearer("s3cret"), MaxBody: maxBody})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &ReplicationClient{URL: srv.URL, Client: srv.Client(), Header: http.Header{"Authorization": {"Bearer s3cret"}}, MaxBody: maxBody}
}

// entries lists a store's records (the tests' stores hold fewer than 10,000).
func entries(t *testing.T, s *replica.MemoryStore) []replica.Entry {
	t.Helper()
	page, err := s.Scan(bg, "", 10_000)
	if err != nil {
		t.Fatal(err)
	}
	return page
}

// same reports whether a and b hold the same states.
func same(t *testing.T, a, b *replica.MemoryStore) bool {
	t.Helper()
	ea, eb := entries(t, a), entries(t, b)
	if len(ea) != len(eb) {
		return false
	}
	for i := range ea {
		if ea[i].Key != eb[i].Key || !bytes.Equal(ea[i].Value, eb[i].Value) {
			return false
		}
	}
	return true
}

// TestReplicationOverHTTP: one session over HTTP brings two replicas that
// each hold records the other lacks, and one both changed, to the same
// state; a second finds nothing to do in one round trip.
func TestReplicationOverHTTP(t *testing.T) {
	lis, lisStore := newHoldReplica(t, "lisbon", replica.Options[hold.Hold]{})
	iad, iadStore := newHoldReplica(t, "baltimore", replica.Options[hold.Hold]{})
	createHolds(t, lis, "L", 200, "lisbon-desk")
	createHolds(t, iad, "B", 150, "baltimore-desk")
	createHolds(t, lis, "S", 1, "lisbon-desk")
	createHolds(t, iad, "S", 1, "baltimore-desk")

	peer := serve(t, iad, 0)
	rep, err := lis.Sync(bg, peer)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Sent != 201 || rep.Received != 151 || rep.Skipped != 0 {
		t.Fatalf("report %+v", rep)
	}
	if !same(t, lisStore, iadStore) {
		t.Fatal("the stores differ after the session")
	}
	rep, err = lis.Sync(bg, peer)
	if err != nil || rep.Rounds != 1 || rep.Sent+rep.Received != 0 || rep.Bytes != 20 {
		t.Fatalf("second session: %+v, %v", rep, err)
	}
}

// TestReplicationSmallBodies: with bodies just above the frame limit, the
// client splits pushes and asks again for what a fetch answer had no room
// for, and the replicas still converge.
func TestReplicationSmallBodies(t *testing.T) {
	opts := replica.Options[hold.Hold]{Reconcile: rangesync.Options{FrameLimit: rangesync.MinFrameLimit}}
	lis, lisStore := newHoldReplica(t, "lisbon", opts)
	iad, iadStore := newHoldReplica(t, "baltimore", opts)
	note := strings.Repeat("n", 300)
	createHolds(t, lis, "L", 400, note)
	createHolds(t, iad, "B", 400, note)
	var requests int
	h, err := NewReplicationHandler(iad, ReplicationOptions{Auth: func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { requests++; next.ServeHTTP(w, r) })
	}, MaxBody: 40 << 10})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	rep, err := lis.Sync(bg, &ReplicationClient{URL: srv.URL, MaxBody: 40 << 10})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Sent != 400 || rep.Received != 400 || !same(t, lisStore, iadStore) {
		t.Fatalf("report %+v", rep)
	}
	if min := rep.Rounds + 2*(400*400/(40<<10)); requests < min {
		t.Fatalf("%d requests: the bodies were not split", requests)
	}
}

// TestReplicationAuth: no handler without an Auth middleware; a request
// the middleware refuses fails the session with a *PeerError and changes
// nothing.
func TestReplicationAuth(t *testing.T) {
	iad, iadStore := newHoldReplica(t, "baltimore", replica.Options[hold.Hold]{})
	if _, err := NewReplicationHandler(iad, ReplicationOptions{}); !errors.Is(err, ErrNoAuth) {
		t.Fatalf("no Auth: %v", err)
	}
	lis, _ := newHoldReplica(t, "lisbon", replica.Options[hold.Hold]{})
	createHolds(t, lis, "L", 3, "")
	peer := serve(t, iad, 0)
	peer.Header = http.Header{"Authorization": {"Bearer guess"}}
	_, err := lis.Sync(bg, peer)
	var pe *PeerError
	if !errors.As(err, &pe) || pe.Status != 401 || !errors.Is(err, ErrPeer) || !strings.Contains(err.Error(), "Unauthorized") {
		t.Fatalf("Sync with a wrong token: %v", err)
	}
	if e := entries(t, iadStore); len(e) != 0 {
		t.Fatalf("refused requests stored %v", e)
	}
}

// TestReplicationRefusals: requests that are not replication are refused
// with a problem and change nothing; a push applies the states it can and
// lists the others.
func TestReplicationRefusals(t *testing.T) {
	iad, iadStore := newHoldReplica(t, "baltimore", replica.Options[hold.Hold]{})
	h, err := NewReplicationHandler(iad, ReplicationOptions{Auth: func(h http.Handler) http.Handler { return h }, MaxBody: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	post := func(method, ct string, body []byte) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, "/replicate", bytes.NewReader(body))
		req.Header.Set("Content-Type", ct)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w
	}
	rt := ReplicationMediaType
	for _, tc := range []struct {
		name, method, ct string
		body             []byte
		status           int
	}{
		{"GET", "GET", rt, nil, 405},
		{"JSON", "POST", "application/json", []byte("{}"), 415},
		{"empty", "POST", rt, nil, 400},
		{"unknown operation", "POST", rt, []byte{'X'}, 400},
		{"malformed reconcile", "POST", rt, []byte{opReconcile, rangesync.ProtocolVersion, 9}, 400},
		{"other protocol version", "POST", rt, []byte{opReconcile, 0x01}, 400},
		{"truncated push", "POST", rt, []byte{opPush, 5, 'a'}, 400},
		{"truncated fetch", "POST", rt, []byte{opFetch, 0xff}, 400},
		{"fetch with a bad context", "POST", rt, []byte{opFetch, 1, 'k', 2, 9, 9}, 400},
		{"too large", "POST", rt, append([]byte{opPush}, make([]byte, 64<<10)...), 413},
	} {
		w := post(tc.method, tc.ct, tc.body)
		if w.Code != tc.status || !strings.HasPrefix(w.Header().Get("Content-Type"), ProblemMediaType) {
			t.Errorf("%s: %d %s %s", tc.name, w.Code, w.Header().Get("Content-Type"), w.Body)
		}
	}
	if e := entries(t, iadStore); len(e) != 0 {
		t.Fatalf("refused requests stored %v", e)
	}

	lis, _ := newHoldReplica(t, "lisbon", replica.Options[hold.Hold]{})
	createHolds(t, lis, "L", 2, "")
	good, _ := lis.Export(bg, "L-0001")
	srv := httptest.NewServer(h)
	defer srv.Close()
	c := &ReplicationClient{URL: srv.URL, MaxBody: 64 << 10}
	refused, err := c.Push(bg, []replica.Delta{{Key: "L-0000", Data: []byte{1, 2}}, {Key: "L-0001", Data: good}, {Key: "big", Data: make([]byte, 64<<10)}})
	if err != nil || len(refused) != 2 || refused[0].Key != "big" || refused[1].Key != "L-0000" ||
		!errors.Is(refused[0].Err, ErrBodyTooLarge) || !errors.Is(refused[1].Err, ErrRefused) {
		t.Fatalf("push: %v, %v", refused, err)
	}
	if e := entries(t, iadStore); len(e) != 1 || e[0].Key != "L-0001" {
		t.Fatalf("stored %v", e)
	}
	states, err := c.Pull(bg, []replica.Want{{Key: "nothing"}, {Key: "L-0001"}})
	if err != nil || len(states) != 1 || !bytes.Equal(states[0].Data, good) {
		t.Fatalf("pull: %v, %v", states, err)
	}
}

// TestReplicationClientRefusesHostileAnswers: a peer that answers a fetch
// with states nobody asked for, or answers nothing, fails the request.
func TestReplicationClientRefusesHostileAnswers(t *testing.T) {
	for name, answer := range map[string][]byte{
		"state not asked for": appendBytes(appendBytes([]byte{1}, []byte("other")), []byte{1}),
		"answers no key":      {0},
		"answers more keys":   {9},
		"truncated":           {1, 5, 'a'},
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(answer) }))
		_, err := (&ReplicationClient{URL: srv.URL}).Pull(bg, []replica.Want{{Key: "asked"}})
		srv.Close()
		if !errors.Is(err, ErrMalformedBody) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// FuzzReplicationHandler posts arbitrary content to the endpoint: never a
// 5xx, never a panic.
func FuzzReplicationHandler(f *testing.F) {
	lis, _ := newHoldReplica(f, "lisbon", replica.Options[hold.Hold]{})
	createHolds(f, lis, "L", 20, "")
	state, _ := lis.Export(bg, "L-0003")
	f.Add(append([]byte{opReconcile}, rangesync.ProtocolVersion, 0, 1))
	f.Add(appendBytes(appendBytes([]byte{opPush}, []byte("L-0003")), state))
	f.Add(appendBytes(appendBytes([]byte{opFetch}, []byte("L-0003")), nil))
	f.Add(appendBytes(appendBytes([]byte{opFetch}, []byte("L-0003")), []byte{1, 1, 6, 'l', 'i', 's', 'b', 'o', 'n', 0, 5}))
	f.Add([]byte{opFetch})
	f.Add([]byte{opPush, 0x80})
	f.Add(appendBytes(appendBytes([]byte{opAck}, []byte("L-0003")), []byte("L-0004")))
	f.Add([]byte{opAck})
	f.Add([]byte{opAck, 0x80})
	h, err := NewReplicationHandler(lis, ReplicationOptions{Auth: func(h http.Handler) http.Handler { return h }, MaxBody: 1 << 16})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, content []byte) {
		req := httptest.NewRequest("POST", "/", bytes.NewReader(content))
		req.Header.Set("Content-Type", ReplicationMediaType)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code >= 500 {
			t.Fatalf("%d: %s", w.Code, w.Body)
		}
	})
}

// FuzzReplicationAnswers decodes arbitrary answers as a client does, and
// checks that encoded states and refusals decode to themselves.
func FuzzReplicationAnswers(f *testing.F) {
	f.Add([]byte{0}, "k", []byte("v"))
	f.Add([]byte{1, 1, 'k', 3, 'w', 'h', 'y'}, "", []byte{})
	f.Fuzz(func(t *testing.T, answer []byte, key string, data []byte) {
		_, _ = decodeRefusals(answer)
		_, _ = decodeStates(answer)
		states, err := decodeStates(appendBytes(appendBytes(nil, []byte(key)), data))
		if err != nil || len(states) != 1 || states[0].Key != key || !bytes.Equal(states[0].Data, data) {
			t.Fatalf("round trip of a state: %v %v", states, err)
		}
		refused, err := decodeRefusals(appendBytes(appendBytes([]byte{1}, []byte(key)), data))
		if err != nil || len(refused) != 1 || refused[0].Key != key || !strings.HasSuffix(refused[0].Err.Error(), string(data)) {
			t.Fatalf("round trip of a refusal: %v %v", refused, err)
		}
	})
}
