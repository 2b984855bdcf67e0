package storetest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/harborpoint/concord/replica"
)

// bug names one way to break a store.
type bug int

const (
	correct bug = iota
	casIgnoresRev
	casNotAtomic
	updateKeepsRev
	revRestartsAfterDelete
	deleteIgnoresRev
	deleteAtZeroDeletes
	emptyIsAbsent
	truncatesValues
	manglesKeys
	acceptsEmptyKey
	sharesValues
	scanSkipsKeys
	scanRepeatsCursor
	scanShortPages
	scanUnordered
	scanShortOnDelete
	scanTornEntries
	ignoresContext
)

// mutant is a broken store and the check written to catch it (others may
// catch it too).
type mutant struct {
	bug   bug
	name  string
	check string
}

var mutants = []mutant{
	{casIgnoresRev, "CompareAndSet ignores the revision", "CompareAndSet"},
	{casNotAtomic, "CompareAndSet checks, then sets, without a lock", "Contention"},
	{updateKeepsRev, "an update keeps the revision", "Revisions"},
	{revRestartsAfterDelete, "revisions count writes since creation (reused after a delete)", "NoABA"},
	{deleteIgnoresRev, "Delete ignores the revision", "Delete"},
	{deleteAtZeroDeletes, "Delete at revision 0 deletes", "Delete"},
	{emptyIsAbsent, "an empty value reads as absent", "EmptyValue"},
	{truncatesValues, "values are cut at 64 KiB", "MaxValue"},
	{manglesKeys, "keys go through []rune (invalid UTF-8 becomes U+FFFD)", "Keys"},
	{acceptsEmptyKey, "the empty key is accepted", "Keys"},
	{sharesValues, "values are shared with the caller", "Ownership"},
	{scanSkipsKeys, "Scan skips every fifth key", "Scan"},
	{scanRepeatsCursor, "Scan starts at the cursor, not after it", "Scan"},
	{scanShortPages, "Scan returns limit-1 entries", "Scan"},
	{scanUnordered, "Scan returns a page in reverse", "Scan"},
	{scanShortOnDelete, "Scan lists keys, then reads them, dropping the deleted ones (a short page)", "ScanWhileWriting"},
	{scanTornEntries, "Scan reads revisions and values at different moments", "ScanWhileWriting"},
	{ignoresContext, "a done context is ignored", "Canceled"},
}

// TestCatchesBrokenStores runs, for each broken store, the check written to
// catch it, and requires a failure; the correct store must pass every check.
func TestCatchesBrokenStores(t *testing.T) {
	opts := Options{MaxValueSize: 1 << 17}.withDefaults()
	for _, c := range checks {
		if f := runCheck(t.Context(), c, newBroken(correct), opts); len(f) > 0 {
			t.Errorf("the correct store fails %s: %s", c.name, f[0])
		}
	}
	for _, m := range mutants {
		i := slices.IndexFunc(checks, func(c check) bool { return c.name == m.check })
		if f := runCheck(t.Context(), checks[i], newBroken(m.bug), opts); len(f) == 0 {
			t.Errorf("%s passes a store where %s", m.check, m.name)
		} else {
			t.Logf("%s catches %q: %s", m.check, m.name, f[0])
		}
	}
}

// broken is a map store with one bug.
type broken struct {
	bug  bug
	mu   sync.Mutex
	seq  uint64
	data map[string]replica.Entry
	// wrote is closed by the next write; tore says readTorn returned a
	// torn entry.
	wrote chan struct{}
	tore  bool
}

func newBroken(b bug) *broken { return &broken{bug: b, data: map[string]replica.Entry{}} }

func (s *broken) check(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil && s.bug != ignoresContext {
		return err
	}
	if key == "" && s.bug != acceptsEmptyKey {
		return replica.ErrInvalidKey
	}
	return nil
}

func (s *broken) key(k string) string {
	if s.bug == manglesKeys {
		return string([]rune(k))
	}
	return k
}

func (s *broken) copy(v []byte) []byte {
	if s.bug == sharesValues {
		return v
	}
	return append([]byte{}, v...)
}

