package replica_test

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/harborpoint/concord/hold"
	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

// damage flips one bit in the middle of key's stored value, as a failing
// disk would, and returns the value as it was.
func damage(t *testing.T, st *replica.MemoryStore, key string) []byte {
	t.Helper()
	data, rev, err := st.Get(bg, key)
	require.NoError(t, err)
	orig := bytes.Clone(data)
	data[len(data)/2] ^= 0x04
	_, err = st.CompareAndSet(bg, key, data, rev)
	require.NoError(t, err)
	return orig
}

// TestCorruptStoredRecordIsQuarantined: a stored value damaged on disk is
// quarantined at its first read: reads and writes of it fail with
// ErrQuarantined (and ErrCorrupt), nothing overwrites it, it is reported
// once (event, log line with its key) and listed; every other record goes
// on replicating both ways, and anti-entropy names the skipped record. When
// an operator restores the value, the record leaves quarantine.
func TestCorruptStoredRecordIsQuarantined(t *testing.T) {
	var logs bytes.Buffer
	counters := &resolve.Counters{}
	res := hold.Resolver(resolve.Options{})
	var stores []*replica.MemoryStore
	var rs []*replica.Replica[hold.Hold]
	for _, n := range []string{"lisbon", "baltimore"} {
		st := replica.NewMemoryStore()
		r, err := replica.New(version.MustID(n), st, res, replica.Options[hold.Hold]{
			CommandKeys: hold.CommandKeys, Observer: counters, Logger: slog.New(slog.NewTextHandler(&logs, nil)),
		})
		require.NoError(t, err)
		stores, rs = append(stores, st), append(rs, r)
	}
	lis, bal := rs[0], rs[1]
	for _, k := range []string{"H-1", "H-2"} {
		_, err := lis.Create(bg, k, hold.New(k, "C1", "desk", minutes(10)))
		require.NoError(t, err)
	}
	require.NoError(t, replica.AntiEntropy(bg, lis, bal))
	orig := damage(t, stores[0], "H-1")
	damaged, rev, _ := stores[0].Get(bg, "H-1")

	for range 3 {
		_, err := lis.Get(bg, "H-1")
		require.ErrorIs(t, err, replica.ErrQuarantined)
		require.ErrorIs(t, err, replica.ErrCorrupt)
	}
	_, err := lis.Blind(bg, "H-1", "note", hold.NoteEdit("x"))
	require.ErrorIs(t, err, replica.ErrQuarantined)
	_, err = lis.Apply(bg, "H-1", export(t, bal, "H-1"))
	require.ErrorIs(t, err, replica.ErrQuarantined)
	after, rev2, _ := stores[0].Get(bg, "H-1")
	require.Equal(t, damaged, after, "never overwritten")
	require.Equal(t, rev, rev2)
	require.EqualValues(t, 1, counters.Total(resolve.Corrupt), "reported once")
	require.EqualValues(t, 1, counters.Total(resolve.Quarantined))
	q := lis.Quarantined()
	require.Len(t, q, 1)
	require.Equal(t, "H-1", q[0].Key)
	require.Equal(t, rev, q[0].Revision)
	require.ErrorIs(t, q[0].Err, replica.ErrCorrupt)
	require.Contains(t, logs.String(), "key=H-1")
	require.Contains(t, logs.String(), "level=ERROR")

	// Everything else replicates; the skipped record is named.
	_, err = lis.Create(bg, "H-3", hold.New("H-3", "C3", "desk", minutes(10)))
	require.NoError(t, err)
	_, err = bal.Blind(bg, "H-2", "note", hold.NoteEdit("from baltimore"))
	require.NoError(t, err)
	_, err = bal.Blind(bg, "H-1", "note", hold.NoteEdit("H-1 from baltimore"))
	require.NoError(t, err)
	rep, err := lis.Sync(bg, replica.Local(bal))
	require.NoError(t, err)
	require.NotZero(t, rep.Skipped)
	for _, k := range rep.Errors {
		require.Equal(t, "H-1", k.Key)
		require.ErrorIs(t, &k, replica.ErrQuarantined)
	}
	err = replica.AntiEntropy(bg, bal, lis)
	require.ErrorIs(t, err, replica.ErrQuarantined, "the other way too")
	_, err = bal.Get(bg, "H-3")
	require.NoError(t, err)
	got, err := lis.Get(bg, "H-2")
	require.NoError(t, err)
	require.Equal(t, "from baltimore", got.Value.Note)
	err = lis.Rescan(bg)
	var ke *replica.KeyError
	require.ErrorAs(t, err, &ke)
	require.Equal(t, "H-1", ke.Key)
	require.ErrorIs(t, err, replica.ErrQuarantined)

	// The operator restores the value: the record reads again.
	_, err = stores[0].CompareAndSet(bg, "H-1", orig, rev)
	require.NoError(t, err)
	_, err = lis.Get(bg, "H-1")
	require.NoError(t, err)
	require.Empty(t, lis.Quarantined())
	require.NoError(t, replica.AntiEntropy(bg, lis, bal))
}

