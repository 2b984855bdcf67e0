package replica_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/harborpoint/concord/hold"
	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

// casHook is a Store that runs a function just before the next
// compare-and-set of a key: another writer getting there first.
type casHook struct {
	replica.Store
	mu     sync.Mutex
	before map[string]func()
	after  map[string]func() // run once by a Get of the key, after it read
}

// Get reads key, then runs the function armed for it by armGet, if any,
// before it returns the bytes already read: a write in the middle of a
// read.
func (s *casHook) Get(ctx context.Context, key string) ([]byte, uint64, error) {
	data, rev, err := s.Store.Get(ctx, key)
	s.fire(&s.after, key)
	return data, rev, err
}

// armGet makes f run after the next Get of key has read it.
func (s *casHook) armGet(key string, f func()) { s.set(&s.after, key, f) }

func (s *casHook) CompareAndSet(ctx context.Context, key string, value []byte, rev uint64) (uint64, error) {
	s.fire(&s.before, key)
	return s.Store.CompareAndSet(ctx, key, value, rev)
}

// arm makes f run before the next compare-and-set of key.
func (s *casHook) arm(key string, f func()) { s.set(&s.before, key, f) }

// set arms f for key in *hooks (before or after).
func (s *casHook) set(hooks *map[string]func(), key string, f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if *hooks == nil {
		*hooks = map[string]func(){}
	}
	(*hooks)[key] = f
}

// fire disarms the function armed for key in *hooks, if any, and runs it
// (outside the lock: it may write through the store).
func (s *casHook) fire(hooks *map[string]func(), key string) {
	s.mu.Lock()
	f := (*hooks)[key]
	delete(*hooks, key)
	s.mu.Unlock()
	if f != nil {
		f()
	}
}

// disarm drops the functions that did not run.
func (s *casHook) disarm() {
	s.mu.Lock()
	clear(s.before)
	clear(s.after)
	s.mu.Unlock()
}

// shared is one replica run by two Replica values over one store — a and
// alt, two processes of lisbon — and a peer, baltimore, with its own store.
// a's store is hooked, so that alt can write a key in the middle of a's
// write of it.
type shared struct {
	store     *replica.MemoryStore
	hook      *casHook
	a, alt, p *replica.Replica[hold.Hold]
}

