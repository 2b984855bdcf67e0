package sim_test

import (
	"context"
	"testing"

	"github.com/harborpoint/concord/hold"
	"github.com/harborpoint/concord/hold/holdsim"
	"github.com/harborpoint/concord/internal/proof"
	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/sim"
)

// floorOnlyStore is the MemoryStore seen as a replica.FloorStore that is not
// a replica.HorizonStore: a store that keeps the counter floor but not the
// reaped horizons, so a replica restarted over it keeps its ID and forgets
// the keys it had reaped.
type floorOnlyStore struct {
	replica.Store
	floor replica.FloorStore
}

func (s floorOnlyStore) CounterFloor(ctx context.Context) (uint64, error) {
	return s.floor.CounterFloor(ctx)
}

func (s floorOnlyStore) RaiseCounterFloor(ctx context.Context, n uint64) error {
	return s.floor.RaiseCounterFloor(ctx, n)
}

// floorOnly wraps a store that keeps the floor as a floorOnlyStore.
func floorOnly(_ int, s replica.Store) replica.Store {
	if f, ok := s.(replica.FloorStore); ok {
		return floorOnlyStore{Store: s, floor: f}
	}
	return s
}

// TestRecreatedAfterForgettingTheReap replays the history (seed 2697) where
// the campaign at thirty times its default size
// (TestDurableRestartsAfterReapingKeepTheirID, before the MemoryStore kept
// reaped horizons) reported an extend shortened: lisbon wrote an extend of
// H-1 (lisbon:4), baltimore deleted the hold, both reaped the tombstone,
// lisbon restarted over a store keeping its counter floor but not its
// horizons, and a client created H-1 again at lisbon (lisbon:5, context
// {lisbon:5}). The created hold is a new one: it does not carry the old
// extend, although its context covers the extend's dot (the replica writes
// above its floor). Over a replica.FloorStore alone, every check must hold.
func TestRecreatedAfterForgettingTheReap(t *testing.T) {
	w := holdsim.Workload()
	sim.SetHooks(&w, sim.Hooks[hold.Hold]{Store: floorOnly})
	rep, err := sim.Run(sim.Config{Seed: 2697, Histories: 1, Steps: 200, Durable: true, Restarts: 5}, w)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() {
		t.Fatalf("\n%s", rep.String())
	}
	if rep.Deletes.KeptID == 0 || rep.Deletes.KeptHorizons != 0 {
		t.Fatalf("%d restarts after reaping kept their ID, %d their horizons: want some, and none (the history no longer reaches the re-creation over a forgotten reap)", rep.Deletes.KeptID, rep.Deletes.KeptHorizons)
	}
}

// TestDurableRestartsOverAFloorStoreAlone is
// TestDurableRestartsAfterReapingKeepTheirID over stores that keep the
// counter floor but not the reaped horizons (replica.FloorStore alone): a
// replica that reaped and crashes restarts with its ID and forgets the keys
// it reaped, and every check holds — re-created holds included.
func TestDurableRestartsOverAFloorStoreAlone(t *testing.T) {
	w := holdsim.Workload()
	sim.SetHooks(&w, sim.Hooks[hold.Hold]{Store: floorOnly})
	rep, err := sim.Run(sim.Config{Seed: 1012, Histories: proof.Histories(t, 60), Steps: 200, Durable: true, Restarts: 5}, w)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", rep.String())
	if !rep.OK() || rep.Loss.Lost != 0 {
		t.Fatal("the campaign failed a check")
	}
	if rep.Deletes.KeptID == 0 || rep.Deletes.KeptHorizons != 0 || rep.Deletes.Renewed != 0 {
		t.Fatalf("%d restarts after reaping kept their ID, %d their horizons, %d took a new incarnation: want some, none and none",
			rep.Deletes.KeptID, rep.Deletes.KeptHorizons, rep.Deletes.Renewed)
	}
}