// TestOneBadDeltaDoesNotStopTheOthers: ApplyDeltas applies every delta it
// can — a damaged one, one over the record limit and one claiming a write
// the receiver never issued are skipped and reported, in order.
func TestOneBadDeltaDoesNotStopTheOthers(t *testing.T) {
	counters, rs, _ := limited(t, 8<<10, 0, "lisbon", "baltimore")
	lis, bal := rs[0], rs[1]
	_, huge, _ := limited(t, 0, 0, "tokyo")
	twin, err := replica.New(bal.ID(), replica.NewMemoryStore(), bal.Resolver(), replica.Options[hold.Hold]{CommandKeys: hold.CommandKeys})
	require.NoError(t, err)
	var deltas []replica.Delta
	add := func(r *replica.Replica[hold.Hold], key, note string, mutate func([]byte)) {
		h := hold.New(key, "C1", "desk", minutes(10))
		h.Note = note
		_, err := r.Create(bg, key, h)
		require.NoError(t, err)
		data := export(t, r, key)
		if mutate != nil {
			mutate(data)
		}
		deltas = append(deltas, replica.Delta{Key: key, Data: data})
	}
	add(lis, "a", "", nil)
	add(lis, "b", "", func(d []byte) { d[len(d)/2] ^= 1 })
	add(huge[0], "c", strings.Repeat("n", 16<<10), nil)
	add(twin, "d", "", nil)
	add(lis, "e", "", nil)

	applied, errs := bal.ApplyDeltas(bg, deltas)
	require.Equal(t, 2, applied)
	var keys []string
	for _, k := range errs {
		keys = append(keys, k.Key)
	}
	require.Equal(t, []string{"b", "c", "d"}, keys)
	require.ErrorIs(t, errs[0].Err, replica.ErrCorrupt)
	require.ErrorIs(t, errs[1].Err, replica.ErrTooLarge)
	require.ErrorIs(t, errs[2].Err, replica.ErrUnissuedDot)
	for _, k := range []string{"a", "e"} {
		_, err := bal.Get(bg, k)
		require.NoError(t, err, k)
	}
	require.EqualValues(t, 1, counters.Total(resolve.Corrupt))
	require.EqualValues(t, 1, counters.Total(resolve.TooLarge))
	require.EqualValues(t, 1, counters.Total(resolve.UnissuedDot))
	require.Zero(t, counters.Total(resolve.Quarantined), "bad input quarantines nothing")
}

// TestLoweredLimitQuarantinesLargerRecords: a replica restarted with a
// smaller record limit cannot read a record stored under the larger one:
// it is quarantined (ErrTooLarge), the others are read; raising the limit
// again makes it readable.
func TestLoweredLimitQuarantinesLargerRecords(t *testing.T) {
	st := replica.NewMemoryStore()
	res := hold.Resolver(resolve.Options{})
	open := func(limit int) *replica.Replica[hold.Hold] {
		r, err := replica.New(version.MustID("lisbon"), st, res, replica.Options[hold.Hold]{CommandKeys: hold.CommandKeys, MaxRecordBytes: limit})
		require.NoError(t, err)
		return r
	}
	r := open(64 << 10)
	big := hold.New("big", "C1", "desk", minutes(10))
	big.Note = strings.Repeat("n", 20<<10)
	_, err := r.Create(bg, "big", big)
	require.NoError(t, err)
	_, err = r.Create(bg, "small", hold.New("small", "C1", "desk", minutes(10)))
	require.NoError(t, err)

	r = open(8 << 10)
	err = r.Rescan(bg)
	var ke *replica.KeyError
	require.ErrorAs(t, err, &ke)
	require.Equal(t, "big", ke.Key)
	require.ErrorIs(t, err, replica.ErrTooLarge)
	require.ErrorIs(t, err, replica.ErrQuarantined)
	_, err = r.Get(bg, "small")
	require.NoError(t, err)
	require.Len(t, r.Quarantined(), 1)

	r = open(64 << 10)
	require.NoError(t, r.Rescan(bg))
	_, err = r.Get(bg, "big")
	require.NoError(t, err)
}
