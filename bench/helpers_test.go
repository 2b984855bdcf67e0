package bench

import (
	"fmt"
	"testing"
)

// Implementation names, as they appear after "impl=" in benchmark names.
const (
	implConcord   = "concord"
	implSyncthing = "syncthing"
	implGoVector  = "govector"
	implAalpar    = "aalpar"
	implGrove     = "grove"
	implBaseline  = "baseline"
	// implDispatch is RecordMerge's dispatch floor: the hand-written merge's
	// rules reached through function values and interfaces, as a generic
	// engine must reach them (sixfield.Dispatch).
	implDispatch = "dispatch"
)

// matrix runs fn as the sub-benchmark impl=IMPL[/case=CASE][/n=N] for every
// implementation, case and size; nil cases or sizes leave that level out.
// fn builds its implementation's inputs from the shared shapes, then loops.
func matrix(b *testing.B, impls, cases []string, sizes []int, fn func(b *testing.B, impl, c string, n int)) {
	if cases == nil {
		cases = []string{""}
	}
	if sizes == nil {
		sizes = []int{0}
	}
	for _, impl := range impls {
		b.Run("impl="+impl, func(b *testing.B) {
			for _, c := range cases {
				inner := func(b *testing.B) {
					for _, n := range sizes {
						if n == 0 {
							b.ReportAllocs()
							fn(b, impl, c, n)
							continue
						}
						b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
							b.ReportAllocs()
							fn(b, impl, c, n)
						})
					}
				}
				if c == "" {
					inner(b)
				} else {
					b.Run("case="+c, inner)
				}
			}
		})
	}
}

func checkOrder(b *testing.B, impl string, got, want Order) {
	b.Helper()
	if got != want {
		b.Fatalf("%s: order %d, want %d", impl, got, want)
	}
}
