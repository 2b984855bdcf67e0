package replica_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/harborpoint/concord/internal/dotmodel"
	"github.com/harborpoint/concord/internal/fieldmodel"
	"github.com/harborpoint/concord/internal/proof"
	"github.com/harborpoint/concord/policy"
	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

// card is a record of four last-writer-wins fields and its applied command
// keys.
type card struct {
	A, B, C, D string
	Keys       policy.Applied
}

var cardFields = []string{"a", "b", "c", "d"}

func (c *card) field(k int) *string { return [...]*string{&c.A, &c.B, &c.C, &c.D}[k] }

func (c card) values() []string { return []string{c.A, c.B, c.C, c.D} }

func cardKeys(c *card) *policy.Applied { return &c.Keys }

func cardResolver(t testing.TB) *resolve.Resolver[card] {
	var fields []resolve.Field[card]
	for k, name := range cardFields {
		fields = append(fields, resolve.Bind(name, func(c *card) *string { return c.field(k) }, policy.LWW[string]()))
	}
	fields = append(fields, resolve.Bind("keys", cardKeys, policy.AppliedKeys(policy.Horizon{})))
	r, err := resolve.New("card", fields, nil, resolve.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// cardCodec is a small binary codec, so that the model check spends its
// time in the replica rather than in encoding/json.
type cardCodec struct{}

func (cardCodec) Append(dst []byte, c card) ([]byte, error) {
	for _, s := range c.values() {
		dst = binary.AppendUvarint(dst, uint64(len(s)))
		dst = append(dst, s...)
	}
	for k, at := range c.Keys.All() {
		dst = binary.AppendUvarint(dst, uint64(len(k)))
		dst = append(dst, k...)
		dst = binary.AppendVarint(dst, at.UnixNano())
	}
	return dst, nil
}

func (cardCodec) Decode(data []byte) (card, error) {
	var (
		c    card
		keys []policy.AppliedKey
	)
	for k := 0; len(data) > 0; k++ {
		n, w := binary.Uvarint(data)
		if w <= 0 || n > uint64(len(data)-w) {
			return card{}, errors.New("bad card")
		}
		s := string(data[w : w+int(n)])
		data = data[w+int(n):]
		if k < len(cardFields) {
			*c.field(k) = s
			continue
		}
		at, w := binary.Varint(data)
		if w <= 0 {
			return card{}, errors.New("bad card key time")
		}
		data = data[w:]
		keys = append(keys, policy.AppliedKey{Key: s, At: time.Unix(0, at)})
	}
	c.Keys = policy.NewApplied(keys...)
	return c, nil
}

// replicaRun is one history of client writes at replicas over their own
// stores, with the replicated states delivered in random order and
// repeatedly, played on the replicas and on the per-field model.
type replicaRun struct {
	t      *rapid.T
	ctx    context.Context
	model  *fieldmodel.Model[string]
	ids    []version.ID
	rs     []*replica.Replica[card]
	seen   []dotmodel.Clock[struct{}] // the model's causal metadata per replica
	keys   map[version.Dot]string     // the command key each write added
	tokens []map[string]dotmodel.History
	sent   []sentState
	now    time.Time
	writes int
	log    []string
}

// sentState is a replica's exported state with the model's history of it.
type sentState struct {
	data []byte
	seen dotmodel.Clock[struct{}]
}

const cardKey = "card-1"

// TestReplicaMatchesThePerFieldModel checks Replica's writes — Create, Blind
// of one field, Update (conditional, with the current or a stale token) and
// Command (with a fresh or repeated idempotency key), each changing a random
// subset of fields to values from a small set — at three replicas whose
// exported states are applied in random order, with duplicates, against
// the plain per-field last-writer-wins model (clocks drawn per history, some
// off by more than the hybrid logical clock's drift bound): after every step each field of
// the record read is the model's winner, value and stamp; refused and
// replayed writes are exactly those the model predicts.
// CONCORD_PROOF_SCALE scales the number of histories (2,000 by default;
// .ci/run runs 10,000).
func TestReplicaMatchesThePerFieldModel(t *testing.T) {
	res := cardResolver(t)
	var writes int64
	n := proof.Check(t, proof.Histories(t, 2_000), func(rt *rapid.T) {
		run := newReplicaRun(rt, res)
		run.play()
		writes += int64(run.writes)
	})
	t.Logf("%d histories, %d writes", n, writes)
}

func newReplicaRun(t *rapid.T, res *resolve.Resolver[card]) *replicaRun {
	run := &replicaRun{t: t, ctx: context.Background(), model: fieldmodel.New[string](len(cardFields)),
		keys: map[version.Dot]string{}, now: time.Unix(1_700_000_000, 0)}
	for i := range 3 {
		id := version.MustID(fmt.Sprintf("r%d", i))
		// Some clocks are off by more than the drift bound: their hybrid
		// logical clocks refuse the stamps of the others, so a write can be
		// stamped earlier than the values it read and replaced.
		off := time.Duration(rapid.SampledFrom([]int{0, 0, -20, 20}).Draw(t, "clock offset")) * time.Second
		clock := version.NewHLC(version.HLCOptions{Now: func() time.Time { return run.now.Add(off) }, MaxDrift: 2 * time.Second}, version.Timestamp{})
		r, err := replica.New(id, replica.NewMemoryStore(), res, replica.Options[card]{
			Codec: cardCodec{}, Clock: clock, CommandKeys: cardKeys,
		})
		if err != nil {
			t.Fatal(err)
		}
		run.ids, run.rs = append(run.ids, id), append(run.rs, r)
		run.tokens = append(run.tokens, map[string]dotmodel.History{})
	}
	run.seen = make([]dotmodel.Clock[struct{}], len(run.ids))
	return run
}

func (run *replicaRun) fatalf(format string, args ...any) {
	run.t.Fatalf("%s\nhistory:\n  %s", fmt.Sprintf(format, args...), strings.Join(run.log, "\n  "))
}

func (run *replicaRun) logf(format string, args ...any) {
	run.log = append(run.log, fmt.Sprintf(format, args...))
}

func (run *replicaRun) play() {
	steps := rapid.IntRange(6, 24).Draw(run.t, "steps")
	for range steps {
		// Few distinct wall times: stamps of concurrent writes often tie.
		run.now = run.now.Add(time.Duration(rapid.IntRange(0, 1).Draw(run.t, "tick")) * time.Second)
		i := rapid.IntRange(0, len(run.ids)-1).Draw(run.t, "replica")
		switch rapid.SampledFrom([]string{"send", "deliver", "create", "blind", "update", "command"}).Draw(run.t, "action") {
		case "send":
			run.send(i)
		case "deliver":
			run.deliver(i)
		case "create":
			run.create(i)
		case "blind":
			run.blind(i)
		case "update":
			run.update(i)
		default:
			run.command(i)
		}
		run.check(i)
	}
	for i := range run.rs {
		run.send(i)
	}
	for _, m := range rapid.Permutation(run.sent).Draw(run.t, "final order") {
		for i := range run.rs {
			run.apply(i, m)
		}
	}
	for i := range run.rs {
		run.check(i)
	}
}

func (run *replicaRun) send(i int) {
	data, err := run.rs[i].Export(run.ctx, cardKey)
	if errors.Is(err, replica.ErrNotFound) {
		return
	}
	if err != nil {
		run.fatalf("export: %v", err)
	}
	run.sent = append(run.sent, sentState{data, run.seen[i]})
	run.logf("%v sends %v", run.ids[i], run.seen[i].Join().Dots())
}

func (run *replicaRun) deliver(i int) {
	if len(run.sent) > 0 {
		run.apply(i, rapid.SampledFrom(run.sent).Draw(run.t, "message"))
	}
}

func (run *replicaRun) apply(i int, m sentState) {
	if _, err := run.rs[i].Apply(run.ctx, cardKey, m.data); err != nil {
		run.fatalf("apply at %v: %v", run.ids[i], err)
	}
	run.seen[i] = run.seen[i].Sync(m.seen)
	run.logf("%v applies %v", run.ids[i], m.seen.Join().Dots())
}

// changes draws new values for a random subset of fields of v.
func (run *replicaRun) changes(v *card) {
	for k := range cardFields {
		if rapid.Bool().Draw(run.t, "change "+cardFields[k]) {
			*v.field(k) = rapid.SampledFrom([]string{"", "x", "y"}).Draw(run.t, "value")
		}
	}
}

func (run *replicaRun) create(i int) {
	var v card
	run.changes(&v)
	rec, err := run.rs[i].Create(run.ctx, cardKey, v)
	if exists := len(run.seen[i].Siblings) > 0; exists {
		if !errors.Is(err, replica.ErrExists) {
			run.fatalf("create over a record at %v: %v", run.ids[i], err)
		}
		return
	}
	run.written(i, "create", err, rec, run.seen[i].Join(), v, "")
}

func (run *replicaRun) blind(i int) {
	k := rapid.IntRange(0, len(cardFields)-1).Draw(run.t, "field")
	var src card
	*src.field(k) = rapid.SampledFrom([]string{"", "x", "y"}).Draw(run.t, "value")
	rec, err := run.rs[i].Blind(run.ctx, cardKey, cardFields[k], src)
	if !run.exists(i, err) {
		return
	}
	v, _ := run.read(i)
	*v.field(k) = *src.field(k)
	run.written(i, "blind "+cardFields[k], err, rec, run.seen[i].Join(), v, "")
}

// update writes with the current token or one read earlier at this replica.
func (run *replicaRun) update(i int) {
	token, read := "", run.seen[i].Join()
	if rec, err := run.rs[i].Get(run.ctx, cardKey); err == nil {
		token = rec.Token
		run.tokens[i][token] = read
	}
	if len(run.tokens[i]) > 0 && rapid.Bool().Draw(run.t, "stale token") {
		token = rapid.SampledFrom(sortedKeys(run.tokens[i])).Draw(run.t, "token")
		read = run.tokens[i][token]
	}
	if token == "" {
		// Nothing read yet, so nothing to send as If-Match.
		if _, err := run.rs[i].Update(run.ctx, cardKey, "", nil); !errors.Is(err, replica.ErrPreconditionRequired) {
			run.fatalf("update without a token at %v: %v", run.ids[i], err)
		}
		return
	}
	var v card
	rec, err := run.rs[i].Update(run.ctx, cardKey, token, func(c *card, _ replica.Write) error {
		run.changes(c)
		v = *c
		return nil
	})
	if !run.exists(i, err) {
		return
	}
	if read.Compare(run.seen[i].Join()) != version.Equal {
		if !errors.Is(err, replica.ErrPreconditionFailed) {
			run.fatalf("update with a stale token at %v: %v", run.ids[i], err)
		}
		return
	}
	run.written(i, "update", err, rec, read, v, "")
}

// command runs a command with a fresh key or one used before.
func (run *replicaRun) command(i int) {
	key := fmt.Sprintf("k%d", rapid.IntRange(0, 9).Draw(run.t, "key"))
	var v card
	rec, replayed, err := run.rs[i].Command(run.ctx, cardKey, key, func(c *card, _ replica.Write) error {
		run.changes(c)
		v = *c
		return nil
	})
	if !run.exists(i, err) {
		return
	}
	if applied := run.applied(run.seen[i].Join(), key); replayed != applied {
		run.fatalf("command %s at %v: replayed %v, the model says applied %v", key, run.ids[i], replayed, applied)
	}
	if !replayed {
		run.written(i, "command "+key, err, rec, run.seen[i].Join(), v, key)
	}
}

// exists checks a write's error against whether the replica holds the
// record, and reports whether it does.
func (run *replicaRun) exists(i int, err error) bool {
	if len(run.seen[i].Siblings) == 0 {
		if !errors.Is(err, replica.ErrNotFound) {
			run.fatalf("write to an absent record at %v: %v", run.ids[i], err)
		}
		return false
	}
	return true
}

// applied reports whether a command with key is in history h.
func (run *replicaRun) applied(h dotmodel.History, key string) bool {
	for _, w := range run.model.Writes(h) {
		if run.keys[w.Dot] == key {
			return true
		}
	}
	return false
}

// read returns the model's record at replica i.
func (run *replicaRun) read(i int) (card, bool) {
	vals, found := run.model.Read(run.seen[i].Join())
	var c card
	for k := range cardFields {
		*c.field(k) = vals[k]
	}
	return c, found[0]
}

// written records an accepted write of v made at replica i after reading
// history read, with the stamp of the record it returned.
func (run *replicaRun) written(i int, what string, err error, rec replica.Record[card], read dotmodel.History, v card, key string) {
	if err != nil {
		run.fatalf("%s at %v: %v", what, run.ids[i], err)
	}
	seen, dot := run.seen[i].Update(read, struct{}{}, run.ids[i])
	if len(rec.Branches) != 1 || rec.Branches[0].Stamp.Dot != dot {
		run.fatalf("%s at %v returned %d branches, want the write %v alone", what, run.ids[i], len(rec.Branches), dot)
	}
	run.model.Write(read, dot, rec.Branches[0].Stamp, v.values())
	run.keys[dot] = key
	run.seen[i] = seen
	run.writes++
	run.logf("%v %s at %v: %+v -> %v", run.ids[i], what, rec.Branches[0].Stamp.Time, v.values(), dot)
}

// check compares replica i's record with the model's.
func (run *replicaRun) check(i int) {
	rec, err := run.rs[i].Get(run.ctx, cardKey)
	if len(run.seen[i].Siblings) == 0 {
		if !errors.Is(err, replica.ErrNotFound) {
			run.fatalf("%v holds a record the model does not: %v", run.ids[i], err)
		}
		return
	}
	if err != nil {
		run.fatalf("get at %v: %v", run.ids[i], err)
	}
	h := run.seen[i].Join()
	state, err := run.rs[i].State(run.ctx, cardKey)
	if err != nil {
		run.fatalf("state at %v: %v", run.ids[i], err)
	}
	res, err := run.rs[i].Resolver().Resolve(state)
	if err != nil {
		run.fatalf("resolve at %v: %v", run.ids[i], err)
	}
	for k, name := range cardFields {
		w, _ := run.model.Winner(h, k)
		if got := *rec.Value.field(k); got != w.Values[k] || res.FieldStamp(k) != w.Stamp {
			run.fatalf("at %v: field %s is %q (stamp %v), the model says %q from the write %v",
				run.ids[i], name, got, res.FieldStamp(k), w.Values[k], w.Stamp)
		}
	}
	for _, w := range run.model.Writes(h) {
		if key := run.keys[w.Dot]; key != "" && !rec.Value.Keys.Has(key) {
			run.fatalf("at %v: command key %s of %v lost", run.ids[i], key, w.Dot)
		}
	}
}
