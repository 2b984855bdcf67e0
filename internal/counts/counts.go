// Package counts is the counter map behind the event counters of resolve
// and claim (resolve.Counters, claim.Counters): counts by key, safe for
// concurrent use.
package counts

import (
	"maps"
	"sync"
)

// Map counts by key. The zero Map is empty and ready to use; it is safe for
// concurrent use and must not be copied after first use.
type Map[K comparable] struct {
	mu sync.Mutex
	m  map[K]uint64
}

// Add counts one more for k.
func (c *Map[K]) Add(k K) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[K]uint64{}
	}
	c.m[k]++
}

// Get returns the count of k.
func (c *Map[K]) Get(k K) uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[k]
}

// Sum returns the sum of the counts of the keys that match.
func (c *Map[K]) Sum(match func(K) bool) uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	var n uint64
	for k, v := range c.m {
		if match(k) {
			n += v
		}
	}
	return n
}

// Snapshot returns a copy of every count (nil before the first Add).
func (c *Map[K]) Snapshot() map[K]uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.m)
}
