package version_test

import (
	"fmt"
	"slices"
	"sync/atomic"
	"testing"

	"pgregory.net/rapid"

	"github.com/harborpoint/concord/internal/dotmodel"
	"github.com/harborpoint/concord/internal/dvv"
	"github.com/harborpoint/concord/internal/proof"
	"github.com/harborpoint/concord/version"
)

// The model test runs random histories of one key on 2 to 4 replicas and
// several clients through version.Clock and through dotmodel, the plain model
// whose histories are explicit sets of dots, and requires the same siblings
// (dots and values), the same joins and the same answers to Covers, Get and
// Compare after every step.

// ctxt is a context a client captured on a read: the token it was handed
// (decoded again, as a client would send it back) and the model's history.
type ctxt struct {
	from  int
	v     version.Vector
	h     dotmodel.History
	token string
}

// replica is one replica's state of the key in both implementations.
type replica struct {
	name  string
	id    version.ID
	clock version.Clock[int]
	model dotmodel.Clock[int]
}

// message is a clock sent from one replica, to be applied at another later,
// possibly more than once.
type message struct {
	to    int
	clock version.Clock[int]
	model dotmodel.Clock[int]
}

// write is one acknowledged write, kept to check DVV comparisons.
type write struct {
	dvv  dvv.DVV
	hist dotmodel.History
}

type machine struct {
	reps     []*replica
	clients  [][]ctxt
	inflight []message
	dots     []version.Dot
	writes   []write
	writers  map[version.ID]bool
	next     int
	restarts bool
	stats    *modelStats
}

func newMachine(t *rapid.T, restarts bool) *machine {
	nr := rapid.IntRange(2, 4).Draw(t, "replicas")
	nc := rapid.IntRange(1, 4).Draw(t, "clients")
	m := &machine{clients: make([][]ctxt, nc), writers: map[version.ID]bool{}, restarts: restarts}
	names := []string{"lisbon", "baltimore", "bristol", "osaka"}
	for i := range nr {
		m.reps = append(m.reps, &replica{name: names[i], id: version.MustID(names[i])})
	}
	return m
}

func (m *machine) replica(t *rapid.T, label string) int {
	return rapid.IntRange(0, len(m.reps)-1).Draw(t, label)
}

func (m *machine) client(t *rapid.T) int {
	return rapid.IntRange(0, len(m.clients)-1).Draw(t, "client")
}

// capture reads replica r's context as a client would hold it: as a token.
func (m *machine) capture(t *rapid.T, r int) ctxt {
	rep := m.reps[r]
	tok, err := rep.clock.Join().MarshalText()
	if err != nil {
		t.Fatalf("MarshalText: %v", err)
	}
	v, err := version.ParseToken(string(tok), version.Limits{})
	if err != nil {
		t.Fatalf("ParseToken(%q): %v", tok, err)
	}
	return ctxt{from: r, v: v, h: rep.model.Join(), token: string(tok)}
}

func (m *machine) read(t *rapid.T) {
	c, r := m.client(t), m.replica(t, "replica")
	m.clients[c] = append(m.clients[c], m.capture(t, r))
}

// put writes a fresh value through replica r with a context chosen among: the
// empty context (a blind write), a fresh read of r (read-modify-write), or a
// context the client captured earlier, possibly at another replica (stale).
func (m *machine) put(t *rapid.T) {
	c, r := m.client(t), m.replica(t, "replica")
	var ctx ctxt
	switch kind := rapid.IntRange(0, 2).Draw(t, "ctx"); {
	case kind == 1 || kind == 2 && len(m.clients[c]) == 0:
		ctx = m.capture(t, r)
	case kind == 2:
		ctx = m.clients[c][rapid.IntRange(0, len(m.clients[c])-1).Draw(t, "stale")]
	default:
		ctx = ctxt{h: dotmodel.History{}}
	}
	rep := m.reps[r]
	m.next++
	before := rep.clock
	clock, dot, err := rep.clock.Update(ctx.v, m.next, rep.id)
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	model, mdot := rep.model.Update(ctx.h, m.next, rep.id)
	if dot != mdot {
		t.Fatalf("Update at %v with %v: dot %v, model %v", rep.id, ctx.v, dot, mdot)
	}
	// The new dot is fresh: nothing known anywhere had it.
	for _, d := range m.dots {
		if d == dot {
			t.Fatalf("Update reissued dot %v", dot)
		}
	}
	if before.Covers(dot) || ctx.v.Contains(dot) {
		t.Fatalf("new dot %v already covered by the clock or the context", dot)
	}
	rep.clock, rep.model = clock, model
	m.dots = append(m.dots, dot)
	m.writers[rep.id] = true

	ver, err := dvv.New(dot, ctx.v)
	if err != nil {
		t.Fatalf("dvv.New(%v, %v): %v", dot, ctx.v, err)
	}
	w := write{dvv: ver, hist: model.Siblings[dot].History}
	for _, o := range m.writes {
		want := w.hist.Compare(o.hist)
		if got := w.dvv.Compare(o.dvv); got != want {
			t.Fatalf("DVV %v Compare %v = %v, model %v", w.dvv, o.dvv, got, want)
		}
		if got := o.dvv.Compare(w.dvv); got != mirror(want) {
			t.Fatalf("DVV %v Compare %v = %v, model %v", o.dvv, w.dvv, got, mirror(want))
		}
		if got, want := w.dvv.Descends(o.dvv), w.hist.Contains(o.dvv.Dot()); got != want {
			t.Fatalf("DVV %v Descends %v = %v, model %v", w.dvv, o.dvv, got, want)
		}
	}
	m.writes = append(m.writes, w)
}

