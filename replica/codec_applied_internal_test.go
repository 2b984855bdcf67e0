package replica

import (
	"bytes"
	"encoding/binary"
	"errors"
	"slices"
	"testing"
	"time"
	"unicode/utf8"

	"pgregory.net/rapid"

	"github.com/harborpoint/concord/hold"
	"github.com/harborpoint/concord/policy"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

// keyed is a record with applied keys, encoded by the default JSON codec.
type keyed struct {
	S string
	K policy.Applied
}

func keysOf(v *keyed) *policy.Applied { return &v.K }

const keyedFields = 2

// anyKeys generates applied-key sets, empty ones included.
func anyKeys(t *rapid.T, label string) policy.Applied {
	var a policy.Applied
	for range rapid.IntRange(0, 5).Draw(t, label+"-n") {
		k := rapid.SampledFrom([]string{"", "k1", "k2", "k10", "idem-\u00e9", "\xff"}).Draw(t, label+"-key")
		a = a.Add(k, version.Timestamp{Wall: rapid.Int64Range(-1e12, 1e12).Draw(t, label+"-at")})
	}
	return a
}

// keyedState generates states of one or two branches (one possibly a
// tombstone), each with its own applied keys.
func keyedState(t *rapid.T) resolve.Siblings[keyed] {
	var s resolve.Siblings[keyed]
	s, _, err := s.Update(version.Vector{}, resolve.Branch[keyed]{
		Value: keyed{S: rapid.String().Draw(t, "s1"), K: anyKeys(t, "k1")}, Stamp: stampAt(100, lisbon, 1),
	}, lisbon)
	if err != nil {
		t.Fatal(err)
	}
	switch rapid.IntRange(0, 2).Draw(t, "other") {
	case 1:
		o, _, err := resolve.Siblings[keyed]{}.Update(version.Vector{}, resolve.Branch[keyed]{
			Value: keyed{S: "b", K: anyKeys(t, "k2")}, Stamp: stampAt(90, baltimore, 1),
		}, baltimore)
		if err != nil {
			t.Fatal(err)
		}
		s = s.Sync(o)
	case 2:
		o, _, err := resolve.Siblings[keyed]{}.Update(version.Vector{}, resolve.Branch[keyed]{
			Stamp: stampAt(90, baltimore, 1), Deleted: true,
		}, baltimore)
		if err != nil {
			t.Fatal(err)
		}
		s = s.Sync(o)
	}
	return s
}

func sameKeyed(a, b resolve.Siblings[keyed]) bool {
	av, bv := a.Values(), b.Values()
	if len(av) != len(bv) || !a.Join().Equal(b.Join()) {
		return false
	}
	for i := range av {
		x, y := av[i], bv[i]
		if x.Stamp != y.Stamp || x.Deleted != y.Deleted || x.Value.S != y.Value.S || !x.Value.K.Equal(y.Value.K) {
			return false
		}
	}
	return true
}

// encodeV5 encodes s as format 5 did: a header of four times the number of
// field stamps, no applied keys in it (they are in the codec's bytes).
func encodeV5(t interface {
	Helper()
	Fatal(...any)
}, s resolve.Siblings[keyed]) []byte {
	t.Helper()
	return encodeOld(t, s, payloadFormatV5, func(dst []byte, b resolve.Branch[keyed]) ([]byte, error) {
		dst = binary.AppendUvarint(dst, 0) // no field stamps, no Seen
		return JSON[keyed]{}.Append(dst, b.Value)
	})
}

// TestAppliedKeysInHeaderRoundTrip: a state whose branches hold applied
// keys decodes to the same state; the keys are in the branch header, not
// in the codec's bytes, and a branch without keys is written as a replica
// without Options.CommandKeys writes it. The same state written by such a
// replica, or in format 5, decodes to the same state.
func TestAppliedKeysInHeaderRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := keyedState(t)
		data, _, _, err := encodeStateLast(nil, s, JSON[keyed]{}, keysOf)
		if err != nil {
			t.Fatal(err)
		}
		got, err := decodeStateKeys(data, JSON[keyed]{}, keysOf, version.Limits{}, keyedFields)
		if err != nil {
			t.Fatalf("decode: %v", err)
		}
		if !sameKeyed(got, s) {
			t.Fatalf("round trip gives %v, want %v", got.Values(), s.Values())
		}
		plain, err := encodeState(s, JSON[keyed]{})
		if err != nil {
			t.Fatal(err)
		}
		hasKeys := false
		for b := range s.Siblings() {
			hasKeys = hasKeys || b.Value.Value.K.Len() > 0
		}
		if hasKeys == bytes.Equal(plain, data) {
			t.Fatalf("with keys %v, the encodings with and without them in the header are equal: %v", hasKeys, !hasKeys)
		}
		if !validKeys(s) {
			return // JSON would spell them otherwise: a loss the header avoids
		}
		for name, old := range map[string][]byte{"without CommandKeys": plain, "format 5": encodeV5(t, s)} {
			got, err := decodeStateKeys(old, JSON[keyed]{}, keysOf, version.Limits{}, keyedFields)
			if err != nil || !sameKeyed(got, s) {
				t.Fatalf("%s: decodes to %v (%v), want %v", name, got.Values(), err, s.Values())
			}
		}
	})
}