func newShared(t tb) *shared {
	t.Helper()
	res := hold.Resolver(resolve.Options{})
	lis, iad := version.MustID("lisbon"), version.MustID("baltimore")
	clock := version.NewHLC(version.HLCOptions{}, version.Timestamp{})
	s := &shared{store: replica.NewMemoryStore()}
	s.hook = &casHook{Store: s.store}
	var err error
	opts := replica.Options[hold.Hold]{CommandKeys: hold.CommandKeys, Clock: clock}
	if s.a, err = replica.New(lis, s.hook, res, opts); err != nil {
		t.Fatalf("New: %v", err)
	}
	if s.alt, err = replica.New(lis, s.store, res, opts); err != nil {
		t.Fatalf("New: %v", err)
	}
	if s.p, err = replica.New(iad, replica.NewMemoryStore(), res, replica.Options[hold.Hold]{CommandKeys: hold.CommandKeys}); err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

// syncA runs a session from a to the peer, which must succeed.
func (s *shared) syncA(t tb) replica.SyncReport {
	t.Helper()
	rep, err := s.a.Sync(bg, replica.Local(s.p))
	if err != nil || rep.Skipped > 0 {
		t.Fatalf("Sync: %v, %+v", err, rep)
	}
	return rep
}

// checkConverged fails unless the peer holds every key of the shared store
// at the store's context, and nothing else. The store is read through alt:
// reading it through a would take its states into a's index.
func (s *shared) checkConverged(t tb) {
	t.Helper()
	mine, err := s.alt.Digest(bg)
	if err != nil {
		t.Fatalf("Digest: %v", err)
	}
	theirs, err := s.p.Digest(bg)
	if err != nil {
		t.Fatalf("Digest: %v", err)
	}
	for k, c := range mine {
		if !theirs[k].Equal(c) {
			t.Fatalf("%s: lisbon's store holds %v, baltimore %v after a session", k, c, theirs[k])
		}
	}
	for k, c := range theirs {
		if _, ok := mine[k]; !ok {
			t.Fatalf("%s: baltimore holds %v, lisbon nothing after a session", k, c)
		}
	}
}

// TestAnotherValuesWriteReachesPeersWithoutRescan is the simulator's find:
// alt writes a key in the middle of a's conditional write of it, so a's
// compare-and-set fails, its retry reads alt's state and refuses the write
// (the token is stale now). a stored nothing, but it read alt's state, so
// its index holds it and its next session sends it — no Rescan.
func TestAnotherValuesWriteReachesPeersWithoutRescan(t *testing.T) {
	s := newShared(t)
	rec, err := s.a.Create(bg, "H-1", hold.New("H-1", "C1", "", minutes(10)))
	require.NoError(t, err)
	s.syncA(t) // builds a's index; both hold the created record
	s.hook.arm("H-1", func() {
		_, err := s.alt.Blind(bg, "H-1", "note", hold.NoteEdit("by the other process"))
		require.NoError(t, err)
	})
	_, err = s.a.Update(bg, "H-1", rec.Token, func(h *hold.Hold, _ replica.Write) error {
		h.Touch("ag-1")
		return nil
	})
	var pf *replica.PreconditionFailed
	require.ErrorAs(t, err, &pf, "the retry finds alt's write: the token is stale")
	rep := s.syncA(t)
	require.Equal(t, 1, rep.Sent, "a sends alt's state")
	s.checkConverged(t)
	got, err := s.p.Get(bg, "H-1")
	require.NoError(t, err)
	require.Equal(t, "by the other process", got.Value.Note)
}

// TestReadsTakeInAnotherValuesWrites: every read path of a takes in a
// state alt stored — Get, State, Export, Apply of a copy a already holds,
// and the peer's fetch (Deltas) — so that a's next session offers it.
func TestReadsTakeInAnotherValuesWrites(t *testing.T) {
	reads := map[string]func(s *shared, key string) error{
		"Get":    func(s *shared, key string) error { _, err := s.a.Get(bg, key); return err },
		"State":  func(s *shared, key string) error { _, err := s.a.State(bg, key); return err },
		"Export": func(s *shared, key string) error { _, err := s.a.Export(bg, key); return err },
		"Apply": func(s *shared, key string) error {
			d, err := s.alt.Export(bg, key)
			if err == nil {
				_, err = s.a.Apply(bg, key, d)
			}
			return err
		},
		"Deltas": func(s *shared, key string) error {
			_, errs := s.a.Deltas(bg, []replica.Want{{Key: key}})
			return errors.Join(keyErrs(errs)...)
		},
	}
	for name, read := range reads {
		t.Run(name, func(t *testing.T) {
			s := newShared(t)
			_, err := s.a.Create(bg, "H-1", hold.New("H-1", "C1", "", minutes(10)))
			require.NoError(t, err)
			s.syncA(t)
			_, err = s.alt.Blind(bg, "H-1", "note", hold.NoteEdit("by the other process"))
			require.NoError(t, err)
			require.NoError(t, read(s, "H-1"))
			require.Equal(t, 1, s.syncA(t).Sent)
			s.checkConverged(t)
		})
	}
}

func keyErrs(errs []replica.KeyError) []error {
	out := make([]error, len(errs))
	for i := range errs {
		out[i] = &errs[i]
	}
	return out
}

// TestSharedStoreConvergesWithoutRescan: after any interleaving of writes
// through a and alt — alt's in the middle of a's writes (a's retry path),
// or on their own and then read by a — and the peer's own writes, one
// session from a brings the peer to every key of the shared store, and a
// second session finds nothing to exchange. No Rescan is ever called.
func TestSharedStoreConvergesWithoutRescan(t *testing.T) {
	keys := []string{"H-1", "H-2", "H-3"}
	rapid.Check(t, func(t *rapid.T) {
		s := newShared(t)
		tokens := map[string]string{} // the last token a client of a saw
		n := 0
		altWrite := func(key string) {
			n++
			_, _ = s.alt.Blind(bg, key, "note", hold.NoteEdit(fmt.Sprint("alt ", n)))
		}
		aWrite := func(t *rapid.T, key string) {
			n++
			var rec replica.Record[hold.Hold]
			var err error
			switch rapid.IntRange(0, 3).Draw(t, "style") {
			case 0:
				rec, err = s.a.Create(bg, key, hold.New(key, "C1", "", minutes(10)))
			case 1:
				rec, err = s.a.Blind(bg, key, "note", hold.NoteEdit(fmt.Sprint("a ", n)))
			case 2:
				rec, err = s.a.Update(bg, key, tokens[key], func(h *hold.Hold, _ replica.Write) error {
					h.Touch(fmt.Sprint("ag-", n))
					return nil
				})
			case 3:
				rec, err = s.a.Delete(bg, key, tokens[key])
			}
			if err == nil {
				tokens[key] = rec.Token
			}
		}
		t.Repeat(map[string]func(*rapid.T){
			"a writes": func(t *rapid.T) { aWrite(t, rapid.SampledFrom(keys).Draw(t, "key")) },
			"alt writes in the middle of a's write": func(t *rapid.T) {
				key := rapid.SampledFrom(keys).Draw(t, "key")
				s.hook.arm(key, func() { altWrite(key) })
				aWrite(t, key)
				s.hook.disarm()
			},
			"alt writes, a reads": func(t *rapid.T) {
				key := rapid.SampledFrom(keys).Draw(t, "key")
				altWrite(key)
				if rec, err := s.a.Get(bg, key); err == nil {
					tokens[key] = rec.Token
				}
			},
			"a reads": func(t *rapid.T) {
				key := rapid.SampledFrom(keys).Draw(t, "key")
				if rec, err := s.a.Get(bg, key); err == nil {
					tokens[key] = rec.Token
				}
			},
			"peer writes": func(t *rapid.T) {
				key := rapid.SampledFrom(keys).Draw(t, "key")
				if _, err := s.p.Create(bg, key, hold.New(key, "C2", "", minutes(20))); err != nil {
					_, _ = s.p.Blind(bg, key, "note", hold.NoteEdit("peer"))
				}
			},
			"session": func(t *rapid.T) { s.syncA(t) },
		})
		s.syncA(t)
		s.checkConverged(t)
		if rep := s.syncA(t); rep.Rounds != 1 || rep.Sent+rep.Received > 0 {
			t.Fatalf("a second session still exchanged states: %+v", rep)
		}
	})
}
