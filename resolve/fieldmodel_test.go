package resolve_test

import (
	"fmt"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/harborpoint/concord/internal/dotmodel"
	"github.com/harborpoint/concord/internal/fieldmodel"
	"github.com/harborpoint/concord/internal/proof"
	"github.com/harborpoint/concord/policy"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

// card is a record of four last-writer-wins fields.
type card struct{ A, B, C, D string }

func (c *card) field(k int) *string { return [...]*string{&c.A, &c.B, &c.C, &c.D}[k] }

func (c card) values() []string { return []string{c.A, c.B, c.C, c.D} }

var cardFields = []string{"a", "b", "c", "d"}

func cardResolver(t testing.TB) *resolve.Resolver[card] {
	var fields []resolve.Field[card]
	for k, name := range cardFields {
		fields = append(fields, resolve.Bind(name, func(c *card) *string { return c.field(k) }, policy.LWW[string]()))
	}
	r, err := resolve.New("card", fields, nil, resolve.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// fieldRun is one history of writes and replications, made on the resolver
// and on the plain per-field model side by side.
type fieldRun struct {
	t      *rapid.T
	r      *resolve.Resolver[card]
	model  *fieldmodel.Model[string]
	ids    []version.ID
	states []resolve.Siblings[card]
	seen   []dotmodel.Clock[struct{}] // the model's causal metadata per replica
	clocks []int64                    // per replica, the latest wall second it has seen
	reads  []fieldRead                // states read, for writes from stale reads
	sent   []fieldRead                // states sent, delivered later in any order, repeatedly
	writes int
	log    []string
}

// fieldRead is a state with the model's history of it.
type fieldRead struct {
	state resolve.Siblings[card]
	seen  dotmodel.Clock[struct{}]
}

// TestFieldStampsMatchThePerFieldModel checks the resolver against the plain
// per-field last-writer-wins model (internal/fieldmodel) on random histories:
// blind writes of one field, conditional writes (from fresh or stale reads)
// and commands, each changing a random subset of fields to values drawn from
// a small set (so that writes often leave a field equal), at three replicas
// whose states are replicated in random order with duplicates. One write in
// four comes from a clock beyond the drift bound, stamped at any time up to
// the latest it has seen — often earlier than the values it read and
// replaced. After every step, every field the resolver reads must be the
// model's winner, value and stamp. CONCORD_PROOF_SCALE scales the number of
// histories (2,000 by default; .ci/run runs 10,000).
func TestFieldStampsMatchThePerFieldModel(t *testing.T) {
	r := cardResolver(t)
	var writes int64
	n := proof.Check(t, proof.Histories(t, 2_000), func(rt *rapid.T) {
		run := newFieldRun(rt, r)
		run.play()
		writes += int64(run.writes)
	})
	t.Logf("%d histories, %d writes", n, writes)
}

func newFieldRun(t *rapid.T, r *resolve.Resolver[card]) *fieldRun {
	run := &fieldRun{t: t, r: r, model: fieldmodel.New[string](len(cardFields))}
	for i := range 3 {
		run.ids = append(run.ids, version.MustID(fmt.Sprintf("r%d", i)))
	}
	run.states = make([]resolve.Siblings[card], len(run.ids))
	run.seen = make([]dotmodel.Clock[struct{}], len(run.ids))
	run.clocks = make([]int64, len(run.ids))
	run.reads = []fieldRead{{}}
	return run
}

func (run *fieldRun) fatalf(format string, args ...any) {
	run.t.Fatalf("%s\nhistory:\n  %s", fmt.Sprintf(format, args...), strings.Join(run.log, "\n  "))
}

func (run *fieldRun) play() {
	steps := rapid.IntRange(6, 24).Draw(run.t, "steps")
	for range steps {
		i := rapid.IntRange(0, len(run.ids)-1).Draw(run.t, "replica")
		switch rapid.IntRange(0, 3).Draw(run.t, "action") {
		case 0:
			run.send(i)
		case 1:
			run.deliver(i)
		default:
			run.write(i)
		}
		run.check(i)
	}
	// Every state sent reaches one fresh replica, in random order.
	var all fieldRead
	for _, m := range rapid.Permutation(append(run.sent, run.current()...)).Draw(run.t, "final order") {
		all.state = run.r.Apply(all.state, m.state).State
		all.seen = all.seen.Sync(m.seen)
	}
	run.compare(all, "after delivering everything")
}

func (run *fieldRun) current() []fieldRead {
	out := make([]fieldRead, len(run.ids))
	for i := range out {
		out[i] = fieldRead{run.states[i], run.seen[i]}
	}
	return out
}

// send queues replica i's state for delivery.
func (run *fieldRun) send(i int) {
	run.sent = append(run.sent, fieldRead{run.states[i], run.seen[i]})
	run.log = append(run.log, fmt.Sprintf("%v sends %v", run.ids[i], run.states[i]))
}

// deliver applies a state sent earlier (any, possibly again) at replica i.
func (run *fieldRun) deliver(i int) {
	if len(run.sent) == 0 {
		return
	}
	m := rapid.SampledFrom(run.sent).Draw(run.t, "message")
	run.states[i] = run.r.Apply(run.states[i], m.state).State
	run.seen[i] = run.seen[i].Sync(m.seen)
	run.clocks[i] = max(run.clocks[i], latestSecond(m.state))
	run.log = append(run.log, fmt.Sprintf("%v applies %v", run.ids[i], m.state))
}

// write makes a blind, conditional or command write at replica i.
func (run *fieldRun) write(i int) {
	read := fieldRead{run.states[i], run.seen[i]}
	kind := rapid.SampledFrom([]string{"blind", "conditional", "command"}).Draw(run.t, "kind")
	var changes []int
	switch kind {
	case "blind":
		changes = []int{rapid.IntRange(0, len(cardFields)-1).Draw(run.t, "field")}
	case "conditional":
		if rapid.Bool().Draw(run.t, "stale") {
			read = rapid.SampledFrom(run.reads).Draw(run.t, "read")
		}
		fallthrough
	default:
		for k := range cardFields {
			if rapid.Bool().Draw(run.t, "change "+cardFields[k]) {
				changes = append(changes, k)
			}
		}
	}
	ch := resolve.Change[card]{Context: read.state.Join(), Replica: run.ids[i]}
	var v card
	if read.state.Len() > 0 {
		res, err := run.r.Resolve(read.state)
		if err != nil {
			run.fatalf("resolve a read: %v", err)
		}
		v, ch.Base = res.Value, &res.Branch
	}
	for _, k := range changes {
		*v.field(k) = rapid.SampledFrom([]string{"", "x", "y"}).Draw(run.t, "value")
	}
	sec := max(run.clocks[i], latestSecond(read.state)) + int64(rapid.IntRange(1, 2).Draw(run.t, "tick"))
	if rapid.IntRange(0, 3).Draw(run.t, "drift") == 0 {
		// A clock beyond the drift bound: the hybrid logical clock refused
		// the stamps it saw, so this write's stamp can be earlier than the
		// values it read and replaced.
		sec = int64(rapid.IntRange(1, int(sec)).Draw(run.t, "behind"))
	}
	run.clocks[i] = max(run.clocks[i], sec)
	ch.Time = version.Timestamp{Wall: sec * 1e9}
	ch.Value = func(version.Dot) card { return v }
	o, err := run.r.Write(run.states[i], ch)
	if err != nil {
		run.fatalf("write: %v", err)
	}
	seen, dot := run.seen[i].Update(read.seen.Join(), struct{}{}, run.ids[i])
	if dot != o.Dot {
		run.fatalf("the model issued %v, the resolver %v", dot, o.Dot)
	}
	run.model.Write(read.seen.Join(), dot, version.Stamp{Time: ch.Time, Dot: dot}, v.values())
	run.states[i], run.seen[i] = o.State, seen
	run.reads = append(run.reads, fieldRead{o.State, seen})
	run.writes++
	run.log = append(run.log, fmt.Sprintf("%v %s write from %v at %ds: %+v -> %v", run.ids[i], kind, ch.Context, sec, v, dot))
}

// check compares replica i with the model.
func (run *fieldRun) check(i int) {
	run.compare(fieldRead{run.states[i], run.seen[i]}, "at "+run.ids[i].String())
}

func (run *fieldRun) compare(s fieldRead, where string) {
	if s.state.Len() == 0 {
		return
	}
	res, err := run.r.Resolve(s.state)
	if err != nil {
		run.fatalf("%s: %v", where, err)
	}
	for k, name := range cardFields {
		w, ok := run.model.Winner(s.seen.Join(), k)
		if !ok {
			run.fatalf("%s: the model has no write of %s", where, name)
		}
		if got := *res.Value.field(k); got != w.Values[k] || res.FieldStamp(k) != w.Stamp {
			run.fatalf("%s: field %s is %q (stamp %v), the model says %q from the write %v", where, name, got, res.FieldStamp(k), w.Values[k], w.Stamp)
		}
	}
}

func latestSecond(s resolve.Siblings[card]) int64 {
	var sec int64
	for _, b := range s.Values() {
		sec = max(sec, b.Stamp.Time.Wall/1e9)
	}
	return sec
}