// validKeys reports whether the keys of s are valid UTF-8.
func validKeys(s resolve.Siblings[keyed]) bool {
	for b := range s.Siblings() {
		for k := range b.Value.Value.K.All() {
			if !utf8.ValidString(k) {
				return false
			}
		}
	}
	return true
}

// headerWithKeys encodes a state of one branch of value v, stamped
// lisbon:1, whose header flags applied keys in section, as given, after
// its length (declared, or len(section) if negative).
func headerWithKeys(t *testing.T, v keyed, section []byte, declared int) []byte {
	t.Helper()
	s, _, err := resolve.Siblings[keyed]{}.Update(version.Vector{}, resolve.Branch[keyed]{Value: v, Stamp: stampAt(100, lisbon, 1)}, lisbon)
	if err != nil {
		t.Fatal(err)
	}
	data, err := s.AppendBinary([]byte{payloadFormat}, func(dst []byte, b resolve.Branch[keyed]) ([]byte, error) {
		dst = binary.AppendVarint(dst, b.Stamp.Time.Wall)
		dst = binary.AppendUvarint(dst, uint64(b.Stamp.Time.Logical))
		dst = binary.AppendUvarint(dst, 4)
		if declared < 0 {
			declared = len(section)
		}
		dst = binary.AppendUvarint(dst, uint64(declared))
		dst = append(dst, section...)
		return JSON[keyed]{}.Append(dst, b.Value)
	})
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestAppliedKeysInHeaderMalformed: applied keys in a header that do not
// fit are refused with ErrMalformed (and the policy's typed error where the
// keys' bytes are bad).
func TestAppliedKeysInHeaderMalformed(t *testing.T) {
	keys := policy.NewApplied(policy.AppliedKey{Key: "k1", At: time.Unix(0, 5)})
	good, _ := keys.AppendBinary(nil)
	if _, err := decodeStateKeys(headerWithKeys(t, keyed{S: "x"}, good, -1), JSON[keyed]{}, keysOf, version.Limits{}, keyedFields); err != nil {
		t.Fatalf("the honest forgery does not decode: %v", err)
	}
	bad := slices.Clone(good)
	bad[len(bad)-1] = 7 // no key has the newest time
	for _, tc := range []struct {
		name   string
		data   []byte
		keys   func(*keyed) *policy.Applied
		policy bool // the error is also the policy's
	}{
		{"keys for a record type without them", headerWithKeys(t, keyed{S: "x"}, good, -1), nil, false},
		{"keys both in the header and the value", headerWithKeys(t, keyed{S: "x", K: keys}, good, -1), keysOf, false},
		{"an empty set of keys", headerWithKeys(t, keyed{S: "x"}, []byte{0}, -1), keysOf, false},
		{"an empty section", headerWithKeys(t, keyed{S: "x"}, nil, -1), keysOf, false},
		{"keys that do not decode", headerWithKeys(t, keyed{S: "x"}, bad, -1), keysOf, true},
		{"a section past the end", headerWithKeys(t, keyed{S: "x"}, good, 1000), keysOf, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decodeStateKeys(tc.data, JSON[keyed]{}, tc.keys, version.Limits{}, keyedFields)
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("decode = %v, want ErrMalformed", err)
			}
			var ae *policy.AppliedError
			if tc.policy != errors.As(err, &ae) {
				t.Fatalf("decode = %v: the policy's *AppliedError %v, want %v", err, !tc.policy, tc.policy)
			}
		})
	}
}

