package policy

import (
	"cmp"
	"encoding/json"
	"fmt"
	"iter"
	"slices"
	"strings"
	"time"

	"github.com/harborpoint/concord/version"
)

// Applied is the set of idempotency keys of the commands applied to a
// record, each with the time of the write that applied it (the wall time of
// its hybrid-logical-clock stamp). It is what a replica checks to apply a
// retried command once, and it is bounded by a [Horizon]: [Applied.Prune]
// forgets the keys that are too old, or too many, relative to the newest key
// in the set — a rule that depends on nothing but the set, so every replica
// that prunes the same set forgets the same keys.
//
// The zero Applied is empty, ready to use. Methods never change an Applied;
// they return new ones. An Applied is safe for concurrent use. Compare with
// [Applied.Equal], not ==.
//
// An Applied encodes to JSON as an array of {"key", "at"} objects sorted by
// key, "at" in RFC 3339 with nanoseconds, and to a compact canonical binary
// form ([Applied.AppendBinary]), the one package replica stores.
type Applied struct {
	e []appliedKey // sorted by key, unique
}

type appliedKey struct {
	key string
	at  int64 // Unix nanoseconds
}

// AppliedKey is one key of an [Applied] set and the time of the write that
// applied it.
type AppliedKey struct {
	Key string
	At  time.Time
}

// NewApplied returns the set of the given keys; a key given twice keeps its
// later time.
func NewApplied(keys ...AppliedKey) Applied {
	e := make([]appliedKey, len(keys))
	for i, k := range keys {
		e[i] = appliedKey{k.Key, k.At.UnixNano()}
	}
	if !slices.IsSortedFunc(e, func(x, y appliedKey) int { return strings.Compare(x.key, y.key) }) {
		slices.SortStableFunc(e, func(x, y appliedKey) int { return strings.Compare(x.key, y.key) })
	}
	out := e[:0]
	for _, x := range e {
		if n := len(out); n > 0 && out[n-1].key == x.key {
			out[n-1].at = max(out[n-1].at, x.at)
			continue
		}
		out = append(out, x)
	}
	if len(out) == 0 {
		return Applied{}
	}
	return Applied{e: slices.Clip(out)}
}

// Has reports whether key is in a.
func (a Applied) Has(key string) bool {
	_, ok := a.search(key)
	return ok
}

// Len returns the number of keys in a.
func (a Applied) Len() int { return len(a.e) }

func (a Applied) search(key string) (int, bool) {
	return slices.BinarySearchFunc(a.e, key, func(x appliedKey, k string) int { return strings.Compare(x.key, k) })
}

// Add returns a with key applied at time at (of the write that applied
// it). A key already present keeps the later of its two times.
func (a Applied) Add(key string, at version.Timestamp) Applied {
	i, ok := a.search(key)
	if ok {
		if a.e[i].at >= at.Wall {
			return a
		}
		out := slices.Clone(a.e)
		out[i].at = at.Wall
		return Applied{e: out}
	}
	out := make([]appliedKey, 0, len(a.e)+1)
	out = append(out, a.e[:i]...)
	out = append(out, appliedKey{key, at.Wall})
	out = append(out, a.e[i:]...)
	return Applied{e: out}
}

// Keys returns the keys in order, in a new slice.
func (a Applied) Keys() []string {
	out := make([]string, len(a.e))
	for i, x := range a.e {
		out[i] = x.key
	}
	return out
}

// All returns an iterator over the keys in order, with their times.
func (a Applied) All() iter.Seq2[string, time.Time] {
	return func(yield func(string, time.Time) bool) {
		for _, x := range a.e {
			if !yield(x.key, time.Unix(0, x.at).UTC()) {
				return
			}
		}
	}
}

// Equal reports whether a and b hold the same keys with the same times.
func (a Applied) Equal(b Applied) bool { return slices.Equal(a.e, b.e) }

// Union returns the keys of a and b, each with the later of its times.
func (a Applied) Union(b Applied) Applied {
	if len(b.e) == 0 {
		return a
	}
	if len(a.e) == 0 {
		return b
	}
	out := make([]appliedKey, 0, len(a.e)+len(b.e))
	i, j := 0, 0
	for i < len(a.e) || j < len(b.e) {
		switch {
		case j == len(b.e) || i < len(a.e) && a.e[i].key < b.e[j].key:
			out = append(out, a.e[i])
			i++
		case i == len(a.e) || b.e[j].key < a.e[i].key:
			out = append(out, b.e[j])
			j++
		default:
			out = append(out, appliedKey{a.e[i].key, max(a.e[i].at, b.e[j].at)})
			i++
			j++
		}
	}
	return Applied{e: out}
}

// Horizon bounds an [Applied] set: a key is forgotten once it was applied
// more than Age before the newest key of the set, or once Keys newer keys
// (ties broken by key) are in the set. Zero fields mean the defaults of
// [DefaultHorizon].
//
// The guarantee it gives: a retry of a command applies it once if the
// record still knows the command's key — the retry comes less than Age
// after the command (less the clock skew between the replicas that wrote
// the record) and fewer than Keys other commands were applied to the record
// meanwhile; otherwise the retry is a new command.
type Horizon struct {
	Age  time.Duration
	Keys int
}

// DefaultHorizon keeps a key for 24 hours (as long as Stripe keeps its
// idempotency keys) and at most 1,024 keys per record: with keys of up to 40
// bytes, at most about 50 KiB in a record's state.
var DefaultHorizon = Horizon{Age: 24 * time.Hour, Keys: 1024}

func (h Horizon) withDefaults() Horizon {
	if h.Age <= 0 {
		h.Age = DefaultHorizon.Age
	}
	if h.Keys <= 0 {
		h.Keys = DefaultHorizon.Keys
	}
	return h
}

