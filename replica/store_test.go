package replica_test

import (
	"testing"

	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/replica/storetest"
)

// TestMemoryStore holds MemoryStore to the Store contract.
func TestMemoryStore(t *testing.T) {
	storetest.Run(t, func(*testing.T) replica.Store { return replica.NewMemoryStore() }, storetest.Options{})
}
