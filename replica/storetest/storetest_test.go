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
