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

var (
	lisbon    = version.MustID("lisbon")
	baltimore = version.MustID("baltimore")
)

// reaper returns the replica id over store, a member of lisbon and
// baltimore's membership, resolving a delete concurrent with an update by
// on.
func reaper(t *testing.T, id version.ID, store replica.Store, on resolve.OnDelete, opts replica.Options[hold.Hold]) *replica.Replica[hold.Hold] {
	t.Helper()
	opts.CommandKeys, opts.Members = hold.CommandKeys, []version.ID{lisbon, baltimore}
	r, err := replica.New(id, store, hold.Resolver(resolve.Options{OnDelete: on}), opts)
	require.NoError(t, err)
	return r
}

// reapedEverywhere creates H-1 on lis, deletes it on deleter (lis or
// iad), and has both replicas reap it. It returns a late copy: H-1 as lis
// exported it before the delete.
func reapedEverywhere(t *testing.T, lis, iad, deleter *replica.Replica[hold.Hold]) []byte {
	t.Helper()
	rec, err := lis.Create(bg, "H-1", hold.New("H-1", "C1", "desk", minutes(10)))
	require.NoError(t, err)
	require.NoError(t, replica.AntiEntropy(bg, lis, iad))
	late, err := lis.Export(bg, "H-1")
	require.NoError(t, err)
	_, err = deleter.Delete(bg, "H-1", rec.Token)
	require.NoError(t, err)
	require.NoError(t, replica.AntiEntropy(bg, lis, iad))
	for _, r := range []*replica.Replica[hold.Hold]{lis, iad} {
		n, err := r.Reap(bg)
		require.NoError(t, err)
		require.Equal(t, 1, n, "%v reaps H-1", r.ID())
	}
	return late
}

// floorOnly is a FloorStore that keeps no horizons: a restart over it
// loses them, and only the floor is left.
type floorOnly struct {
	replica.Store
	replica.FloorStore
}

// keepsFloorOnly returns a new MemoryStore seen as a floorOnly.
func keepsFloorOnly() floorOnly {
	ms := replica.NewMemoryStore()
	return floorOnly{ms, ms}
}

// TestRestartWithItsIDAfterReaping: a replica that reaped a key and
// restarts over its store (a FloorStore that keeps no horizons) with its
// ID numbers its writes of the key above the counter floor its store kept, so a peer whose horizon covers the
// writes it made before the delete applies the re-created record instead of
// dropping it as stale. Without the floor, the restarted replica numbers
// the key's writes from 1 again, reissuing dots the peer's horizon covers.
//
// The re-creation claims the replica's own earlier writes of the key, so it
// supersedes a delete the replica made itself; a delete another replica
// made is no longer known to it, and meets the re-creation as a concurrent
// write, settled by the resolver's OnDelete — never dropped as stale.
func TestRestartWithItsIDAfterReaping(t *testing.T) {
	for _, deleter := range []version.ID{lisbon, baltimore} {
		for _, on := range []resolve.OnDelete{resolve.DeleteConflicts, resolve.UpdateWins, resolve.DeleteWins} {
			t.Run(fmt.Sprintf("%v deletes, %v", deleter, on), func(t *testing.T) {
				store := keepsFloorOnly()
				lis := reaper(t, lisbon, store, on, replica.Options[hold.Hold]{})
				iad := reaper(t, baltimore, replica.NewMemoryStore(), on, replica.Options[hold.Hold]{})
				del, writes := lis, uint64(2) // lisbon wrote H-1 twice: the create and the delete
				if deleter == baltimore {
					del, writes = iad, 1
				}
				reapedEverywhere(t, lis, iad, del)
				floor, err := lis.CounterFloor(bg)
				require.NoError(t, err)
				require.Equal(t, writes, floor)

				lis = reaper(t, lisbon, store, on, replica.Options[hold.Hold]{}) // restarts, horizons gone
				require.Empty(t, lis.Reaped())
				floor, err = lis.CounterFloor(bg)
				require.NoError(t, err)
				require.Equal(t, writes, floor, "the store kept the floor")
				rec, err := lis.Create(bg, "H-1", hold.New("H-1", "C2", "desk", minutes(30)))
				require.NoError(t, err)
				dot := version.Dot{ID: lisbon, Counter: writes + 1}
				require.Equal(t, dot.Counter, rec.Context.Get(lisbon), "numbered above the floor")
				for range 2 { // there, and the merge back
					require.NoError(t, replica.AntiEntropy(bg, lis, iad))
				}
				for _, r := range []*replica.Replica[hold.Hold]{iad, lis} {
					got, err := r.Get(bg, "H-1")
					switch {
					case deleter == lisbon || on == resolve.UpdateWins:
						require.NoError(t, err, "%v dropped the re-created record", r.ID())
						require.Nil(t, got.Conflict)
						require.Equal(t, "C2", got.Value.Cabin)
					case on == resolve.DeleteConflicts:
						require.NoError(t, err)
						require.NotNil(t, got.Conflict, "%v: a conflict to review", r.ID())
						require.Contains(t, stateDots(t, r, "H-1"), dot, "%v holds the re-creation", r.ID())
					default: // the declared policy: a delete wins over a write it did not see
						require.ErrorIs(t, err, replica.ErrDeleted)
					}
				}
			})
		}
	}
}

