package replica

import "sync"

// recent remembers, for the keys this replica wrote last, the bytes and
// revision its compare-and-set stored, so that its next write of such a key
// can plan from them instead of reading the store first. It is only a
// guess: a write planned from a remembered state counts only if its
// compare-and-set succeeds — the store's revision check proves that the
// state was still current. Anything else decided from a remembered state (a
// mismatch, a refused precondition, nothing to store, any error) is
// forgotten and decided again from the store. So writers outside this
// Replica value (other processes, other Replica values on the store) cost
// one failed compare-and-set, never a wrong answer.
//
// It holds at most maxRecent states and maxRecentBytes of them; past
// either, an arbitrary state is forgotten. The zero value is ready to use
// and it is safe for concurrent use; commit calls it under the key's lock.
type recent struct {
	mu    sync.Mutex
	m     map[string]remembered
	bytes int
}

type remembered struct {
	data []byte // as stored: never modified
	rev  uint64
}

const (
	maxRecent      = 1024
	maxRecentBytes = 16 << 20
)

// get returns the state remembered for key, if any.
func (c *recent) get(key string) (remembered, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.m[key]
	return s, ok
}

// put remembers that key holds data at revision rev. data must not change
// afterwards.
func (c *recent) put(key string, data []byte, rev uint64) {
	if len(data) > maxRecentBytes/8 {
		c.forget(key) // a few large records would push out every other
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]remembered{}
	}
	if old, ok := c.m[key]; ok {
		c.bytes -= len(old.data)
		delete(c.m, key)
	}
	for k, s := range c.m {
		if len(c.m) < maxRecent && c.bytes+len(data) <= maxRecentBytes {
			break
		}
		delete(c.m, k)
		c.bytes -= len(s.data)
	}
	c.m[key] = remembered{data, rev}
	c.bytes += len(data)
}

// forget drops what is remembered of key.
func (c *recent) forget(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.bytes -= len(c.m[key].data)
	delete(c.m, key)
}
