package replica

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"testing"
)

// sameStripe returns n keys of one stripe of l.
func sameStripe(l *keyLocks, n int) []string {
	var keys []string
	for i := 0; len(keys) < n; i++ {
		if k := fmt.Sprint("k", i); len(keys) == 0 || l.stripe(k) == l.stripe(keys[0]) {
			keys = append(keys, k)
		}
	}
	return keys
}

// TestKeyLocksExcludePerKey checks, on keys that share a stripe, that a key
// has one lock at a time however the stripe's own lock moves between keys:
// a holds the stripe's lock, b gets one of the map, a leaves, and a second
// locker of b must wait for the first (not take the free stripe lock).
func TestKeyLocksExcludePerKey(t *testing.T) {
	var l keyLocks
	keys := sameStripe(&l, 2)
	a, b := keys[0], keys[1]
	la, _ := l.lock(bg, a)
	lb, _ := l.lock(bg, b)
	if la == lb {
		t.Fatal("two keys share a lock")
	}
	l.unlock(a, la)
	ctx, cancel := context.WithCancel(bg)
	cancel()
	if _, err := l.lock(ctx, b); err == nil {
		t.Fatal("b was locked twice")
	}
	la2, err := l.lock(ctx, a) // free: taken even with a done context
	if err != nil {
		t.Fatalf("a free key was refused: %v", err)
	}
	l.unlock(a, la2)
	l.unlock(b, lb)
	lb2, err := l.lock(ctx, b)
	if err != nil {
		t.Fatalf("b, unlocked, was refused: %v", err)
	}
	l.unlock(b, lb2)
}

// TestKeyLocksConcurrent locks keys of few stripes from many goroutines,
// some with contexts that end, and checks that no key ever has two holders
// and that every lock is released.
func TestKeyLocksConcurrent(t *testing.T) {
	var l keyLocks
	keys := append(sameStripe(&l, 4), "x", "y", "z")
	var mu sync.Mutex
	holders := map[string]int{}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 300 {
				key := keys[(g+i)%len(keys)]
				ctx, cancel := context.WithCancel(bg)
				if i%7 == 0 {
					cancel() // refused unless the key is free
				}
				k, err := l.lock(ctx, key)
				cancel()
				if err != nil {
					continue
				}
				mu.Lock()
				holders[key]++
				if holders[key] != 1 {
					t.Errorf("%q has %d holders", key, holders[key])
				}
				mu.Unlock()
				runtime.Gosched() // let another holder in, if the lock would
				mu.Lock()
				holders[key]--
				mu.Unlock()
				l.unlock(key, k)
			}
		})
	}
	wg.Wait()
	for i := range l.stripes {
		if s := &l.stripes[i]; len(s.m) != 0 || s.lent.refs != 0 {
			t.Fatalf("stripe %d: %d locks in its map, %d holders of its own after every holder left", i, len(s.m), s.lent.refs)
		}
	}
}

// TestKeyLockCancelAfterHandOver has a waiter give up after unlock handed
// it the lock (the two cases of its select were ready at once): the lock
// must then be free, not held by no one.
func TestKeyLockCancelAfterHandOver(t *testing.T) {
	var l keyLocks
	held, err := l.lock(bg, "a")
	if err != nil {
		t.Fatal(err)
	}
	// A waiter as lock makes one, stopped before its select.
	s := l.stripe("a")
	s.mu.Lock()
	k := s.get("a")
	k.refs++
	if k.ch == nil {
		k.ch = make(chan struct{}, 1)
	}
	s.mu.Unlock()
	l.unlock("a", held) // hands the lock to the waiter
	s.cancel("a", k)    // which gives up instead of taking it
	if k.held || len(k.ch) != 0 || k.refs != 0 {
		t.Fatalf("after the waiter gave up: held %v, %d hand-overs pending, %d refs", k.held, len(k.ch), k.refs)
	}
}