// replicate merges replica from's clock into replica to's.
func (m *machine) replicate(t *rapid.T) {
	from, to := m.replica(t, "from"), m.replica(t, "to")
	src, dst := m.reps[from], m.reps[to]
	dst.clock = dst.clock.Sync(src.clock)
	dst.model = dst.model.Sync(src.model)
	m.stats.syncs.Add(1)
}

// send puts a snapshot of a replica's clock in flight to another replica.
func (m *machine) send(t *rapid.T) {
	from, to := m.replica(t, "from"), m.replica(t, "to")
	src := m.reps[from]
	m.inflight = append(m.inflight, message{to: to, clock: src.clock, model: src.model})
}

// deliver applies a message in flight, in any order; it may stay in flight
// and be delivered again.
func (m *machine) deliver(t *rapid.T) {
	if len(m.inflight) == 0 {
		t.Skip("nothing in flight")
	}
	i := rapid.IntRange(0, len(m.inflight)-1).Draw(t, "message")
	msg := m.inflight[i]
	dst := m.reps[msg.to]
	dst.clock = dst.clock.Sync(msg.clock)
	dst.model = dst.model.Sync(msg.model)
	m.stats.syncs.Add(1)
	if !rapid.Bool().Draw(t, "duplicate") {
		m.inflight = slices.Delete(m.inflight, i, i+1)
	}
}

// restartLost restarts a replica without its state: it must come back as a
// new incarnation so that it never reissues a dot.
func (m *machine) restartLost(t *rapid.T) {
	r := m.replica(t, "replica")
	rep := m.reps[r]
	next, err := rep.id.Next()
	if err != nil {
		t.Fatalf("Next: %v", err)
	}
	if next.Name() != rep.name || next.Compare(rep.id) <= 0 {
		t.Fatalf("%v.Next() = %v", rep.id, next)
	}
	rep.id = next
	m.stats.restarts.Add(1)
	rep.clock = version.Clock[int]{}
	rep.model = dotmodel.Clock[int]{}
}

// restartKept restarts a replica with its state: same ID, same clock, and the
// clients' contexts still apply.
func (m *machine) restartKept(t *rapid.T) {
	r := m.replica(t, "replica")
	rep := m.reps[r]
	id, err := version.ParseID(rep.id.String())
	if err != nil || id != rep.id {
		t.Fatalf("ID %v does not survive a restart: %v, %v", rep.id, id, err)
	}
}

func mirror(o version.Order) version.Order {
	switch o {
	case version.Before:
		return version.After
	case version.After:
		return version.Before
	}
	return o
}

// check compares every replica's clock with its model.
func (m *machine) check(t *rapid.T) {
	m.stats.steps.Add(1)
	for _, rep := range m.reps {
		checkClock(t, rep.id.String(), rep.clock, rep.model, m.dots)
		if n, w := rep.clock.Join().Len(), len(m.writers); n > w {
			t.Fatalf("%v: join %v has %d entries, only %d incarnations wrote", rep.id, rep.clock.Join(), n, w)
		}
	}
	for i, a := range m.reps {
		for _, b := range m.reps[i:] {
			want := a.model.Compare(b.model)
			if got := a.clock.Compare(b.clock); got != want {
				t.Fatalf("%v %v Compare %v %v = %v, model %v", a.id, a.clock, b.id, b.clock, got, want)
			}
			if got := b.clock.Compare(a.clock); got != mirror(want) {
				t.Fatalf("%v Compare %v = %v, model %v", b.clock, a.clock, got, mirror(want))
			}
			if a.clock.Equal(b.clock) != (want == version.Equal) {
				t.Fatalf("%v Equal %v = %v, model says %v", a.clock, b.clock, a.clock.Equal(b.clock), want)
			}
		}
	}
}