// stateDots returns the dots of the siblings r stores for key.
func stateDots(t *testing.T, r *replica.Replica[hold.Hold], key string) []version.Dot {
	t.Helper()
	s, err := r.State(bg, key)
	require.NoError(t, err)
	return s.Dots()
}

// TestRestartedReplicaTakesBackItsReapedTombstone: a replica that reaped
// and restarted over a store that kept its floor and not its horizons
// accepts from a peer that has not reaped yet the tombstone
// naming its own writes up to the floor (they were issued), instead of
// refusing it as a claim of writes it never issued; a write over it then
// supersedes the delete.
func TestRestartedReplicaTakesBackItsReapedTombstone(t *testing.T) {
	store := keepsFloorOnly()
	lis := reaper(t, lisbon, store, resolve.DeleteConflicts, replica.Options[hold.Hold]{})
	iad := reaper(t, baltimore, replica.NewMemoryStore(), resolve.DeleteConflicts, replica.Options[hold.Hold]{})
	rec, err := lis.Create(bg, "H-1", hold.New("H-1", "C1", "desk", minutes(10)))
	require.NoError(t, err)
	_, err = lis.Delete(bg, "H-1", rec.Token)
	require.NoError(t, err)
	rep, err := lis.Sync(bg, replica.Local(iad)) // baltimore acknowledges; lisbon does not, to baltimore
	require.NoError(t, err)
	require.Equal(t, 1, rep.Acked)
	n, err := lis.Reap(bg)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	n, err = iad.Reap(bg)
	require.NoError(t, err)
	require.Zero(t, n, "baltimore waits for lisbon's acknowledgement")

	lis = reaper(t, lisbon, store, resolve.DeleteConflicts, replica.Options[hold.Hold]{})
	rep, err = iad.Sync(bg, replica.Local(lis))
	require.NoError(t, err)
	require.Zero(t, rep.Skipped, "%v", rep.Errors)
	require.Equal(t, 1, rep.Sent)
	_, err = lis.Get(bg, "H-1")
	var del *replica.Deleted
	require.ErrorAs(t, err, &del)
	again, err := lis.Update(bg, "H-1", del.Token, func(h *hold.Hold, _ replica.Write) error {
		*h = hold.New("H-1", "C3", "desk", minutes(30))
		return nil
	})
	require.NoError(t, err)
	require.NoError(t, replica.AntiEntropy(bg, lis, iad))
	got, err := iad.Get(bg, "H-1")
	require.NoError(t, err)
	require.Nil(t, got.Conflict)
	require.Equal(t, again.Token, got.Token)
}

// plainStore hides every method of a store but Store's: a store that is
// not a FloorStore, as a user's own store may be.
type plainStore struct{ replica.Store }

// TestFloorWithoutAFloorStore: over a store that is not a FloorStore the
// replica still reaps and numbers its writes above the floor it keeps in
// memory; a new Replica value starts from 0 (and must take a new
// incarnation, see the package documentation).
func TestFloorWithoutAFloorStore(t *testing.T) {
	store := plainStore{replica.NewMemoryStore()}
	lis := reaper(t, lisbon, store, resolve.DeleteConflicts, replica.Options[hold.Hold]{})
	iad := reaper(t, baltimore, replica.NewMemoryStore(), resolve.DeleteConflicts, replica.Options[hold.Hold]{})
	reapedEverywhere(t, lis, iad, lis)
	floor, err := lis.CounterFloor(bg)
	require.NoError(t, err)
	require.Equal(t, uint64(2), floor)
	require.Equal(t, uint64(2), lis.Reaping().CounterFloor)

	again := reaper(t, lisbon, store, resolve.DeleteConflicts, replica.Options[hold.Hold]{})
	floor, err = again.CounterFloor(bg)
	require.NoError(t, err)
	require.Zero(t, floor, "nothing kept it")
}

