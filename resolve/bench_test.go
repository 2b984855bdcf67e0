package resolve_test

import (
	"testing"

	"github.com/harborpoint/concord/internal/merge"
	"github.com/harborpoint/concord/internal/sixfield"
	"github.com/harborpoint/concord/policy"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

// twoTickets returns two concurrent branches of a six-field record.
func twoTickets() []resolve.Branch[ticket] {
	return []resolve.Branch[ticket]{
		{Value: ticket{Title: "lisbon", Tags: policy.NewSet("desk", "phone"), Priority: 2, Estimate: 5},
			Stamp: version.Stamp{Time: at(3), Dot: version.Dot{ID: lisbon, Counter: 19}}},
		{Value: ticket{Title: "baltimore", Tags: policy.NewSet("desk", "web"), Priority: 1, Owner: "ana", Urgent: true, Estimate: 8},
			Stamp: version.Stamp{Time: at(2), Dot: version.Dot{ID: baltimore, Counter: 1}}},
	}
}

// twoSiblings returns the state of a record whose two siblings are
// twoTickets, written concurrently at lisbon and baltimore.
func twoSiblings(tb testing.TB) resolve.Siblings[ticket] {
	bs := twoTickets()
	s, _, err := resolve.Siblings[ticket]{}.Update(version.Vector{}, bs[0], lisbon)
	if err != nil {
		tb.Fatal(err)
	}
	if s, _, err = s.Update(version.Vector{}, bs[1], baltimore); err != nil {
		tb.Fatal(err)
	}
	return s
}

// BenchmarkMergeSixFields resolves two siblings of a six-field record with
// the resolver.
func BenchmarkMergeSixFields(b *testing.B) {
	r := ticketResolver()
	bs := twoTickets()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := merge.Branches(r, bs); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMergeSixFieldsCausal is BenchmarkMergeSixFields with branches
// that know what their writers had seen (every write's branch does), so
// that every last-writer-wins field asks whether the other branch's writer
// saw its value: the cost of causality before stamps.
func BenchmarkMergeSixFieldsCausal(b *testing.B) {
	r := ticketResolver()
	bs := twoTickets()
	bs[0].Seen = version.MustVector("lisbon:18")
	bs[1].Seen = version.MustVector("lisbon:10")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := merge.Branches(r, bs); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMergeSixFieldsByHand is the baseline: the same merge written by
// hand for this one record type, with no decisions recorded.
func BenchmarkMergeSixFieldsByHand(b *testing.B) {
	bs := twoTickets()
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := sixfield.MergeByHand(bs[0], bs[1]); !ok {
			b.Fatal("conflict")
		}
	}
}

// BenchmarkResolveTwoSiblings resolves a record of two concurrent siblings
// with Resolve, as a reader of the record does: the branches taken out of
// the clock, their merge, the merged Version.
func BenchmarkResolveTwoSiblings(b *testing.B) {
	r := ticketResolver()
	s := twoSiblings(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Resolve(s); err != nil {
			b.Fatal(err)
		}
	}
}
