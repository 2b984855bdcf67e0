package replica_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/harborpoint/concord/hold"
	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

// countingStore counts the reads of a store.
type countingStore struct {
	replica.Store
	gets atomic.Int64
}

func (s *countingStore) Get(ctx context.Context, key string) ([]byte, uint64, error) {
	s.gets.Add(1)
	return s.Store.Get(ctx, key)
}

// TestWritesPlanFromTheStateTheyStored: a replica's write of a key it wrote
// last plans from the state it stored, without reading the store — and when
// another Replica value on the store wrote meanwhile, what it remembers is
// stale, yet every write still answers as if it had read the store: the
// other's token is current (a remembered state would refuse it), its own
// old token is refused with the other's as current (a remembered state
// would accept it), and a blind write keeps the other's change.
func TestWritesPlanFromTheStateTheyStored(t *testing.T) {
	ctx := context.Background()
	store := &countingStore{Store: replica.NewMemoryStore()}
	newReplica := func(name string) *replica.Replica[hold.Hold] {
		r, err := replica.New(version.MustID(name), store, hold.Resolver(resolve.Options{}), replica.Options[hold.Hold]{})
		require.NoError(t, err)
		return r
	}
	a, b := newReplica("lisbon"), newReplica("baltimore")
	rec, err := a.Create(ctx, "H-1", hold.New("H-1", "C1", "", minutes(10)))
	require.NoError(t, err)
	note := func(s string) func(*hold.Hold, replica.Write) error {
		return func(h *hold.Hold, _ replica.Write) error { h.Note = s; return nil }
	}

	before := store.gets.Load()
	rec, err = a.Update(ctx, "H-1", rec.Token, note("a1"))
	require.NoError(t, err)
	require.Equal(t, before, store.gets.Load(), "an update of a key this replica wrote last read the store")

	old := rec.Token
	fromB, err := b.Update(ctx, "H-1", rec.Token, note("b1"))
	require.NoError(t, err)

	rec, err = a.Update(ctx, "H-1", fromB.Token, note("a2"))
	require.NoError(t, err, "the other writer's token is current")
	require.Equal(t, "a2", rec.Value.Note)

	fromB, err = b.Update(ctx, "H-1", rec.Token, func(h *hold.Hold, _ replica.Write) error { h.Touch("baltimore-desk"); return nil })
	require.NoError(t, err)
	_, err = a.Update(ctx, "H-1", rec.Token, note("lost"))
	var pf *replica.PreconditionFailed
	require.True(t, errors.As(err, &pf), "a token the other writer superseded: %v", err)
	require.Equal(t, fromB.Token, pf.Current)
	_, err = a.Update(ctx, "H-1", old, note("lost"))
	require.ErrorAs(t, err, &pf)

	rec, err = a.Blind(ctx, "H-1", "note", hold.NoteEdit("a3"))
	require.NoError(t, err)
	require.Equal(t, "a3", rec.Value.Note)
	require.True(t, rec.Value.Agencies.Has("baltimore-desk"), "a blind write lost the other writer's change: %+v", rec.Value)
	got, err := b.Get(ctx, "H-1")
	require.NoError(t, err)
	require.Equal(t, rec.Token, got.Token)
}
