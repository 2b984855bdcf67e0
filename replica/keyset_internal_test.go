package replica

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"pgregory.net/rapid"
)

// TestKeySetMatchesSortedSlice runs random inserts, removals and pages of a
// keySet against a sorted slice of the same keys. Keys come from a space of
// 4,096 so that inserts repeat and removals find them; bulk inserts and
// removals of a few hundred keys at once make chunks split, empty and merge.
func TestKeySetMatchesSortedSlice(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var (
			s     keySet
			model []string
		)
		key := rapid.Custom(func(t *rapid.T) string {
			return fmt.Sprintf("k%04d", rapid.IntRange(0, 4095).Draw(t, "key"))
		})
		insert := func(t *rapid.T, k string) {
			i, found := slices.BinarySearch(model, k)
			if got := s.insert(k); got == found {
				t.Fatalf("insert(%q) = %v, and the key was in the set: %v", k, got, found)
			}
			if !found {
				model = slices.Insert(model, i, k)
			}
		}
		remove := func(t *rapid.T, k string) {
			i, found := slices.BinarySearch(model, k)
			if got := s.remove(k); got != found {
				t.Fatalf("remove(%q) = %v, and the key was in the set: %v", k, got, found)
			}
			if found {
				model = slices.Delete(model, i, i+1)
			}
		}
		t.Repeat(map[string]func(*rapid.T){
			"insert": func(t *rapid.T) { insert(t, key.Draw(t, "k")) },
			"remove": func(t *rapid.T) { remove(t, key.Draw(t, "k")) },
			"insert many": func(t *rapid.T) {
				r := rand.New(rand.NewPCG(rapid.Uint64().Draw(t, "seed"), 0))
				for range rapid.IntRange(1, 700).Draw(t, "n") {
					insert(t, fmt.Sprintf("k%04d", r.IntN(4096)))
				}
			},
			"remove many": func(t *rapid.T) {
				// Removes a run of neighbouring keys, as reaping does, so
				// that chunks empty and merge.
				if len(model) == 0 {
					return
				}
				from := rapid.IntRange(0, len(model)-1).Draw(t, "from")
				run := slices.Clone(model[from:min(len(model), from+rapid.IntRange(1, 700).Draw(t, "n"))])
				for _, k := range run {
					remove(t, k)
				}
			},
			"after": func(t *rapid.T) {
				k := key.Draw(t, "after")
				if rapid.Bool().Draw(t, "from the start") {
					k = ""
				}
				limit := rapid.IntRange(1, 1200).Draw(t, "limit")
				i, found := slices.BinarySearch(model, k)
				if found {
					i++
				}
				want := model[i:min(len(model), i+limit)]
				if got := s.after(k, limit); !slices.Equal(got, want) {
					t.Fatalf("after(%q, %d): %d keys, want %d: %v, want %v", k, limit, len(got), len(want), got, want)
				}
			},
			"": func(t *rapid.T) {
				if s.n != len(model) {
					t.Fatalf("%d keys, want %d", s.n, len(model))
				}
				for i, c := range s.chunks {
					if len(c) == 0 || len(c) > maxChunk {
						t.Fatalf("chunk %d holds %d keys", i, len(c))
					}
				}
			},
		})
	})
}

// TestMemoryStoreScansKeysWrittenInAnyOrder writes more keys than a chunk
// holds to a MemoryStore in random order, deletes some, and pages through
// the rest with Scan: every key once, in order.
func TestMemoryStoreScansKeysWrittenInAnyOrder(t *testing.T) {
	ctx := context.Background()
	m := NewMemoryStore()
	r := rand.New(rand.NewPCG(7, 11))
	var want []string
	for _, i := range r.Perm(5 * maxChunk) {
		k := fmt.Sprintf("key-%05d", i)
		rev, err := m.CompareAndSet(ctx, k, []byte(k), 0)
		if err != nil {
			t.Fatal(err)
		}
		if i%3 == 0 {
			if err := m.Delete(ctx, k, rev); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want = append(want, k)
	}
	slices.Sort(want)
	var got []string
	after := ""
	for {
		page, err := m.Scan(ctx, after, 97)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page {
			if string(e.Value) != e.Key {
				t.Fatalf("key %q holds %q", e.Key, e.Value)
			}
			got = append(got, e.Key)
		}
		if len(page) < 97 {
			break
		}
		after = page[len(page)-1].Key
	}
	if !slices.Equal(got, want) {
		t.Fatalf("scanned %d keys, want %d", len(got), len(want))
	}
}
