package replica_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/harborpoint/concord/hold"
	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

// reapingPair is two replicas, each over its own store, that reap: each
// lists both as members.
func reapingPair(t *testing.T) (lis, iad *replica.Replica[hold.Hold]) {
	t.Helper()
	var opts replica.Options[hold.Hold]
	return reaper(t, lisbon, replica.NewMemoryStore(), resolve.DeleteConflicts, opts),
		reaper(t, baltimore, replica.NewMemoryStore(), resolve.DeleteConflicts, opts)
}

// deleteOne creates a hold on lis, replicates it to iad and deletes it on
// lis.
func deleteOne(t *testing.T, lis, iad *replica.Replica[hold.Hold], peer replica.Peer) {
	t.Helper()
	rec, err := lis.Create(bg, "H-1", hold.New("H-1", "C1", "", minutes(10)))
	require.NoError(t, err)
	_, err = lis.Sync(bg, peer)
	require.NoError(t, err)
	_, err = lis.Delete(bg, "H-1", rec.Token)
	require.NoError(t, err)
}

// TestSessionsCarryAcknowledgements: a session collects the peer's
// acknowledgements of the tombstones the replica that starts it waits to
// reap, so sessions both ways — no AntiEntropy, no Ack by hand — let both
// replicas reap.
func TestSessionsCarryAcknowledgements(t *testing.T) {
	lis, iad := reapingPair(t)
	deleteOne(t, lis, iad, replica.Local(iad))
	n, err := lis.Reap(bg)
	require.NoError(t, err)
	require.Zero(t, n, "baltimore has not acknowledged the delete")

	rep, err := lis.Sync(bg, replica.Local(iad))
	require.NoError(t, err)
	require.Equal(t, 1, rep.Acked)
	rep, err = iad.Sync(bg, replica.Local(lis))
	require.NoError(t, err)
	require.Equal(t, 1, rep.Acked)
	for _, r := range []*replica.Replica[hold.Hold]{lis, iad} {
		n, err := r.Reap(bg)
		require.NoError(t, err)
		require.Equal(t, 1, n, "%v reaps the tombstone", r.ID())
		require.Equal(t, []string{"H-1"}, r.Reaped())
	}
	// Nothing is left to acknowledge, and the replicas agree.
	rep, err = lis.Sync(bg, replica.Local(iad))
	require.NoError(t, err)
	require.Equal(t, replica.SyncReport{Rounds: 1, Bytes: rep.Bytes}, rep)
}

// lying is a Peer whose acknowledgements are rewritten by edit.
type lying struct {
	replica.Peer
	r    *replica.Replica[hold.Hold]
	edit func(keys []string, a *replica.Ack)
}

func (l lying) Acknowledge(ctx context.Context, keys []string) (replica.Ack, error) {
	a, err := l.r.Acknowledge(ctx, keys)
	l.edit(keys, &a)
	return a, err
}

// TestMalformedAcknowledgementsAreRefused: an answer that names no replica
// or this one, or acknowledges a key it was not asked about, fails the
// session with an *AckError and records nothing: the tombstone stays.
func TestMalformedAcknowledgementsAreRefused(t *testing.T) {
	edits := map[string]func(keys []string, a *replica.Ack){
		"no replica":      func(_ []string, a *replica.Ack) { a.Replica = version.ID{} },
		"this replica":    func(_ []string, a *replica.Ack) { a.Replica = version.MustID("lisbon") },
		"a key not asked": func(_ []string, a *replica.Ack) { a.Held["H-2"] = a.Held["H-1"] },
		"more keys than asked": func(_ []string, a *replica.Ack) {
			for i := range 3 {
				a.Held[fmt.Sprint("X-", i)] = version.Vector{}
			}
		},
	}
	for name, edit := range edits {
		t.Run(name, func(t *testing.T) {
			lis, iad := reapingPair(t)
			deleteOne(t, lis, iad, replica.Local(iad))
			_, err := lis.Sync(bg, lying{Peer: replica.Local(iad), r: iad, edit: edit})
			var ae *replica.AckError
			require.ErrorAs(t, err, &ae)
			require.ErrorIs(t, err, replica.ErrBadAck)
			n, err := lis.Reap(bg)
			require.NoError(t, err)
			require.Zero(t, n)
		})
	}
}

// TestAnAcknowledgerThatCannotVouchRecordsNothing: ErrNoAcks is not an
// error of the session; nothing is acknowledged.
func TestAnAcknowledgerThatCannotVouchRecordsNothing(t *testing.T) {
	lis, iad := reapingPair(t)
	deleteOne(t, lis, iad, replica.Local(iad))
	rep, err := lis.Sync(bg, noVouch{replica.Local(iad)})
	require.NoError(t, err)
	require.Zero(t, rep.Acked)
	n, err := lis.Reap(bg)
	require.NoError(t, err)
	require.Zero(t, n)
}

type noVouch struct{ replica.Peer }

func (noVouch) Acknowledge(context.Context, []string) (replica.Ack, error) {
	return replica.Ack{}, fmt.Errorf("test: %w", replica.ErrNoAcks)
}

// TestAcknowledgeBoundsItsRequest: more than MaxAckKeys keys are refused.
func TestAcknowledgeBoundsItsRequest(t *testing.T) {
	lis, _ := reapingPair(t)
	keys := make([]string, replica.MaxAckKeys+1)
	for i := range keys {
		keys[i] = fmt.Sprint("K-", i)
	}
	_, err := lis.Acknowledge(bg, keys)
	require.True(t, errors.Is(err, replica.ErrBadAck), "%v", err)
	a, err := lis.Acknowledge(bg, keys[:replica.MaxAckKeys])
	require.NoError(t, err)
	require.Empty(t, a.Held)
}
