package policy

import (
	"cmp"
	"encoding/json"
	"fmt"
	"iter"
	"slices"
	"strings"
	"unicode/utf8"
)

// Set is an immutable set of ordered elements, kept as a sorted slice.
// Elements are compared with [cmp.Compare], so a NaN equals every other NaN.
//
// The zero Set is the empty set, ready to use. Methods never change a Set;
// Add and Remove return new sets. A Set is safe for concurrent use. Compare
// sets with [Set.Equal], not ==.
//
// A Set encodes to JSON as a sorted array; decoding accepts any array (it
// sorts and removes duplicates) and null (the empty set).
type Set[E cmp.Ordered] struct {
	s []E // sorted, no duplicates; nil when empty
}

// NewSet returns the set of the given elements; duplicates are dropped.
func NewSet[E cmp.Ordered](elems ...E) Set[E] {
	if len(elems) == 0 {
		return Set[E]{}
	}
	s := slices.Clone(elems)
	slices.SortFunc(s, cmp.Compare[E])
	s = slices.CompactFunc(s, func(a, b E) bool { return cmp.Compare(a, b) == 0 })
	return Set[E]{s: slices.Clip(s)}
}

func (s Set[E]) search(e E) (int, bool) {
	return slices.BinarySearchFunc(s.s, e, cmp.Compare[E])
}

// Has reports whether e is in s.
func (s Set[E]) Has(e E) bool {
	_, ok := s.search(e)
	return ok
}

// Len returns the number of elements in s.
func (s Set[E]) Len() int { return len(s.s) }

// Add returns s with e added. It returns s itself when e is already present.
func (s Set[E]) Add(e E) Set[E] {
	i, ok := s.search(e)
	if ok {
		return s
	}
	out := make([]E, 0, len(s.s)+1)
	out = append(out, s.s[:i]...)
	out = append(out, e)
	out = append(out, s.s[i:]...)
	return Set[E]{s: out}
}

// Remove returns s without e. It returns s itself when e is absent.
func (s Set[E]) Remove(e E) Set[E] {
	i, ok := s.search(e)
	if !ok {
		return s
	}
	if len(s.s) == 1 {
		return Set[E]{}
	}
	out := make([]E, 0, len(s.s)-1)
	out = append(out, s.s[:i]...)
	out = append(out, s.s[i+1:]...)
	return Set[E]{s: out}
}

// Union returns the set of elements in s or o (or both).
func (s Set[E]) Union(o Set[E]) Set[E] {
	switch {
	case len(o.s) == 0:
		return s
	case len(s.s) == 0:
		return o
	}
	out := make([]E, 0, len(s.s)+len(o.s))
	i, j := 0, 0
	for i < len(s.s) && j < len(o.s) {
		switch c := cmp.Compare(s.s[i], o.s[j]); {
		case c < 0:
			out = append(out, s.s[i])
			i++
		case c > 0:
			out = append(out, o.s[j])
			j++
		default:
			out = append(out, s.s[i])
			i++
			j++
		}
	}
	out = append(out, s.s[i:]...)
	out = append(out, o.s[j:]...)
	return Set[E]{s: out}
}

// All returns an iterator over the elements of s in ascending order.
func (s Set[E]) All() iter.Seq[E] {
	return func(yield func(E) bool) {
		for _, e := range s.s {
			if !yield(e) {
				return
			}
		}
	}
}

// Elements returns the elements of s in ascending order, in a new slice that
// the caller owns. It returns nil for the empty set.
func (s Set[E]) Elements() []E { return slices.Clone(s.s) }

// Equal reports whether s and o hold the same elements.
func (s Set[E]) Equal(o Set[E]) bool {
	return slices.EqualFunc(s.s, o.s, func(a, b E) bool { return cmp.Compare(a, b) == 0 })
}

// String returns the elements in braces, such as "{Lisbon-Desk Porto-Web}".
func (s Set[E]) String() string {
	var b strings.Builder
	b.WriteByte('{')
	for i, e := range s.s {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprint(&b, e)
	}
	b.WriteByte('}')
	return b.String()
}

