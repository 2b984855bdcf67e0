package httpapi

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/harborpoint/concord/hold"
	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/version"
)

var members = []version.ID{version.MustID("lisbon"), version.MustID("baltimore")}

// reapers are two replicas that list both as members, each served over
// HTTP, with a client of each that knows whom it reaches.
func reapers(t *testing.T) (lis, iad *replica.Replica[hold.Hold], toLis, toIad *ReplicationClient) {
	t.Helper()
	lis, _ = newHoldReplica(t, "lisbon", replica.Options[hold.Hold]{Members: members})
	iad, _ = newHoldReplica(t, "baltimore", replica.Options[hold.Hold]{Members: members})
	toLis, toIad = serve(t, lis, 0), serve(t, iad, 0)
	toLis.Replica, toIad.Replica = lis.ID(), iad.ID()
	return lis, iad, toLis, toIad
}

// deleteAcross creates a hold on lis, replicates it and deletes it on lis.
func deleteAcross(t *testing.T, lis *replica.Replica[hold.Hold], toIad *ReplicationClient) {
	t.Helper()
	rec, err := lis.Create(bg, "H-1", hold.New("H-1", "C1", "", time.Date(2026, 11, 26, 15, 0, 0, 0, time.UTC)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lis.Sync(bg, toIad); err != nil {
		t.Fatal(err)
	}
	if _, err := lis.Delete(bg, "H-1", rec.Token); err != nil {
		t.Fatal(err)
	}
}

// TestTombstonesAreReapedAcrossProcesses: over the HTTP endpoint, a delete
// replicated by sessions both ways is acknowledged by each side to the
// other, and both reap it.
func TestTombstonesAreReapedAcrossProcesses(t *testing.T) {
	lis, iad, toLis, toIad := reapers(t)
	deleteAcross(t, lis, toIad)
	for _, s := range []struct {
		r    *replica.Replica[hold.Hold]
		peer *ReplicationClient
	}{{lis, toIad}, {iad, toLis}} {
		rep, err := s.r.Sync(bg, s.peer)
		if err != nil || rep.Acked != 1 {
			t.Fatalf("%v: Sync: %+v, %v", s.r.ID(), rep, err)
		}
	}
	for _, r := range []*replica.Replica[hold.Hold]{lis, iad} {
		if n, err := r.Reap(bg); n != 1 || err != nil {
			t.Fatalf("%v: Reap = %d, %v", r.ID(), n, err)
		}
		if _, err := r.Get(bg, "H-1"); !errors.Is(err, replica.ErrNotFound) || errors.Is(err, replica.ErrDeleted) {
			t.Fatalf("%v: Get after reaping: %v", r.ID(), err)
		}
	}
}

// TestAClientThatDoesNotKnowItsPeerCollectsNoAcks: without
// ReplicationClient.Replica the session succeeds and nothing is reaped.
func TestAClientThatDoesNotKnowItsPeerCollectsNoAcks(t *testing.T) {
	lis, iad, toLis, toIad := reapers(t)
	toLis.Replica, toIad.Replica = version.ID{}, version.ID{}
	deleteAcross(t, lis, toIad)
	for _, s := range []struct {
		r    *replica.Replica[hold.Hold]
		peer *ReplicationClient
	}{{lis, toIad}, {iad, toLis}} {
		if rep, err := s.r.Sync(bg, s.peer); err != nil || rep.Acked != 0 {
			t.Fatalf("%v: Sync: %+v, %v", s.r.ID(), rep, err)
		}
	}
	if n, err := lis.Reap(bg); n != 0 || err != nil {
		t.Fatalf("Reap = %d, %v", n, err)
	}
}

// TestAPeerCannotAcknowledgeAsAnotherMember: the client expects madrid at
// baltimore's endpoint; baltimore's answer names baltimore, so it is
// refused with an *AckError and lisbon reaps nothing.
func TestAPeerCannotAcknowledgeAsAnotherMember(t *testing.T) {
	lis, _, _, toIad := reapers(t)
	lis.AddMember(version.MustID("madrid"))
	lis.RemoveMember(version.MustID("baltimore"))
	deleteAcross(t, lis, toIad)
	toIad.Replica = version.MustID("madrid")
	_, err := lis.Sync(bg, toIad)
	var ae *replica.AckError
	if !errors.As(err, &ae) || !errors.Is(err, replica.ErrBadAck) || ae.Peer != version.MustID("baltimore") {
		t.Fatalf("Sync: %v", err)
	}
	if n, err := lis.Reap(bg); n != 0 || err != nil {
		t.Fatalf("Reap = %d, %v", n, err)
	}
}

// TestAcknowledgementRequestsAreBounded: too many keys, or too long a key,
// is a 400.
func TestAcknowledgementRequestsAreBounded(t *testing.T) {
	lis, _ := newHoldReplica(t, "lisbon", replica.Options[hold.Hold]{})
	h, err := NewReplicationHandler(lis, ReplicationOptions{Auth: func(h http.Handler) http.Handler { return h }})
	if err != nil {
		t.Fatal(err)
	}
	many := []byte{opAck}
	for range replica.MaxAckKeys + 1 {
		many = appendBytes(many, []byte("k"))
	}
	long := appendBytes([]byte{opAck}, bytes.Repeat([]byte("k"), replica.MaxKeyLen+1))
	for name, content := range map[string][]byte{"too many keys": many, "too long a key": long} {
		req := httptest.NewRequest("POST", "/", bytes.NewReader(content))
		req.Header.Set("Content-Type", ReplicationMediaType)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusBadRequest {
			t.Errorf("%s: %d %s", name, w.Code, w.Body)
		}
	}
}

// TestLongAcknowledgementsTakeSeveralRequests: with a small body limit,
// the client asks again for what an answer had no room for.
func TestLongAcknowledgementsTakeSeveralRequests(t *testing.T) {
	lis, _ := newHoldReplica(t, "lisbon", replica.Options[hold.Hold]{})
	createHolds(t, lis, strings.Repeat("L", 100), 40, "")
	c := serve(t, lis, 1024)
	c.Replica = lis.ID()
	keys := append(mustDigestKeys(t, lis), "absent")
	a, err := c.Acknowledge(bg, keys)
	if err != nil {
		t.Fatal(err)
	}
	want, err := lis.Acknowledge(bg, keys)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Held) != 40 || a.Replica != lis.ID() {
		t.Fatalf("%d keys acknowledged by %v", len(a.Held), a.Replica)
	}
	for k, v := range want.Held {
		if !a.Held[k].Equal(v) {
			t.Fatalf("%s: %v over HTTP, %v in process", k, a.Held[k], v)
		}
	}
}

func mustDigestKeys(t *testing.T, r *replica.Replica[hold.Hold]) []string {
	t.Helper()
	d, err := r.Digest(bg)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range d {
		keys = append(keys, k)
	}
	return keys
}

// FuzzAckAnswers decodes arbitrary answers as the client does — never a
// panic, and any error is an *AckError — and checks that an answer encoded
// by the handler decodes to what the replica acknowledged.
func FuzzAckAnswers(f *testing.F) {
	lis, _ := newHoldReplica(f, "lisbon", replica.Options[hold.Hold]{})
	createHolds(f, lis, "L", 3, "")
	h := &replicationHandler[hold.Hold]{r: lis, opts: ReplicationOptions{MaxBody: DefaultMaxReplicationBody}}
	valid, err := h.ack(bg, appendBytes(appendBytes(nil, []byte("L-0001")), []byte("nope")))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(valid, "L-0001")
	f.Add([]byte{1, 6, 'l', 'i', 's', 'b', 'o', 'n'}, "k")
	f.Add([]byte{2, 6, 'l', 'i', 's', 'b', 'o', 'n', 1, 'k', 0}, "k")
	f.Add([]byte{0}, "")
	c := &ReplicationClient{URL: "http://peer", Replica: lis.ID()}
	f.Fuzz(func(t *testing.T, answer []byte, key string) {
		held := replica.Digest{}
		n, err := c.decodeAck(answer, []string{key, key + "2"}, held)
		var ae *replica.AckError
		switch {
		case err != nil && !errors.As(err, &ae):
			t.Fatalf("not an *AckError: %v", err)
		case err == nil && (n < 1 || n > 2 || len(held) > n):
			t.Fatalf("answered %d, held %d", n, len(held))
		}
		if len(key) > replica.MaxKeyLen || key == "" || key == "L-0002" {
			return // refused by the handler, or asked twice
		}
		// Round trip: what the handler encodes decodes to what Acknowledge says.
		body := appendBytes(appendBytes(nil, []byte(key)), []byte("L-0002"))
		out, err := h.ack(bg, body)
		if err != nil {
			t.Fatal(err)
		}
		got := replica.Digest{}
		if _, err := c.decodeAck(out, []string{key, "L-0002"}, got); err != nil {
			t.Fatalf("round trip: %v", err)
		}
		want, _ := lis.Acknowledge(bg, []string{key, "L-0002"})
		if len(got) != len(want.Held) {
			t.Fatalf("round trip: %v, want %v", got, want.Held)
		}
		for k, v := range want.Held {
			if !got[k].Equal(v) {
				t.Fatalf("round trip of %q: %v, want %v", k, got[k], v)
			}
		}
	})
}

// TestMalformedAckAnswersAreRefused: every way an answer can lie about its
// shape is an *AckError, and nothing of it is returned.
func TestMalformedAckAnswersAreRefused(t *testing.T) {
	lis := version.MustID("lisbon")
	ctx, _ := version.Vector{}.AppendBinary(nil)
	head := func(n uint64, id string) []byte { return appendBytes([]byte{byte(n)}, []byte(id)) }
	entry := func(k string, c []byte) []byte { return appendBytes(appendBytes(nil, []byte(k)), c) }
	cases := map[string][]byte{
		"empty":                 {},
		"none answered":         head(0, "lisbon"),
		"more answered":         head(3, "lisbon"),
		"no replica":            {1},
		"a bad replica ID":      head(1, "Lis bon"),
		"another replica":       head(1, "baltimore"),
		"a key not asked":       append(head(1, "lisbon"), entry("zzz", ctx)...),
		"a key beyond answered": append(head(1, "lisbon"), entry("b", ctx)...),
		"a key twice":           append(append(head(2, "lisbon"), entry("a", ctx)...), entry("a", ctx)...),
		"a bad context":         append(head(1, "lisbon"), entry("a", []byte{0xff, 0xff})...),
		"a cut entry":           append(head(1, "lisbon"), 1, 'a', 9),
	}
	c := &ReplicationClient{URL: "http://peer", Replica: lis}
	for name, answer := range cases {
		_, err := c.decodeAck(answer, []string{"a", "b"}, replica.Digest{})
		var ae *replica.AckError
		if !errors.As(err, &ae) || !errors.Is(err, replica.ErrBadAck) {
			t.Errorf("%s: %v", name, err)
		}
	}
	held := replica.Digest{}
	if n, err := c.decodeAck(append(head(2, "lisbon"), entry("b", ctx)...), []string{"a", "b"}, held); n != 2 || err != nil || len(held) != 1 {
		t.Errorf("a well-formed answer: %d, %v, %v", n, held, err)
	}
}

// expiring returns lisbon and baltimore, members with a retention of an
// hour on clock, lisbon's store, and baltimore's client of lisbon's
// replication endpoint. The endpoint's Auth names baltimore as the caller
// (replica.WithCaller) of a request that carries "Authorization: Bearer
// baltimore", as the client's do, and refuses any other with a 401.
func expiring(t *testing.T, clock func() time.Time) (lis, iad *replica.Replica[hold.Hold], lisStore *replica.MemoryStore, toLis *ReplicationClient) {
	t.Helper()
	opts := replica.Options[hold.Hold]{Members: members, Retention: time.Hour, Now: clock}
	lis, lisStore = newHoldReplica(t, "lisbon", opts)
	iad, _ = newHoldReplica(t, "baltimore", opts)
	auth := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") != "Bearer baltimore" {
				http.Error(w, "who are you", http.StatusUnauthorized)
				return
			}
			next.ServeHTTP(w, r.WithContext(replica.WithCaller(r.Context(), iad.ID())))
		})
	}
	h, err := NewReplicationHandler(lis, ReplicationOptions{Auth: auth})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	toLis = &ReplicationClient{URL: srv.URL, Client: srv.Client(), Header: http.Header{"Authorization": {"Bearer baltimore"}}, Replica: lis.ID()}
	return lis, iad, lisStore, toLis
}

