package replica

import (
	"fmt"
	"testing"

	"pgregory.net/rapid"
)

// TestRecentBounds drives recent with puts and forgets of keys and sizes
// around its bounds, checking every 64 operations and at the end that it
// holds at most maxRecent
// states and maxRecentBytes of them (counted exactly), that a state it
// returns is the last one put for its key, and that a forgotten or
// oversized one is not returned.
func TestRecentBounds(t *testing.T) {
	// recent counts lengths only: every state of one size shares its bytes.
	sizes := map[int][]byte{}
	for _, n := range []int{0, 10, 1 << 20, maxRecentBytes/8 + 1} {
		sizes[n] = make([]byte, n)
	}
	rapid.Check(t, func(t *rapid.T) {
		var c recent
		last := map[string]remembered{}
		keys := rapid.IntRange(0, 2*maxRecent)
		size := rapid.SampledFrom([]int{0, 10, 1 << 20, maxRecentBytes/8 + 1})
		ops := rapid.IntRange(1, 2500).Draw(t, "ops")
		for i := range ops {
			key := fmt.Sprint(keys.Draw(t, "key"))
			if rapid.IntRange(0, 9).Draw(t, "op") == 0 {
				c.forget(key)
				delete(last, key)
			} else {
				s := remembered{data: sizes[size.Draw(t, "size")], rev: uint64(i)}
				c.put(key, s.data, s.rev)
				last[key] = s
				if len(s.data) > maxRecentBytes/8 {
					delete(last, key)
				}
			}
			if i%64 != 0 && i != ops-1 {
				continue // the full check scans every state
			}
			total := 0
			for k, s := range c.m {
				total += len(s.data)
				if want, ok := last[k]; !ok || want.rev != s.rev {
					t.Fatalf("%q: remembered revision %d, last put %v (ok %v)", k, s.rev, want.rev, ok)
				}
			}
			if total != c.bytes || len(c.m) > maxRecent || c.bytes > maxRecentBytes {
				t.Fatalf("%d states of %d bytes (counted %d)", len(c.m), total, c.bytes)
			}
		}
	})
}
