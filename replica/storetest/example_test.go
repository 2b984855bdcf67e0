package storetest_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/replica/storetest"
)

// Check runs the same checks outside a test. MemoryStore passes; a store
// whose Delete ignores the revision does not.
func ExampleCheck() {
	ctx := context.Background()
	err := storetest.Check(ctx, func() (replica.Store, error) { return replica.NewMemoryStore(), nil }, storetest.Options{})
	fmt.Println("MemoryStore:", err)

	err = storetest.Check(ctx, func() (replica.Store, error) { return blindDelete{replica.NewMemoryStore()}, nil }, storetest.Options{})
	fmt.Println(strings.Split(err.Error(), "\n")[0])
	// Output:
	// MemoryStore: <nil>
	// storetest: NoABA: round 1: Delete with revision 1 from before a delete: err = <nil>, want one wrapping replica.ErrRevisionMismatch
}

// blindDelete deletes whatever revision it is given.
type blindDelete struct{ *replica.MemoryStore }

func (s blindDelete) Delete(ctx context.Context, key string, _ uint64) error {
	_, rev, err := s.Get(ctx, key)
	if err != nil || rev == 0 {
		return err
	}
	return s.MemoryStore.Delete(ctx, key, rev)
}
