// Package resolvehook lets concord's own checkers reach two merges package
// resolve keeps unexported: merging bare branches (without the sibling
// clock that resolve.Resolver.Resolve reads) and folding them in a given
// order. Package resolve sets the hook when it is initialized; use it
// through package internal/merge, which gives the merges their types back.
//
// Users merge one way — Resolve, Apply and Write — and never see these.
package resolvehook

// Merges returns the merges of r, a *resolve.Resolver[T], as func values:
// merge and inOrder of type
//
//	func(*resolve.Resolver[T], []resolve.Branch[T]) (resolve.Resolution[T], error)
//
// and into of type
//
//	func(*resolve.Resolver[T], []resolve.Branch[T], *resolve.Resolution[T]) error
//
// merge merges the branches in the canonical order, as Resolve does, and
// into does the same into a resolution the caller keeps (a benchmark's
// loop, which then copies no resolution out of every merge); inOrder folds
// them in exactly the order given, repeats included. The
// branches and the resolution never pass through an interface, so a merge
// through the hook allocates what the resolver's own merge allocates and
// no more (a slice or a resolution boxed in an interface would be one
// allocation each).
var Merges func(r any) (merge, inOrder, into any)
