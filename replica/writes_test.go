package replica_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/harborpoint/concord/hold"
	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

// TestBlindWritesAreAtomic: concurrent blind writes of one field on one
// replica are all stored, one after another, and the note that survives is
// the one with the greatest stamp.
func TestBlindWritesAreAtomic(t *testing.T) {
	const n = 24
	c := newCluster(t, "lisbon")
	r := c.rs[0]
	l := newLedger()
	rec, err := r.Create(bg, "H-1", hold.New("H-1", "C1", "", minutes(10)))
	require.NoError(t, err)
	l.ack(t, "H-1", rec)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		last replica.Record[hold.Hold]
	)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec, err := r.Blind(bg, "H-1", "note", hold.NoteEdit(fmt.Sprintf("note %d", i)))
			if !assert.NoError(t, err) {
				return
			}
			l.ack(nonFatal{t}, "H-1", rec)
			mu.Lock()
			defer mu.Unlock()
			if rec.Stamp.Compare(last.Stamp) > 0 {
				last = rec
			}
		}()
	}
	wg.Wait()
	got, err := r.Get(bg, "H-1")
	require.NoError(t, err)
	require.Len(t, got.Branches, 1, "each blind write saw the one before")
	require.Equal(t, last.Value.Note, got.Value.Note)
	require.Equal(t, last.Token, got.Token)
	require.EqualValues(t, n+1, got.Context.Get(r.ID()), "no write lost")
	l.check(t, r)
}

// TestConditionalWritesAreAtomic: many clients holding the same token race
// to update; exactly one wins, and every loser gets a *PreconditionFailed
// carrying a current token and branches.
func TestConditionalWritesAreAtomic(t *testing.T) {
	const n = 16
	c := newCluster(t, "lisbon")
	r := c.rs[0]
	base, err := r.Create(bg, "H-1", hold.New("H-1", "C1", "", minutes(10)))
	require.NoError(t, err)
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		wins   []replica.Record[hold.Hold]
		failed []*replica.PreconditionFailed
	)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec, err := r.Update(bg, "H-1", base.Token, func(h *hold.Hold, _ replica.Write) error {
				h.Touch(fmt.Sprintf("agency-%d", i))
				return nil
			})
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				wins = append(wins, rec)
				return
			}
			var pf *replica.PreconditionFailed
			if assert.ErrorAs(t, err, &pf) && assert.ErrorIs(t, err, replica.ErrPreconditionFailed) {
				failed = append(failed, pf)
			}
		}()
	}
	wg.Wait()
	require.Len(t, wins, 1, "exactly one conditional write with one token wins")
	require.Len(t, failed, n-1)
	for _, pf := range failed {
		require.Equal(t, "H-1", pf.Key)
		require.Equal(t, base.Token, pf.Given)
		require.Equal(t, wins[0].Token, pf.Current)
		require.Len(t, pf.Stamps, 1)
		require.Equal(t, wins[0].Branches[0].Stamp, pf.Stamps[0], "the winner's write")
	}
	require.EqualValues(t, n-1, c.counters.Total(resolve.Rejected))

	_, err = r.Update(bg, "H-1", "", func(*hold.Hold, replica.Write) error { return nil })
	require.ErrorIs(t, err, replica.ErrPreconditionRequired)
	_, err = r.ResolveConflict(bg, "H-1", "", hold.Hold{})
	require.ErrorIs(t, err, replica.ErrPreconditionRequired)
	_, err = r.Update(bg, "H-9", base.Token, func(*hold.Hold, replica.Write) error { return nil })
	require.ErrorIs(t, err, replica.ErrNotFound)
}

// conflicted returns a cluster of two replicas that both hold H-1 with an
// open conflict: released at baltimore racing an extend at lisbon.
func conflicted(t *testing.T) *cluster {
	t.Helper()
	c := newCluster(t, "lisbon", "baltimore")
	_, err := c.rs[0].Create(bg, "H-1", hold.New("H-1", "C1", "", minutes(10)))
	require.NoError(t, err)
	c.heal(t)
	base, err := c.rs[1].Get(bg, "H-1")
	require.NoError(t, err)
	_, _, err = c.rs[0].Command(bg, "H-1", "x1", func(h *hold.Hold, _ replica.Write) error { return h.Extend(minutes(20)) })
	require.NoError(t, err)
	_, err = c.rs[1].Update(bg, "H-1", base.Token, func(h *hold.Hold, _ replica.Write) error { return h.Release() })
	require.NoError(t, err)
	c.heal(t)
	return c
}

