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
