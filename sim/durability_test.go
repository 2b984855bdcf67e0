package sim_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/harborpoint/concord/hold"
	"github.com/harborpoint/concord/hold/holdsim"
	"github.com/harborpoint/concord/internal/proof"
	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/sim"
)

// TestDurableStoresLoseNothing runs the hold workload over durable stores
// (the in-memory store surviving every crash stands in for one that is on
// stable storage when its compare-and-set returns) while the first replica
// crashes and restarts every 4 steps: nothing acknowledged dies with a
// crash, and every restart finds exactly what the replica held when it
// crashed.
func TestDurableStoresLoseNothing(t *testing.T) {
	rep, err := sim.Run(sim.Config{Seed: 1, Histories: proof.Histories(t, 12), Durable: true, Restarts: 4}, holdsim.Workload())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", rep.String())
	if !rep.OK() || rep.Loss.Lost != 0 {
		t.Fatal("the durable campaign failed a check")
	}
	if rep.Loss.DiedWithMemory != 0 {
		t.Fatalf("%d writes died with a memory-only replica over durable stores", rep.Loss.DiedWithMemory)
	}
	if rep.Loss.KeptAcrossRestarts == 0 || rep.Faults.Restarts < 10*rep.Histories {
		t.Fatalf("%d restarts in %d histories, %d writes compared across them", rep.Faults.Restarts, rep.Histories, rep.Loss.KeptAcrossRestarts)
	}
}

// TestManyRestartsOfOneReplica restarts the first replica every 3 steps,
// losing its state at 40% of its crashes as a memory-only replica does: a
// dozen incarnations of one replica in a history reissue no dot, stamp
// after every stamp the replica wrote before, and lose only what had not
// left the replica, counted apart.
func TestManyRestartsOfOneReplica(t *testing.T) {
	// At least 6 histories, under -race too: one may lose no write with memory.
	rep, err := sim.Run(sim.Config{Seed: 1, Histories: max(proof.Histories(t, 12), 6), Restarts: 3}, holdsim.Workload())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", rep.String())
	if !rep.OK() || rep.Loss.Lost != 0 {
		t.Fatal("the restart campaign failed a check")
	}
	if rep.Faults.StateLosses < 5*rep.Histories || rep.Loss.DiedWithMemory == 0 {
		t.Fatalf("%d state losses in %d histories, %d writes died with memory", rep.Faults.StateLosses, rep.Histories, rep.Loss.DiedWithMemory)
	}
}

// TestDurabilityCatchesAStoreThatLosesWritesAtACrash: a "durable" store
// that acknowledges writes from a volatile cache, flushed every fourth
// write, loses the rest at a crash; check NoLoss alone catches it at the
// restart.
func TestDurabilityCatchesAStoreThatLosesWritesAtACrash(t *testing.T) {
	w := holdsim.Workload()
	sim.SetHooks(&w, sim.Hooks[hold.Hold]{
		Store: func(_ int, s replica.Store) replica.Store {
			return &cachedStore{Store: s, cache: map[string]replica.Entry{}}
		},
		Mute: func(c sim.Check) bool { return c != sim.NoLoss },
	})
	rep, err := sim.Run(sim.Config{Seed: 1, Histories: mutantBudget, Durable: true, Restarts: 4}, w)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Failures) == 0 {
		t.Fatalf("a store that loses its cache at a crash survived %d histories", rep.Histories)
	}
	v := rep.Failures[0].Violations[0]
	if !strings.Contains(v.Message, "restarted with its state") {
		t.Logf("caught by another part of no-loss: %v", v)
	}
	t.Logf("caught after %d histories: %v", rep.Histories, v)
}

// cachedStore keeps compare-and-sets in a volatile cache and writes them
// through to the store only every fourth one: what a store without fsync
// does. A new cachedStore (the restart) has lost the cache.
type cachedStore struct {
	replica.Store
	cache map[string]replica.Entry
	n     int
}

func (s *cachedStore) Get(ctx context.Context, key string) ([]byte, uint64, error) {
	if e, ok := s.cache[key]; ok {
		return e.Value, e.Rev, nil
	}
	return s.Store.Get(ctx, key)
}

func (s *cachedStore) CompareAndSet(ctx context.Context, key string, value []byte, rev uint64) (uint64, error) {
	if _, cur, err := s.Get(ctx, key); err != nil || cur != rev {
		return s.Store.CompareAndSet(ctx, key, value, rev) // the store refuses as it should
	}
	s.cache[key] = replica.Entry{Key: key, Value: slices.Clone(value), Rev: rev + 1}
	if s.n++; s.n%4 == 0 {
		for k, e := range s.cache {
			_, r, err := s.Store.Get(ctx, k)
			if err == nil {
				_, err = s.Store.CompareAndSet(ctx, k, e.Value, r)
			}
			if err != nil {
				return 0, err
			}
		}
		clear(s.cache)
		_, r, err := s.Store.Get(ctx, key)
		return r, err
	}
	return rev + 1, nil
}

func (s *cachedStore) Delete(ctx context.Context, key string, rev uint64) error {
	if e, ok := s.cache[key]; ok && e.Rev == rev {
		delete(s.cache, key)
		_, r, err := s.Store.Get(ctx, key)
		if err != nil || r == 0 {
			return err
		}
		return s.Store.Delete(ctx, key, r)
	}
	return s.Store.Delete(ctx, key, rev)
}

func (s *cachedStore) Scan(ctx context.Context, after string, limit int) ([]replica.Entry, error) {
	es, err := s.Store.Scan(ctx, after, limit+len(s.cache))
	if err != nil {
		return nil, err
	}
	for i := range es {
		if e, ok := s.cache[es[i].Key]; ok {
			es[i] = e
		}
	}
	for k, e := range s.cache {
		if k > after && !slices.ContainsFunc(es, func(x replica.Entry) bool { return x.Key == k }) {
			es = append(es, e)
		}
	}
	slices.SortFunc(es, func(a, b replica.Entry) int { return strings.Compare(a.Key, b.Key) })
	return es[:min(limit, len(es))], nil
}

// TestDurableRestartsAfterReapingKeepTheirID: over durable stores that keep
// the counter floor (replica.FloorStore: the MemoryStore does), a replica
// that reaped tombstones and crashes restarts with its ID, not as a new
// incarnation, and every check holds — no dot reused (check DotReuse and
// the model, which follows the floor), no write lost, nothing resurrected.
func TestDurableRestartsAfterReapingKeepTheirID(t *testing.T) {
	rep, err := sim.Run(sim.Config{Seed: 1012, Histories: proof.Histories(t, 60), Steps: 200, Durable: true, Restarts: 5}, holdsim.Workload())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", rep.String())
	if !rep.OK() || rep.Loss.Lost != 0 {
		t.Fatal("the campaign failed a check")
	}
	if rep.Deletes.KeptID == 0 || rep.Deletes.Renewed != 0 {
		t.Fatalf("%d restarts after reaping kept their ID, %d took a new incarnation: want some, and none", rep.Deletes.KeptID, rep.Deletes.Renewed)
	}
}
