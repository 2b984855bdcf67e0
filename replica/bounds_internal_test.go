package replica

import (
	"context"
	"fmt"
	"testing"

	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

// TestRememberedResultsAreBounded: the command results a replica remembers
// are bounded by count and by the stored size of their records, oldest
// forgotten first; per-key locks go when their last holder leaves.
func TestRememberedResultsAreBounded(t *testing.T) {
	res, err := resolve.New("note", []resolve.Field[string]{}, nil, resolve.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := New(version.MustID("lisbon"), NewMemoryStore(), res, Options[string]{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range maxResults + 100 {
		r.remember(resultKey{"k", fmt.Sprint(i)}, Record[string]{Key: "k"}, 10)
	}
	if r.results.len() != maxResults || len(r.results.order) != maxResults {
		t.Fatalf("%d results kept, bound %d", r.results.len(), maxResults)
	}
	if _, ok := r.result(resultKey{"k", "0"}); ok {
		t.Fatal("the oldest result was not forgotten")
	}
	for i := range 100 {
		r.remember(resultKey{"big", fmt.Sprint(i)}, Record[string]{Key: "big"}, 1<<20)
	}
	if r.results.bytes > maxResultBytes {
		t.Fatalf("%d bytes of results kept, bound %d", r.results.bytes, maxResultBytes)
	}
	if _, ok := r.result(resultKey{"big", "99"}); !ok {
		t.Fatal("the newest result was forgotten")
	}

	for i := range 1000 {
		lk, err := r.locks.lock(context.Background(), fmt.Sprint(i))
		if err != nil {
			t.Fatal(err)
		}
		r.locks.unlock(fmt.Sprint(i), lk)
	}
	if len(r.locks.m) != 0 || len(r.locks.free) > maxFreeLocks {
		t.Fatalf("%d key locks held after every holder left, %d free", len(r.locks.m), len(r.locks.free))
	}
}