// TestTheEndpointRefusesAnExpiredMember: an Auth middleware that names the
// replica it authenticated (replica.WithCaller) has the endpoint refuse a
// member not heard from for longer than the retention: its session fails
// with a 403 of TypeMemberExpired, and nothing it holds is applied.
func TestTheEndpointRefusesAnExpiredMember(t *testing.T) {
	now := time.Date(2026, 11, 26, 15, 0, 0, 0, time.UTC)
	lis, iad, lisStore, toLis := expiring(t, func() time.Time { return now })
	if _, err := iad.Create(bg, "H-1", hold.New("H-1", "C1", "", now)); err != nil {
		t.Fatal(err)
	}
	now = now.Add(61 * time.Minute)
	iad.AddMember(lis.ID()) // baltimore still takes lisbon; lisbon expired baltimore

	_, err := iad.Sync(bg, toLis)
	var pe *PeerError
	if !errors.As(err, &pe) || pe.Status != http.StatusForbidden || !strings.Contains(pe.Detail, "baltimore") {
		t.Fatalf("Sync = %v; want a 403 naming baltimore", err)
	}
	if n := len(entries(t, lisStore)); n != 0 {
		t.Fatalf("lisbon stores %d records of the expired member", n)
	}
	lis.AddMember(iad.ID()) // it rejoins
	if _, err := iad.Sync(bg, toLis); err != nil {
		t.Fatal(err)
	}
	if n := len(entries(t, lisStore)); n != 1 {
		t.Fatalf("lisbon stores %d records after baltimore was added again, want 1", n)
	}
}

