// Package dotmodel is the plain model that package version is tested
// against: causal histories are explicit sets of dots, and a key's sibling
// set keeps, for every stored value, its dot, its value and its whole causal
// history. Nothing here is compact or fast; every operation follows the
// definition directly, so that the compact structures of package version can
// be checked against it.
//
// The model issues dots the way [version.Clock] does: a write at replica r
// takes the counter max(counter of r in the clock's history, counter of r in
// the write's context) + 1, so both name the same write with the same dot.
package dotmodel
