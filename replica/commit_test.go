package replica_test

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/harborpoint/concord/hold"
	"github.com/harborpoint/concord/policy"
	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

// racingStore is a Store whose next `races` compare-and-sets each lose to
// a concurrent writer: just before each, the key's current value is stored
// again (same bytes, new revision), as another process sharing the store
// would.
type racingStore struct {
	*replica.MemoryStore
	races atomic.Int32
	lost  atomic.Int32
}

func (s *racingStore) CompareAndSet(ctx context.Context, key string, value []byte, rev uint64) (uint64, error) {
	if s.races.Add(-1) >= 0 {
		cur, curRev, err := s.MemoryStore.Get(ctx, key)
		if err != nil {
			return 0, err
		}
		if _, err := s.MemoryStore.CompareAndSet(ctx, key, cur, curRev); err != nil {
			return 0, err
		}
		s.lost.Add(1)
	}
	return s.MemoryStore.CompareAndSet(ctx, key, value, rev)
}

// logLines counts the log records whose message is msg.
type logLines struct {
	mu sync.Mutex
	n  map[string]int
}

func (l *logLines) Enabled(context.Context, slog.Level) bool { return true }
func (l *logLines) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.n == nil {
		l.n = map[string]int{}
	}
	l.n[r.Message]++
	return nil
}
func (l *logLines) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logLines) WithGroup(string) slog.Handler      { return l }
func (l *logLines) count(msg string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.n[msg]
}

// concurrentVersions has Lisbon create H-1 and Baltimore copy it; then
// Lisbon extends it by a command and Baltimore, concurrently, updates it
// with update. It returns both replicas' exported states of H-1.
func concurrentVersions(t *testing.T, update func(*hold.Hold, replica.Write) error) (lisState, iadState []byte) {
	t.Helper()
	p := newPair(t)
	_, err := p.lis.Create(bg, "H-1", hold.New("H-1", "C1", "desk", minutes(10)))
	require.NoError(t, err)
	p.sync(t)
	v1, err := p.iad.Get(bg, "H-1")
	require.NoError(t, err)
	_, _, err = p.lis.Command(bg, "H-1", "extend", func(h *hold.Hold, _ replica.Write) error { return h.Extend(minutes(15)) })
	require.NoError(t, err)
	_, err = p.iad.Update(bg, "H-1", v1.Token, update)
	require.NoError(t, err)
	lisState, err = p.lis.Export(bg, "H-1")
	require.NoError(t, err)
	iadState, err = p.iad.Export(bg, "H-1")
	require.NoError(t, err)
	return lisState, iadState
}

// TestEventsOncePerStoredChange: two Replica values over one store (two
// processes of one region) apply the same concurrent version while their
// compare-and-sets keep losing; the merge is stored once and counted once —
// one auto_resolved event, one policy_fired event and one log line per
// decision — however many attempts it took.
func TestEventsOncePerStoredChange(t *testing.T) {
	lisState, iadState := concurrentVersions(t, func(h *hold.Hold, _ replica.Write) error { return h.Confirm("B-1", minutes(1)) })

	// Two processes of a third region share one store that races them.
	store := &racingStore{MemoryStore: replica.NewMemoryStore()}
	var counters resolve.Counters
	lines := &logLines{}
	res := hold.Resolver(resolve.Options{})
	proc := func() *replica.Replica[hold.Hold] {
		r, err := replica.New(version.MustID("bristol"), store, res, replica.Options[hold.Hold]{
			CommandKeys: hold.CommandKeys, Observer: &counters, Logger: slog.New(lines),
		})
		require.NoError(t, err)
		return r
	}
	a, b := proc(), proc()
	_, err := a.Apply(bg, "H-1", lisState)
	require.NoError(t, err)
	store.races.Store(3)
	class, err := a.Apply(bg, "H-1", iadState)
	require.NoError(t, err)
	require.Equal(t, resolve.ConcurrentConflict, class)
	require.EqualValues(t, 3, store.lost.Load(), "three attempts lost the compare-and-set")
	store.races.Store(2)
	class, err = b.Apply(bg, "H-1", iadState)
	require.NoError(t, err)
	require.Equal(t, resolve.StaleWrite, class, "the other process finds the merge stored")

	rec, err := b.Get(bg, "H-1")
	require.NoError(t, err)
	require.Len(t, rec.Branches, 2)
	require.NotEmpty(t, rec.Decisions)
	require.EqualValues(t, 1, counters.Total(resolve.AutoResolved), "one stored merge, counted once")
	require.EqualValues(t, len(rec.Decisions), counters.Total(resolve.PolicyFired), "each decision counted once")
	require.EqualValues(t, 1, counters.Total(resolve.StaleDropped))
	require.Equal(t, len(rec.Decisions), lines.count("concord decision"), "each decision logged once")
}

