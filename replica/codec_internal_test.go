package replica

import (
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

var (
	lisbon    = version.MustID("lisbon")
	baltimore = version.MustID("baltimore")
)

func stampAt(wall int64, id version.ID, n uint64) version.Stamp {
	return version.Stamp{Time: version.Timestamp{Wall: wall, Logical: 1}, Dot: version.Dot{ID: id, Counter: n}}
}

// twoBranches is a state of two concurrent writes of a three-field record;
// lisbon:2 changed only its field 1, so fields 0 and 2 keep the stamps of
// lisbon:1 and baltimore:1.
func twoBranches(t testing.TB) resolve.Siblings[string] {
	t.Helper()
	var s resolve.Siblings[string]
	s, _, err := s.Update(version.Vector{}, resolve.Branch[string]{Value: "l1", Stamp: stampAt(100, lisbon, 1)}, lisbon)
	if err != nil {
		t.Fatal(err)
	}
	other, _, err := resolve.Siblings[string]{}.Update(version.Vector{}, resolve.Branch[string]{Value: "b1", Stamp: stampAt(90, baltimore, 1)}, baltimore)
	if err != nil {
		t.Fatal(err)
	}
	s = s.Sync(other)
	seen, err := version.NewVector(version.Dot{ID: lisbon, Counter: 1})
	if err != nil {
		t.Fatal(err)
	}
	s, _, err = s.Update(seen, resolve.Branch[string]{
		Value: "l2", Stamp: stampAt(200, lisbon, 2), Seen: seen,
		Fields: []version.Stamp{stampAt(100, lisbon, 1), stampAt(200, lisbon, 2), stampAt(90, baltimore, 1)},
	}, lisbon)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

type stringCodec struct{}

func (stringCodec) Append(dst []byte, v string) ([]byte, error) { return append(dst, v...), nil }
func (stringCodec) Decode(b []byte) (string, error)             { return string(b), nil }

func TestFieldStampsRoundTrip(t *testing.T) {
	s := twoBranches(t)
	data, err := encodeState(s, stringCodec{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeState(data, stringCodec{}, version.Limits{}, 3)
	if err != nil {
		t.Fatal(err)
	}
	want, have := s.Values(), got.Values()
	if len(want) != len(have) {
		t.Fatalf("%d branches, want %d", len(have), len(want))
	}
	for i := range want {
		for k := range 3 {
			if want[i].FieldStamp(k) != have[i].FieldStamp(k) || want[i].Stamp != have[i].Stamp || want[i].Value != have[i].Value || !want[i].Seen.Equal(have[i].Seen) {
				t.Fatalf("branch %d field %d: %+v, want %+v", i, k, have[i], want[i])
			}
		}
	}
	// A branch whose fields all carry its stamp costs one byte (the count
	// 0) beyond its stamp and value.
	single, _, _ := resolve.Siblings[string]{}.Update(version.Vector{}, resolve.Branch[string]{Value: "v", Stamp: stampAt(1, lisbon, 1)}, lisbon)
	b, _ := encodeState(single, stringCodec{})
	if raw, _ := single.AppendBinary(nil, func(dst []byte, br resolve.Branch[string]) ([]byte, error) {
		dst = binary.AppendVarint(dst, br.Stamp.Time.Wall)
		dst = binary.AppendUvarint(dst, uint64(br.Stamp.Time.Logical))
		return append(dst, br.Value...), nil
	}); len(b) != len(raw)+2 {
		t.Fatalf("%d bytes, want the single-stamp %d plus the format and count bytes", len(b), len(raw))
	}
}

// TestMalformedFieldStamps: field stamps that do not fit the record are
// refused with ErrMalformed.
func TestMalformedFieldStamps(t *testing.T) {
	s := twoBranches(t)
	for _, tc := range []struct {
		name   string
		fields int
		mutate func(resolve.Branch[string]) resolve.Branch[string]
	}{
		{"fewer fields than stamps", 1, nil},
		{"a replica outside the record", 3, func(b resolve.Branch[string]) resolve.Branch[string] {
			b.Fields = []version.Stamp{stampAt(1, version.MustID("bristol"), 1), b.Stamp, b.Stamp}
			return b
		}},
		{"a counter beyond the record's history", 3, func(b resolve.Branch[string]) resolve.Branch[string] {
			b.Fields = []version.Stamp{stampAt(1, baltimore, 7), b.Stamp, b.Stamp}
			return b
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			state := s
			if tc.mutate != nil {
				state = version.Map(s, tc.mutate)
			}
			data, err := encodeState(state, stringCodec{})
			if err != nil {
				if tc.name == "a replica outside the record" {
					// The encoder refuses it already; forge the index.
					data, _ = encodeState(s, stringCodec{})
					data = forgeReplicaIndex(t, data)
				} else {
					t.Fatal(err)
				}
			}
			if _, err := decodeState(data, stringCodec{}, version.Limits{}, tc.fields); !errors.Is(err, ErrMalformed) {
				t.Fatalf("decodeState = %v, want ErrMalformed", err)
			}
		})
	}
	old := []byte{version.ClockFormat, 0}
	if _, err := decodeState(old, stringCodec{}, version.Limits{}, 3); !errors.Is(err, ErrMalformed) {
		t.Fatalf("a state in the old format: %v, want ErrMalformed", err)
	}
}

// forgeReplicaIndex rewrites the first field stamp's replica index of an
// encoded twoBranches state to 9 (the record has two replicas).
func forgeReplicaIndex(t *testing.T, data []byte) []byte {
	t.Helper()
	var fields []version.Stamp
	s, err := decodeState(data, stringCodec{}, version.Limits{}, 3)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range s.Values() {
		if b.Fields != nil {
			fields = b.Fields
		}
	}
	if fields == nil {
		t.Fatal("no field stamps to forge")
	}
	// The branch header of lisbon:2: wall, logical, header 2<<3|2 (two
	// field stamps, a context, not a tombstone), then field 0:
	// gap 0, wall back 100, logical 1, replica index (1: lisbon), counter 1.
	var hdr []byte
	hdr = binary.AppendVarint(hdr, 200)
	hdr = binary.AppendUvarint(hdr, 1)
	hdr = binary.AppendUvarint(hdr, 2<<3|2)
	hdr = binary.AppendUvarint(hdr, 0)
	hdr = binary.AppendVarint(hdr, 100)
	hdr = binary.AppendUvarint(hdr, 1)
	for i := 0; i+len(hdr) < len(data); i++ {
		if string(data[i:i+len(hdr)]) == string(hdr) {
			out := append([]byte(nil), data...)
			out[i+len(hdr)] = 9
			return out
		}
	}
	t.Fatal("field stamp header not found")
	return nil
}

// TestEncodeStateLastFindsTheValue: the range encodeStateLast reports holds
// the bytes of the last value encoded, wherever the clock's framing puts
// it.
func TestEncodeStateLastFindsTheValue(t *testing.T) {
	s := twoBranches(t)
	single, _, _ := resolve.Siblings[string]{}.Update(version.Vector{}, resolve.Branch[string]{Value: "only", Stamp: stampAt(1, baltimore, 1)}, baltimore)
	withOthers := single.Sync(s) // lisbon's entry follows baltimore's
	for _, st := range []resolve.Siblings[string]{s, single, withOthers} {
		data, from, to, err := encodeStateLast(nil, st, stringCodec{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		vals := st.Values()
		var last string
		for _, v := range vals {
			if strings.Contains(string(data[from:to]), v.Value) && len(v.Value) == to-from {
				last = v.Value
			}
		}
		if last == "" {
			t.Fatalf("data[%d:%d] = %q holds no value of %v", from, to, data[from:to], vals)
		}
	}
}

// TestDecodeContextOfPayload reads the causal context of a framed encoded
// state, and refuses what is not one — also behind a valid frame.
func TestDecodeContextOfPayload(t *testing.T) {
	s := twoBranches(t)
	data, err := encodeState(s, stringCodec{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeContext(seal(data), version.Limits{})
	if err != nil || !got.Equal(s.Join()) {
		t.Fatalf("DecodeContext = %v, %v; want %v", got, err, s.Join())
	}
	for _, bad := range [][]byte{nil, {version.ClockFormat, 0}, data[:len(data)/2]} {
		if _, err := DecodeContext(seal(bad), version.Limits{}); !errors.Is(err, ErrMalformed) || errors.Is(err, ErrCorrupt) {
			t.Errorf("DecodeContext(seal(%x)) = %v, want ErrMalformed, not ErrCorrupt", bad, err)
		}
	}
}

// TestReaderVarint: reader.varint, which reads a uvarint and undoes the
// zig-zag, reads exactly what binary.Varint reads, and fails where it
// fails.
func TestReaderVarint(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var b []byte
		if rapid.Bool().Draw(t, "encoded") {
			b = binary.AppendVarint(nil, rapid.Int64().Draw(t, "x"))
		}
		b = append(b, rapid.SliceOfN(rapid.Byte(), 0, 12).Draw(t, "rest")...)
		want, n := binary.Varint(b)
		r := &reader{b: b}
		got := r.varint()
		if (n <= 0) != (r.err != nil) || n > 0 && (got != want || len(r.rest()) != len(b)-n) {
			t.Fatalf("%x: varint %d (err %v, %d left), binary.Varint %d, %d", b, got, r.err, len(r.rest()), want, n)
		}
	})
}
