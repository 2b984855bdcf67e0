package dvv_test

import (
	"fmt"

	"github.com/harborpoint/concord/internal/dvv"
	"github.com/harborpoint/concord/version"
)

// A DVV names its write, so descends is a single lookup.
func ExampleDVV_Compare() {
	lis := version.MustID("lisbon")
	iad := version.MustID("baltimore")
	v18 := version.MustVector("{lisbon:18}")

	extend, _ := dvv.New(version.Dot{ID: lis, Counter: 19}, v18)
	confirm, _ := dvv.New(version.Dot{ID: iad, Counter: 1}, v18)
	fmt.Println(extend.Compare(confirm))
	// Output: concurrent
}