// Prune returns a without the keys h forgets: those applied more than h.Age
// before the newest key, and all but the h.Keys newest. The newest key is
// never forgotten, so pruning twice is pruning once.
func (a Applied) Prune(h Horizon) Applied {
	h = h.withDefaults()
	if len(a.e) == 0 {
		return a
	}
	newest := a.e[0].at
	for _, x := range a.e[1:] {
		newest = max(newest, x.at)
	}
	floor := newest - int64(h.Age)
	if len(a.e) <= h.Keys && !slices.ContainsFunc(a.e, func(x appliedKey) bool { return x.at < floor }) {
		return a
	}
	keep := make([]appliedKey, 0, len(a.e))
	for _, x := range a.e {
		if x.at >= floor {
			keep = append(keep, x)
		}
	}
	switch extra := len(keep) - h.Keys; {
	case extra <= 0:
	case extra <= 8:
		// One command past the bound is the common case: drop the oldest
		// few by linear scans, keeping the order by key.
		for range extra {
			keep = slices.Delete(keep, oldest(keep), oldest(keep)+1)
		}
	default:
		// The h.Keys newest: sort newest first, cut, and sort back by key.
		slices.SortFunc(keep, func(x, y appliedKey) int { return newer(x, y) })
		keep = keep[:h.Keys]
		slices.SortFunc(keep, func(x, y appliedKey) int { return strings.Compare(x.key, y.key) })
	}
	if len(keep) == len(a.e) {
		return a
	}
	return Applied{e: slices.Clip(keep)}
}

// newer orders keys newest first, ties broken by key (the smaller key
// counts as newer), so that every replica ranks a set the same way.
func newer(x, y appliedKey) int {
	if c := cmp.Compare(y.at, x.at); c != 0 {
		return c
	}
	return strings.Compare(x.key, y.key)
}

// oldest returns the index of the key that ranks last by newer.
func oldest(e []appliedKey) int {
	o := 0
	for i := range e[1:] {
		if newer(e[i+1], e[o]) > 0 {
			o = i + 1
		}
	}
	return o
}

type appliedJSON struct {
	Key string    `json:"key"`
	At  time.Time `json:"at"`
}

// MarshalJSON implements json.Marshaler.
func (a Applied) MarshalJSON() ([]byte, error) {
	if len(a.e) == 0 {
		// The common case where a replica stores the keys itself (see
		// package replica's Options.CommandKeys).
		return []byte("[]"), nil
	}
	out := make([]appliedJSON, len(a.e))
	for i, x := range a.e {
		out[i] = appliedJSON{x.key, time.Unix(0, x.at).UTC()}
	}
	return json.Marshal(out)
}

// UnmarshalJSON implements json.Unmarshaler. It accepts the keys in any
// order; a key given twice keeps its later time.
func (a *Applied) UnmarshalJSON(data []byte) error {
	if string(data) == "[]" || string(data) == "null" {
		*a = Applied{}
		return nil
	}
	var in []appliedJSON
	if err := json.Unmarshal(data, &in); err != nil {
		return fmt.Errorf("policy: decoding applied keys: %w", err)
	}
	keys := make([]AppliedKey, len(in))
	for i, x := range in {
		keys[i] = AppliedKey(x)
	}
	*a = NewApplied(keys...)
	return nil
}

// String returns the keys in braces, such as "{k1 k2}".
func (a Applied) String() string {
	var b strings.Builder
	b.WriteByte('{')
	for i, x := range a.e {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(x.key)
	}
	b.WriteByte('}')
	return b.String()
}

// Normalizer is an optional interface a [Policy] implements to bring every
// value written to its field into a canonical form, such as a bounded one.
// Package resolve calls Normalize on the value of each field of every
// written branch whose policy implements it. Normalize must be deterministic
// and idempotent, and the policy's merge must return normalized values.
type Normalizer[F any] interface {
	Normalize(v F) F
}

// AppliedKeys returns the policy of a record's applied idempotency keys,
// named "applied": the merge of two branches is the union of their keys,
// each with its later time, pruned by h ([Applied.Prune]). Every value
// written to the field is pruned too ([Normalizer]), so a record that
// receives command after command stays within h. The merge is a join: the
// pruning depends only on the union, and pruning forgets a key only if it
// would be forgotten from any larger union.
func AppliedKeys(h Horizon) Policy[Applied] { return appliedPolicy{h.withDefaults()} }

type appliedPolicy struct{ h Horizon }

func (appliedPolicy) Name() string { return "applied" }

// Equal implements Equaler.
func (appliedPolicy) Equal(a, b Applied) bool { return a.Equal(b) }

// Normalize implements [Normalizer].
func (p appliedPolicy) Normalize(v Applied) Applied { return v.Prune(p.h) }

func (p appliedPolicy) Merge(a, b Branch[Applied]) (Branch[Applied], Decision, error) {
	var (
		out Branch[Applied]
		d   Decision
	)
	err := p.MergeInto(&out, &d, &a, &b)
	return out, d, err
}

// MergeInto implements [Merger].
func (p appliedPolicy) MergeInto(out *Branch[Applied], d *Decision, a, b *Branch[Applied]) error {
	if a.Value.Equal(b.Value) {
		sameInto(out, d, p.Name(), a, b, "equal keys")
		return nil
	}
	*out = Branch[Applied]{Value: a.Value.Union(b.Value).Prune(p.h), Stamp: later(a.Stamp, b.Stamp)}
	*d = Decision{Policy: p.Name(), Outcome: Combined, Reason: "union of applied keys within the horizon"}
	return nil
}