// TestEveryOperationRefusesAnExpiredMember: whatever an expired member asks
// of the endpoint — push, fetch, acknowledgements — it gets one 403 of
// TypeMemberExpired that matches replica.ErrExpired, nothing it pushes is
// stored and nothing is served to it; once added again, it is answered.
func TestEveryOperationRefusesAnExpiredMember(t *testing.T) {
	now := time.Date(2026, 11, 26, 15, 0, 0, 0, time.UTC)
	lis, iad, lisStore, toLis := expiring(t, func() time.Time { return now })
	if _, err := lis.Create(bg, "L-1", hold.New("L-1", "C1", "", now)); err != nil {
		t.Fatal(err)
	}
	if _, err := iad.Create(bg, "H-1", hold.New("H-1", "C2", "", now)); err != nil {
		t.Fatal(err)
	}
	state, err := iad.Export(bg, "H-1")
	if err != nil {
		t.Fatal(err)
	}
	push := []replica.Delta{{Key: "H-1", Data: state}}
	want := []replica.Want{{Key: "L-1"}}
	now = now.Add(61 * time.Minute)

	expired := func(op string, err error) {
		t.Helper()
		var pe *PeerError
		if !errors.As(err, &pe) || pe.Status != http.StatusForbidden || pe.Type != TypeMemberExpired ||
			!errors.Is(err, replica.ErrExpired) || !errors.Is(err, ErrPeer) || !strings.Contains(pe.Detail, "baltimore") {
			t.Fatalf("%s by the expired member = %v; want a 403 of TypeMemberExpired matching replica.ErrExpired", op, err)
		}
	}
	refused, err := toLis.Push(bg, push)
	expired("Push", err)
	if len(refused) != 0 {
		t.Fatalf("Push refusals = %v; want the request refused as a whole", refused)
	}
	states, err := toLis.Pull(bg, want)
	expired("Pull", err)
	if len(states) != 0 {
		t.Fatalf("Pull served %d states to the expired member", len(states))
	}
	_, err = toLis.Acknowledge(bg, []string{"L-1"})
	expired("Acknowledge", err)
	if n := len(entries(t, lisStore)); n != 1 {
		t.Fatalf("lisbon stores %d records, want only its own", n)
	}
	if got := lis.Reaping().Expired; len(got) != 1 || got[0] != iad.ID() {
		t.Fatalf("Expired = %v after the refusals; refusing must not count as hearing from it", got)
	}

	lis.AddMember(iad.ID()) // it rejoins
	if refused, err := toLis.Push(bg, push); err != nil || len(refused) != 0 {
		t.Fatalf("Push after rejoining = %v, %v", refused, err)
	}
	if states, err := toLis.Pull(bg, want); err != nil || len(states) != 1 {
		t.Fatalf("Pull after rejoining = %d states, %v; want 1", len(states), err)
	}
	if n := len(entries(t, lisStore)); n != 2 {
		t.Fatalf("lisbon stores %d records after baltimore was added again, want 2", n)
	}
}
