package claim_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/harborpoint/concord/claim"
	"github.com/harborpoint/concord/replica"
)

// BenchmarkClaim measures a claim's whole life — Acquire, Commit, Release —
// against its baseline in the same run: the bare store operations it is
// made of (three reads and three compare-and-sets on a MemoryStore). The
// ratio is the cost of the claim logic and its encoding; on a real home
// store the round trips dominate both.
//
//	go test -run '^$' -bench Claim -benchmem -count 5 ./claim
func BenchmarkClaim(b *testing.B) {
	until := time.Now().Add(time.Hour)
	b.Run("bare-store", func(b *testing.B) {
		s := replica.NewMemoryStore()
		v := make([]byte, 40)
		b.ReportAllocs()
		for i := range b.N {
			key := fmt.Sprintf("cabin/C%d", i%1024)
			for range 3 {
				_, rev, _ := s.Get(bg, key)
				if _, err := s.CompareAndSet(bg, key, v, rev); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("acquire-commit-release", func(b *testing.B) {
		h, err := claim.NewHome(replica.NewMemoryStore(), claim.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for i := range b.N {
			name := fmt.Sprintf("cabin/C%d", i%1024)
			c, err := h.Acquire(bg, name, "H-8821", until)
			if err == nil {
				_, err = h.Commit(bg, name, "H-8821", c.Token, "B-3107")
			}
			if err == nil {
				_, err = h.Release(bg, name, "H-8821", c.Token)
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	})
}
