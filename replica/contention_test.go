package replica_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/harborpoint/concord/hold"
	"github.com/harborpoint/concord/replica"
)

// TestCommandContention runs many goroutines issuing commands with distinct
// idempotency keys on one key of one replica, each adding its own agency.
// Every acknowledged command's effect must be in the final record (the
// compare-and-set loop lost nothing), and none may fail with ErrContention.
func TestCommandContention(t *testing.T) {
	const (
		goroutines = 32
		commands   = 10
	)
	c := newCluster(t, "lisbon")
	r := c.rs[0]
	_, err := r.Create(bg, "H-1", hold.New("H-1", "C1", "", minutes(10)))
	require.NoError(t, err)

	errs := touchConcurrently(r, "H-1", goroutines, commands)
	require.Empty(t, errs, "%d of %d commands failed", len(errs), goroutines*commands)

	rec, err := r.Get(bg, "H-1")
	require.NoError(t, err)
	require.Len(t, rec.Branches, 1)
	for g := range goroutines {
		for i := range commands {
			idem := fmt.Sprintf("k-%d-%d", g, i)
			require.True(t, rec.Value.Agencies.Has("ag-"+idem), "effect of %s lost", idem)
			require.True(t, rec.Value.Commands.Has(idem), "key %s lost", idem)
		}
	}
	require.Equal(t, goroutines*commands, rec.Value.Commands.Len())
}

// touchConcurrently runs goroutines at once, each issuing commands commands
// on key of r, command i of goroutine g with idempotency key "k-g-i" adding
// agency "ag-k-g-i", and returns the errors; a command replayed on its first
// use is one.
func touchConcurrently(r *replica.Replica[hold.Hold], key string, goroutines, commands int) []error {
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range commands {
				idem := fmt.Sprintf("k-%d-%d", g, i)
				_, replayed, err := r.Command(bg, key, idem, func(h *hold.Hold, _ replica.Write) error {
					h.Touch("ag-" + idem)
					return nil
				})
				if err == nil && replayed {
					err = fmt.Errorf("%s replayed on first use", idem)
				}
				if err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	return errs
}

// TestConcurrentRetriesOfOneCommand sends the same command (one idempotency
// key) from many goroutines at once while other goroutines keep writing the
// record: exactly one applies, and every retry returns that first result.
func TestConcurrentRetriesOfOneCommand(t *testing.T) {
	const (
		rounds  = 20
		retries = 8
		writers = 2
	)
	c := newCluster(t, "lisbon")
	r := c.rs[0]
	_, err := r.Create(bg, "H-1", hold.New("H-1", "C1", "", minutes(10)))
	require.NoError(t, err)
	for round := range rounds {
		idem := fmt.Sprintf("k-%d", round)
		type result struct {
			token    string
			replayed bool
			err      error
		}
		results := make([]result, retries)
		var wg sync.WaitGroup
		stop := make(chan struct{})
		var writersWG sync.WaitGroup
		for w := range writers {
			writersWG.Add(1)
			go func() {
				defer writersWG.Done()
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					if _, err := r.Blind(bg, "H-1", "note", hold.NoteEdit(fmt.Sprintf("%d/%d", w, i))); err != nil {
						t.Errorf("Blind: %v", err)
						return
					}
				}
			}()
		}
		for i := range retries {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rec, replayed, err := r.Command(bg, "H-1", idem, func(h *hold.Hold, _ replica.Write) error {
					h.Touch("ag-" + idem)
					return nil
				})
				results[i] = result{rec.Token, replayed, err}
			}()
		}
		wg.Wait()
		close(stop)
		writersWG.Wait()
		applied := 0
		var first string
		for _, res := range results {
			require.NoError(t, res.err)
			if !res.replayed {
				applied++
				first = res.token
			}
		}
		require.Equal(t, 1, applied, "round %d: the command applied %d times", round, applied)
		for i, res := range results {
			require.Equal(t, first, res.token, "round %d: retry %d returned another result than the first", round, i)
		}
	}
}

// TestContentionAcrossReplicaValuesSharingAStore: two Replica values of one
// replica over one store (two processes of one region) take no lock in
// common, so their writes meet only at the store's compare-and-set; commands
// from both must all be present at the end.
func TestContentionAcrossReplicaValuesSharingAStore(t *testing.T) {
	const (
		goroutines = 8 // per Replica value
		commands   = 10
	)
	c := newCluster(t, "lisbon")
	c.rs = append(c.rs, nil)
	c.ids = append(c.ids, c.ids[0])
	c.stores = append(c.stores, c.stores[0])
	c.restart(t, 1)
	_, err := c.rs[0].Create(bg, "H-1", hold.New("H-1", "C1", "", minutes(10)))
	require.NoError(t, err)
	var wg sync.WaitGroup
	for ri, r := range c.rs {
		for g := range goroutines {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range commands {
					idem := fmt.Sprintf("k-%d-%d-%d", ri, g, i)
					_, _, err := r.Command(bg, "H-1", idem, func(h *hold.Hold, _ replica.Write) error {
						h.Touch("ag-" + idem)
						return nil
					})
					assert.NoError(t, err)
				}
			}()
		}
	}
	wg.Wait()
	rec, err := c.rs[1].Get(bg, "H-1")
	require.NoError(t, err)
	require.Len(t, rec.Branches, 1)
	require.Equal(t, len(c.rs)*goroutines*commands, rec.Value.Agencies.Len(), "every command's effect is present")
	require.EqualValues(t, len(c.rs)*goroutines*commands+1, rec.Context.Get(c.ids[0]))
}

// TestLocalWritersTakeTurns: the writers of one Replica value take turns on
// a key, so their compare-and-set never loses to each other — not even with
// a single attempt allowed.
func TestLocalWritersTakeTurns(t *testing.T) {
	const (
		goroutines = 16
		commands   = 10
	)
	c := newCluster(t, "lisbon")
	r, err := replica.New(c.ids[0], c.stores[0], c.res, replica.Options[hold.Hold]{CommandKeys: hold.CommandKeys, MaxAttempts: 1})
	require.NoError(t, err)
	_, err = r.Create(bg, "H-1", hold.New("H-1", "C1", "", minutes(10)))
	require.NoError(t, err)
	require.Empty(t, touchConcurrently(r, "H-1", goroutines, commands))
	rec, err := r.Get(bg, "H-1")
	require.NoError(t, err)
	require.Equal(t, goroutines*commands, rec.Value.Agencies.Len())
}
