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
		r.remember(resultKey{"k", fmt.Sprint(i)}, Record[string]{Key: "k", Value: fmt.Sprint(i)}, 10)
	}
	if r.results.len() != maxResults || len(r.results.order) != maxResults {
		t.Fatalf("%d results kept, bound %d", r.results.len(), maxResults)
	}
	if _, ok := r.result(resultKey{"k", "0"}); ok {
		t.Fatal("the oldest result was not forgotten")
	}
	// The last 100 took the slots of the first 100: each command still
	// finds its own result, and remembering again keeps the first.
	r.remember(resultKey{"k", "150"}, Record[string]{Key: "k", Value: "again"}, 10)
	for _, i := range []int{100, 150, maxResults - 1, maxResults, maxResults + 99} {
		if rec, ok := r.result(resultKey{"k", fmt.Sprint(i)}); !ok || rec.Value != fmt.Sprint(i) {
			t.Fatalf("command %d: result %q (found: %v)", i, rec.Value, ok)
		}
	}
	if r.results.n > maxResults {
		t.Fatalf("%d slots for %d results", r.results.n, maxResults)
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

	var held []heldKey
	for i := range 1000 { // many keys held at once share stripes
		lk, err := r.locks.lock(context.Background(), fmt.Sprint(i))
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, lk)
	}
	for i, lk := range held {
		r.locks.unlock(fmt.Sprint(i), lk)
	}
	for i := range r.locks.stripes {
		if s := &r.locks.stripes[i]; len(s.m) != 0 || s.lent.refs != 0 {
			t.Fatalf("stripe %d: %d key locks in its map, %d holders of its own, after every holder left", i, len(s.m), s.lent.refs)
		}
	}
}
