package claim_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/harborpoint/concord/claim"
	"github.com/harborpoint/concord/claim/claimtest"
	"github.com/harborpoint/concord/replica"
)

const cabin = "cabin/C14/sailing/2027-03-14"

func TestLifecycle(t *testing.T) {
	h, _, clk, n := newHome(t, time.Second)
	c, err := h.Acquire(bg, cabin, "H-8821", clk.Now().Add(30*time.Second))
	if err != nil || c.State != claim.StatePending || c.Owner != "H-8821" || c.Token != 1 {
		t.Fatalf("acquire: %v %v", c, err)
	}
	_, err = h.Acquire(bg, cabin, "H-9040", clk.Now().Add(30*time.Second))
	var ce *claim.ClaimedError
	if !errors.As(err, &ce) || !errors.Is(err, claim.ErrClaimed) || ce.Current.Owner != "H-8821" || ce.Current.Token != 1 || ce.Requester != "H-9040" {
		t.Fatalf("second owner: %v", err)
	}
	c, err = h.Commit(bg, cabin, "H-8821", 1, "B-3107")
	if err != nil || c.State != claim.StateCommitted || c.Data != "B-3107" || !c.Until.IsZero() {
		t.Fatalf("commit: %v %v", c, err)
	}
	if again, err := h.Commit(bg, cabin, "H-8821", 1, "B-3107"); err != nil || again != c {
		t.Fatalf("commit retried: %v %v", again, err)
	}
	if _, err := h.Commit(bg, cabin, "H-8821", 1, "B-0000"); !errors.Is(err, claim.ErrInvalid) {
		t.Fatalf("commit with other data: %v", err)
	}
	if got, err := h.Acquire(bg, cabin, "H-8821", clk.Now()); err != nil || got != c {
		t.Fatalf("owner acquires its committed claim: %v %v", got, err)
	}
	clk.Advance(time.Hour) // committed claims never lapse
	if _, err := h.Acquire(bg, cabin, "H-9040", clk.Now().Add(time.Minute)); !errors.Is(err, claim.ErrClaimed) {
		t.Fatalf("committed claim taken over: %v", err)
	}
	if _, err := h.Reconcile(bg, cabin); err != nil {
		t.Fatal(err)
	}
	if got, _ := h.Get(bg, cabin); got != c {
		t.Fatalf("reconcile changed a committed claim: %v", got)
	}
	free, err := h.Release(bg, cabin, "H-8821", 1)
	if err != nil || free.State != claim.StateFree || free.Token != 1 || free.Owner != "" {
		t.Fatalf("release: %v %v", free, err)
	}
	if again, err := h.Release(bg, cabin, "H-8821", 1); err != nil || again != free {
		t.Fatalf("release retried: %v %v", again, err)
	}
	next, err := h.Acquire(bg, cabin, "H-9040", clk.Now().Add(time.Minute))
	if err != nil || next.Token != 2 {
		t.Fatalf("acquire after release: %v %v (want token 2: tokens survive the release)", next, err)
	}
	want := map[claim.Kind]uint64{claim.Claimed: 2, claim.RefusedClaimed: 2, claim.Committed: 2, claim.AlreadyOwner: 1, claim.Released: 1}
	for _, k := range claim.Kinds() {
		if got := n.Get(k); got != want[k] {
			t.Errorf("%s: %d events, want %d", k, got, want[k])
		}
	}
}

func TestTakeoverAfterTheMargin(t *testing.T) {
	h, _, clk, n := newHome(t, 5*time.Second)
	old, _ := h.Acquire(bg, cabin, "H-8821", clk.Now().Add(10*time.Second))
	clk.Advance(15 * time.Second) // at Until + margin exactly: not lapsed yet
	if _, err := h.Acquire(bg, cabin, "H-9040", clk.Now().Add(10*time.Second)); !errors.Is(err, claim.ErrClaimed) {
		t.Fatalf("taken over at the margin: %v", err)
	}
	clk.Advance(time.Millisecond)
	c, err := h.Acquire(bg, cabin, "H-9040", clk.Now().Add(10*time.Second))
	if err != nil || c.Owner != "H-9040" || c.Token != old.Token+1 {
		t.Fatalf("takeover: %v %v", c, err)
	}
	_, err = h.Commit(bg, cabin, "H-8821", old.Token, "B-3107")
	var se *claim.StaleError
	if !errors.As(err, &se) || !errors.Is(err, claim.ErrFenced) || se.Current.Owner != "H-9040" {
		t.Fatalf("stale owner commits: %v", err)
	}
	if _, err := h.Release(bg, cabin, "H-8821", old.Token); !errors.Is(err, claim.ErrFenced) {
		t.Fatalf("stale owner releases: %v", err)
	}
	if n.Get(claim.TakenOver) != 1 || n.Get(claim.Fenced) != 2 {
		t.Errorf("events %v", n.Snapshot())
	}
}

