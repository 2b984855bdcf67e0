package rangesync

import (
	"fmt"
	"sync"
)

// MaxKeyLen is the longest key an [Index] holds and a message may carry, in
// bytes. It bounds what one range of a message can cost to encode, which is
// what lets every message respect a frame limit.
const MaxKeyLen = 512

// Index is the set of items one side reconciles: each key with a hash of its
// version, ordered by key, with the count and the sum of the hashes of
// every subtree, so that the fingerprint of any range of keys costs
// O(log n) and an update costs O(log n). Maintain it as records change —
// [Index.Put] after every stored write, [Index.Remove] when a record goes —
// rather than rebuilding it for each reconciliation.
//
// The zero Index is empty and ready to use. An Index is safe for concurrent
// use; a reconciliation reads it while writers update it, and then reports
// what differed at the moments each range was compared (a key written
// meanwhile is found by the next reconciliation).
type Index struct {
	mu sync.RWMutex
	t  tree
}

// Put records key at the version whose canonical bytes are version: any
// encoding that is equal for equal versions and differs otherwise, such as
// the binary form of a record's causal context. Put replaces the key's
// previous version. A key longer than [MaxKeyLen] fails with an error
// wrapping [ErrKeyTooLong] and changes nothing.
func (x *Index) Put(key string, version []byte) error {
	if len(key) > MaxKeyLen {
		return fmt.Errorf("%w: %d bytes, limit %d", ErrKeyTooLong, len(key), MaxKeyLen)
	}
	it := item{key: key, h: itemHash(key, version)}
	x.mu.Lock()
	x.t.put(it)
	x.mu.Unlock()
	return nil
}

// Remove removes key and reports whether the index held it.
func (x *Index) Remove(key string) bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.t.remove(key)
}

// Len returns the number of keys in the index.
func (x *Index) Len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.t.len()
}

// Has reports whether the index holds key at the version version.
func (x *Index) Has(key string, version []byte) bool {
	h := itemHash(key, version)
	x.mu.RLock()
	defer x.mu.RUnlock()
	n, _ := x.t.before(key)
	if n == x.t.len() {
		return false
	}
	it := x.t.at(n)
	return it.key == key && it.h == h
}

// Fingerprint returns the fingerprint of the whole index: two indexes with
// equal fingerprints hold the same keys at the same versions (see the
// package documentation for the probability of a collision).
func (x *Index) Fingerprint() [FingerprintLen]byte {
	x.mu.RLock()
	defer x.mu.RUnlock()
	if x.t.root == nil {
		return fingerprintOf(sum{}, 0)
	}
	return fingerprintOf(x.t.root.s, x.t.root.n)
}

// Clear empties the index.
func (x *Index) Clear() {
	x.mu.Lock()
	x.t = tree{}
	x.mu.Unlock()
}
