package splitmix_test

import (
	"fmt"

	"github.com/harborpoint/concord/internal/splitmix"
)

// The first outputs of the splitmix64 generator seeded with 0 — Mix of the
// seed plus each multiple of the golden gamma before it — are the
// reference values of Vigna's splitmix64.c.
func ExampleMix() {
	for i := range uint64(3) {
		fmt.Printf("%#016x\n", splitmix.Mix(i*0x9e3779b97f4a7c15))
	}
	// Output:
	// 0xe220a8397b1dcdaf
	// 0x6e789e6aa1b965f4
	// 0x06c45d188009454f
}
