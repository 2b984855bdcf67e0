package nats_test

import (
	"fmt"
	"sync/atomic"
	"testing"

	concordnats "github.com/harborpoint/concord/adapters/nats"
	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/replica/storetest"
)

// TestStoreConformance holds Store to the replica.Store contract. Every
// check gets a region of its own in one bucket, so an empty store; the
// Restart check reopens it as a new Store over the same region.
func TestStoreConformance(t *testing.T) {
	c := newCluster(t, "lisbon")
	var n atomic.Int64
	storetest.Run(t, func(t *testing.T) replica.Store {
		s, err := concordnats.NewStore(c.nodes["lisbon"].kv, fmt.Sprintf("check%d", n.Add(1)))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}, storetest.Options{
		// The server's max_payload (1 MiB) bounds a message: subject and
		// headers need a little of it.
		MaxValueSize: 1<<20 - 1<<10,
		ValidKey:     concordnats.ValidKey,
		// A restarted process makes a new Store over its region.
		Reopen: func(s replica.Store) (replica.Store, error) {
			return concordnats.NewStore(c.nodes["lisbon"].kv, s.(*concordnats.Store).Region())
		},
	})
}
