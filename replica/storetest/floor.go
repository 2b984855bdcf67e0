package storetest

import "github.com/harborpoint/concord/replica"

// checkFloor checks a store that is a replica.FloorStore (any other store
// passes): the floor starts at 0, only grows, and is no key.
func checkFloor(c *checker) {
	fs, ok := c.s.(replica.FloorStore)
	if !ok {
		return
	}
	floor := func(what string) uint64 {
		n, err := fs.CounterFloor(c.ctx)
		if err != nil {
			c.fatalf("%s: CounterFloor: %v", what, err)
		}
		return n
	}
	raise := func(n uint64) {
		if err := fs.RaiseCounterFloor(c.ctx, n); err != nil {
			c.fatalf("RaiseCounterFloor(%d): %v", n, err)
		}
	}
	if n := floor("an empty store"); n != 0 {
		c.errorf("CounterFloor of an empty store = %d, want 0", n)
	}
	rev := c.create("k", []byte("v"))
	for _, step := range []struct{ raise, want uint64 }{{7, 7}, {3, 7}, {7, 7}, {1 << 40, 1 << 40}, {0, 1 << 40}} {
		raise(step.raise)
		if n := floor("after RaiseCounterFloor"); n != step.want {
			c.errorf("CounterFloor after RaiseCounterFloor(%d) = %d, want %d", step.raise, n, step.want)
		}
	}
	c.expect("a key, after RaiseCounterFloor", "k", []byte("v"), rev)
	if page := c.scanAll(10); len(page) != 1 || page[0].Key != "k" {
		c.errorf("Scan after RaiseCounterFloor = %v, want only \"k\": the floor is no key", keysOf(page))
	}
	if err := c.s.Delete(c.ctx, "k", rev); err != nil {
		c.fatalf("Delete: %v", err)
	}
	if n := floor("after the last key is deleted"); n != 1<<40 {
		c.errorf("CounterFloor after the last key is deleted = %d, want %d", n, uint64(1<<40))
	}
}
