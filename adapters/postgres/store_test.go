package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	concordpg "github.com/harborpoint/concord/adapters/postgres"
	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/replica/storetest"
)

var tables atomic.Int64

// newStore creates a table of its own on pool and returns its Store.
func newStore(t testing.TB, pool *pgxpool.Pool) *concordpg.Store {
	t.Helper()
	s, err := concordpg.New(pool, newTable(t, pool))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// newTable creates a table of its own on pool and returns its name.
func newTable(t testing.TB, pool *pgxpool.Pool) string {
	t.Helper()
	table := fmt.Sprintf("records_%d", tables.Add(1))
	if err := concordpg.CreateSchema(context.Background(), pool, table); err != nil {
		t.Fatal(err)
	}
	return table
}

// TestStoreConformance holds Store to the replica.Store contract, each
// check on a table of its own. The Restart check reopens the table as a
// restarted process does: a new pool and a new Store over it.
func TestStoreConformance(t *testing.T) {
	srv := requireServer(t)
	pool := srv.pool(t, 0)
	type table struct {
		t    *testing.T
		name string
	}
	opened := map[replica.Store]table{}
	storetest.Run(t, func(t *testing.T) replica.Store {
		tb := table{t, newTable(t, pool)}
		s, err := concordpg.New(pool, tb.name)
		if err != nil {
			t.Fatal(err)
		}
		opened[s] = tb
		return s
	}, storetest.Options{ValidKey: concordpg.ValidKey, Reopen: func(s replica.Store) (replica.Store, error) {
		tb := opened[s]
		return concordpg.New(srv.pool(tb.t, 2), tb.name)
	}})
}

// TestTableNames refuses names that are not plain lower-case identifiers,
// before any SQL is sent.
func TestTableNames(t *testing.T) {
	for _, bad := range []string{"", "1abc", "Holds", "a-b", `a"b`, "a b", "x;drop table y", "public.holds", "é"} {
		if _, err := concordpg.New(&pgxpool.Pool{}, bad); !errors.Is(err, concordpg.ErrInvalidTable) {
			t.Errorf("New with table %q: err = %v, want ErrInvalidTable", bad, err)
		}
		if _, err := concordpg.Schema(bad); !errors.Is(err, concordpg.ErrInvalidTable) {
			t.Errorf("Schema(%q): err = %v, want ErrInvalidTable", bad, err)
		}
	}
	if _, err := concordpg.New(nil, "holds"); err == nil {
		t.Error("New with a nil pool succeeded")
	}
}

// TestContention has 32 goroutines increment one counter through the pool
// (8 connections) by get and compare-and-set until each of their 25
// increments succeeds: exactly 800 compare-and-sets succeed, every other
// one is a revision mismatch, and the counter ends at 800.
func TestContention(t *testing.T) {
	const goroutines, increments = 32, 25
	s := newStore(t, requireServer(t).pool(t, 8))
	ctx := context.Background()
	var wins, losses atomic.Int64
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range goroutines {
		wg.Go(func() {
			<-start
			for done := 0; done < increments; {
				v, rev, err := s.Get(ctx, "counter")
				if err != nil {
					t.Error(err)
					return
				}
				n := 0
				if rev != 0 {
					n, _ = strconv.Atoi(string(v))
				}
				_, err = s.CompareAndSet(ctx, "counter", []byte(strconv.Itoa(n+1)), rev)
				switch {
				case err == nil:
					wins.Add(1)
					done++
				case errors.Is(err, replica.ErrRevisionMismatch):
					losses.Add(1)
				default:
					t.Error(err)
					return
				}
			}
		})
	}
	close(start)
	wg.Wait()
	v, _, err := s.Get(ctx, "counter")
	if err != nil {
		t.Fatal(err)
	}
	if wins.Load() != goroutines*increments || string(v) != strconv.Itoa(goroutines*increments) {
		t.Errorf("%d successful compare-and-sets and a counter of %s, want %d and %d", wins.Load(), v, goroutines*increments, goroutines*increments)
	}
	t.Logf("%d successes, %d mismatches", wins.Load(), losses.Load())
}
