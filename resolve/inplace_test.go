package resolve

import (
	"testing"

	"github.com/harborpoint/concord/policy"
)

// TestBuiltinsMergeInPlace checks that the built-in policies that offer an
// in-place merge still match the interface package resolve asks for: a
// change of the method's signature in package policy would otherwise send
// them through MergeInto unnoticed, slower but with the same results.
func TestBuiltinsMergeInPlace(t *testing.T) {
	for _, p := range []any{policy.LWW[string](), policy.Max[int](), policy.Min[int](), policy.Once[string](), policy.EnableWins(), policy.Union[string]()} {
		ok := false
		switch p := p.(type) {
		case policy.Policy[string]:
			_, ok = p.(inPlace[string])
		case policy.Policy[int]:
			_, ok = p.(inPlace[int])
		case policy.Policy[bool]:
			_, ok = p.(inPlace[bool])
		case policy.Policy[policy.Set[string]]:
			_, ok = p.(inPlace[policy.Set[string]])
		}
		if !ok {
			t.Errorf("%T does not merge in place", p)
		}
	}
}
