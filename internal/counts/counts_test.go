package counts_test

import (
	"maps"
	"sync"
	"testing"

	"github.com/harborpoint/concord/internal/counts"
)

// TestMap: concurrent Adds are all counted; Get, Sum and Snapshot agree,
// and a snapshot is a copy.
func TestMap(t *testing.T) {
	var c counts.Map[string]
	if c.Get("a") != 0 || c.Snapshot() != nil || c.Sum(func(string) bool { return true }) != 0 {
		t.Fatal("the zero Map is not empty")
	}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for range 100 {
				c.Add([]string{"a", "b"}[i%2])
			}
		})
	}
	wg.Wait()
	snap := c.Snapshot()
	if want := map[string]uint64{"a": 400, "b": 400}; !maps.Equal(snap, want) {
		t.Fatalf("Snapshot = %v, want %v", snap, want)
	}
	snap["a"] = 0
	if c.Get("a") != 400 || c.Sum(func(k string) bool { return k == "b" }) != 400 || c.Sum(func(string) bool { return true }) != 800 {
		t.Fatalf("Get(a) = %d, Sum(b) = %d after the snapshot was changed", c.Get("a"), c.Sum(func(k string) bool { return k == "b" }))
	}
}
