package claim_test

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/harborpoint/concord/claim"
	"github.com/harborpoint/concord/replica"
)

var bg = context.Background()

// t0 is the start of every test's simulated clock.
var t0 = time.Date(2027, 3, 1, 12, 0, 0, 0, time.UTC)

// clock is a settable wall clock, safe for concurrent use.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: t0} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// errDown is what a faulty store returns while it is unreachable.
var errDown = errors.New("home store unreachable")

// faultyStore is a MemoryStore that can be unreachable (nothing happens,
// every call fails) or lose the reply of its next compare-and-set (the write
// happens, the caller gets an error): a crash of the caller right after the
// write, as far as the caller knows.
type faultyStore struct {
	*replica.MemoryStore
	mu        sync.Mutex
	down      bool
	loseReply bool
}

func newFaultyStore() *faultyStore { return &faultyStore{MemoryStore: replica.NewMemoryStore()} }

func (s *faultyStore) set(down, loseReply bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down, s.loseReply = down, loseReply
}

func (s *faultyStore) Get(ctx context.Context, key string) ([]byte, uint64, error) {
	s.mu.Lock()
	down := s.down
	s.mu.Unlock()
	if down {
		return nil, 0, errDown
	}
	return s.MemoryStore.Get(ctx, key)
}

func (s *faultyStore) CompareAndSet(ctx context.Context, key string, value []byte, rev uint64) (uint64, error) {
	s.mu.Lock()
	down, lose := s.down, s.loseReply
	s.loseReply = false
	s.mu.Unlock()
	if down {
		return 0, errDown
	}
	n, err := s.MemoryStore.CompareAndSet(ctx, key, value, rev)
	if err == nil && lose {
		return 0, errors.New("reply lost")
	}
	return n, err
}

// newHome returns a home over a faulty store, its clock and its counters.
func newHome(t interface{ Fatal(...any) }, margin time.Duration) (*claim.Home, *faultyStore, *clock, *claim.Counters) {
	s, c, n := newFaultyStore(), newClock(), &claim.Counters{}
	h, err := claim.NewHome(s, claim.Options{Margin: margin, Now: c.Now, Observer: n})
	if err != nil {
		t.Fatal(err)
	}
	return h, s, c, n
}