func TestRenewFencesTheOwnersEarlierAttempt(t *testing.T) {
	h, _, clk, _ := newHome(t, time.Second)
	first, _ := h.Acquire(bg, cabin, "H-8821", clk.Now().Add(time.Minute))
	second, err := h.Acquire(bg, cabin, "H-8821", clk.Now().Add(2*time.Minute))
	if err != nil || second.Token != first.Token+1 || !second.Until.Equal(clk.Now().Add(2*time.Minute)) {
		t.Fatalf("renew: %v %v", second, err)
	}
	if _, err := h.Commit(bg, cabin, "H-8821", first.Token, "B-1"); !errors.Is(err, claim.ErrFenced) {
		t.Fatalf("earlier attempt commits: %v", err)
	}
	if _, err := h.Commit(bg, cabin, "H-8821", second.Token, "B-2"); err != nil {
		t.Fatal(err)
	}
}

func TestReconcileFreesOnlyLapsedPendingClaims(t *testing.T) {
	h, _, clk, n := newHome(t, 2*time.Second)
	c, _ := h.Acquire(bg, cabin, "H-8821", clk.Now().Add(10*time.Second))
	if got, err := h.Reconcile(bg, cabin); err != nil || got != c {
		t.Fatalf("reconciled before the deadline: %v %v", got, err)
	}
	clk.Advance(13 * time.Second)
	got, err := h.Reconcile(bg, cabin)
	if err != nil || got.State != claim.StateFree || got.Token != c.Token {
		t.Fatalf("reconcile: %v %v", got, err)
	}
	_, err = h.Commit(bg, cabin, "H-8821", c.Token, "B-1")
	if !errors.Is(err, claim.ErrNotOwner) || errors.Is(err, claim.ErrFenced) {
		t.Fatalf("commit after reconcile: %v", err)
	}
	if got, err := h.Release(bg, cabin, "H-8821", c.Token); err != nil || got.State != claim.StateFree {
		t.Fatalf("release of a reconciled claim is a no-op: %v %v", got, err)
	}
	if got, _ := h.Reconcile(bg, "cabin/never-claimed"); got.State != claim.StateFree || got.Token != 0 {
		t.Fatalf("a name never claimed: %v", got)
	}
	if n.Get(claim.Reconciled) != 1 {
		t.Errorf("events %v", n.Snapshot())
	}
}

func TestUnavailableWrapsTheCause(t *testing.T) {
	h, s, clk, n := newHome(t, time.Second)
	s.Set(true, false)
	for name, call := range map[string]func() error{
		"get":       func() error { _, err := h.Get(bg, cabin); return err },
		"acquire":   func() error { _, err := h.Acquire(bg, cabin, "H-1", clk.Now()); return err },
		"commit":    func() error { _, err := h.Commit(bg, cabin, "H-1", 1, ""); return err },
		"release":   func() error { _, err := h.Release(bg, cabin, "H-1", 1); return err },
		"reconcile": func() error { _, err := h.Reconcile(bg, cabin); return err },
	} {
		err := call()
		if !errors.Is(err, claim.ErrUnavailable) || !errors.Is(err, claimtest.ErrCut) || !strings.HasPrefix(err.Error(), "claim: ") {
			t.Errorf("%s: %v", name, err)
		}
	}
	if n.Get(claim.Unavailable) != 4 { // Get reports nothing
		t.Errorf("unavailable events: %d", n.Get(claim.Unavailable))
	}
	// A lost reply: the claim was taken, the caller is told it may have been.
	s.Set(false, true)
	_, err := h.Acquire(bg, cabin, "H-1", clk.Now().Add(time.Minute))
	if !errors.Is(err, claim.ErrUnavailable) {
		t.Fatalf("lost reply: %v", err)
	}
	if c, _ := h.Get(bg, cabin); !c.HeldBy("H-1", 1) {
		t.Fatalf("after a lost reply: %v", c)
	}
}

func TestContentionIsUnavailable(t *testing.T) {
	s := &alwaysMismatch{replica.NewMemoryStore()}
	h, err := claim.NewHome(s, claim.Options{MaxAttempts: 3})
	if err != nil {
		t.Fatal(err)
	}
	_, err = h.Acquire(bg, cabin, "H-1", time.Now())
	if !errors.Is(err, claim.ErrUnavailable) || !errors.Is(err, replica.ErrContention) {
		t.Fatalf("contention: %v", err)
	}
}

type alwaysMismatch struct{ *replica.MemoryStore }

func (alwaysMismatch) CompareAndSet(_ context.Context, _ string, _ []byte, _ uint64) (uint64, error) {
	return 0, replica.ErrRevisionMismatch
}

