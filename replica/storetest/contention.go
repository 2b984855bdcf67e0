package storetest

import (
	"fmt"
	"strconv"
	"sync"
)

// checkContention races goroutines on one key: rounds in which every
// goroutine compare-and-sets (or deletes) at the same revision, then
// counters incremented by compare-and-set loops.
func checkContention(c *checker) {
	rev := uint64(0)
	for round := range 8 {
		rev = c.race(round, rev)
		if c.failed() {
			return
		}
	}
	c.counters()
}

// race starts every goroutine at once, each writing at rev: even ones
// compare-and-set their own value, odd ones delete (when rev is not 0).
// Exactly one must win, and the store must then hold what it wrote. It
// returns the key's revision afterwards.
func (c *checker) race(round int, rev uint64) uint64 {
	type result struct {
		value string
		rev   uint64 // the new revision; 0 for a delete
		err   error
	}
	n := c.opts.Concurrency
	results := make([]result, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for g := range n {
		wg.Go(func() {
			<-start
			if rev != 0 && g%2 == 1 {
				results[g] = result{err: c.s.Delete(c.ctx, "race", rev)}
				return
			}
			v := fmt.Sprintf("round %d, goroutine %d", round, g)
			r, err := c.s.CompareAndSet(c.ctx, "race", []byte(v), rev)
			results[g] = result{value: v, rev: r, err: err}
		})
	}
	close(start)
	wg.Wait()
	var winners []result
	for g, r := range results {
		switch {
		case r.err == nil:
			winners = append(winners, r)
		case !isMismatch(r.err):
			c.errorf("round %d: goroutine %d lost with an error that does not wrap replica.ErrRevisionMismatch: %v", round, g, r.err)
		}
	}
	if len(winners) != 1 {
		c.fatalf("round %d: %d goroutines writing at revision %d won, want exactly 1: %+v", round, len(winners), rev, winners)
	}
	w := winners[0]
	if w.rev == 0 {
		c.expect(fmt.Sprintf("round %d, after a delete won", round), "race", nil, 0)
	} else {
		c.expect(fmt.Sprintf("round %d, after a write won", round), "race", []byte(w.value), w.rev)
	}
	return w.rev
}

// counters has every goroutine increment a few counters, stored as decimal
// text, by get and compare-and-set until it succeeds: no increment may be
// lost.
func (c *checker) counters() {
	const keys, increments = 3, 10
	var wg sync.WaitGroup
	for g := range c.opts.Concurrency {
		wg.Go(func() {
			for i := range increments {
				if !c.increment(fmt.Sprintf("counter%d", (g+i)%keys)) {
					return
				}
			}
		})
	}
	wg.Wait()
	total := 0
	for k := range keys {
		v, _ := c.get(fmt.Sprintf("counter%d", k))
		n, _ := strconv.Atoi(string(v))
		total += n
	}
	if want := c.opts.Concurrency * increments; total != want {
		c.errorf("%d goroutines made %d compare-and-set increments in all, but the counters add up to %d", c.opts.Concurrency, want, total)
	}
}

// increment adds one to the counter under key, retrying lost races.
func (c *checker) increment(key string) bool {
	for range 100000 {
		v, rev, err := c.s.Get(c.ctx, key)
		if err != nil {
			c.errorf("counter: Get(%q): %v", key, err)
			return false
		}
		n := 0
		if rev != 0 {
			if n, err = strconv.Atoi(string(v)); err != nil {
				c.errorf("counter %q holds %q, which no goroutine wrote", key, v)
				return false
			}
		}
		_, err = c.s.CompareAndSet(c.ctx, key, []byte(strconv.Itoa(n+1)), rev)
		if err == nil {
			return true
		}
		if !isMismatch(err) {
			c.errorf("counter: CompareAndSet(%q, %d): %v", key, rev, err)
			return false
		}
	}
	c.errorf("counter %q: 100000 attempts lost", key)
	return false
}
