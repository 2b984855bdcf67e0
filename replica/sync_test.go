package replica_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/harborpoint/concord/hold"
	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/version"
)

// createN creates n holds H-00000… in r.
func createN(t testing.TB, r *replica.Replica[hold.Hold], n int) {
	t.Helper()
	for i := range n {
		k := fmt.Sprintf("H-%05d", i)
		if _, err := r.Create(bg, k, hold.New(k, "C1", "desk", minutes(10))); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSyncAfterRestart: a replica restarted over a store that kept its
// records builds its index from the store on its first session, whether it
// starts the session or answers it.
func TestSyncAfterRestart(t *testing.T) {
	c := newCluster(t, "lisbon", "baltimore", "tokyo")
	createN(t, c.rs[0], 300)
	c.restart(t, 0)
	rep, err := c.rs[0].Sync(bg, replica.Local(c.rs[1]))
	require.NoError(t, err)
	require.Equal(t, 300, rep.Sent)
	c.restart(t, 0)
	rep, err = c.rs[2].Sync(bg, replica.Local(c.rs[0]))
	require.NoError(t, err)
	require.Equal(t, 300, rep.Received)
	c.heal(t)
	c.checkConverged(t)
}

// TestSyncSkipsUnreadable: a record whose stored bytes are damaged is
// skipped and reported by Rescan and by Sync — in both directions — and
// every other record still replicates.
func TestSyncSkipsUnreadable(t *testing.T) {
	c := newCluster(t, "lisbon", "baltimore")
	createN(t, c.rs[0], 20)
	data, rev, err := c.stores[0].Get(bg, "H-00007")
	require.NoError(t, err)
	_, err = c.stores[0].CompareAndSet(bg, "H-00007", data[:len(data)/2], rev)
	require.NoError(t, err)
	c.restart(t, 0)

	err = c.rs[0].Rescan(bg)
	var ke *replica.KeyError
	require.ErrorAs(t, err, &ke)
	require.Equal(t, "H-00007", ke.Key)
	require.ErrorIs(t, err, replica.ErrMalformed)

	rep, err := c.rs[0].Sync(bg, replica.Local(c.rs[1]))
	require.NoError(t, err)
	require.Equal(t, 19, rep.Sent)

	// The other way: Baltimore answers, and fetches what Lisbon can read.
	c.restart(t, 0)
	_, err = c.rs[1].Create(bg, "H-00007", hold.New("H-00007", "C9", "iad", minutes(10)))
	require.NoError(t, err)
	rep, err = c.rs[1].Sync(bg, replica.Local(c.rs[0]))
	require.NoError(t, err)
	require.Equal(t, 1, rep.Skipped, "Lisbon cannot apply onto its damaged record")
	require.Equal(t, "H-00007", rep.Errors[0].Key)
	require.ErrorIs(t, &rep.Errors[0], replica.ErrMalformed)
	err = replica.AntiEntropy(bg, c.rs[0], c.rs[1])
	require.ErrorIs(t, err, replica.ErrMalformed)
	require.Contains(t, err.Error(), "skipped 1 records")
}

// TestIndexFollowsWrites: the index a replica keeps up to date through
// concurrent writes, local and replicated (and a Rescan and the first
// session, which builds the index, racing them: until the build starts,
// writes are not indexed), ends equal to one
// built from scratch over the same records: a session between the two is
// one round trip that exchanges nothing.
func TestIndexFollowsWrites(t *testing.T) {
	c := newCluster(t, "lisbon", "porto")
	r := c.rs[0]
	createN(t, r, 50)
	var exports [][2]string // states of other keys written in Porto, applied in Lisbon below
	for i := range 40 {
		k := fmt.Sprintf("P-%05d", i)
		_, err := c.rs[1].Create(bg, k, hold.New(k, "C1", "opo", minutes(10)))
		require.NoError(t, err)
		data, err := c.rs[1].Export(bg, k)
		require.NoError(t, err)
		exports = append(exports, [2]string{k, string(data)})
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		for _, e := range exports {
			if _, err := r.Apply(bg, e[0], []byte(e[1])); err != nil {
				t.Error(err)
				return
			}
		}
	})
	for w := range 4 {
		wg.Go(func() {
			for i := range 60 {
				k := fmt.Sprintf("H-%05d", (i*7+w)%50)
				_, err := r.Blind(bg, k, "note", hold.NoteEdit(fmt.Sprint(w, i)))
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Go(func() {
		if err := r.Rescan(bg); err != nil {
			t.Error(err)
		}
	})
	empty, err := replica.New(version.MustID("faro"), replica.NewMemoryStore(), c.res, replica.Options[hold.Hold]{CommandKeys: hold.CommandKeys})
	require.NoError(t, err)
	wg.Go(func() { // the first session builds Lisbon's index while the writes go on
		if _, err := r.Sync(bg, replica.Local(empty)); err != nil {
			t.Error(err)
		}
	})
	wg.Wait()

	copyStore := replica.NewMemoryStore()
	for _, k := range storeKeys(t, c.stores[0]) {
		data, _, err := c.stores[0].Get(bg, k)
		require.NoError(t, err)
		_, err = copyStore.CompareAndSet(bg, k, data, 0)
		require.NoError(t, err)
	}
	fresh, err := replica.New(c.ids[0], copyStore, c.res, replica.Options[hold.Hold]{CommandKeys: hold.CommandKeys})
	require.NoError(t, err)
	rep, err := r.Sync(bg, replica.Local(fresh))
	require.NoError(t, err)
	require.Equal(t, replica.SyncReport{Rounds: 1, Bytes: rep.Bytes}, rep)
}

// TestKeyTooLong: a key the reconciliation cannot name is refused before
// anything is stored.
func TestKeyTooLong(t *testing.T) {
	c := newCluster(t, "lisbon")
	long := strings.Repeat("k", replica.MaxKeyLen+1)
	_, err := c.rs[0].Create(bg, long, hold.New(long, "C", "", minutes(1)))
	require.ErrorIs(t, err, replica.ErrKeyTooLong)
	require.Empty(t, storeKeys(t, c.stores[0]))
	_, err = c.rs[0].Create(bg, long[1:], hold.New(long[1:], "C", "", minutes(1)))
	require.NoError(t, err)
}

// failing is a Peer whose transport fails after some calls.
type failing struct {
	replica.Peer
	calls, after int
}

var errDown = errors.New("peer down")

func (f *failing) Reconcile(ctx context.Context, msg []byte) ([]byte, error) {
	if f.calls++; f.calls > f.after {
		return nil, errDown
	}
	return f.Peer.Reconcile(ctx, msg)
}

// TestSyncStopsOnTransportError: a session whose peer fails returns the
// error; what it applied before stays, and the next session completes.
func TestSyncStopsOnTransportError(t *testing.T) {
	c := newCluster(t, "lisbon", "baltimore")
	createN(t, c.rs[1], 400)
	_, err := c.rs[0].Sync(bg, &failing{Peer: replica.Local(c.rs[1]), after: 2})
	require.ErrorIs(t, err, errDown)
	rep, err := c.rs[0].Sync(bg, replica.Local(c.rs[1]))
	require.NoError(t, err)
	require.Positive(t, rep.Received)
	c.heal(t)
	c.checkConverged(t)

	ctx, cancel := context.WithCancel(bg)
	cancel()
	_, err = c.rs[0].Sync(ctx, replica.Local(c.rs[1]))
	require.Error(t, err)
}