// TestConflictEventsOnceUnderContention: a refused merge stored after lost
// compare-and-sets is one conflict and one entry in the review queue.
func TestConflictEventsOnceUnderContention(t *testing.T) {
	lisState, iadState := concurrentVersions(t, func(h *hold.Hold, _ replica.Write) error { return h.Release() })

	store := &racingStore{MemoryStore: replica.NewMemoryStore()}
	var counters resolve.Counters
	r, err := replica.New(version.MustID("bristol"), store, hold.Resolver(resolve.Options{}), replica.Options[hold.Hold]{
		CommandKeys: hold.CommandKeys, Observer: &counters,
	})
	require.NoError(t, err)
	_, err = r.Apply(bg, "H-1", lisState)
	require.NoError(t, err)
	store.races.Store(2)
	_, err = r.Apply(bg, "H-1", iadState)
	require.NoError(t, err)
	require.EqualValues(t, 1, counters.Total(resolve.Conflict))
	require.EqualValues(t, 1, counters.Total(resolve.SentToReview))
	require.Len(t, r.Conflicts(), 1)
}

// TestFnRunsOncePerAttempt: Update's fn runs again when the compare-and-set
// loses, on the state read again, and the write is stored once.
func TestFnRunsOncePerAttempt(t *testing.T) {
	store := &racingStore{MemoryStore: replica.NewMemoryStore()}
	var counters resolve.Counters
	r, err := replica.New(version.MustID("lisbon"), store, hold.Resolver(resolve.Options{}), replica.Options[hold.Hold]{
		CommandKeys: hold.CommandKeys, Observer: &counters,
	})
	require.NoError(t, err)
	created, err := r.Create(bg, "H-1", hold.New("H-1", "C1", "desk", minutes(10)))
	require.NoError(t, err)
	store.races.Store(1)
	calls := 0
	rec, err := r.Update(bg, "H-1", created.Token, func(h *hold.Hold, _ replica.Write) error {
		calls++
		return h.Confirm("B-1", minutes(1))
	})
	require.NoError(t, err)
	require.Equal(t, 2, calls, "once per attempt")
	require.Len(t, rec.Branches, 1)
	require.EqualValues(t, 2, rec.Context.Get(version.MustID("lisbon")), "one write stored")
	require.EqualValues(t, 0, counters.Total(resolve.Rejected))
}

// lossyNote is a record whose codec does not round-trip it: the note is
// stored in upper case and the draft is not stored at all.
type lossyNote struct {
	Note  string
	Draft string
	Keys  policy.Applied
}

type lossyCodec struct{}

func (lossyCodec) Append(dst []byte, v lossyNote) ([]byte, error) {
	dst = append(dst, strings.ToUpper(v.Note)...)
	for k, at := range v.Keys.All() {
		dst = append(append(dst, 0), k...)
		dst = strconv.AppendInt(append(dst, 1), at.UnixNano(), 10)
	}
	return dst, nil
}

