package resolve_test

import (
	"time"

	"github.com/harborpoint/concord/policy"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

// ticket is a six-field record used by the tests and benchmarks.
type ticket struct {
	Title    string             // replaceable text: LWW
	Tags     policy.Set[string] // additive: union
	Priority int                // only rises: max
	Owner    string             // set once: two owners is a conflict
	Urgent   bool               // enable wins
	Estimate int                // smallest estimate wins: min
}

func ticketFields() []resolve.Field[ticket] {
	return []resolve.Field[ticket]{
		resolve.Bind("title", func(t *ticket) *string { return &t.Title }, policy.LWW[string]()),
		resolve.Bind("tags", func(t *ticket) *policy.Set[string] { return &t.Tags }, policy.Union[string]()),
		resolve.Bind("priority", func(t *ticket) *int { return &t.Priority }, policy.Max[int]()),
		resolve.Bind("owner", func(t *ticket) *string { return &t.Owner }, policy.Once[string]()),
		resolve.Bind("urgent", func(t *ticket) *bool { return &t.Urgent }, policy.EnableWins()),
		resolve.Bind("estimate", func(t *ticket) *int { return &t.Estimate }, policy.Min[int]()),
	}
}

func ticketResolver() *resolve.Resolver[ticket] {
	r, err := resolve.New("ticket", ticketFields(), nil, resolve.Options{SkewWindow: 500 * time.Millisecond})
	if err != nil {
		panic(err)
	}
	return r
}

func at(sec int64) version.Timestamp { return version.Timestamp{Wall: sec * int64(time.Second)} }
