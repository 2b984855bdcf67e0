package claimtest

import (
	"context"
	"errors"
	"sync"

	"github.com/harborpoint/concord/claim"
)

// ErrCut is what a cut [Link] returns: nothing reached the home.
var ErrCut = errors.New("claimtest: no route to the home store")

// ErrReplyLost is what a [Link] returns for a compare-and-set whose reply
// it lost: the write happened, the caller learns nothing — as if its
// process crashed right after.
var ErrReplyLost = errors.New("claimtest: connection reset after the write")

// Link is a claim.Store that reaches Home, the store every Link of a test
// shares, unless it is cut. It is one process's (or one region's) view of
// the home. The zero Link is not valid: make one with [NewLink]. A Link is
// safe for concurrent use.
type Link struct {
	// Home is the store reached.
	Home claim.Store

	mu        sync.Mutex
	cut       bool
	loseReply bool
}

// NewLink returns a Link to home, not cut.
func NewLink(home claim.Store) *Link { return &Link{Home: home} }

// Set cuts the link (every call fails with ErrCut, nothing reaches the
// home) or mends it, and sets whether the reply of the next
// compare-and-set is lost (the write happens, the call fails with
// ErrReplyLost).
func (l *Link) Set(cut, loseReply bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.cut, l.loseReply = cut, loseReply
}

// Get implements claim.Store.
func (l *Link) Get(ctx context.Context, key string) ([]byte, uint64, error) {
	l.mu.Lock()
	cut := l.cut
	l.mu.Unlock()
	if cut {
		return nil, 0, ErrCut
	}
	return l.Home.Get(ctx, key)
}

// CompareAndSet implements claim.Store.
func (l *Link) CompareAndSet(ctx context.Context, key string, value []byte, rev uint64) (uint64, error) {
	l.mu.Lock()
	cut, lose := l.cut, l.loseReply
	l.loseReply = false
	l.mu.Unlock()
	if cut {
		return 0, ErrCut
	}
	n, err := l.Home.CompareAndSet(ctx, key, value, rev)
	if err == nil && lose {
		return 0, ErrReplyLost
	}
	return n, err
}