var errBroken = errors.New("test: the store is broken")

// failingFloor is a FloorStore whose RaiseCounterFloor fails.
type failingFloor struct{ *replica.MemoryStore }

func (failingFloor) RaiseCounterFloor(context.Context, uint64) error { return errBroken }

// failingHorizons is a HorizonStore whose PutHorizon fails.
type failingHorizons struct{ *replica.MemoryStore }

func (failingHorizons) PutHorizon(context.Context, string, []byte) error { return errBroken }

// TestReapWaitsForTheStore: a floor or a horizon the store fails to keep
// fails the Reap, and the tombstone stays stored.
func TestReapWaitsForTheStore(t *testing.T) {
	for name, failing := range map[string]func(*replica.MemoryStore) replica.Store{
		"floor":   func(ms *replica.MemoryStore) replica.Store { return failingFloor{ms} },
		"horizon": func(ms *replica.MemoryStore) replica.Store { return failingHorizons{ms} },
	} {
		t.Run(name, func(t *testing.T) {
			ms := replica.NewMemoryStore()
			lis := reaper(t, lisbon, failing(ms), resolve.DeleteConflicts, replica.Options[hold.Hold]{})
			iad := reaper(t, baltimore, replica.NewMemoryStore(), resolve.DeleteConflicts, replica.Options[hold.Hold]{})
			rec, err := lis.Create(bg, "H-1", hold.New("H-1", "C1", "desk", minutes(10)))
			require.NoError(t, err)
			_, err = lis.Delete(bg, "H-1", rec.Token)
			require.NoError(t, err)
			require.NoError(t, replica.AntiEntropy(bg, lis, iad))
			n, err := lis.Reap(bg)
			require.ErrorIs(t, err, errBroken)
			require.Zero(t, n)
			require.Equal(t, 1, storedKeys(t, ms), "the tombstone stays")
			require.Empty(t, lis.Reaped())
		})
	}
}

// TestEveryWriteStyleIsNumberedAboveTheFloor: once a replica has reaped,
// every write style it makes of a record holding none of its writes —
// create, update, blind write, command, delete — is numbered above its
// counter floor.
func TestEveryWriteStyleIsNumberedAboveTheFloor(t *testing.T) {
	lis := reaper(t, lisbon, replica.NewMemoryStore(), resolve.DeleteConflicts, replica.Options[hold.Hold]{})
	iad := reaper(t, baltimore, replica.NewMemoryStore(), resolve.DeleteConflicts, replica.Options[hold.Hold]{})
	reapedEverywhere(t, lis, iad, lis)
	floor, err := lis.CounterFloor(bg)
	require.NoError(t, err)
	require.Equal(t, uint64(2), floor)
	writes := map[string]func(key, token string) (replica.Record[hold.Hold], error){
		"create": func(key, _ string) (replica.Record[hold.Hold], error) {
			return lis.Create(bg, key+"-new", hold.New(key+"-new", "C9", "desk", minutes(10)))
		},
		"update": func(key, token string) (replica.Record[hold.Hold], error) {
			return lis.Update(bg, key, token, func(h *hold.Hold, _ replica.Write) error { return h.Extend(minutes(40)) })
		},
		"blind": func(key, _ string) (replica.Record[hold.Hold], error) {
			return lis.Blind(bg, key, "note", hold.NoteEdit("call back"))
		},
		"command": func(key, _ string) (replica.Record[hold.Hold], error) {
			rec, _, err := lis.Command(bg, key, "extend-"+key, func(h *hold.Hold, _ replica.Write) error { return h.Extend(minutes(40)) })
			return rec, err
		},
		"delete": func(key, token string) (replica.Record[hold.Hold], error) { return lis.Delete(bg, key, token) },
	}
	for name, write := range writes {
		key := "H-" + name
		rec, err := iad.Create(bg, key, hold.New(key, "C2", "desk", minutes(10)))
		require.NoError(t, err)
		require.NoError(t, replica.AntiEntropy(bg, lis, iad))
		got, err := write(key, rec.Token)
		require.NoError(t, err, name)
		require.Equal(t, floor+1, got.Context.Get(lisbon), "%s: numbered above the floor", name)
	}
}