// TestReadsReturnSiblingsAndToken: a read of a conflicted record returns
// both branches, the conflict and the covering token; a stale conditional
// write returns them too; blind writes and commands refuse to guess and say
// which key.
func TestReadsReturnSiblingsAndToken(t *testing.T) {
	c := conflicted(t)
	r := c.rs[0]
	rec, err := r.Get(bg, "H-1")
	require.NoError(t, err)
	require.NotNil(t, rec.Conflict)
	require.Len(t, rec.Branches, 2)
	require.Equal(t, rec.Context.Token(), rec.Token)
	require.Equal(t, rec.Token, rec.Conflict.Context.Token())
	require.Equal(t, "H-1", rec.Conflict.Key)
	statuses := map[hold.Status]bool{}
	for _, b := range rec.Branches {
		statuses[b.Value.Status] = true
		require.True(t, rec.Context.Contains(b.Stamp.Dot))
	}
	require.Equal(t, map[hold.Status]bool{hold.Active: true, hold.Released: true}, statuses)

	_, err = r.Update(bg, "H-1", rec.Token, func(h *hold.Hold, _ replica.Write) error { return nil })
	require.ErrorIs(t, err, resolve.ErrConflict)
	_, err = r.Blind(bg, "H-1", "note", hold.NoteEdit("x"))
	var conflict *resolve.ConflictRequiresRetry
	require.ErrorAs(t, err, &conflict)
	require.Equal(t, "H-1", conflict.Key)
	_, _, err = r.Command(bg, "H-1", "x2", func(h *hold.Hold, _ replica.Write) error { return nil })
	require.ErrorAs(t, err, &conflict)
	require.Equal(t, "H-1", conflict.Key)

	old := version.MustVector("{lisbon:1}").Token() // the token read before the race
	_, err = r.ResolveConflict(bg, "H-1", old, rec.Branches[0].Value)
	var pf *replica.PreconditionFailed
	require.ErrorAs(t, err, &pf)
	require.Equal(t, rec.Token, pf.Current)
	require.Len(t, pf.Stamps, 2, "both branches of the open conflict")
}

// TestResolveConflictKeepsCommandKeys: settling a conflict with a branch
// that lacks a command's effect still records that the command was
// applied, so its retry does not apply it a second time.
func TestResolveConflictKeepsCommandKeys(t *testing.T) {
	c := conflicted(t)
	r := c.rs[0]
	rec, err := r.Get(bg, "H-1")
	require.NoError(t, err)
	var released hold.Hold
	for _, b := range rec.Branches {
		if b.Value.Status == hold.Released {
			released = b.Value
		}
	}
	require.False(t, released.Commands.Has("x1"))
	got, err := r.ResolveConflict(bg, "H-1", rec.Token, released)
	require.NoError(t, err)
	require.Equal(t, hold.Released, got.Value.Status)
	require.True(t, got.Value.Commands.Has("x1"))
	again, replayed, err := r.Command(bg, "H-1", "x1", func(h *hold.Hold, _ replica.Write) error { return h.Extend(minutes(20)) })
	require.NoError(t, err)
	require.True(t, replayed, "a retried command applies once, even after its branch was discarded")
	require.Equal(t, hold.Active, again.Value.Status, "the retry returns the first result")
	require.True(t, again.Value.ExpiresAt.Equal(minutes(20)))
}

// TestCommandRetryReturnsFirstResult: a retried command changes nothing and
// returns the record as the first run returned it.
func TestCommandRetryReturnsFirstResult(t *testing.T) {
	c := newCluster(t, "lisbon")
	r := c.rs[0]
	_, err := r.Create(bg, "H-1", hold.New("H-1", "C1", "", minutes(10)))
	require.NoError(t, err)
	extend := func(h *hold.Hold, _ replica.Write) error { return h.Extend(minutes(15)) }
	first, replayed, err := r.Command(bg, "H-1", "e1", extend)
	require.NoError(t, err)
	require.False(t, replayed)
	_, err = r.Blind(bg, "H-1", "note", hold.NoteEdit("later"))
	require.NoError(t, err)
	again, replayed, err := r.Command(bg, "H-1", "e1", extend)
	require.NoError(t, err)
	require.True(t, replayed)
	require.Equal(t, first.Token, again.Token)
	require.Equal(t, first.Value, again.Value)
	now, err := r.Get(bg, "H-1")
	require.NoError(t, err)
	require.Equal(t, "later", now.Value.Note, "the retry wrote nothing")
	require.EqualValues(t, 3, now.Context.Get(r.ID()))
}