func (lossyCodec) Decode(b []byte) (lossyNote, error) {
	parts := strings.Split(string(b), "\x00")
	var keys []policy.AppliedKey
	for _, p := range parts[1:] {
		k, at, _ := strings.Cut(p, "\x01")
		ns, err := strconv.ParseInt(at, 10, 64)
		if err != nil {
			return lossyNote{}, err
		}
		keys = append(keys, policy.AppliedKey{Key: k, At: time.Unix(0, ns)})
	}
	return lossyNote{Note: parts[0], Keys: policy.NewApplied(keys...)}, nil
}

// TestWritesReturnTheRecordAsStored: every write returns what a read of the
// key returns afterwards, even for a value its codec changes.
func TestWritesReturnTheRecordAsStored(t *testing.T) {
	res, err := resolve.New("lossy", []resolve.Field[lossyNote]{
		resolve.Bind("note", func(n *lossyNote) *string { return &n.Note }, policy.LWW[string]()),
		resolve.Bind("draft", func(n *lossyNote) *string { return &n.Draft }, policy.LWW[string]()),
		resolve.Bind("keys", func(n *lossyNote) *policy.Applied { return &n.Keys }, policy.AppliedKeys(policy.Horizon{})),
	}, nil, resolve.Options{})
	require.NoError(t, err)
	r, err := replica.New(version.MustID("lisbon"), replica.NewMemoryStore(), res, replica.Options[lossyNote]{
		Codec: lossyCodec{}, CommandKeys: func(n *lossyNote) *policy.Applied { return &n.Keys },
	})
	require.NoError(t, err)
	same := func(what string, got replica.Record[lossyNote], err error) replica.Record[lossyNote] {
		t.Helper()
		require.NoError(t, err, what)
		read, err := r.Get(bg, "k")
		require.NoError(t, err)
		require.Equal(t, read, got, "%s returned what was not stored", what)
		require.Empty(t, got.Value.Draft, what)
		return got
	}
	rec, err := r.Create(bg, "k", lossyNote{Note: "a", Draft: "x"})
	rec = same("Create", rec, err)
	rec, err = r.Update(bg, "k", rec.Token, func(n *lossyNote, _ replica.Write) error {
		n.Note, n.Draft = "b", "y"
		return nil
	})
	rec = same("Update", rec, err)
	require.Equal(t, "B", rec.Value.Note)
	rec, err = r.Blind(bg, "k", "note", lossyNote{Note: "c"})
	rec = same("Blind", rec, err)
	require.Equal(t, "C", rec.Value.Note)
	rec, _, err = r.Command(bg, "k", "cmd-1", func(n *lossyNote, _ replica.Write) error {
		n.Note, n.Draft = "d", "z"
		return nil
	})
	rec = same("Command", rec, err)
	require.Equal(t, "D", rec.Value.Note)
	rec, err = r.ResolveConflict(bg, "k", rec.Token, lossyNote{Note: "e", Draft: "w"})
	rec = same("ResolveConflict", rec, err)
	require.Equal(t, "E", rec.Value.Note)
}

// countingMax is Max that counts its merges.
type countingMax struct {
	policy.Policy[int]
	n *atomic.Int64
}

func (p countingMax) MergeInto(out *policy.Branch[int], d *policy.Decision, a, b *policy.Branch[int]) error {
	p.n.Add(1)
	return p.Policy.MergeInto(out, d, a, b)
}

type counted struct {
	N    int
	Keys policy.Applied
}

