// Package story plays the scenarios that the observer exporters'
// tests (adapters/prometheus, adapters/otel) check their metrics against:
// one story of hold conflicts that fires every kind of resolve.Event, one
// of claim outcomes, one of replication and one of reaping. It is test scaffolding, shared so that every
// exporter is checked against the same events.
package story

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/harborpoint/concord/claim"
	"github.com/harborpoint/concord/hold"
	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

// Holds plays conflicts across two hold replicas: an auto-resolved extend
// vs confirm, a refused release vs extend that goes to review and is
// settled, a stale conditional write, a stale replicated version,
// concurrent blind notes inside the skew window, and a note from a region
// whose clock runs ten minutes ahead.
func Holds(t testing.TB, obs resolve.Observer) (lis, bal *replica.Replica[hold.Hold]) {
	t.Helper()
	ctx := context.Background()
	now := time.Date(2026, 11, 26, 14, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	res := hold.Resolver(resolve.Options{SkewWindow: 2 * time.Second})
	region := func(name string) *replica.Replica[hold.Hold] {
		r, err := replica.New(version.MustID(name), replica.NewMemoryStore(), res, replica.Options[hold.Hold]{
			Clock: version.NewHLC(version.HLCOptions{Now: clock}, version.Timestamp{}), Observer: obs, CommandKeys: hold.CommandKeys, Now: clock,
		})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	lis, bal = region("lisbon"), region("baltimore")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	sync := func() { t.Helper(); must(replica.AntiEntropy(ctx, lis, bal)) }
	extend := func(r *replica.Replica[hold.Hold], key, idem string) {
		t.Helper()
		_, _, err := r.Command(ctx, key, idem, func(h *hold.Hold, _ replica.Write) error { return h.Extend(h.ExpiresAt.Add(5 * time.Minute)) })
		must(err)
	}

	_, err := lis.Create(ctx, "H-8821", hold.New("H-8821", "C14", "lisbon-desk", now.Add(10*time.Minute)))
	must(err)
	_, err = lis.Create(ctx, "H-8823", hold.New("H-8823", "C16", "lisbon-desk", now.Add(10*time.Minute)))
	must(err)
	sync()
	v1, err := bal.Get(ctx, "H-8821")
	must(err)
	old, err := bal.State(ctx, "H-8821")
	must(err)
	base, err := bal.Get(ctx, "H-8823")
	must(err)

	now = now.Add(time.Minute)
	extend(lis, "H-8821", "lis-1")
	_, err = bal.Update(ctx, "H-8821", v1.Token, func(h *hold.Hold, _ replica.Write) error { return h.Confirm("B-3107", now) })
	must(err)
	extend(lis, "H-8823", "lis-2")
	_, err = bal.Update(ctx, "H-8823", base.Token, func(h *hold.Hold, _ replica.Write) error { return h.Release() })
	must(err)
	sync()

	// A stale If-Match, and a stale replicated version.
	if _, err := bal.Update(ctx, "H-8821", v1.Token, func(h *hold.Hold, _ replica.Write) error { return h.Release() }); err == nil {
		t.Fatal("stale token accepted")
	}
	_, err = lis.ApplyState(ctx, "H-8821", old)
	must(err)

	// Notes 400ms apart in both regions.
	now = now.Add(time.Minute)
	_, err = lis.Blind(ctx, "H-8821", "note", hold.NoteEdit("deck 3"))
	must(err)
	now = now.Add(400 * time.Millisecond)
	_, err = bal.Blind(ctx, "H-8821", "note", hold.NoteEdit("call back"))
	must(err)
	sync()

	// Settle H-8823 in Lisbon only: Baltimore's queue still holds it.
	rec, err := lis.Get(ctx, "H-8823")
	must(err)
	_, err = lis.ResolveConflict(ctx, "H-8823", rec.Token, rec.Branches[0].Value)
	must(err)

	// Bristol's clock runs ten minutes ahead: Lisbon applies its note, and
	// counts the drift.
	ahead := func() time.Time { return now.Add(10 * time.Minute) }
	bristol, err := replica.New(version.MustID("bristol"), replica.NewMemoryStore(), res, replica.Options[hold.Hold]{
		Clock: version.NewHLC(version.HLCOptions{Now: ahead}, version.Timestamp{}), CommandKeys: hold.CommandKeys,
	})
	must(err)
	must(replica.AntiEntropy(ctx, lis, bristol))
	_, err = bristol.Blind(ctx, "H-8821", "note", hold.NoteEdit("from the future"))
	must(err)
	data, err := bristol.Export(ctx, "H-8821")
	must(err)
	_, err = lis.Apply(ctx, "H-8821", data)
	must(err)
	// A message damaged on the wire, and a state claiming a write Lisbon
	// never made (a second process under its ID): both refused.
	damaged, err := lis.Export(ctx, "H-8821")
	must(err)
	damaged[len(damaged)/2] ^= 1
	if _, err := bal.Apply(ctx, "H-8821", damaged); !errors.Is(err, replica.ErrCorrupt) {
		t.Fatalf("damaged state: %v, want ErrCorrupt", err)
	}
	twin, err := replica.New(version.MustID("lisbon"), replica.NewMemoryStore(), res, replica.Options[hold.Hold]{CommandKeys: hold.CommandKeys})
	must(err)
	_, err = twin.Create(ctx, "H-9000", hold.New("H-9000", "C1", "twin", now.Add(time.Minute)))
	must(err)
	forged, err := twin.Export(ctx, "H-9000")
	must(err)
	if _, err := lis.Apply(ctx, "H-9000", forged); !errors.Is(err, replica.ErrUnissuedDot) {
		t.Fatalf("forged state: %v, want ErrUnissuedDot", err)
	}
	// A note past the record limit (1 MiB by default) is refused.
	if _, err := lis.Blind(ctx, "H-8821", "note", hold.NoteEdit(strings.Repeat("n", 2<<20))); !errors.Is(err, replica.ErrTooLarge) {
		t.Fatalf("2 MiB note: %v, want ErrTooLarge", err)
	}
	// A record whose stored state is damaged is quarantined.
	twinStore := replica.NewMemoryStore()
	other, err := replica.New(version.MustID("tokyo"), twinStore, res, replica.Options[hold.Hold]{Observer: obs, CommandKeys: hold.CommandKeys})
	must(err)
	_, err = other.Create(ctx, "H-9001", hold.New("H-9001", "C1", "tokyo", now.Add(time.Minute)))
	must(err)
	stored, rev, err := twinStore.Get(ctx, "H-9001")
	must(err)
	stored[len(stored)/2] ^= 1
	_, err = twinStore.CompareAndSet(ctx, "H-9001", stored, rev)
	must(err)
	if _, err := other.Get(ctx, "H-9001"); !errors.Is(err, replica.ErrQuarantined) {
		t.Fatalf("damaged stored state: %v, want ErrQuarantined", err)
	}
	return lis, bal
}

// Claims plays a home's calls — a claim, a refusal, a commit — telling obs
// of each outcome, and returns the home's own count of them, for an
// exporter's test to compare with what it exported.
func Claims(t testing.TB, obs claim.Observer) *claim.Counters {
	t.Helper()
	ctx := context.Background()
	counters := &claim.Counters{}
	home, err := claim.NewHome(replica.NewMemoryStore(), claim.Options{Observer: claim.ObserverFunc(func(e claim.Event) {
		obs.Observe(e)
		counters.Observe(e)
	})})
	if err != nil {
		t.Fatal(err)
	}
	until := time.Now().Add(time.Minute)
	got, _ := home.Acquire(ctx, "cabin/C14", "H-8821", until)
	if _, err := home.Acquire(ctx, "cabin/C14", "H-9040", until); !errors.Is(err, claim.ErrClaimed) {
		t.Fatal(err)
	}
	if _, err := home.Commit(ctx, "cabin/C14", "H-8821", got.Token, "B-3107"); err != nil {
		t.Fatal(err)
	}
	return counters
}

// down is a peer that cannot be reached.
type down struct{ replica.Peer }

func (down) Reconcile(context.Context, []byte) ([]byte, error) {
	return nil, errors.New("connection refused")
}

// Replication plays one round of a Lisbon replicator at now with a healthy
// peer, baltimore, and a dead one, tokyo: Lisbon creates H-1 and H-2 and
// deletes H-2, so baltimore receives two records (one a tombstone, which
// it acknowledges) and tokyo's session fails. It returns the replicator,
// whose Status the exporters' replication tests read.
func Replication(t testing.TB, now time.Time) *replica.Replicator[hold.Hold] {
	t.Helper()
	ctx := context.Background()
	members := []version.ID{version.MustID("lisbon"), version.MustID("baltimore")}
	mk := func(name string) *replica.Replica[hold.Hold] {
		r, err := replica.New(version.MustID(name), replica.NewMemoryStore(), hold.Resolver(resolve.Options{}), replica.Options[hold.Hold]{CommandKeys: hold.CommandKeys, Members: members})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	lis, bal := mk("lisbon"), mk("baltimore")
	var last replica.Record[hold.Hold]
	for _, k := range []string{"H-1", "H-2"} {
		rec, err := lis.Create(ctx, k, hold.New(k, "C1", "desk", now.Add(time.Hour)))
		if err != nil {
			t.Fatal(err)
		}
		last = rec
	}
	if _, err := lis.Delete(ctx, "H-2", last.Token); err != nil {
		t.Fatal(err)
	}
	p := replica.NewReplicator(lis, map[string]replica.Peer{"baltimore": replica.Local(bal), "tokyo": down{}},
		replica.ReplicatorOptions{Now: func() time.Time { return now }})
	_ = p.SyncNow(ctx) // tokyo's session fails, as the story wants
	return p
}

// Reaping plays a year's reaping in two hours and a quarter at Lisbon,
// whose membership is Lisbon and Baltimore with a retention of an hour,
// from start: H-1 is created, deleted and reaped at start, H-2 half an hour
// later (the last time Baltimore is heard from); 45 minutes on, Reap drops
// H-1's horizon (past the retention), not H-2's; H-3 is deleted and waits
// (Baltimore has not seen it); 20 minutes on, Baltimore has expired. It
// returns Lisbon, whose Reaping the exporters' reaping tests read, and
// when H-2 was reaped: the oldest horizon kept, and when Baltimore was
// last heard from. Lisbon's counter floor is then 4 (H-2's writes are
// numbered above the floor H-1's reap left, 2).
func Reaping(t testing.TB, start time.Time) (lis *replica.Replica[hold.Hold], reapedH2 time.Time) {
	t.Helper()
	ctx := context.Background()
	now := start
	clock := func() time.Time { return now }
	members := []version.ID{version.MustID("lisbon"), version.MustID("baltimore")}
	mk := func(name string) *replica.Replica[hold.Hold] {
		r, err := replica.New(version.MustID(name), replica.NewMemoryStore(), hold.Resolver(resolve.Options{}),
			replica.Options[hold.Hold]{CommandKeys: hold.CommandKeys, Members: members, Retention: time.Hour, Now: clock})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	lis, bal := mk("lisbon"), mk("baltimore")
	deleteOn := func(key string) {
		rec, err := lis.Create(ctx, key, hold.New(key, "C1", "desk", now.Add(time.Hour)))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := lis.Delete(ctx, key, rec.Token); err != nil {
			t.Fatal(err)
		}
	}
	for _, key := range []string{"H-1", "H-2"} {
		deleteOn(key)
		if err := replica.AntiEntropy(ctx, lis, bal); err != nil {
			t.Fatal(err)
		}
		if n, err := lis.Reap(ctx); err != nil || n != 1 {
			t.Fatalf("%s: reaped %d, %v", key, n, err)
		}
		reapedH2 = now
		now = now.Add(30 * time.Minute)
	}
	now = reapedH2.Add(45 * time.Minute)
	if _, err := lis.Reap(ctx); err != nil {
		t.Fatal(err)
	}
	deleteOn("H-3")
	now = now.Add(20 * time.Minute)
	return lis, reapedH2
}
