package replica

import (
	"bytes"
	"encoding/binary"
	"errors"
	"slices"
	"testing"

	"github.com/harborpoint/concord/policy"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

// encodeV4 encodes s as format 4 did: no Seen, a header of twice the number
// of field stamps plus 1 for a tombstone.
func encodeV4(t testing.TB, s resolve.Siblings[string]) []byte {
	t.Helper()
	ids := s.IDs()
	return encodeOld(t, s, payloadFormatV4, func(dst []byte, b resolve.Branch[string]) ([]byte, error) {
		n, prev := 0, -1
		for _, st := range b.Fields {
			if st != b.Stamp {
				n++
			}
		}
		dst = binary.AppendUvarint(dst, uint64(n)<<1)
		for i, st := range b.Fields {
			if st == b.Stamp {
				continue
			}
			k, _ := slices.BinarySearchFunc(ids, st.Dot.ID, version.ID.Compare)
			dst = binary.AppendUvarint(dst, uint64(i-prev-1))
			dst = binary.AppendVarint(dst, b.Stamp.Time.Wall-st.Time.Wall)
			dst = binary.AppendUvarint(dst, uint64(st.Time.Logical))
			dst = binary.AppendUvarint(dst, uint64(k))
			dst = binary.AppendUvarint(dst, st.Dot.Counter)
			prev = i
		}
		return append(dst, b.Value...), nil
	})
}

// encodeOld encodes s in an old format: each branch's stamp, then for a
// tombstone the header 1, for a live branch what live appends. t is a
// testing.TB or a *rapid.T.
func encodeOld[T any](t interface {
	Helper()
	Fatal(...any)
}, s resolve.Siblings[T], format byte, live func(dst []byte, b resolve.Branch[T]) ([]byte, error)) []byte {
	t.Helper()
	data, err := s.AppendBinary([]byte{format}, func(dst []byte, b resolve.Branch[T]) ([]byte, error) {
		dst = binary.AppendVarint(dst, b.Stamp.Time.Wall)
		dst = binary.AppendUvarint(dst, uint64(b.Stamp.Time.Logical))
		if b.Deleted {
			return binary.AppendUvarint(dst, 1), nil
		}
		return live(dst, b)
	})
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// sameBranches reports whether two states hold the same branches: stamps,
// field stamps, Seen and values.
func sameBranches(a, b resolve.Siblings[string], fields int) bool {
	av, bv := a.Values(), b.Values()
	if len(av) != len(bv) || !a.Join().Equal(b.Join()) {
		return false
	}
	for i := range av {
		x, y := av[i], bv[i]
		if x.Stamp != y.Stamp || x.Value != y.Value || x.Deleted != y.Deleted || !x.Seen.Equal(y.Seen) {
			return false
		}
		for k := range fields {
			if x.FieldStamp(k) != y.FieldStamp(k) {
				return false
			}
		}
	}
	return true
}

// TestFormat4StillDecodes: a state stored before branches carried their
// Seen decodes to the same branches, with Seen unknown (zero).
func TestFormat4StillDecodes(t *testing.T) {
	s := twoBranches(t)
	got, err := decodeState(encodeV4(t, s), stringCodec{}, version.Limits{}, 3)
	if err != nil {
		t.Fatal(err)
	}
	noSeen := version.Map(s, func(b resolve.Branch[string]) resolve.Branch[string] {
		b.Seen = version.Vector{}
		return b
	})
	if !sameBranches(got, noSeen, 3) {
		t.Fatalf("format 4 decoded to %v, want %v", got.Values(), noSeen.Values())
	}
}

// TestSeenOnlyWithSiblings: the only branch of a state stores no Seen (its
// state's context says it); branches of a state of several store theirs.
func TestSeenOnlyWithSiblings(t *testing.T) {
	seen := version.MustVector("lisbon:1")
	single, _, _ := resolve.Siblings[string]{}.Update(seen, resolve.Branch[string]{Value: "v", Stamp: stampAt(1, lisbon, 2), Seen: seen}, lisbon)
	a, _ := encodeState(single, stringCodec{})
	b, _ := encodeState(version.Map(single, func(b resolve.Branch[string]) resolve.Branch[string] {
		b.Seen = version.Vector{}
		return b
	}), stringCodec{})
	if !bytes.Equal(a, b) {
		t.Fatalf("a single branch stored its Seen: %x, without %x", a, b)
	}
	s := twoBranches(t)
	data, _ := encodeState(s, stringCodec{})
	got, err := decodeState(data, stringCodec{}, version.Limits{}, 3)
	if err != nil || !sameBranches(got, s, 3) {
		t.Fatalf("two branches decoded to %v (%v), want %v", got.Values(), err, s.Values())
	}
}

// TestMalformedSeen: a Seen that does not fit the record is refused with
// ErrMalformed.
func TestMalformedSeen(t *testing.T) {
	for _, tc := range []struct {
		name string
		seen version.Vector
	}{
		{"its own write", version.MustVector("lisbon:2")},
		{"a later write of its replica", version.MustVector("lisbon:3")},
		{"beyond the record's history", version.MustVector("baltimore:4 lisbon:1")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			state := version.Map(twoBranches(t), func(b resolve.Branch[string]) resolve.Branch[string] {
				if b.Stamp.Dot.Counter == 2 {
					b.Seen = tc.seen
				}
				return b
			})
			data, err := encodeState(state, stringCodec{})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := decodeState(data, stringCodec{}, version.Limits{}, 3); !errors.Is(err, ErrMalformed) {
				t.Fatalf("decodeState = %v, want ErrMalformed", err)
			}
		})
	}
	// The only branch of a state never carries its Seen.
	seen := version.MustVector("lisbon:1")
	single, _, _ := resolve.Siblings[string]{}.Update(seen, resolve.Branch[string]{Value: "v", Stamp: stampAt(1, lisbon, 2), Seen: seen}, lisbon)
	if _, err := decodeState(singleWithSeen(t, single), stringCodec{}, version.Limits{}, 3); !errors.Is(err, ErrMalformed) {
		t.Fatalf("decodeState of a single branch with its Seen = %v, want ErrMalformed", err)
	}
	// A replica outside the record is refused by the encoder already.
	state := version.Map(twoBranches(t), func(b resolve.Branch[string]) resolve.Branch[string] {
		b.Seen = version.MustVector("bristol:1")
		return b
	})
	if _, err := encodeState(state, stringCodec{}); err == nil {
		t.Fatal("encoded a Seen naming a replica outside the record")
	}
}

// singleWithSeen encodes a state of one branch with its Seen, which
// encodeState never writes.
func singleWithSeen(t testing.TB, s resolve.Siblings[string]) []byte {
	t.Helper()
	ids := s.IDs()
	data, err := s.AppendBinary([]byte{payloadFormat}, func(dst []byte, b resolve.Branch[string]) ([]byte, error) {
		dst = binary.AppendVarint(dst, b.Stamp.Time.Wall)
		dst = binary.AppendUvarint(dst, uint64(b.Stamp.Time.Logical))
		dst, err := appendBranchHeader(dst, &b, ids, true, policy.Applied{})
		return append(dst, b.Value...), err
	})
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// addSeeds adds each seed to f's corpus, and each seed with one byte
// incremented, at every position.
func addSeeds(f *testing.F, seeds ...[]byte) {
	for _, seed := range seeds {
		f.Add(seed)
		for i := range seed {
			m := bytes.Clone(seed)
			m[i]++
			f.Add(m)
		}
	}
}

// FuzzDecodeState: any input either fails with ErrMalformed or decodes to
// a state whose encoding decodes to the same state and encodes to the
// same bytes again.
func FuzzDecodeState(f *testing.F) {
	s := twoBranches(f)
	v6, _ := encodeState(s, stringCodec{})
	single, _, _ := resolve.Siblings[string]{}.Update(version.Vector{}, resolve.Branch[string]{Value: "v", Stamp: stampAt(1, lisbon, 1)}, lisbon)
	one, _ := encodeState(single, stringCodec{})
	tomb := version.Map(s, func(b resolve.Branch[string]) resolve.Branch[string] {
		if b.Stamp.Dot.ID == baltimore {
			return resolve.Branch[string]{Stamp: b.Stamp, Deleted: true}
		}
		return b
	})
	dead, _ := encodeState(tomb, stringCodec{})
	seen := version.MustVector("lisbon:1")
	withSeen, _, _ := resolve.Siblings[string]{}.Update(seen, resolve.Branch[string]{Value: "v", Stamp: stampAt(1, lisbon, 2), Seen: seen}, lisbon)
	addSeeds(f, v6, encodeV5Strings(f, s), encodeV4(f, s), one, dead, singleWithSeen(f, withSeen))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := decodeState(data, stringCodec{}, version.Limits{}, 3)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("decodeState failed with %v, not ErrMalformed", err)
			}
			return
		}
		enc, err := encodeState(got, stringCodec{})
		if err != nil {
			t.Fatalf("a decoded state does not encode: %v", err)
		}
		again, err := decodeState(enc, stringCodec{}, version.Limits{}, 3)
		if err != nil {
			t.Fatalf("a re-encoded state does not decode: %v", err)
		}
		if !sameBranches(got, again, 3) {
			t.Fatalf("round trip changed the state: %v, then %v", got.Values(), again.Values())
		}
		if enc2, _ := encodeState(again, stringCodec{}); !bytes.Equal(enc, enc2) {
			t.Fatalf("encoding is not stable: %x, then %x", enc, enc2)
		}
	})
}