// MarshalJSON encodes s as a JSON array in ascending order; the empty set is [].
func (s Set[E]) MarshalJSON() ([]byte, error) {
	if len(s.s) == 0 {
		return []byte("[]"), nil
	}
	return json.Marshal(s.s)
}

// UnmarshalJSON decodes a JSON array (or null, the empty set) into s.
// Duplicates are dropped and the order of the array does not matter.
func (s *Set[E]) UnmarshalJSON(data []byte) error {
	if p, ok := any(s).(*Set[string]); ok {
		// Sets of strings are the common case (agencies, command keys):
		// read an array of plain strings directly, as encoding/json would.
		if elems, ok := plainStrings(data); ok {
			*p = Set[string]{s: sortedSet(elems)}
			return nil
		}
	}
	var elems []E
	if err := json.Unmarshal(data, &elems); err != nil {
		return fmt.Errorf("policy: decoding set: %w", err)
	}
	*s = Set[E]{s: sortedSet(elems)}
	return nil
}

// sortedSet sorts elems in place and drops repeats; nil when empty.
func sortedSet[E cmp.Ordered](elems []E) []E {
	if len(elems) == 0 {
		return nil
	}
	if !slices.IsSortedFunc(elems, cmp.Compare[E]) {
		slices.SortFunc(elems, cmp.Compare[E])
	}
	return slices.Clip(slices.CompactFunc(elems, func(a, b E) bool { return cmp.Compare(a, b) == 0 }))
}

// plainStrings reads a JSON array of strings that hold no escapes, no
// control characters and only valid UTF-8 — exactly what encoding/json
// reads them as — and reports false for anything else, which the caller
// then decodes with encoding/json.
func plainStrings(data []byte) ([]string, bool) {
	i := skipSpace(data, 0)
	if i == len(data) || data[i] != '[' {
		return nil, false
	}
	i = skipSpace(data, i+1)
	var out []string
	if i < len(data) && data[i] == ']' {
		return out, skipSpace(data, i+1) == len(data)
	}
	for {
		if i == len(data) || data[i] != '"' {
			return nil, false
		}
		j := i + 1
		for j < len(data) && data[j] != '"' {
			if data[j] == '\\' || data[j] < 0x20 {
				return nil, false
			}
			j++
		}
		if j == len(data) || !utf8.Valid(data[i+1:j]) {
			return nil, false
		}
		out = append(out, string(data[i+1:j]))
		i = skipSpace(data, j+1)
		switch {
		case i == len(data):
			return nil, false
		case data[i] == ']':
			return out, skipSpace(data, i+1) == len(data)
		case data[i] != ',':
			return nil, false
		}
		i = skipSpace(data, i+1)
	}
}

// skipSpace returns the index of the first byte of data at or after i that
// is not JSON whitespace.
func skipSpace(data []byte, i int) int {
	for i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r') {
		i++
	}
	return i
}

// Union returns the grow-only set union policy, named "union": the merge of
// two branches holds every element of either. It suits additive membership,
// such as the agencies that touched a hold, where no branch ever means
// "remove"; for removals use [AddWins].
//
// Equal sets merge as [Same]; different sets as [Combined], even when one
// contains the other. The result carries the later of the two stamps.
func Union[E cmp.Ordered]() Policy[Set[E]] { return unionPolicy[E]{} }

type unionPolicy[E cmp.Ordered] struct{}

func (unionPolicy[E]) Name() string { return "union" }

// Equal implements [Equaler].
func (unionPolicy[E]) Equal(a, b Set[E]) bool { return a.Equal(b) }

// MergeInto implements [Policy].
func (p unionPolicy[E]) MergeInto(out *Branch[Set[E]], d *Decision, a, b *Branch[Set[E]]) error {
	if a.Value.Equal(b.Value) {
		sameInto(out, d, p.Name(), a, b, reasons[rEqualSets])
		return nil
	}
	*out = Branch[Set[E]]{Value: a.Value.Union(b.Value), Stamp: later(a.Stamp, b.Stamp)}
	*d = Decision{Policy: p.Name(), Outcome: Combined, Reason: reasons[rSetUnion]}
	return nil
}
