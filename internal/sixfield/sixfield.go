// Package sixfield is the six-field record that the resolver's tests and
// the benchmarks (resolve, bench) merge: one field per kind of policy, and
// the same merge written by hand for this one type, the baseline the
// resolver's cost is stated against. It is test scaffolding, shared so that
// every benchmark measures the same record.
package sixfield

import (
	"github.com/harborpoint/concord/policy"
	"github.com/harborpoint/concord/resolve"
)

// Ticket is the six-field record.
type Ticket struct {
	Title    string             // replaceable text: LWW
	Tags     policy.Set[string] // additive: union
	Priority int                // only rises: max
	Owner    string             // set once: two owners is a conflict
	Urgent   bool               // enable wins
	Estimate int                // smallest estimate wins: min
}

// Fields binds each of Ticket's fields to the policy its meaning calls for.
func Fields() []resolve.Field[Ticket] {
	return []resolve.Field[Ticket]{
		resolve.Bind("title", func(t *Ticket) *string { return &t.Title }, policy.LWW[string]()),
		resolve.Bind("tags", func(t *Ticket) *policy.Set[string] { return &t.Tags }, policy.Union[string]()),
		resolve.Bind("priority", func(t *Ticket) *int { return &t.Priority }, policy.Max[int]()),
		resolve.Bind("owner", func(t *Ticket) *string { return &t.Owner }, policy.Once[string]()),
		resolve.Bind("urgent", func(t *Ticket) *bool { return &t.Urgent }, policy.EnableWins()),
		resolve.Bind("estimate", func(t *Ticket) *int { return &t.Estimate }, policy.Min[int]()),
	}
}

// Resolver is the resolver of Fields with opts; it panics on an error,
// which only a change to Fields can cause.
func Resolver(opts resolve.Options) *resolve.Resolver[Ticket] {
	r, err := resolve.New("ticket", Fields(), nil, opts)
	if err != nil {
		panic(err)
	}
	return r
}

// MergeByHand is the baseline: the policies of Fields written by hand for
// this one type, with no decisions recorded. It reports false where two
// owners conflict.
func MergeByHand(a, b resolve.Branch[Ticket]) (Ticket, bool) {
	var out Ticket
	if a.Stamp.Compare(b.Stamp) >= 0 {
		out.Title = a.Value.Title
	} else {
		out.Title = b.Value.Title
	}
	out.Tags = a.Value.Tags.Union(b.Value.Tags)
	out.Priority = max(a.Value.Priority, b.Value.Priority)
	switch {
	case a.Value.Owner == b.Value.Owner || b.Value.Owner == "":
		out.Owner = a.Value.Owner
	case a.Value.Owner == "":
		out.Owner = b.Value.Owner
	default:
		return out, false
	}
	out.Urgent = a.Value.Urgent || b.Value.Urgent
	out.Estimate = min(a.Value.Estimate, b.Value.Estimate)
	return out, true
}

// Equal reports whether t and o hold the same values.
func (t Ticket) Equal(o Ticket) bool {
	return t.Title == o.Title && t.Tags.Equal(o.Tags) && t.Priority == o.Priority &&
		t.Owner == o.Owner && t.Urgent == o.Urgent && t.Estimate == o.Estimate
}

// Dispatch is the dispatch floor: the merge of MergeByHand, field for
// field, reached the way a generic engine must reach it — each field
// through a function value (its accessor) and an interface (its merge
// rule), the records in memory the engine keeps on the heap, because
// whatever a function value or an interface method is handed escapes. It
// records no decisions and keeps no per-field stamps: the cost of generic
// dispatch alone, between the hand-written merge and the resolver. A
// Dispatch is not safe for concurrent use; the zero Dispatch is ready.
type Dispatch struct {
	a, b, out Ticket
}

// Merge merges a and b as MergeByHand does.
func (d *Dispatch) Merge(a, b resolve.Branch[Ticket]) (Ticket, bool) {
	d.a, d.b = a.Value, b.Value
	aLater := a.Stamp.Compare(b.Stamp) >= 0
	ok := true
	for _, f := range dispatchFields {
		ok = f(&d.out, &d.a, &d.b, aLater) && ok
	}
	out := d.out
	d.a, d.b, d.out = Ticket{}, Ticket{}, Ticket{}
	return out, ok
}

// dispatchRule merges one field's values into *out; false is a conflict.
type dispatchRule[F any] interface {
	merge(out, a, b *F, aLater bool) bool
}

// dispatchField merges one field of a and b into out.
type dispatchField func(out, a, b *Ticket, aLater bool) bool

// dispatchBind binds a field to its rule through its accessor.
func dispatchBind[F any](get func(*Ticket) *F, r dispatchRule[F]) dispatchField {
	return func(out, a, b *Ticket, aLater bool) bool { return r.merge(get(out), get(a), get(b), aLater) }
}

var dispatchFields = []dispatchField{
	dispatchBind[string](func(t *Ticket) *string { return &t.Title }, lwwRule[string]{}),
	dispatchBind[policy.Set[string]](func(t *Ticket) *policy.Set[string] { return &t.Tags }, unionRule{}),
	dispatchBind[int](func(t *Ticket) *int { return &t.Priority }, maxRule{}),
	dispatchBind[string](func(t *Ticket) *string { return &t.Owner }, onceRule{}),
	dispatchBind[bool](func(t *Ticket) *bool { return &t.Urgent }, enableRule{}),
	dispatchBind[int](func(t *Ticket) *int { return &t.Estimate }, minRule{}),
}

type (
	lwwRule[F any] struct{}
	unionRule      struct{}
	maxRule        struct{}
	minRule        struct{}
	onceRule       struct{}
	enableRule     struct{}
)

func (lwwRule[F]) merge(out, a, b *F, aLater bool) bool {
	if aLater {
		*out = *a
	} else {
		*out = *b
	}
	return true
}

func (unionRule) merge(out, a, b *policy.Set[string], _ bool) bool {
	*out = a.Union(*b)
	return true
}

func (maxRule) merge(out, a, b *int, _ bool) bool { *out = max(*a, *b); return true }

func (minRule) merge(out, a, b *int, _ bool) bool { *out = min(*a, *b); return true }

func (onceRule) merge(out, a, b *string, _ bool) bool {
	switch {
	case *a == *b || *b == "":
		*out = *a
	case *a == "":
		*out = *b
	default:
		return false
	}
	return true
}

func (enableRule) merge(out, a, b *bool, _ bool) bool { *out = *a || *b; return true }