// encodeV5Strings encodes s as format 5 did: a header of four times the
// number of field stamps, plus 2 when the branch's Seen follows, plus 1 for
// a tombstone; no applied keys in it.
func encodeV5Strings(t testing.TB, s resolve.Siblings[string]) []byte {
	t.Helper()
	ids := s.IDs()
	return encodeOld(t, s, payloadFormatV5, func(dst []byte, b resolve.Branch[string]) ([]byte, error) {
		// Format 6's header less its applied-keys flag, and the count moved
		// one bit down.
		v6, err := appendBranchHeader(nil, &b, ids, s.Len() > 1 && !b.Seen.IsZero(), policy.Applied{})
		if err != nil {
			return nil, err
		}
		h, n := binary.Uvarint(v6)
		dst = binary.AppendUvarint(dst, h>>3<<2|h&2)
		return append(append(dst, v6[n:]...), b.Value...), nil
	})
}

// TestFormat5StillDecodes: a state stored before applied keys moved to the
// branch header decodes to the same branches, field stamps and Seen
// included.
func TestFormat5StillDecodes(t *testing.T) {
	s := twoBranches(t)
	got, err := decodeState(encodeV5Strings(t, s), stringCodec{}, version.Limits{}, 3)
	if err != nil {
		t.Fatal(err)
	}
	if !sameBranches(got, s, 3) {
		t.Fatalf("format 5 decoded to %v, want %v", got.Values(), s.Values())
	}
}
