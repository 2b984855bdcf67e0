package replica_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/harborpoint/concord/hold"
	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

// TestConcurrentWritesApplyAndSyncConverge runs many goroutines at once on
// three replicas with separate stores — blind writes, conditional writes,
// conflict resolutions, commands (new and retried keys), replicated Apply
// and anti-entropy — then heals and checks that the replicas converged and
// that no acknowledged write vanished. Run it with -race.
func TestConcurrentWritesApplyAndSyncConverge(t *testing.T) {
	const (
		workers = 3 // per replica
		ops     = 60
		nkeys   = 4
	)
	c := newCluster(t, "lisbon", "baltimore", "sydney")
	l := newLedger()
	keys := make([]string, nkeys)
	for i := range keys {
		keys[i] = fmt.Sprintf("H-%d", i)
		rec, err := c.rs[0].Create(bg, keys[i], hold.New(keys[i], "C"+keys[i], "desk", minutes(10)))
		require.NoError(t, err)
		l.ack(t, keys[i], rec)
	}
	c.heal(t)

	var wg sync.WaitGroup
	errc := make(chan error, len(c.rs)*workers)
	for ri := range c.rs {
		for g := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errc <- worker(nonFatal{t}, c, l, ri, g, keys, ops)
			}()
		}
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		require.NoError(t, err)
	}

	c.heal(t)
	c.checkConverged(t)
	for _, r := range c.rs {
		l.check(t, r)
	}
	t.Logf("counters: %v", c.counters.Snapshot())
}

// worker runs ops random operations at replica ri and returns the first
// unexpected error.
func worker(t nonFatal, c *cluster, l *ledger, ri, g int, keys []string, ops int) error {
	rng := rand.New(rand.NewPCG(uint64(ri), uint64(g)))
	r := c.rs[ri]
	type first struct{ key, token string }
	applied := map[string]first{} // idempotency key → first result
	var idems []string
	expected := func(err error) bool {
		return errors.Is(err, resolve.ErrConflict) || errors.Is(err, replica.ErrPreconditionFailed) ||
			errors.Is(err, hold.ErrIllegalTransition) || errors.Is(err, hold.ErrWouldShorten)
	}
	for i := range ops {
		key := keys[rng.IntN(len(keys))]
		switch op := rng.IntN(10); {
		case op < 2: // blind note edit
			rec, err := r.Blind(bg, key, "note", hold.NoteEdit(fmt.Sprintf("note %d/%d/%d", ri, g, i)))
			if err != nil {
				if expected(err) {
					continue
				}
				return fmt.Errorf("Blind: %w", err)
			}
			l.ack(t, key, rec)
		case op < 5: // conditional: read, then write with the token
			cur, err := r.Get(bg, key)
			if err != nil {
				return fmt.Errorf("Get: %w", err)
			}
			if cur.Conflict != nil {
				b := cur.Branches[rng.IntN(len(cur.Branches))]
				rec, err := r.ResolveConflict(bg, key, cur.Token, b.Value)
				if err != nil {
					if expected(err) {
						continue
					}
					return fmt.Errorf("ResolveConflict: %w", err)
				}
				l.ack(t, key, rec)
				continue
			}
			var dot version.Dot
			kind := rng.IntN(4)
			rec, err := r.Update(bg, key, cur.Token, func(h *hold.Hold, w replica.Write) error {
				dot = w.Dot
				switch kind {
				case 0:
					return h.Release()
				case 1:
					h.Touch(fmt.Sprintf("upd-%d-%d-%d", ri, g, i))
					return nil
				default:
					return h.Extend(h.ExpiresAt.Add(time.Duration(1+rng.IntN(30)) * time.Minute))
				}
			})
			if err != nil {
				if expected(err) {
					continue
				}
				return fmt.Errorf("Update: %w", err)
			}
			if d := l.ack(t, key, rec); d != dot {
				return fmt.Errorf("Update: record's dot %v, the write's %v", d, dot)
			}
		case op < 8: // command, new or retried
			idem := fmt.Sprintf("cmd-%d-%d-%d", ri, g, i)
			if len(idems) > 0 && rng.IntN(3) == 0 {
				idem = idems[rng.IntN(len(idems))]
				key = applied[idem].key
			}
			var dot version.Dot
			rec, replayed, err := r.Command(bg, key, idem, func(h *hold.Hold, w replica.Write) error {
				dot = w.Dot
				h.Touch("ag-" + idem)
				return nil
			})
			if err != nil {
				if expected(err) {
					continue
				}
				return fmt.Errorf("Command: %w", err)
			}
			f, seen := applied[idem]
			switch {
			case seen && !replayed:
				return fmt.Errorf("Command %s on %s applied twice", idem, key)
			case seen && rec.Token != f.token:
				return fmt.Errorf("Command %s retried: token %s, first result had %s", idem, rec.Token, f.token)
			case !seen && replayed:
				return fmt.Errorf("Command %s replayed on first use", idem)
			case !seen:
				if d := l.ack(t, key, rec); d != dot {
					return fmt.Errorf("Command: record's dot %v, the write's %v", d, dot)
				}
				applied[idem] = first{key, rec.Token}
				idems = append(idems, idem)
			}
		case op < 9: // replicate one key from another replica
			from := c.rs[(ri+1+rng.IntN(len(c.rs)-1))%len(c.rs)]
			data, err := from.Export(bg, key)
			if err != nil {
				return fmt.Errorf("Export: %w", err)
			}
			if _, err := r.Apply(bg, key, data); err != nil {
				return fmt.Errorf("Apply: %w", err)
			}
		default: // anti-entropy with another replica
			other := c.rs[(ri+1+rng.IntN(len(c.rs)-1))%len(c.rs)]
			if err := replica.AntiEntropy(bg, r, other); err != nil {
				return fmt.Errorf("AntiEntropy: %w", err)
			}
		}
	}
	return nil
}
