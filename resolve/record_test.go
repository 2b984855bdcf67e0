package resolve_test

import (
	"time"

	"github.com/harborpoint/concord/internal/sixfield"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

// ticket is the six-field record of the tests and benchmarks.
type ticket = sixfield.Ticket

func ticketFields() []resolve.Field[ticket] { return sixfield.Fields() }

func ticketResolver() *resolve.Resolver[ticket] {
	return sixfield.Resolver(resolve.Options{SkewWindow: 500 * time.Millisecond})
}

func at(sec int64) version.Timestamp { return version.Timestamp{Wall: sec * int64(time.Second)} }
