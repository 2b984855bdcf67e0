package storetest_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/replica/storetest"
)

// A store's own test runs the kit, each check as a subtest. This one
// declares that the store refuses keys with a space.
func TestSpacelessStore(t *testing.T) {
	storetest.Run(t, func(*testing.T) replica.Store { return spaceless{replica.NewMemoryStore()} }, storetest.Options{
		ValidKey: func(k string) bool { return !strings.Contains(k, " ") },
	})
}

// spaceless refuses keys with a space.
type spaceless struct{ *replica.MemoryStore }

func (s spaceless) check(key string) error {
	if strings.Contains(key, " ") {
		return fmt.Errorf("spaceless: %q: %w", key, replica.ErrInvalidKey)
	}
	return nil
}

func (s spaceless) Get(ctx context.Context, key string) ([]byte, uint64, error) {
	if err := s.check(key); err != nil {
		return nil, 0, err
	}
	return s.MemoryStore.Get(ctx, key)
}

func (s spaceless) CompareAndSet(ctx context.Context, key string, value []byte, rev uint64) (uint64, error) {
	if err := s.check(key); err != nil {
		return 0, err
	}
	return s.MemoryStore.CompareAndSet(ctx, key, value, rev)
}

func (s spaceless) Delete(ctx context.Context, key string, rev uint64) error {
	if err := s.check(key); err != nil {
		return err
	}
	return s.MemoryStore.Delete(ctx, key, rev)
}

// lowering is a FloorStore whose floor goes down as well as up.
type lowering struct {
	*replica.MemoryStore
	floor uint64
}

func (s *lowering) CounterFloor(context.Context) (uint64, error) { return s.floor, nil }

func (s *lowering) RaiseCounterFloor(_ context.Context, n uint64) error {
	s.floor = n
	return nil
}

// TestCatchesAFloorThatGoesDown: the Floor check fails a FloorStore whose
// floor can be lowered, and only that check.
func TestCatchesAFloorThatGoesDown(t *testing.T) {
	err := storetest.Check(context.Background(), func() (replica.Store, error) {
		return &lowering{MemoryStore: replica.NewMemoryStore()}, nil
	}, storetest.Options{})
	if err == nil || !strings.Contains(err.Error(), "storetest: Floor: ") || strings.Count(err.Error(), "storetest: ") != strings.Count(err.Error(), "storetest: Floor: ") {
		t.Fatalf("Check = %v; want failures of the Floor check only", err)
	}
}

// unordered is a HorizonStore whose ScanHorizons ignores its cursor.
type unordered struct{ *replica.MemoryStore }

func (s unordered) ScanHorizons(ctx context.Context, _ string, limit int) ([]replica.Entry, error) {
	return s.MemoryStore.ScanHorizons(ctx, "", limit)
}

// TestCatchesHorizonsThatDoNotPage: the Horizons check fails a
// HorizonStore whose ScanHorizons ignores its cursor, and only that check.
func TestCatchesHorizonsThatDoNotPage(t *testing.T) {
	err := storetest.Check(context.Background(), func() (replica.Store, error) {
		return unordered{replica.NewMemoryStore()}, nil
	}, storetest.Options{})
	if err == nil || !strings.Contains(err.Error(), "storetest: Horizons: ") || strings.Count(err.Error(), "storetest: ") != strings.Count(err.Error(), "storetest: Horizons: ") {
		t.Fatalf("Check = %v; want failures of the Horizons check only", err)
	}
}

// TestRestart runs the Restart check on a MemoryStore "reopened" as
// itself: a new Replica value over the same storage.
func TestRestart(t *testing.T) {
	storetest.Run(t, func(*testing.T) replica.Store { return replica.NewMemoryStore() }, storetest.Options{
		Reopen: func(s replica.Store) (replica.Store, error) { return s, nil },
	})
}

// TestCatchesARestartThatLosesHorizons: the Restart check fails a store
// whose reopening keeps the records and the counter floor but not the
// horizons, and only that check.
func TestCatchesARestartThatLosesHorizons(t *testing.T) {
	err := storetest.Check(context.Background(), func() (replica.Store, error) { return replica.NewMemoryStore(), nil }, storetest.Options{
		Reopen: func(s replica.Store) (replica.Store, error) {
			ctx := context.Background()
			floor, err := s.(replica.FloorStore).CounterFloor(ctx)
			if err != nil {
				return nil, err
			}
			again := replica.NewMemoryStore()
			return again, again.RaiseCounterFloor(ctx, floor) // no records are left to copy
		},
	})
	if err == nil || !strings.Contains(err.Error(), "storetest: Restart: ") || strings.Count(err.Error(), "storetest: ") != strings.Count(err.Error(), "storetest: Restart: ") {
		t.Fatalf("Check = %v; want failures of the Restart check only", err)
	}
}
