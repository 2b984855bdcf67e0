package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/harborpoint/concord/replica"
)

// Options describes the store under test. The zero Options describes a store
// that accepts every non-empty key and values up to 1 MiB.
type Options struct {
	// MaxValueSize is the size in bytes of the largest value the store must
	// hold. Zero means 1 MiB.
	MaxValueSize int
	// ValidKey reports whether the store accepts key. Run checks that the
	// store holds the keys it accepts and refuses the others. Nil means every
	// key; the empty key is refused whatever ValidKey says.
	ValidKey func(key string) bool
	// Concurrency is the number of goroutines in the contention and
	// concurrent-scan checks. Zero means 16.
	Concurrency int
	// Reopen, if not nil, returns a new Store over the storage of s, a
	// store newStore returned, as a process that restarts opens it again:
	// the same records, counter floor and horizons. It may close s first.
	// With it, the Restart check runs; without it, Restart passes.
	Reopen func(s replica.Store) (replica.Store, error)
}

func (o Options) withDefaults() Options {
	if o.MaxValueSize <= 0 {
		o.MaxValueSize = 1 << 20
	}
	if o.ValidKey == nil {
		o.ValidKey = func(string) bool { return true }
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 16
	}
	return o
}

// Run checks the store newStore returns against the replica.Store
// contract (see the package documentation for the list), each check in a
// subtest of t on a store of its own. newStore must return an empty store;
// it may register its cleanup with t.Cleanup.
func Run(t *testing.T, newStore func(t *testing.T) replica.Store, opts Options) {
	opts = opts.withDefaults()
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			s := newStore(t)
			if s == nil {
				t.Fatal("storetest: newStore returned nil")
			}
			for _, f := range runCheck(t.Context(), c, s, opts) {
				t.Error(f)
			}
		})
	}
}

// Check is Run for use outside a test: it runs every check, each on a new
// store from newStore, and returns nil if the store passed them all, or an
// error joining every failure, each naming its check.
func Check(ctx context.Context, newStore func() (replica.Store, error), opts Options) error {
	opts = opts.withDefaults()
	var errs []error
	for _, c := range checks {
		s, err := newStore()
		if err == nil && s == nil {
			err = errors.New("nil store")
		}
		if err != nil {
			return fmt.Errorf("storetest: %s: new store: %w", c.name, err)
		}
		for _, f := range runCheck(ctx, c, s, opts) {
			errs = append(errs, fmt.Errorf("storetest: %s: %s", c.name, f))
		}
	}
	return errors.Join(errs...)
}

// A check is one part of the contract.
type check struct {
	name string
	run  func(c *checker)
}

// checks lists every check in the order Run runs them.
var checks = []check{
	{"Absent", checkAbsent},
	{"CompareAndSet", checkCompareAndSet},
	{"Revisions", checkRevisions},
	{"NoABA", checkNoABA},
	{"Delete", checkDelete},
	{"EmptyValue", checkEmptyValue},
	{"MaxValue", checkMaxValue},
	{"Keys", checkKeys},
	{"Ownership", checkOwnership},
	{"Scan", checkScan},
	{"ScanWhileWriting", checkScanWhileWriting},
	{"Contention", checkContention},
	{"Canceled", checkCanceled},
	{"Floor", checkFloor},
	{"Horizons", checkHorizons},
	{"Restart", checkRestart},
}

// checker is what a check runs with: the store, a context and a record of
// failures. errorf may be called from any goroutine; fatalf only from the
// check's own.
type checker struct {
	ctx  context.Context
	s    replica.Store
	opts Options

	mu       sync.Mutex
	failures []string
}

// errStop is the panic with which fatalf ends a check.
var errStop = errors.New("storetest: check stopped")

// runCheck runs c on s and returns its failures.
func runCheck(ctx context.Context, c check, s replica.Store, opts Options) (failures []string) {
	ch := &checker{ctx: ctx, s: s, opts: opts}
	defer func() {
		if p := recover(); p != nil && p != errStop {
			panic(p)
		}
		failures = ch.failures
	}()
	c.run(ch)
	return nil
}

func (c *checker) errorf(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.failures = append(c.failures, fmt.Sprintf(format, args...))
}

func (c *checker) fatalf(format string, args ...any) {
	c.errorf(format, args...)
	panic(errStop)
}

// failed reports whether a failure was recorded.
func (c *checker) failed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.failures) > 0
}

// create stores value under a new key or stops the check.
func (c *checker) create(key string, value []byte) uint64 {
	return c.set(key, value, 0)
}

// set compare-and-sets key or stops the check.
func (c *checker) set(key string, value []byte, rev uint64) uint64 {
	n, err := c.s.CompareAndSet(c.ctx, key, value, rev)
	if err != nil {
		c.fatalf("CompareAndSet(%q, %d bytes, %d): %v", key, len(value), rev, err)
	}
	if n == 0 {
		c.fatalf("CompareAndSet(%q, %d bytes, %d) returned revision 0", key, len(value), rev)
	}
	return n
}

// get reads key or stops the check.
func (c *checker) get(key string) ([]byte, uint64) {
	v, rev, err := c.s.Get(c.ctx, key)
	if err != nil {
		c.fatalf("Get(%q): %v", key, err)
	}
	return v, rev
}

// expect checks that key holds value at rev (rev 0: absent).
func (c *checker) expect(what, key string, value []byte, rev uint64) {
	v, r := c.get(key)
	switch {
	case r != rev:
		c.errorf("%s: Get(%q) revision = %d, want %d", what, key, r, rev)
	case rev == 0 && v != nil:
		c.errorf("%s: Get(%q) of an absent key returned a value of %d bytes, want nil", what, key, len(v))
	case rev != 0 && string(v) != string(value):
		c.errorf("%s: Get(%q) = %s, want %s", what, key, show(v), show(value))
	}
}

// mismatch checks that err is a revision mismatch.
func (c *checker) mismatch(what string, err error) {
	if !errors.Is(err, replica.ErrRevisionMismatch) {
		c.errorf("%s: err = %v, want one wrapping replica.ErrRevisionMismatch", what, err)
	}
}

// scanAll pages through the store limit entries at a time.
func (c *checker) scanAll(limit int) []replica.Entry { return c.pages("Scan", c.s.Scan, limit) }

// pages pages through scan (named what: Scan or ScanHorizons) limit
// entries at a time and returns every entry, checking that no page is
// longer than limit and that keys come after the cursor, in order: so it
// ends.
func (c *checker) pages(what string, scan func(ctx context.Context, after string, limit int) ([]replica.Entry, error), limit int) []replica.Entry {
	var all []replica.Entry
	after := ""
	for {
		page, err := scan(c.ctx, after, limit)
		if err != nil {
			c.fatalf("%s(%q, %d): %v", what, after, limit, err)
		}
		if len(page) > limit {
			c.fatalf("%s(%q, %d) returned %d entries", what, after, limit, len(page))
		}
		for _, e := range page {
			if e.Key <= after {
				c.fatalf("%s(%q, %d) returned key %q, not after the cursor or the key before it", what, after, limit, e.Key)
			}
			after = e.Key
		}
		all = append(all, page...)
		if len(page) < limit {
			return all
		}
	}
}

// show prints a value briefly.
func show(v []byte) string {
	if len(v) <= 32 {
		return fmt.Sprintf("%q", v)
	}
	return fmt.Sprintf("%q... (%d bytes)", v[:32], len(v))
}
