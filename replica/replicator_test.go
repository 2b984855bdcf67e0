package replica_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/harborpoint/concord/replica"
)

// TestBackoff: no failure waits the interval; each failure in a row doubles
// it up to the maximum, and the jitter keeps the wait in the upper half.
func TestBackoff(t *testing.T) {
	every, max := time.Second, 30*time.Second
	require.Equal(t, every, replica.Backoff(every, max, 0))
	for failures, full := range map[int]time.Duration{1: 2 * time.Second, 2: 4 * time.Second, 4: 16 * time.Second, 5: max, 60: max} {
		for range 50 {
			d := replica.Backoff(every, max, failures)
			require.GreaterOrEqual(t, d, full/2, "failures %d", failures)
			require.LessOrEqual(t, d, full, "failures %d", failures)
		}
	}
}

// TestReplicatorStatus: SyncNow runs a session with each peer; a failing
// peer does not stop the others, and each peer's status says what happened.
func TestReplicatorStatus(t *testing.T) {
	c := newCluster(t, "lisbon", "baltimore", "tokyo")
	createN(t, c.rs[1], 10)
	createN(t, c.rs[0], 3)
	down := &failing{Peer: replica.Local(c.rs[2]), after: 0}
	var seen []replica.PeerStatus
	now := day
	p := replica.NewReplicator(c.rs[0], map[string]replica.Peer{"baltimore": replica.Local(c.rs[1]), "tokyo": down},
		replica.ReplicatorOptions{Now: func() time.Time { return now }, OnSession: func(s replica.PeerStatus) { seen = append(seen, s) }})
	err := p.SyncNow(bg)
	require.ErrorIs(t, err, errDown)
	require.ErrorContains(t, err, "peer tokyo")
	st := p.Status()
	require.Len(t, st, 2)
	bal, tok := st[0], st[1]
	require.Equal(t, "baltimore", bal.Peer)
	require.Equal(t, day, bal.LastSuccess)
	require.Equal(t, uint64(1), bal.Sessions)
	require.Equal(t, uint64(10), bal.Received, "H-00000..2 exist on both sides at different versions, so they go both ways")
	require.Equal(t, 10, bal.LastReceived)
	require.Equal(t, uint64(3), bal.Sent)
	require.Zero(t, bal.Failures)
	require.Equal(t, "tokyo", tok.Peer)
	require.True(t, tok.LastSuccess.IsZero())
	require.Equal(t, 1, tok.Failures)
	require.Contains(t, tok.LastError, "peer down")
	require.Len(t, seen, 2)

	now = now.Add(time.Minute)
	down.after = 1 << 30 // tokyo comes back
	require.NoError(t, p.SyncNow(bg))
	tok = p.Status()[1]
	require.Zero(t, tok.Failures)
	require.Empty(t, tok.LastError)
	require.Equal(t, now, tok.LastSuccess)
	require.Equal(t, uint64(1), tok.Failed)
}

// TestReplicatorRun: Run keeps running sessions until its context ends,
// and then returns the context's error.
func TestReplicatorRun(t *testing.T) {
	c := newCluster(t, "lisbon", "baltimore")
	createN(t, c.rs[1], 5)
	ctx, cancel := context.WithCancel(bg)
	sessions := make(chan replica.PeerStatus, 16)
	p := replica.NewReplicator(c.rs[0], map[string]replica.Peer{"baltimore": replica.Local(c.rs[1])},
		replica.ReplicatorOptions{Every: time.Millisecond, OnSession: func(s replica.PeerStatus) {
			select {
			case sessions <- s:
			default:
			}
		}})
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	first := <-sessions
	require.Equal(t, uint64(5), first.Received)
	<-sessions // a second session: the loop goes on
	cancel()
	require.True(t, errors.Is(<-done, context.Canceled))
	c.checkConverged(t)
}