// TestNothingResolvedTwice: a replicated version that meets a concurrent
// one is merged once — the merge that is stored also feeds the events and
// the review queue — and a version already held is not merged at all.
func TestNothingResolvedTwice(t *testing.T) {
	var merges atomic.Int64
	res, err := resolve.New("counted", []resolve.Field[counted]{
		resolve.Bind("n", func(c *counted) *int { return &c.N }, policy.Policy[int](countingMax{policy.Max[int](), &merges})),
		resolve.Bind("keys", func(c *counted) *policy.Applied { return &c.Keys }, policy.AppliedKeys(policy.Horizon{})),
	}, nil, resolve.Options{})
	require.NoError(t, err)
	var counters resolve.Counters
	mk := func(name string) *replica.Replica[counted] {
		r, err := replica.New(version.MustID(name), replica.NewMemoryStore(), res, replica.Options[counted]{
			Observer: &counters, CommandKeys: func(c *counted) *policy.Applied { return &c.Keys },
		})
		require.NoError(t, err)
		return r
	}
	a, b := mk("a"), mk("b")
	_, err = a.Create(bg, "k", counted{N: 1})
	require.NoError(t, err)
	_, err = b.Create(bg, "k", counted{N: 2})
	require.NoError(t, err)
	data, err := b.Export(bg, "k")
	require.NoError(t, err)
	_, err = a.Apply(bg, "k", data)
	require.NoError(t, err)
	require.EqualValues(t, 1, merges.Load(), "one merge for the stored state, its events and its review")
	require.EqualValues(t, 1, counters.Total(resolve.AutoResolved))
	_, err = a.Apply(bg, "k", data)
	require.NoError(t, err)
	require.EqualValues(t, 1, merges.Load(), "a duplicate is not merged again")
	_, _, err = a.Command(bg, "k", "c1", func(c *counted, _ replica.Write) error { c.N = 5; return nil })
	require.NoError(t, err)
	require.EqualValues(t, 2, merges.Load(), "a command merges the siblings it reads, once")
}

// TestDriftIsAppliedAndReported: a replicated write stamped ten minutes
// ahead of the local clock is applied, and reported once as a Drift event
// naming its origin and offset.
func TestDriftIsAppliedAndReported(t *testing.T) {
	now := day
	var counters resolve.Counters
	var drifts []resolve.Event
	obs := resolve.ObserverFunc(func(e resolve.Event) {
		counters.Observe(e)
		if e.Kind == resolve.Drift {
			drifts = append(drifts, e)
		}
	})
	res := hold.Resolver(resolve.Options{})
	mk := func(name string, offset time.Duration) *replica.Replica[hold.Hold] {
		clock := version.NewHLC(version.HLCOptions{Now: func() time.Time { return now.Add(offset) }}, version.Timestamp{})
		r, err := replica.New(version.MustID(name), replica.NewMemoryStore(), res, replica.Options[hold.Hold]{
			Clock: clock, CommandKeys: hold.CommandKeys, Observer: obs,
		})
		require.NoError(t, err)
		return r
	}
	lis, fast := mk("lisbon", 0), mk("bristol", 10*time.Minute)
	_, err := fast.Create(bg, "H-1", hold.New("H-1", "C1", "desk", minutes(10)))
	require.NoError(t, err)
	data, err := fast.Export(bg, "H-1")
	require.NoError(t, err)
	for range 2 {
		_, err = lis.Apply(bg, "H-1", data)
		require.NoError(t, err)
	}
	rec, err := lis.Get(bg, "H-1")
	require.NoError(t, err)
	require.Equal(t, "H-1", rec.Value.ID, "the write is applied")
	require.Len(t, drifts, 1, "reported once")
	require.Equal(t, version.MustID("bristol"), drifts[0].Origin)
	require.Equal(t, 10*time.Minute, drifts[0].Offset)
	require.Equal(t, hold.Entity, drifts[0].Entity)

	// A local write made now is stamped before the drifted one.
	_, err = lis.Blind(bg, "H-1", "note", hold.NoteEdit("local"))
	require.NoError(t, err)
	st, err := lis.State(bg, "H-1")
	require.NoError(t, err)
	require.Less(t, st.Values()[0].Stamp.Time.Wall, now.Add(10*time.Minute).UnixNano())
}
