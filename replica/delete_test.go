package replica_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/harborpoint/concord/hold"
	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

// deleteCluster is a cluster whose resolver settles a delete concurrent
// with an update by on, and whose replicas are all members of each other.
func deleteCluster(t *testing.T, on resolve.OnDelete, names ...string) *cluster {
	t.Helper()
	c := &cluster{counters: &resolve.Counters{}, res: hold.Resolver(resolve.Options{OnDelete: on})}
	for _, n := range names {
		c.ids = append(c.ids, version.MustID(n))
		c.stores = append(c.stores, replica.NewMemoryStore())
	}
	for i := range names {
		r, err := replica.New(c.ids[i], c.stores[i], c.res, replica.Options[hold.Hold]{
			CommandKeys: hold.CommandKeys, Observer: c.counters, Members: c.ids,
		})
		require.NoError(t, err)
		c.rs = append(c.rs, r)
	}
	return c
}

// TestDeleteIsAConditionalWrite: Delete has Update's preconditions, leaves
// a tombstone a read reports as a *Deleted with its token, is idempotent,
// and the token re-creates the record on purpose.
func TestDeleteIsAConditionalWrite(t *testing.T) {
	c := deleteCluster(t, resolve.DeleteConflicts, "lisbon")
	r := c.rs[0]
	_, err := r.Delete(bg, "H-1", "")
	require.ErrorIs(t, err, replica.ErrPreconditionRequired)
	rec, err := r.Create(bg, "H-1", hold.New("H-1", "C1", "desk", minutes(10)))
	require.NoError(t, err)
	_, err = r.Delete(bg, "H-2", rec.Token)
	require.ErrorIs(t, err, replica.ErrNotFound)
	moved, err := r.Update(bg, "H-1", rec.Token, func(h *hold.Hold, _ replica.Write) error { return h.Extend(minutes(20)) })
	require.NoError(t, err)
	_, err = r.Delete(bg, "H-1", rec.Token)
	require.ErrorIs(t, err, replica.ErrPreconditionFailed, "a stale delete is a stale write")

	gone, err := r.Delete(bg, "H-1", moved.Token)
	require.NoError(t, err)
	require.True(t, gone.Deleted)
	again, err := r.Delete(bg, "H-1", gone.Token)
	require.NoError(t, err, "a retried delete is no error")
	require.Equal(t, gone.Token, again.Token, "and writes nothing")

	_, err = r.Get(bg, "H-1")
	var del *replica.Deleted
	require.ErrorAs(t, err, &del)
	require.ErrorIs(t, err, replica.ErrNotFound)
	require.Equal(t, gone.Token, del.Token)
	_, err = r.Create(bg, "H-1", hold.New("H-1", "C9", "desk", minutes(10)))
	require.ErrorIs(t, err, replica.ErrDeleted, "Create does not silently overwrite a delete")
	_, err = r.Blind(bg, "H-1", "note", hold.NoteEdit("x"))
	require.ErrorIs(t, err, replica.ErrDeleted)

	back, err := r.Update(bg, "H-1", del.Token, func(h *hold.Hold, _ replica.Write) error {
		*h = hold.New("H-1", "C9", "desk", minutes(30))
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, "C9", back.Value.Cabin)
	got, err := r.Get(bg, "H-1")
	require.NoError(t, err)
	require.Equal(t, back.Token, got.Token)
}

// concurrentDeleteUpdate deletes H-1 in lisbon while baltimore extends it,
// heals, and returns the cluster.
func concurrentDeleteUpdate(t *testing.T, on resolve.OnDelete) *cluster {
	t.Helper()
	c := deleteCluster(t, on, "lisbon", "baltimore")
	rec, err := c.rs[0].Create(bg, "H-1", hold.New("H-1", "C1", "desk", minutes(10)))
	require.NoError(t, err)
	c.heal(t)
	_, err = c.rs[0].Delete(bg, "H-1", rec.Token)
	require.NoError(t, err)
	_, err = c.rs[1].Update(bg, "H-1", rec.Token, func(h *hold.Hold, _ replica.Write) error {
		return h.Confirm("B-7", minutes(5))
	})
	require.NoError(t, err)
	c.heal(t)
	return c
}

// TestDeleteConcurrentWithUpdate: the resolver's OnDelete decides, the same
// in every replica, and the choice is recorded.
func TestDeleteConcurrentWithUpdate(t *testing.T) {
	t.Run("conflict by default", func(t *testing.T) {
		c := concurrentDeleteUpdate(t, resolve.DeleteConflicts)
		for _, r := range c.rs {
			rec, err := r.Get(bg, "H-1")
			require.NoError(t, err)
			require.NotNil(t, rec.Conflict, "a confirmed hold never vanishes silently")
			require.Equal(t, resolve.DeleteRule, rec.Conflict.Rule)
			require.Len(t, rec.Conflict.Stamps, 2)
			require.Len(t, r.Conflicts(), 1, "the conflict waits in review")
		}
		require.NotZero(t, c.counters.Total(resolve.Conflict))
		// Settling it with the token that saw both: a delete.
		rec, _ := c.rs[0].Get(bg, "H-1")
		_, err := c.rs[0].Delete(bg, "H-1", rec.Token)
		require.NoError(t, err)
		require.Empty(t, c.rs[0].Conflicts())
	})
	t.Run("delete wins", func(t *testing.T) {
		c := concurrentDeleteUpdate(t, resolve.DeleteWins)
		for _, r := range c.rs {
			rec, err := r.Get(bg, "H-1")
			require.ErrorIs(t, err, replica.ErrDeleted)
			require.Len(t, rec.Decisions, 1)
			require.Equal(t, "delete-wins", rec.Decisions[0].Policy)
		}
	})
	t.Run("update wins", func(t *testing.T) {
		c := concurrentDeleteUpdate(t, resolve.UpdateWins)
		for _, r := range c.rs {
			rec, err := r.Get(bg, "H-1")
			require.NoError(t, err)
			require.Equal(t, hold.Confirmed, rec.Value.Status)
			require.Equal(t, "update-wins", rec.Decisions[len(rec.Decisions)-1].Policy)
		}
	})
	t.Run("update wins only over a delete that did not see it", func(t *testing.T) {
		c := deleteCluster(t, resolve.UpdateWins, "lisbon", "baltimore")
		rec, err := c.rs[0].Create(bg, "H-1", hold.New("H-1", "C1", "desk", minutes(10)))
		require.NoError(t, err)
		c.heal(t)
		up, err := c.rs[1].Update(bg, "H-1", rec.Token, func(h *hold.Hold, _ replica.Write) error { return h.Extend(minutes(30)) })
		require.NoError(t, err)
		c.heal(t)
		_, err = c.rs[0].Delete(bg, "H-1", up.Token)
		require.NoError(t, err)
		c.heal(t)
		for _, r := range c.rs {
			_, err := r.Get(bg, "H-1")
			require.ErrorIs(t, err, replica.ErrDeleted)
		}
	})
}

// TestConcurrentDeletesConvergeSilently: two regions deleting the same
// record agree without a conflict or a merge event.
func TestConcurrentDeletesConvergeSilently(t *testing.T) {
	c := deleteCluster(t, resolve.DeleteConflicts, "lisbon", "baltimore")
	rec, err := c.rs[0].Create(bg, "H-1", hold.New("H-1", "C1", "desk", minutes(10)))
	require.NoError(t, err)
	c.heal(t)
	conflicts, merges := c.counters.Total(resolve.Conflict), c.counters.Total(resolve.AutoResolved)
	for _, r := range c.rs {
		_, err := r.Delete(bg, "H-1", rec.Token)
		require.NoError(t, err)
	}
	c.heal(t)
	require.Equal(t, conflicts, c.counters.Total(resolve.Conflict))
	require.Equal(t, merges, c.counters.Total(resolve.AutoResolved))
	for _, r := range c.rs {
		_, err := r.Get(bg, "H-1")
		require.ErrorIs(t, err, replica.ErrDeleted)
		require.Empty(t, r.Conflicts())
	}
}

// TestReapAfterEveryMemberAcked: a tombstone stays until every member has
// acknowledged it, is then reaped everywhere, and no late or partitioned
// copy brings the record back.
func TestReapAfterEveryMemberAcked(t *testing.T) {
	c := deleteCluster(t, resolve.DeleteConflicts, "lisbon", "baltimore", "sydney")
	rec, err := c.rs[0].Create(bg, "H-1", hold.New("H-1", "C1", "desk", minutes(10)))
	require.NoError(t, err)
	c.heal(t)
	live, err := c.rs[2].Export(bg, "H-1") // a late message from before the delete
	require.NoError(t, err)
	_, err = c.rs[0].Delete(bg, "H-1", rec.Token)
	require.NoError(t, err)
	// Sydney is partitioned: lisbon and baltimore sync, nobody may reap.
	require.NoError(t, replica.AntiEntropy(bg, c.rs[0], c.rs[1]))
	tomb, err := c.rs[1].Export(bg, "H-1")
	require.NoError(t, err)
	for _, r := range c.rs {
		n, err := r.Reap(bg)
		require.NoError(t, err)
		require.Zero(t, n, "%v reaped while sydney had not acknowledged", r.ID())
	}
	c.heal(t)
	total := 0
	for _, r := range c.rs {
		n, err := r.Reap(bg)
		require.NoError(t, err)
		total += n
	}
	require.Equal(t, 3, total)
	for i, r := range c.rs {
		require.Zero(t, storedKeys(t, c.stores[i]), "%v still stores the tombstone", r.ID())
		for _, late := range [][]byte{live, tomb} {
			class, err := r.Apply(bg, "H-1", late)
			require.NoError(t, err)
			require.Contains(t, []resolve.Class{resolve.StaleWrite, resolve.Duplicate}, class)
		}
		_, err := r.Get(bg, "H-1")
		require.ErrorIs(t, err, replica.ErrNotFound)
		require.False(t, errors.Is(err, replica.ErrDeleted), "a reaped record is simply absent")
		require.Zero(t, storedKeys(t, c.stores[i]), "a late message resurrected the record in %v", r.ID())
	}
	c.heal(t)
	// The key is free again: a new record supersedes the reaped delete.
	_, err = c.rs[1].Create(bg, "H-1", hold.New("H-1", "C2", "desk", minutes(40)))
	require.NoError(t, err)
	c.heal(t)
	for _, r := range c.rs {
		got, err := r.Get(bg, "H-1")
		require.NoError(t, err)
		require.Nil(t, got.Conflict)
		require.Equal(t, "C2", got.Value.Cabin)
	}
}

// TestNoMembershipNoReaping: without a membership a tombstone is kept.
func TestNoMembershipNoReaping(t *testing.T) {
	c := newCluster(t, "lisbon")
	rec, err := c.rs[0].Create(bg, "H-1", hold.New("H-1", "C1", "desk", minutes(10)))
	require.NoError(t, err)
	_, err = c.rs[0].Delete(bg, "H-1", rec.Token)
	require.NoError(t, err)
	n, err := c.rs[0].Reap(bg)
	require.NoError(t, err)
	require.Zero(t, n)
	c.rs[0].AddMember(c.ids[0])
	n, err = c.rs[0].Reap(bg)
	require.NoError(t, err)
	require.Equal(t, 1, n, "a membership of one is stable at once")
}

// storedKeys counts the keys a store holds.
func storedKeys(t *testing.T, s *replica.MemoryStore) int {
	t.Helper()
	es, err := s.Scan(bg, "", 1<<20)
	require.NoError(t, err)
	return len(es)
}
