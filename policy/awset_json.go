package policy

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/harborpoint/concord/version"
)

// awsetJSON is the JSON form of an AWSet: its elements with the dots of their
// adds, and its causal context as a version token plus the cloud of dots.
type awsetJSON[E cmp.Ordered] struct {
	Elements []awsetEntryJSON[E] `json:"elements"`
	Context  string              `json:"context,omitempty"`
	Cloud    []string            `json:"cloud,omitempty"`
}

type awsetEntryJSON[E cmp.Ordered] struct {
	Element E        `json:"e"`
	Dots    []string `json:"dots"`
}

// ErrInvalidAWSet is wrapped by the error UnmarshalJSON returns for an
// encoding that is well-formed JSON but not a valid add-wins set.
var ErrInvalidAWSet = errors.New("policy: invalid add-wins set")

// MarshalJSON encodes s with its dots and causal context, so that it merges
// correctly after a round trip.
func (s AWSet[E]) MarshalJSON() ([]byte, error) {
	out := awsetJSON[E]{Elements: make([]awsetEntryJSON[E], len(s.entries))}
	for i, x := range s.entries {
		dots := make([]string, len(x.dots))
		for k, d := range x.dots {
			dots[k] = d.String()
		}
		out.Elements[i] = awsetEntryJSON[E]{Element: x.elem, Dots: dots}
	}
	if !s.known.IsZero() {
		out.Context = s.known.Token()
	}
	for _, d := range s.cloud {
		out.Cloud = append(out.Cloud, d.String())
	}
	return json.Marshal(out)
}

// UnmarshalJSON decodes what MarshalJSON wrote. It checks the set's
// invariants — elements sorted and unique, each with sorted unique valid
// dots that its context covers, a cloud of sorted dots the vector does not
// cover — and leaves s unchanged on error.
func (s *AWSet[E]) UnmarshalJSON(data []byte) error {
	var in awsetJSON[E]
	if err := json.Unmarshal(data, &in); err != nil {
		return err
	}
	var out AWSet[E]
	if in.Context != "" {
		known, err := version.ParseToken(in.Context, version.Limits{})
		if err != nil {
			return fmt.Errorf("%w: context: %w", ErrInvalidAWSet, err)
		}
		out.known = known
	}
	cloud, err := parseDots(in.Cloud)
	if err != nil {
		return err
	}
	for _, d := range cloud {
		if out.known.Contains(d) {
			return fmt.Errorf("%w: cloud dot %v is covered by the context", ErrInvalidAWSet, d)
		}
	}
	out.known, out.cloud = compact(out.known, cloud)
	if len(in.Elements) > 0 {
		out.entries = make([]awEntry[E], len(in.Elements))
	}
	for i, x := range in.Elements {
		if i > 0 && cmp.Compare(in.Elements[i-1].Element, x.Element) >= 0 {
			return fmt.Errorf("%w: elements not sorted and unique at %v", ErrInvalidAWSet, x.Element)
		}
		dots, err := parseDots(x.Dots)
		if err != nil {
			return err
		}
		if len(dots) == 0 {
			return fmt.Errorf("%w: element %v has no dots", ErrInvalidAWSet, x.Element)
		}
		for _, d := range dots {
			if !out.seen(d) {
				return fmt.Errorf("%w: dot %v of %v is not in the context", ErrInvalidAWSet, d, x.Element)
			}
		}
		out.entries[i] = awEntry[E]{elem: x.Element, dots: dots}
	}
	*s = out
	return nil
}

// parseDots parses a sorted list of unique dots.
func parseDots(ss []string) ([]version.Dot, error) {
	if len(ss) == 0 {
		return nil, nil
	}
	dots := make([]version.Dot, len(ss))
	for i, t := range ss {
		d, err := version.ParseDot(t)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalidAWSet, err)
		}
		if i > 0 && dots[i-1].Compare(d) >= 0 {
			return nil, fmt.Errorf("%w: dots not sorted and unique at %v", ErrInvalidAWSet, d)
		}
		dots[i] = d
	}
	return dots, nil
}