// TestReplicaWithoutCommandKeysRefusesKeys: a state carrying applied keys in
// its header, applied to a replica configured without Options.CommandKeys,
// is refused as malformed and stores nothing (the keys would have been
// lost), on the fast path and the full one.
func TestReplicaWithoutCommandKeysRefusesKeys(t *testing.T) {
	const key = "H-1"
	for _, codec := range []Codec[hold.Hold]{hold.Codec{}, JSON[hold.Hold]{}} {
		src := holdReplicaFor(t, "lisbon", codec, nil)
		if _, err := src.Create(bg, key, hold.New(key, "C1", "desk", time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC))); err != nil {
			t.Fatal(err)
		}
		if _, _, err := src.Command(bg, key, "cmd-1", func(h *hold.Hold, _ Write) error { h.Note = "x"; return nil }); err != nil {
			t.Fatal(err)
		}
		data, err := src.Export(bg, key)
		if err != nil {
			t.Fatal(err)
		}
		dst, err := New(version.MustID("baltimore"), NewMemoryStore(), hold.Resolver(resolve.Options{}), Options[hold.Hold]{Codec: codec})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := dst.Apply(bg, key, data); !errors.Is(err, ErrMalformed) {
			t.Fatalf("%T: Apply = %v, want ErrMalformed", codec, err)
		}
		if _, rev, _ := dst.store.Get(bg, key); rev != 0 {
			t.Fatalf("%T: stored", codec)
		}
		// A replica with them takes it, and knows the command.
		ok := holdReplicaFor(t, "baltimore", codec, nil)
		if _, err := ok.Apply(bg, key, data); err != nil {
			t.Fatal(err)
		}
		if _, replayed, err := ok.Command(bg, key, "cmd-1", func(h *hold.Hold, _ Write) error { h.Note = "y"; return nil }); err != nil || !replayed {
			t.Fatalf("%T: the retry of a replicated command: replayed %v, %v", codec, replayed, err)
		}
	}
}

// FuzzDecodeStateKeys: any input either fails with ErrMalformed or decodes,
// with applied keys, to a state that encodes to bytes that decode to the
// same state and encode to the same bytes again.
func FuzzDecodeStateKeys(f *testing.F) {
	keys := policy.Applied{}.Add("k1", version.Timestamp{Wall: 1e18}).Add("k2", version.Timestamp{Wall: 1e18 - 7})
	one, _, _ := resolve.Siblings[keyed]{}.Update(version.Vector{}, resolve.Branch[keyed]{Value: keyed{S: "v", K: keys}, Stamp: stampAt(1, lisbon, 1)}, lisbon)
	other, _, _ := resolve.Siblings[keyed]{}.Update(version.Vector{}, resolve.Branch[keyed]{Value: keyed{S: "w"}, Stamp: stampAt(2, baltimore, 1)}, baltimore)
	two := one.Sync(other)
	for _, s := range []resolve.Siblings[keyed]{one, two} {
		v6, _, _, _ := encodeStateLast(nil, s, JSON[keyed]{}, keysOf)
		addSeeds(f, v6, encodeV5(f, s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		dec := func(b []byte) (resolve.Siblings[keyed], error) {
			return decodeStateKeys(b, JSON[keyed]{}, keysOf, version.Limits{}, keyedFields)
		}
		got, err := dec(data)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("decode failed with %v, not ErrMalformed", err)
			}
			return
		}
		enc, _, _, err := encodeStateLast(nil, got, JSON[keyed]{}, keysOf)
		if err != nil {
			t.Fatalf("a decoded state does not encode: %v", err)
		}
		again, err := dec(enc)
		if err != nil || !sameKeyed(got, again) {
			t.Fatalf("round trip changed the state: %v, then %v (%v)", got.Values(), again.Values(), err)
		}
		if enc2, _, _, _ := encodeStateLast(nil, again, JSON[keyed]{}, keysOf); !bytes.Equal(enc, enc2) {
			t.Fatalf("encoding is not stable: %x, then %x", enc, enc2)
		}
	})
}
