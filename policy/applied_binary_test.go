package policy_test

import (
	"bytes"
	"errors"
	"math"
	"testing"

	"pgregory.net/rapid"

	"github.com/harborpoint/concord/policy"
	"github.com/harborpoint/concord/version"
)

// anyApplied generates sets of arbitrary keys (any bytes, the empty key
// included) at arbitrary times, extremes included.
func anyApplied() *rapid.Generator[policy.Applied] {
	return rapid.Custom(func(t *rapid.T) policy.Applied {
		var a policy.Applied
		for range rapid.IntRange(0, 8).Draw(t, "keys") {
			k := string(rapid.SliceOfN(rapid.Byte(), 0, 12).Draw(t, "key"))
			at := rapid.OneOf(rapid.Int64(), rapid.Int64Range(-3, 3),
				rapid.SampledFrom([]int64{math.MinInt64, math.MaxInt64})).Draw(t, "at")
			a = a.Add(k, version.Timestamp{Wall: at})
		}
		return a
	})
}

// TestAppliedBinaryRoundTrip: a set decodes from its binary form to an
// equal set, and the decoder writes nothing else (the form is canonical).
func TestAppliedBinaryRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		a := anyApplied().Draw(t, "a")
		data, err := a.AppendBinary([]byte("prefix"))
		if err != nil {
			t.Fatal(err)
		}
		data = data[len("prefix"):]
		var got policy.Applied
		if err := got.UnmarshalBinary(data); err != nil {
			t.Fatalf("UnmarshalBinary(%x) of %v: %v", data, a, err)
		}
		if !got.Equal(a) {
			t.Fatalf("round trip of %v gives %v", a, got)
		}
	})
}

// TestAppliedBinaryRefuses: input that is not a set's binary form is an
// *AppliedError matching ErrInvalidApplied, and leaves the set unchanged.
func TestAppliedBinaryRefuses(t *testing.T) {
	for name, data := range map[string][]byte{
		"empty input":        {},
		"trailing bytes":     {0, 0},
		"bad varint":         {0x80},
		"overlong varint":    {0x80, 0x00},
		"count past input":   {200, 1, 2},
		"huge count":         {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0},
		"key past input":     {1, 0, 5, 'a'},
		"repeated key":       {2, 0, 1, 'a', 0, 1, 'a', 0},
		"keys out of order":  {2, 0, 1, 'b', 0, 1, 'a', 0},
		"no key is newest":   {1, 0, 1, 'a', 1},
		"age past min int64": {1, 1, 1, 'a', 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
		"missing age":        {1, 0, 1, 'a'},
	} {
		t.Run(name, func(t *testing.T) {
			keep := policy.NewApplied(policy.AppliedKey{Key: "kept"})
			a := keep
			err := a.UnmarshalBinary(data)
			var ae *policy.AppliedError
			if !errors.Is(err, policy.ErrInvalidApplied) || !errors.As(err, &ae) {
				t.Fatalf("UnmarshalBinary(%x) = %v, want an *AppliedError", data, err)
			}
			if !a.Equal(keep) {
				t.Fatalf("a failed decode changed the set to %v", a)
			}
		})
	}
}

func FuzzAppliedBinary(f *testing.F) {
	for _, a := range []policy.Applied{
		{},
		policy.NewApplied(policy.AppliedKey{Key: "k1"}),
		policy.Applied{}.Add("k1", version.Timestamp{Wall: 1e18}).Add("k2", version.Timestamp{Wall: 1e18 - 5e12}).Add("", version.Timestamp{Wall: -1}),
	} {
		data, _ := a.AppendBinary(nil)
		f.Add(data)
	}
	f.Add([]byte{2, 0, 1, 'b', 0, 1, 'a', 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		var a policy.Applied
		if err := a.UnmarshalBinary(data); err != nil {
			if !errors.Is(err, policy.ErrInvalidApplied) {
				t.Fatalf("error %v does not match ErrInvalidApplied", err)
			}
			return
		}
		// What decodes is a set as NewApplied builds one (sorted, unique)...
		var keys []policy.AppliedKey
		for k, at := range a.All() {
			keys = append(keys, policy.AppliedKey{Key: k, At: at})
		}
		if !policy.NewApplied(keys...).Equal(a) {
			t.Fatalf("decoded %v from %x: not a set", a, data)
		}
		// ...and canonical: it encodes to the same bytes.
		again, err := a.AppendBinary(nil)
		if err != nil || !bytes.Equal(again, data) {
			t.Fatalf("decoded %v from %x, encodes to %x (%v)", a, data, again, err)
		}
	})
}
