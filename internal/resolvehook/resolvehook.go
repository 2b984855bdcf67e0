// Package resolvehook lets concord's own checkers reach two merges package
// resolve keeps unexported: merging bare branches (without the sibling
// clock that resolve.Resolver.Resolve reads) and folding them in a given
// order. Package resolve sets the hooks when it is initialized; use them
// through package internal/merge, which gives them their types back.
//
// Users merge one way — Resolve, Apply and Write — and never see these.
package resolvehook

// The hooks. r is a *resolve.Resolver[T] and bs a []resolve.Branch[T]; the
// result is a resolve.Resolution[T].
var (
	// Merge merges bs in the canonical order, as Resolve does.
	Merge func(r, bs any) (any, error)
	// InOrder folds bs in exactly the order given, repeats included.
	InOrder func(r, bs any) (any, error)
)
