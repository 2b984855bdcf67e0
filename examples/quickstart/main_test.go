package main

import (
	"testing"

	"pgregory.net/rapid"

	"github.com/harborpoint/concord/policy"
	"github.com/harborpoint/concord/resolve/resolvetest"
)

// TestTicketResolver checks the resolver's convergence laws on random
// histories of writes, replications and stale contexts.
func TestTicketResolver(t *testing.T) {
	res, err := newResolver()
	if err != nil {
		t.Fatal(err)
	}
	word := rapid.SampledFrom([]string{"", "a", "b"})
	resolvetest.Check(t, resolvetest.Config[Ticket]{
		Resolver: res,
		Value: rapid.Custom(func(t *rapid.T) Ticket {
			return Ticket{
				Title:    word.Draw(t, "title"),
				Tags:     policy.NewSet(rapid.SliceOfN(word, 0, 2).Draw(t, "tags")...),
				Priority: rapid.IntRange(0, 3).Draw(t, "priority"),
				Owner:    word.Draw(t, "owner"),
			}
		}),
		Equal: func(a, b Ticket) bool {
			return a.Title == b.Title && a.Tags.Equal(b.Tags) && a.Priority == b.Priority && a.Owner == b.Owner
		},
	})
}
