// Package inplace seals the in-place field merge that package policy's
// built-in policies offer package resolve beside Policy.MergeInto.
//
// The built-ins implement a method
//
//	MergeField(inplace.Key, out, a, b *F, sa, sb *version.Stamp) (policy.Verdict, bool, string, error)
//
// on their unexported types. It takes a Key, which code outside this module
// cannot name, so no other policy can implement the method by accident or
// on purpose, and the method is no part of package policy's API: a user's
// policy is always merged through MergeInto, and package resolve falls back
// to MergeInto for any policy without the method.
package inplace

// Key is the first parameter of the sealed method: only concord's own
// packages can name it.
type Key struct{}

// Reason is a built-in policy's reason for a decision, by index into
// Reasons: MergeField returns it rather than the text, so that package
// resolve records a decision in a few bytes that hold no pointer (a
// resolution's trail of decisions is then memory the collector never
// scans). The zero Reason is the empty text.
type Reason uint8

// Reasons holds the text of every Reason, index 0 the empty text. Package
// policy sets it when it is initialized, before any package that imports
// policy can merge; it never changes afterwards.
var Reasons []string
