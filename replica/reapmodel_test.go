package replica_test

import (
	"testing"

	"pgregory.net/rapid"

	"github.com/harborpoint/concord/hold"
	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/resolve"
)

// TestReapingNeverResurrects: three member replicas write, delete, sync in
// random pairs, reap and restart over their stores (HorizonStores) at
// random, keeping every state they ever exported.
// After a final heal and reap everywhere, no tombstone is left in any store
// (stored keys = live records), every replica reads the same, and
// delivering every old state again to every replica, restarted, changes
// nothing: a reaped record never comes back from a late message.
func TestReapingNeverResurrects(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		c := deleteCluster(t, resolve.DeleteConflicts, "lisbon", "baltimore", "sydney")
		var sent [][]byte
		for range rapid.IntRange(1, 30).Draw(rt, "steps") {
			i := rapid.IntRange(0, 2).Draw(rt, "at")
			switch rapid.IntRange(0, 4).Draw(rt, "kind") {
			case 0:
				j := (i + rapid.IntRange(1, 2).Draw(rt, "peer")) % 3
				if err := replica.AntiEntropy(bg, c.rs[i], c.rs[j]); err != nil {
					rt.Fatalf("AntiEntropy: %v", err)
				}
			case 1:
				if _, err := c.rs[i].Reap(bg); err != nil {
					rt.Fatalf("Reap: %v", err)
				}
			case 2:
				if len(sent) > 0 {
					late := sent[rapid.IntRange(0, len(sent)-1).Draw(rt, "late")]
					if _, err := c.rs[i].Apply(bg, "H-1", late); err != nil {
						rt.Fatalf("Apply: %v", err)
					}
				}
			case 3:
				restartMember(rt, c, i)
			default:
				deleteOp(rt, c.rs[i], rapid.IntRange(0, 4).Draw(rt, "op"))
			}
			if data, err := c.rs[i].Export(bg, "H-1"); err == nil {
				sent = append(sent, data)
			}
		}
		c.heal(rt)
		c.heal(rt) // acknowledgements of the last round's states
		for _, r := range c.rs {
			if _, err := r.Reap(bg); err != nil {
				rt.Fatalf("Reap: %v", err)
			}
		}
		want := viewOf(rt, c.rs[0], "H-1")
		for i, r := range c.rs {
			if v := viewOf(rt, r, "H-1"); v != want {
				rt.Fatalf("%v reads %+v, lisbon %+v", r.ID(), v, want)
			}
			if rec, err := r.Get(bg, "H-1"); rec.Deleted {
				rt.Fatalf("%v still stores a stable tombstone: %v", r.ID(), err)
			}
			if v := viewOf(rt, r, "H-1"); !v.Found && storedKeysOf(rt, c.stores[i]) != 0 {
				rt.Fatalf("%v stores a key it does not show", r.ID())
			}
		}
		for i := range c.rs {
			restartMember(rt, c, i) // the horizons are read back from the store
		}
		for _, r := range c.rs {
			for _, late := range sent {
				if _, err := r.Apply(bg, "H-1", late); err != nil {
					rt.Fatalf("Apply: %v", err)
				}
			}
			if v := viewOf(rt, r, "H-1"); v != want {
				rt.Fatalf("a late state changed %v: %+v, was %+v", r.ID(), v, want)
			}
		}
	})
}

// restartMember replaces member i of c by a new Replica value over its
// store, as a process restart would.
func restartMember(rt *rapid.T, c *cluster, i int) {
	r, err := replica.New(c.ids[i], c.stores[i], c.res, replica.Options[hold.Hold]{
		CommandKeys: hold.CommandKeys, Observer: c.counters, Members: c.ids})
	if err != nil {
		rt.Fatalf("New: %v", err)
	}
	c.rs[i] = r
}

func storedKeysOf(rt *rapid.T, s *replica.MemoryStore) int {
	es, err := s.Scan(bg, "", 1<<20)
	if err != nil {
		rt.Fatal(err)
	}
	return len(es)
}
