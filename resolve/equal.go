package resolve

import (
	"reflect"

	"github.com/harborpoint/concord/policy"
)

// equality returns how a binding compares values of F, decided once when
// the field is bound, or nil when F offers no equality that is safe to use.
// In order of preference:
//
//  1. the policy's own, when it implements [policy.Equaler];
//  2. F's method Equal(F) bool (on F or *F), such as time.Time's;
//  3. == when F is comparable and == cannot panic: F is not an interface
//     and holds no interface (an interface holding a map, as decoded JSON
//     does, would make == panic on data from outside the process).
//
// Only the third case looks at F through package reflect, and only here,
// when the field is bound; the merge path calls the returned function.
func equality[F any](p policy.Policy[F]) func(a, b F) bool {
	if e, ok := p.(policy.Equaler[F]); ok {
		return e.Equal
	}
	var zero F
	if _, ok := any(zero).(interface{ Equal(F) bool }); ok {
		return func(a, b F) bool { return any(a).(interface{ Equal(F) bool }).Equal(b) }
	}
	if _, ok := any(&zero).(interface{ Equal(F) bool }); ok {
		return func(a, b F) bool { return any(&a).(interface{ Equal(F) bool }).Equal(b) }
	}
	if safeComparable(reflect.TypeFor[F]()) {
		return func(a, b F) bool { return any(a) == any(b) }
	}
	return nil
}

// safeComparable reports whether == on values of t is defined and never
// panics.
func safeComparable(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Interface:
		return false
	case reflect.Array:
		return safeComparable(t.Elem())
	case reflect.Struct:
		for i := range t.NumField() {
			if !safeComparable(t.Field(i).Type) {
				return false
			}
		}
		return true
	}
	return t.Comparable()
}
