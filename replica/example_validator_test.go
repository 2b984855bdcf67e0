package replica_test

import (
	"fmt"
	"time"

	"github.com/harborpoint/concord/hold"
	"github.com/harborpoint/concord/replica"
)

// A codec that is also a Validator checks a replicated value without
// building it: Apply uses it to store a state that supersedes its own
// without decoding the record. hold's binary codec is one.
func ExampleValidator() {
	var codec replica.Codec[hold.Hold] = hold.Codec{}
	v, ok := codec.(replica.Validator)
	fmt.Println("validator:", ok)

	data, err := codec.Append(nil, hold.New("H-1", "C7", "desk", time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC)))
	if err != nil {
		panic(err)
	}
	fmt.Println("whole:", v.Validate(data))
	fmt.Println("truncated:", v.Validate(data[:len(data)-1]) != nil)
	// Output:
	// validator: true
	// whole: <nil>
	// truncated: true
}