func (s *broken) Get(ctx context.Context, key string) ([]byte, uint64, error) {
	if err := s.check(ctx, key); err != nil {
		return nil, 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.data[s.key(key)]
	if !ok || s.bug == emptyIsAbsent && len(e.Value) == 0 {
		return nil, 0, nil
	}
	return s.copy(e.Value), e.Rev, nil
}

func (s *broken) CompareAndSet(ctx context.Context, key string, value []byte, rev uint64) (uint64, error) {
	if err := s.check(ctx, key); err != nil {
		return 0, err
	}
	key = s.key(key)
	if s.bug == casNotAtomic {
		s.mu.Lock()
		cur := s.data[key].Rev
		s.mu.Unlock()
		if cur != rev {
			return 0, replica.ErrRevisionMismatch
		}
		time.Sleep(time.Millisecond) // the window another writer slips into
	} else {
		s.mu.Lock()
		defer s.mu.Unlock()
		if cur := s.data[key].Rev; cur != rev && s.bug != casIgnoresRev {
			return 0, fmt.Errorf("%w: %d, not %d", replica.ErrRevisionMismatch, cur, rev)
		}
	}
	if s.bug == casNotAtomic {
		s.mu.Lock()
		defer s.mu.Unlock()
	}
	if s.bug == truncatesValues && len(value) > 64<<10 {
		value = value[:64<<10]
	}
	s.seq++
	n := s.seq
	switch {
	case s.bug == updateKeepsRev && rev != 0:
		n = rev
	case s.bug == revRestartsAfterDelete:
		n = s.data[key].Rev + 1
	}
	s.data[key] = replica.Entry{Key: key, Value: s.copy(value), Rev: n}
	if s.wrote != nil {
		close(s.wrote)
		s.wrote = nil
	}
	return n, nil
}

func (s *broken) Delete(ctx context.Context, key string, rev uint64) error {
	if err := s.check(ctx, key); err != nil {
		return err
	}
	key = s.key(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.data[key]
	switch {
	case s.bug == deleteIgnoresRev && ok:
	case s.bug == deleteAtZeroDeletes && rev == 0:
	case !ok || e.Rev != rev || rev == 0:
		return replica.ErrRevisionMismatch
	}
	delete(s.data, key)
	return nil
}

func (s *broken) Scan(ctx context.Context, after string, limit int) ([]replica.Entry, error) {
	if err := ctx.Err(); err != nil && s.bug != ignoresContext {
		return nil, err
	}
	if limit < 1 {
		return nil, fmt.Errorf("limit %d", limit)
	}
	if s.bug == scanShortPages && limit > 1 {
		limit--
	}
	keys := s.sortedKeys(after)
	switch s.bug {
	case scanShortOnDelete:
		return s.readEach(keys[:min(limit, len(keys))]), nil
	case scanTornEntries:
		return s.readTorn(keys[:min(limit, len(keys))]), nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []replica.Entry
	for i, k := range keys {
		if len(out) == limit {
			break
		}
		if e, ok := s.data[k]; ok && !(s.bug == scanSkipsKeys && i%5 == 4) {
			out = append(out, replica.Entry{Key: k, Value: s.copy(e.Value), Rev: e.Rev})
		}
	}
	if s.bug == scanUnordered {
		slices.Reverse(out)
	}
	return out, nil
}

// sortedKeys lists the keys after after (or from it, for scanRepeatsCursor).
func (s *broken) sortedKeys(after string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var keys []string
	for k := range s.data {
		if k > after || s.bug == scanRepeatsCursor && k == after {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

// readEach reads listed keys one at a time, as a store without an ordered
// scan might, and drops those deleted meanwhile.
func (s *broken) readEach(keys []string) []replica.Entry {
	time.Sleep(time.Millisecond) // the window deletes slip into: a round trip of a networked store
	var out []replica.Entry
	for _, k := range keys {
		s.mu.Lock()
		e, ok := s.data[k]
		s.mu.Unlock()
		if ok {
			out = append(out, replica.Entry{Key: k, Value: s.copy(e.Value), Rev: e.Rev})
		}
	}
	return out
}

// readTorn reads every revision, then every value, letting writes slip in
// between. Until it has returned one torn entry it waits, between the two
// reads, for a write to change a key it read, so that the check sees one
// whatever the scheduler does (a single yield let the check pass this store
// once under load); when no write comes for quiet, it reads on.
func (s *broken) readTorn(keys []string) []replica.Entry {
	const quiet = 100 * time.Millisecond
	out := make([]replica.Entry, 0, len(keys))
	s.mu.Lock()
	for _, k := range keys {
		out = append(out, replica.Entry{Key: k, Rev: s.data[k].Rev})
	}
	for !s.tore && !s.torn(out) {
		wrote := s.wroteChan()
		s.mu.Unlock()
		select {
		case <-wrote:
			s.mu.Lock()
			continue
		case <-time.After(quiet):
		}
		s.mu.Lock()
		break
	}
	s.tore = s.tore || s.torn(out)
	defer s.mu.Unlock()
	for i := range out {
		out[i].Value = s.copy(s.data[out[i].Key].Value)
	}
	return out
}

// wroteChan returns a channel closed by the next write. The caller holds
// s.mu.
func (s *broken) wroteChan() chan struct{} {
	if s.wrote == nil {
		s.wrote = make(chan struct{})
	}
	return s.wrote
}

// torn reports whether a key of entries has changed since its revision was
// read. The caller holds s.mu.
func (s *broken) torn(entries []replica.Entry) bool {
	for _, e := range entries {
		if s.data[e.Key].Rev != e.Rev {
			return true
		}
	}
	return false
}