func TestInvalidArguments(t *testing.T) {
	h, _, clk, n := newHome(t, time.Second)
	until := clk.Now().Add(time.Minute)
	for _, tc := range []struct {
		name string
		call func() error
	}{
		{"empty name", func() error { _, err := h.Acquire(bg, "", "H-1", until); return err }},
		{"long name", func() error { _, err := h.Acquire(bg, strings.Repeat("a", claim.MaxName+1), "H-1", until); return err }},
		{"name with a space", func() error { _, err := h.Acquire(bg, "cabin C14", "H-1", until); return err }},
		{"name ending in a dot", func() error { _, err := h.Get(bg, "cabin."); return err }},
		{"empty owner", func() error { _, err := h.Acquire(bg, cabin, "", until); return err }},
		{"long owner", func() error { _, err := h.Acquire(bg, cabin, strings.Repeat("o", claim.MaxOwner+1), until); return err }},
		{"no deadline", func() error { _, err := h.Acquire(bg, cabin, "H-1", time.Time{}); return err }},
		{"token 0", func() error { _, err := h.Commit(bg, cabin, "H-1", 0, ""); return err }},
		{"long data", func() error {
			_, err := h.Commit(bg, cabin, "H-1", 1, strings.Repeat("d", claim.MaxData+1))
			return err
		}},
		{"release token 0", func() error { _, err := h.Release(bg, cabin, "H-1", 0); return err }},
	} {
		if err := tc.call(); !errors.Is(err, claim.ErrInvalid) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	if _, err := claim.NewHome(nil, claim.Options{}); !errors.Is(err, claim.ErrInvalid) {
		t.Errorf("nil store: %v", err)
	}
	if _, err := claim.NewHome(replica.NewMemoryStore(), claim.Options{Margin: -1}); !errors.Is(err, claim.ErrInvalid) {
		t.Errorf("negative margin: %v", err)
	}
	if len(n.Snapshot()) != 0 {
		t.Errorf("invalid calls reported events: %v", n.Snapshot())
	}
}

func TestMalformedClaimIsNeverOverwritten(t *testing.T) {
	h, s, clk, _ := newHome(t, time.Second)
	if _, err := s.Home.CompareAndSet(bg, cabin, []byte("not a claim"), 0); err != nil {
		t.Fatal(err)
	}
	_, err := h.Acquire(bg, cabin, "H-1", clk.Now().Add(time.Minute))
	if !errors.Is(err, claim.ErrMalformed) {
		t.Fatalf("acquire over garbage: %v", err)
	}
	if v, _, _ := s.Home.Get(bg, cabin); string(v) != "not a claim" {
		t.Fatalf("garbage overwritten: %q", v)
	}
}

// TestRacingAcquires: owners racing for one name from many goroutines over
// one store: exactly one wins each round, and every token is new.
func TestRacingAcquires(t *testing.T) {
	h, err := claim.NewHome(replica.NewMemoryStore(), claim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	claimtest.RaceAcquire(t, []*claim.Home{h}, 8, 10)
}

func TestStrings(t *testing.T) {
	for _, tc := range []struct {
		c    claim.Claim
		want string
	}{
		{claim.Claim{Name: "n", Token: 2}, "n: free (token 2)"},
		{claim.Claim{Name: "n", State: claim.StatePending, Owner: "H-1", Token: 3, Until: t0}, "n: pending for H-1 (token 3, until 2027-03-01T12:00:00Z)"},
		{claim.Claim{Name: "n", State: claim.StateCommitted, Owner: "H-1", Token: 3, Data: "B-1"}, "n: committed by H-1 (token 3, B-1)"},
	} {
		if got := tc.c.String(); got != tc.want {
			t.Errorf("%q, want %q", got, tc.want)
		}
	}
	if claim.State(9).String() != "State(9)" || claim.Kind(0).String() != "Kind(0)" || claim.TakenOver.String() != "taken_over" {
		t.Error("names")
	}
}

// TestAbandonLeavesACommittedClaim: a cleanup that read the claim as
// pending and abandons it after the owner committed frees nothing; a
// release would have freed the committed claim.
func TestAbandonLeavesACommittedClaim(t *testing.T) {
	h, _, clk, _ := newHome(t, time.Second)
	c, _ := h.Acquire(bg, cabin, "H-8821", clk.Now().Add(time.Minute))
	read, _ := h.Get(bg, cabin) // the cleanup reads: pending
	if _, err := h.Commit(bg, cabin, "H-8821", c.Token, "B-3107"); err != nil {
		t.Fatal(err)
	}
	got, err := h.Abandon(bg, cabin, "H-8821", read.Token)
	if err != nil || got.State != claim.StateCommitted || got.Data != "B-3107" {
		t.Fatalf("abandon after the commit: %v %v", got, err)
	}
	d, _ := h.Acquire(bg, "cabin/C15", "H-1", clk.Now().Add(time.Minute))
	if got, err := h.Abandon(bg, "cabin/C15", "H-1", d.Token); err != nil || got.State != claim.StateFree || got.Token != d.Token {
		t.Fatalf("abandon a pending claim: %v %v", got, err)
	}
	if _, err := h.Abandon(bg, "cabin/C15", "H-1", d.Token+1); !errors.Is(err, claim.ErrFenced) {
		t.Fatalf("abandon with a token never issued: %v", err)
	}
}
