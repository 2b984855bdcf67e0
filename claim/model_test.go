package claim_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/harborpoint/concord/claim"
	"github.com/harborpoint/concord/claim/claimtest"
)

// model is the plain model of one name's claim: what the home must hold.
type model struct {
	state claim.State
	owner string
	token uint64
	until time.Time
	data  string
}

// The model's rules, written out plainly from the package documentation.
func (m model) held() bool                     { return m.state != claim.StateFree }
func (m model) heldBy(o string, t uint64) bool { return m.held() && m.owner == o && m.token == t }
func (m model) lapsed(now time.Time, margin time.Duration) bool {
	return m.state == claim.StatePending && now.Sub(m.until) > margin
}

// machine drives a Home over a faulty store beside the model.
type machine struct {
	h      *claim.Home
	s      *claimtest.Link
	clk    *claimtest.Clock
	n      *claim.Counters
	margin time.Duration
	names  []string
	owners []string
	m      map[string]model
	tokens map[string][]uint64 // every token issued per name, in order
	// fault for the next call: 0 none, 1 home down, 2 reply lost
	fault int
}

func newMachine(t *rapid.T) *machine {
	margin := time.Duration(rapid.IntRange(0, 5).Draw(t, "margin")) * time.Second
	h, s, clk, n := newHome(t, max(margin, time.Nanosecond))
	return &machine{h: h, s: s, clk: clk, n: n, margin: max(margin, time.Nanosecond),
		names: []string{"cabin/C14", "cabin/C15"}, owners: []string{"H-1", "H-2", "H-3"},
		m: map[string]model{}, tokens: map[string][]uint64{}}
}

func (mc *machine) name(t *rapid.T) string  { return rapid.SampledFrom(mc.names).Draw(t, "name") }
func (mc *machine) owner(t *rapid.T) string { return rapid.SampledFrom(mc.owners).Draw(t, "owner") }

// token draws a token to present: the current one, an older one, or one
// never issued.
func (mc *machine) token(t *rapid.T, name string) uint64 {
	issued := mc.tokens[name]
	if len(issued) == 0 || rapid.IntRange(0, 4).Draw(t, "fresh") == 0 {
		return uint64(rapid.IntRange(1, 6).Draw(t, "any token"))
	}
	return rapid.SampledFrom(issued).Draw(t, "issued token")
}

// arm sets the fault for the next call.
func (mc *machine) arm(t *rapid.T) {
	mc.fault = 0
	if r := rapid.IntRange(0, 9).Draw(t, "fault"); r == 0 {
		mc.fault = 1
	} else if r == 1 {
		mc.fault = 2
	}
	mc.s.Set(mc.fault == 1, mc.fault == 2)
}

// outcome checks a call's result against the model's verdict: next is the
// model after the call, write whether the call changes the store, want the
// error it must return (nil, or a sentinel).
func (mc *machine) outcome(t *rapid.T, name string, got claim.Claim, err error, next model, write bool, want error) {
	t.Helper()
	switch {
	case mc.fault == 1:
		if !errors.Is(err, claim.ErrUnavailable) {
			t.Fatalf("home down: got %v", err)
		}
		return // nothing changed
	case mc.fault == 2 && write:
		if !errors.Is(err, claim.ErrUnavailable) {
			t.Fatalf("reply lost: got %v", err)
		}
	case want != nil:
		if !errors.Is(err, want) {
			t.Fatalf("%s: got %v, want %v", name, err, want)
		}
	case err != nil:
		t.Fatalf("%s: unexpected %v", name, err)
	default:
		mc.same(t, got, next)
	}
	if want == nil || mc.fault == 2 && write {
		if next.token != mc.m[name].token {
			mc.tokens[name] = append(mc.tokens[name], next.token)
		}
		mc.m[name] = next
	}
}

func (mc *machine) same(t *rapid.T, got claim.Claim, want model) {
	t.Helper()
	if got.State != want.state || got.Owner != want.owner || got.Token != want.token || !got.Until.Equal(want.until) || got.Data != want.data {
		t.Fatalf("home holds %v, the model %+v", got, want)
	}
}

func (mc *machine) Acquire(t *rapid.T) {
	name, owner := mc.name(t), mc.owner(t)
	until := mc.clk.Now().Add(time.Duration(rapid.IntRange(-2, 10).Draw(t, "until")) * time.Second)
	mc.arm(t)
	got, err := mc.h.Acquire(bg, name, owner, until)
	cur := mc.m[name]
	take := model{state: claim.StatePending, owner: owner, token: cur.token + 1, until: until}
	switch {
	case cur.state == claim.StateCommitted && cur.owner == owner:
		mc.outcome(t, name, got, err, cur, false, nil)
	case !cur.held(), cur.owner == owner, cur.lapsed(mc.clk.Now(), mc.margin):
		mc.outcome(t, name, got, err, take, true, nil)
	default:
		mc.outcome(t, name, got, err, cur, false, claim.ErrClaimed)
		var ce *claim.ClaimedError
		if mc.fault == 0 && (!errors.As(err, &ce) || ce.Current.Owner != cur.owner || ce.Current.Token != cur.token) {
			t.Fatalf("refusal does not name the holder: %v", err)
		}
	}
}

