// Package merge gives concord's tests and law checkers the merges package
// resolve keeps to itself: bare branches merged in the canonical order
// ([Branches], or [Into] a resolution the caller keeps), or folded in a
// given order ([InOrder]) to show that the order never mattered.
package merge

import (
	"github.com/harborpoint/concord/internal/resolvehook"
	"github.com/harborpoint/concord/resolve"
)

// fn is the type of the merges the hook hands out.
type fn[T any] = func(*resolve.Resolver[T], []resolve.Branch[T]) (resolve.Resolution[T], error)

// into is the type of the hook's merge into a given resolution.
type into[T any] = func(*resolve.Resolver[T], []resolve.Branch[T], *resolve.Resolution[T]) error

// Branches merges concurrent branches of one record in the canonical
// (stamp) order, counting a repeated write once, as Resolver.Resolve merges
// siblings; the Resolution has no Version.
func Branches[T any](r *resolve.Resolver[T], bs []resolve.Branch[T]) (resolve.Resolution[T], error) {
	m, _, _ := resolvehook.Merges(r)
	return m.(fn[T])(r, bs)
}

// Into is Branches, into *res, whatever it held: a loop of merges keeps one
// resolution, where Branches copies each merge's out (a resolution is a few
// hundred bytes, its decisions inline, and the copies through the hook's
// frames cost a tenth of a six-field merge). *res escapes to the heap.
func Into[T any](r *resolve.Resolver[T], bs []resolve.Branch[T], res *resolve.Resolution[T]) error {
	_, _, m := resolvehook.Merges(r)
	return m.(into[T])(r, bs, res)
}

// InOrder folds branches in exactly the order given, with no sorting and no
// removal of repeats: law checkers fold in other orders to show that the
// policies are joins.
func InOrder[T any](r *resolve.Resolver[T], bs []resolve.Branch[T]) (resolve.Resolution[T], error) {
	_, m, _ := resolvehook.Merges(r)
	return m.(fn[T])(r, bs)
}