// checkClock requires c and its model to hold the same siblings in the same
// order, the same join and the same answers to Covers and Get for every dot.
func checkClock(t *rapid.T, who string, c version.Clock[int], mc dotmodel.Clock[int], dots []version.Dot) {
	want := mc.Sorted()
	var got []version.Sibling[int]
	for s := range c.Siblings() {
		got = append(got, s)
	}
	if len(got) != len(want) || c.Len() != len(want) {
		t.Fatalf("%s: %d siblings %v (Len %d), model %d %s", who, len(got), got, c.Len(), len(want), fmtSiblings(want))
	}
	vals := c.Values()
	for i := range got {
		if got[i].Dot != want[i].Dot || got[i].Value != want[i].Value || vals[i] != want[i].Value {
			t.Fatalf("%s: siblings %v, model %s", who, got, fmtSiblings(want))
		}
	}
	// Siblings are pairwise concurrent.
	for i, a := range want {
		for _, b := range want[i+1:] {
			if a.History.Contains(b.Dot) || b.History.Contains(a.Dot) {
				t.Fatalf("%s: siblings %v and %v are not concurrent", who, a.Dot, b.Dot)
			}
		}
	}
	mv, exact := mc.Seen.Vector()
	if !exact {
		t.Fatalf("%s: model history %v is not a vector", who, mc.Seen.Dots())
	}
	if j := c.Join(); !j.Equal(mv) {
		t.Fatalf("%s: join %v, model %v", who, j, mv)
	}
	for _, d := range dots {
		if got, want := c.Covers(d), mc.Covers(d); got != want {
			t.Fatalf("%s: Covers(%v) = %v, model %v", who, d, got, want)
		}
		gv, gok := c.Get(d)
		wv, wok := mc.Get(d)
		if gv != wv || gok != wok {
			t.Fatalf("%s: Get(%v) = %v, %v; model %v, %v", who, d, gv, gok, wv, wok)
		}
	}
}

func fmtSiblings(s []dotmodel.Sibling[int]) string {
	out := "["
	for i, x := range s {
		if i > 0 {
			out += " "
		}
		out += fmt.Sprintf("{%v %d}", x.Dot, x.Value)
	}
	return out + "]"
}

// modelHistories is the number of model histories checked by default; it is
// split between the subtests of TestClockModel.
const modelHistories = 400

// modelStats counts what the model histories did, to show they are not trivial.
type modelStats struct {
	histories, steps, puts, syncs, restarts, maxSiblings, maxEntries atomic.Int64
}

func (s *modelStats) record(m *machine) {
	s.histories.Add(1)
	s.puts.Add(int64(len(m.writes)))
	for _, r := range m.reps {
		for {
			old := s.maxSiblings.Load()
			if n := int64(r.clock.Len()); n <= old || s.maxSiblings.CompareAndSwap(old, n) {
				break
			}
		}
		for {
			old := s.maxEntries.Load()
			if n := int64(r.clock.Join().Len()); n <= old || s.maxEntries.CompareAndSwap(old, n) {
				break
			}
		}
	}
}

func TestClockModel(t *testing.T) {
	var st modelStats
	t.Cleanup(func() {
		h := st.histories.Load()
		t.Logf("model histories checked: %d; steps %d, writes %d, syncs %d, restarts %d (%.1f steps per history); max siblings %d, max vector entries %d",
			h, st.steps.Load(), st.puts.Load(), st.syncs.Load(), st.restarts.Load(),
			float64(st.steps.Load())/float64(max(h, 1)), st.maxSiblings.Load(), st.maxEntries.Load())
	})
	variants := []struct {
		name     string
		restarts bool
	}{
		{"steady/a", false},
		{"steady/b", false},
		{"restarts/a", true},
		{"restarts/b", true},
	}
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			proof.Check(t, proof.Histories(t, modelHistories/len(variants)), func(rt *rapid.T) {
				m := newMachine(rt, v.restarts)
				m.stats = &st
				actions := map[string]func(*rapid.T){
					"read":      m.read,
					"put":       m.put,
					"put2":      m.put, // writes are the interesting step: weight them
					"replicate": m.replicate,
					"send":      m.send,
					"deliver":   m.deliver,
					"":          m.check,
				}
				if v.restarts {
					actions["restartLost"] = m.restartLost
					actions["restartKept"] = m.restartKept
				}
				// Three rounds of rapid's default 30 steps make histories
				// long enough for stale contexts, restarts and duplicate
				// deliveries to interleave.
				for range 3 {
					rt.Repeat(actions)
				}
				st.record(m)
			})
		})
	}
}