func (mc *machine) Commit(t *rapid.T) {
	name, owner := mc.name(t), mc.owner(t)
	token, data := mc.token(t, name), fmt.Sprintf("B-%d", rapid.IntRange(1, 2).Draw(t, "booking"))
	mc.arm(t)
	got, err := mc.h.Commit(bg, name, owner, token, data)
	cur := mc.m[name]
	switch {
	case cur.token != token:
		mc.outcome(t, name, got, err, cur, false, claim.ErrFenced)
	case !cur.heldBy(owner, token):
		mc.outcome(t, name, got, err, cur, false, claim.ErrNotOwner)
	case cur.state == claim.StateCommitted && cur.data != data:
		mc.outcome(t, name, got, err, cur, false, claim.ErrInvalid)
	case cur.state == claim.StateCommitted:
		mc.outcome(t, name, got, err, cur, false, nil)
	default:
		mc.outcome(t, name, got, err, model{state: claim.StateCommitted, owner: owner, token: token, data: data}, true, nil)
	}
}

func (mc *machine) Release(t *rapid.T) { mc.free(t, mc.h.Release, false) }

func (mc *machine) Abandon(t *rapid.T) { mc.free(t, mc.h.Abandon, true) }

// free runs a call that frees the claim its owner holds with the token
// read (Release, Abandon) against the model: a free claim with that token
// is left as it is, another token is fenced, another owner refused, and
// the owner's claim freed — but a committed one left as it is when
// keepCommitted (Abandon).
func (mc *machine) free(t *rapid.T, call func(context.Context, string, string, uint64) (claim.Claim, error), keepCommitted bool) {
	name, owner := mc.name(t), mc.owner(t)
	token := mc.token(t, name)
	mc.arm(t)
	got, err := call(bg, name, owner, token)
	cur := mc.m[name]
	switch {
	case !cur.held() && cur.token == token:
		mc.outcome(t, name, got, err, cur, false, nil)
	case cur.token != token:
		mc.outcome(t, name, got, err, cur, false, claim.ErrFenced)
	case !cur.heldBy(owner, token):
		mc.outcome(t, name, got, err, cur, false, claim.ErrNotOwner)
	case keepCommitted && cur.state == claim.StateCommitted:
		mc.outcome(t, name, got, err, cur, false, nil)
	default:
		mc.outcome(t, name, got, err, model{token: token}, true, nil)
	}
}

func (mc *machine) Reconcile(t *rapid.T) {
	name := mc.name(t)
	mc.arm(t)
	got, err := mc.h.Reconcile(bg, name)
	cur := mc.m[name]
	if cur.lapsed(mc.clk.Now(), mc.margin) {
		mc.outcome(t, name, got, err, model{token: cur.token}, true, nil)
		return
	}
	mc.outcome(t, name, got, err, cur, false, nil)
}

func (mc *machine) Advance(t *rapid.T) {
	mc.clk.Advance(time.Duration(rapid.IntRange(1, 4000).Draw(t, "ms")) * time.Millisecond)
}

// Check: the home holds what the model holds, and every name's tokens were
// issued one by one, each greater than the last.
func (mc *machine) Check(t *rapid.T) {
	mc.s.Set(false, false)
	for _, name := range mc.names {
		got, err := mc.h.Get(bg, name)
		if err != nil {
			t.Fatal(err)
		}
		mc.same(t, got, mc.m[name])
		for i, tok := range mc.tokens[name] {
			if tok != uint64(i+1) {
				t.Fatalf("%s: tokens issued %v, want 1, 2, 3, ...", name, mc.tokens[name])
			}
		}
	}
}

// TestHomeAgainstModel runs random sequences of acquisitions, commits,
// releases, abandons, reconciliations and clock steps, with the home store down or
// losing replies now and then, against the plain model: the home holds
// exactly what the model says, refuses exactly when it says, issues tokens
// 1, 2, 3, ... per name, and reports an unreachable store as ErrUnavailable
// (after which the write happened or not, as the fault says).
func TestHomeAgainstModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		mc := newMachine(t)
		t.Repeat(rapid.StateMachineActions(mc))
	})
}
