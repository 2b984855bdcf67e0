package replica_test

import (
	"errors"
	"fmt"
	"maps"
	"testing"

	"pgregory.net/rapid"

	"github.com/harborpoint/concord/hold"
	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

// dotSet is a set of dots: the plain model of a causal history.
type dotSet map[version.Dot]bool

// message is a replicated version in flight: an Export and the history it
// carries.
type message struct {
	key  string
	data []byte
	hist dotSet
}

// machine is the rapid state machine: a small cluster of hold replicas over
// MemoryStores beside a plain model of which writes each replica has.
type machine struct {
	c    *cluster
	keys []string
	l    *ledger
	// hist[i][key]: the dots replica i has received (its own writes, and
	// every write in the versions it applied).
	hist []map[string]dotSet
	// tokens[key]: every token a client has read for key, for stale writes.
	tokens map[string][]string
	// idems: every idempotency key used, with the key of its record.
	idems map[string]string
	// firsts[i]: the first result of each command replica i applied since
	// it last restarted, by key and idempotency key.
	firsts []map[string]string
	net    []message
	step   int
}

func newMachine(t *rapid.T) *machine {
	n := rapid.IntRange(2, 3).Draw(t, "replicas")
	names := []string{"lisbon", "baltimore", "sydney"}[:n]
	m := &machine{
		c: newCluster(t, names...), keys: []string{"H-1", "H-2"}, l: newLedger(),
		tokens: map[string][]string{}, idems: map[string]string{},
	}
	for range n {
		m.hist = append(m.hist, map[string]dotSet{})
		m.firsts = append(m.firsts, map[string]string{})
	}
	return m
}

func (m *machine) replica(t *rapid.T) (int, *replica.Replica[hold.Hold]) {
	i := rapid.IntRange(0, len(m.c.rs)-1).Draw(t, "replica")
	return i, m.c.rs[i]
}

func (m *machine) key(t *rapid.T) string { return rapid.SampledFrom(m.keys).Draw(t, "key") }

// wrote records an acknowledged local write at replica i.
func (m *machine) wrote(t *rapid.T, i int, key string, rec replica.Record[hold.Hold]) {
	d := m.l.ack(t, key, rec)
	h := m.hist[i][key]
	if h == nil {
		h = dotSet{}
		m.hist[i][key] = h
	}
	if h[d] {
		t.Fatalf("%v issued %v on %s twice", m.c.ids[i], d, key)
	}
	h[d] = true
	m.tokens[key] = append(m.tokens[key], rec.Token)
}

// get reads key at replica r and remembers its token.
func (m *machine) get(t *rapid.T, r *replica.Replica[hold.Hold], key string) (replica.Record[hold.Hold], bool) {
	rec, err := r.Get(bg, key)
	if errors.Is(err, replica.ErrNotFound) {
		return rec, false
	}
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	m.tokens[key] = append(m.tokens[key], rec.Token)
	return rec, true
}

func (m *machine) actions() map[string]func(*rapid.T) {
	return map[string]func(*rapid.T){
		"Create": func(t *rapid.T) {
			i, r := m.replica(t)
			key := m.key(t)
			_, exists := m.get(t, r, key)
			rec, err := r.Create(bg, key, hold.New(key, "C-"+key, m.c.ids[i].String(), minutes(10)))
			switch {
			case exists && !errors.Is(err, replica.ErrExists):
				t.Fatalf("Create over an existing record: %v, want ErrExists", err)
			case !exists && err != nil:
				t.Fatalf("Create: %v", err)
			case !exists:
				m.wrote(t, i, key, rec)
			}
		},
		"UpdateFresh": func(t *rapid.T) {
			i, r := m.replica(t)
			key := m.key(t)
			cur, ok := m.get(t, r, key)
			if !ok {
				t.Skip("no record")
			}
			action := rapid.SampledFrom([]string{"extend", "release", "confirm", "touch"}).Draw(t, "action")
			var dot version.Dot
			rec, err := r.Update(bg, key, cur.Token, func(h *hold.Hold, w replica.Write) error {
				dot = w.Dot
				switch action {
				case "extend":
					return h.Extend(h.ExpiresAt.Add(5 * 60e9))
				case "release":
					return h.Release()
				case "confirm":
					return h.Confirm(fmt.Sprintf("B-%d", m.step), minutes(1))
				}
				h.Touch(fmt.Sprintf("agency-%d", m.step))
				return nil
			})
			var te *hold.TransitionError
			switch {
			case cur.Conflict != nil:
				if !errors.Is(err, resolve.ErrConflict) {
					t.Fatalf("Update of a conflicted record: %v, want ErrConflict", err)
				}
			case errors.As(err, &te):
				after, _ := m.get(t, r, key)
				if after.Token != cur.Token {
					t.Fatalf("a refused transition changed the record")
				}
			case err != nil:
				t.Fatalf("Update with the current token: %v", err)
			default:
				m.wrote(t, i, key, rec)
				if rec.Branches[0].Stamp.Dot != dot {
					t.Fatalf("Update stored %v, the write was %v", rec.Branches[0].Stamp.Dot, dot)
				}
			}
		},
		"UpdateStale": func(t *rapid.T) {
			i, r := m.replica(t)
			key := m.key(t)
			if len(m.tokens[key]) == 0 {
				t.Skip("no token read yet")
			}
			token := rapid.SampledFrom(m.tokens[key]).Draw(t, "token")
			s, err := r.State(bg, key)
			if err != nil {
				t.Fatalf("State: %v", err)
			}
			rec, err := r.Update(bg, key, token, func(h *hold.Hold, _ replica.Write) error {
				h.Touch(fmt.Sprintf("stale-%d", m.step))
				return nil
			})
			var pf *replica.PreconditionFailed
			switch {
			case s.Len() == 0:
				if !errors.Is(err, replica.ErrNotFound) {
					t.Fatalf("Update of an absent record: %v", err)
				}
			case token != s.Join().Token():
				if !errors.As(err, &pf) {
					t.Fatalf("Update with stale token %s (current %s): %v, want *PreconditionFailed", token, s.Join().Token(), err)
				}
				if pf.Current != s.Join().Token() || !pf.Context.Equal(s.Join()) || len(pf.Stamps) != s.Len() {
					t.Fatalf("PreconditionFailed carries %s with %d branches, want %s with %d", pf.Current, len(pf.Stamps), s.Join().Token(), s.Len())
				}
			case s.Len() > 1 && errors.Is(err, resolve.ErrConflict):
			case err != nil:
				t.Fatalf("Update with the current token: %v", err)
			default:
				m.wrote(t, i, key, rec)
			}
		},
		"Blind": func(t *rapid.T) {
			i, r := m.replica(t)
			key := m.key(t)
			cur, ok := m.get(t, r, key)
			rec, err := r.Blind(bg, key, "note", hold.NoteEdit(fmt.Sprintf("note %d", m.step)))
			switch {
			case !ok:
				if !errors.Is(err, replica.ErrNotFound) {
					t.Fatalf("Blind on an absent record: %v", err)
				}
			case cur.Conflict != nil:
				if !errors.Is(err, resolve.ErrConflict) {
					t.Fatalf("Blind on a conflicted record: %v", err)
				}
			case err != nil:
				t.Fatalf("Blind: %v", err)
			default:
				m.wrote(t, i, key, rec)
				if rec.Value.Note != fmt.Sprintf("note %d", m.step) {
					t.Fatalf("Blind wrote %q", rec.Value.Note)
				}
			}
		},
		"Command": func(t *rapid.T) {
			i, r := m.replica(t)
			key := m.key(t)
			idem := fmt.Sprintf("cmd-%d", m.step)
			if len(m.idems) > 0 && rapid.Bool().Draw(t, "repeat") {
				idem = rapid.SampledFrom(sortedKeys(m.idems)).Draw(t, "idem")
				key = m.idems[idem]
			}
			cur, ok := m.get(t, r, key)
			rec, replayed, err := r.Command(bg, key, idem, func(h *hold.Hold, _ replica.Write) error {
				h.Touch("ag-" + idem)
				return nil
			})
			switch {
			case !ok:
				if !errors.Is(err, replica.ErrNotFound) {
					t.Fatalf("Command on an absent record: %v", err)
				}
			case cur.Conflict != nil:
				if !errors.Is(err, resolve.ErrConflict) {
					t.Fatalf("Command on a conflicted record: %v", err)
				}
			case err != nil:
				t.Fatalf("Command: %v", err)
			case cur.Value.Commands.Has(idem):
				if !replayed {
					t.Fatalf("command %s applied again", idem)
				}
				if first, ok := m.firsts[i][key+" "+idem]; ok && first != rec.Token {
					t.Fatalf("retry of %s returned %s, the first result was %s", idem, rec.Token, first)
				}
				if rec.Token != cur.Token && m.firsts[i][key+" "+idem] == "" {
					t.Fatalf("retry of %s not remembered here returned %s, not the current record %s", idem, rec.Token, cur.Token)
				}
			default:
				if replayed {
					t.Fatalf("command %s replayed on first use here", idem)
				}
				m.wrote(t, i, key, rec)
				m.idems[idem] = key
				m.firsts[i][key+" "+idem] = rec.Token
				if !rec.Value.Agencies.Has("ag-"+idem) || !rec.Value.Commands.Has(idem) {
					t.Fatalf("command %s's effect missing: %v", idem, rec.Value)
				}
			}
		},
		"ResolveConflict": func(t *rapid.T) {
			i, r := m.replica(t)
			key := m.key(t)
			cur, ok := m.get(t, r, key)
			if !ok {
				t.Skip("no record")
			}
			v := cur.Value
			if cur.Conflict != nil {
				v = rapid.SampledFrom(cur.Branches).Draw(t, "branch").Value
			}
			rec, err := r.ResolveConflict(bg, key, cur.Token, v)
			if err != nil {
				t.Fatalf("ResolveConflict with the current token: %v", err)
			}
			m.wrote(t, i, key, rec)
			if rec.Conflict != nil || len(rec.Branches) != 1 {
				t.Fatalf("ResolveConflict left %d branches", len(rec.Branches))
			}
			for _, b := range cur.Branches {
				for k := range b.Value.Commands.All() {
					if !rec.Value.Commands.Has(k) {
						t.Fatalf("ResolveConflict dropped applied command key %s", k)
					}
				}
			}
		},
		"Send": func(t *rapid.T) {
			j, from := m.replica(t)
			key := m.key(t)
			data, err := from.Export(bg, key)
			if errors.Is(err, replica.ErrNotFound) {
				t.Skip("nothing to send")
			}
			if err != nil {
				t.Fatalf("Export: %v", err)
			}
			m.net = append(m.net, message{key, data, maps.Clone(m.hist[j][key])})
		},
		"Deliver": func(t *rapid.T) {
			if len(m.net) == 0 {
				t.Skip("nothing in flight")
			}
			k := rapid.IntRange(0, len(m.net)-1).Draw(t, "message")
			msg := m.net[k]
			if rapid.Bool().Draw(t, "consume") { // else it may be delivered again
				m.net = append(m.net[:k:k], m.net[k+1:]...)
			}
			i, r := m.replica(t)
			if _, err := r.Apply(bg, msg.key, msg.data); err != nil {
				t.Fatalf("Apply: %v", err)
			}
			m.receive(i, msg.key, msg.hist)
		},
		"AntiEntropy": func(t *rapid.T) {
			i, a := m.replica(t)
			j := rapid.IntRange(0, len(m.c.rs)-1).Filter(func(j int) bool { return j != i }).Draw(t, "other")
			if err := replica.AntiEntropy(bg, a, m.c.rs[j]); err != nil {
				t.Fatalf("AntiEntropy: %v", err)
			}
			for _, key := range m.keys {
				hi, hj := maps.Clone(m.hist[i][key]), maps.Clone(m.hist[j][key])
				m.receive(i, key, hj)
				m.receive(j, key, hi)
			}
			for _, key := range m.keys {
				if a, b := viewOf(t, a, key), viewOf(t, m.c.rs[j], key); a != b {
					t.Fatalf("after AntiEntropy %s differs:\n%+v\n%+v", key, a, b)
				}
			}
		},
		"Restart": func(t *rapid.T) {
			i, _ := m.replica(t)
			before := queueOf(m.c.rs[i])
			m.c.restart(t, i)
			m.firsts[i] = map[string]string{}
			if err := m.c.rs[i].Rescan(bg); err != nil {
				t.Fatalf("Rescan: %v", err)
			}
			if after := queueOf(m.c.rs[i]); !maps.Equal(before, after) {
				t.Fatalf("review queue after restart %v, before %v", after, before)
			}
		},
		"": func(t *rapid.T) {
			m.step++
			m.check(t)
		},
	}
}

func (m *machine) receive(i int, key string, hist dotSet) {
	if len(hist) == 0 {
		return
	}
	if m.hist[i][key] == nil {
		m.hist[i][key] = dotSet{}
	}
	maps.Copy(m.hist[i][key], hist)
}

// check compares every replica's state with the model: its context covers
// exactly the dots it received; every received dot is a sibling or was seen
// by a received write; the review queue lists exactly the conflicted keys.
func (m *machine) check(t *rapid.T) {
	for i, r := range m.c.rs {
		q := queueOf(r)
		for _, key := range m.keys {
			s, err := r.State(bg, key)
			if err != nil {
				t.Fatalf("State: %v", err)
			}
			hist := m.hist[i][key]
			for id, n := range s.Join().All() {
				for c := uint64(1); c <= n; c++ {
					if d := (version.Dot{ID: id, Counter: c}); !hist[d] {
						t.Fatalf("%v %s: context %v covers %v, never delivered there", m.c.ids[i], key, s.Join(), d)
					}
				}
			}
			for d := range hist {
				if !s.Covers(d) {
					t.Fatalf("%v %s: received %v, not in the state %v", m.c.ids[i], key, d, s)
				}
				if _, sib := s.Get(d); sib {
					continue
				}
				seen := false
				for w := range hist {
					if m.l.dots[key][w].Contains(d) {
						seen = true
						break
					}
				}
				if !seen {
					t.Fatalf("%v %s: %v vanished: no sibling, and no write received here saw it", m.c.ids[i], key, d)
				}
			}
			v := viewOf(t, r, key)
			if _, queued := q[key]; queued != (v.Conflict != "") {
				t.Fatalf("%v %s: queued %v, conflicted %q", m.c.ids[i], key, queued, v.Conflict)
			}
			if v.Found && v.Token != s.Join().Token() {
				t.Fatalf("%v %s: read token %s, state's %s", m.c.ids[i], key, v.Token, s.Join().Token())
			}
		}
	}
}

// TestReplicaStateMachine drives a cluster of 2–3 replicas with random
// writes of every style, replication in any order with duplicates,
// anti-entropy and restarts, checking it against the model after every step,
// then heals and checks convergence.
func TestReplicaStateMachine(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		m := newMachine(t)
		t.Repeat(m.actions())
		m.c.heal(t)
		m.c.checkConverged(t)
		for _, r := range m.c.rs {
			m.l.check(t, r)
		}
	})
}
