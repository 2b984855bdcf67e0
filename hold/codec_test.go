package hold_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/harborpoint/concord/hold"
	"github.com/harborpoint/concord/policy"
	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/version"
)

// Codec satisfies replica.Codec without package hold importing replica.
var _ replica.Codec[hold.Hold] = hold.Codec{}

// sampleHold is a hold as Harbor Point stores one: confirmed, touched by two
// agencies, a few commands applied.
func sampleHold() hold.Hold {
	h := hold.New("H-8821", "C14", "lisbon-desk", clock(14, 10, 0))
	h.Touch("baltimore-payments")
	h.Note = "customer on the phone — café booking"
	for i, k := range []string{"lis-extend-1", "lis-extend-2", "iad-confirm-1"} {
		h.Commands = h.Commands.Add(k, version.Timestamp{Wall: clock(14, i, 0).UnixNano()})
	}
	if err := h.Confirm("B-3107", clock(14, 4, 53)); err != nil {
		panic(err)
	}
	return h
}

func genString() *rapid.Generator[string] {
	return rapid.OneOf(
		rapid.SampledFrom([]string{"", "H-8821", "C14", "lisbon-desk", "café", "東京", "🚢", "\x00", "\u2028"}),
		rapid.StringN(0, 40, -1),
	)
}

func genTime() *rapid.Generator[time.Time] {
	return rapid.Custom(func(t *rapid.T) time.Time {
		switch rapid.IntRange(0, 3).Draw(t, "time kind") {
		case 0:
			return time.Time{}
		case 1:
			return time.Unix(0, rapid.Int64().Draw(t, "ns")) // every representable instant
		case 2:
			return time.Unix(0, rapid.SampledFrom([]int64{0, -1, 1, math.MinInt64, math.MaxInt64}).Draw(t, "edge"))
		}
		// A local time with a monotonic reading: the codec keeps the instant.
		loc := time.FixedZone("x", rapid.IntRange(-12, 14).Draw(t, "offset")*3600)
		return time.Now().In(loc).Add(time.Duration(rapid.IntRange(-1e6, 1e6).Draw(t, "delta")))
	})
}

// genApplied draws applied command keys with times anywhere in int64
// nanoseconds.
func genApplied() *rapid.Generator[policy.Applied] {
	return rapid.Custom(func(t *rapid.T) policy.Applied {
		var keys []policy.AppliedKey
		for range rapid.IntRange(0, 20).Draw(t, "commands") {
			keys = append(keys, policy.AppliedKey{Key: genString().Draw(t, "key"), At: time.Unix(0, rapid.Int64().Draw(t, "at"))})
		}
		return policy.NewApplied(keys...)
	})
}

// genAnyHold draws holds of any shape the codec encodes: zero times, empty
// sets, unicode strings, the zero status.
func genAnyHold() *rapid.Generator[hold.Hold] {
	return rapid.Custom(func(t *rapid.T) hold.Hold {
		return hold.Hold{
			ID:        genString().Draw(t, "id"),
			Cabin:     genString().Draw(t, "cabin"),
			Status:    rapid.SampledFrom([]hold.Status{"", hold.Active, hold.Released, hold.Confirmed}).Draw(t, "status"),
			ExpiresAt: genTime().Draw(t, "expires_at"),
			BookingID: genString().Draw(t, "booking"),
			Note:      genString().Draw(t, "note"),
			Agencies:  policy.NewSet(rapid.SliceOfN(genString(), 0, 6).Draw(t, "agencies")...),
			Commands:  genApplied().Draw(t, "commands"),
		}
	})
}

func TestCodecRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		h := genAnyHold().Draw(t, "hold")
		prefix := []byte("prefix")
		data, err := hold.Codec{}.Append(prefix, h)
		if err != nil {
			t.Fatalf("Append(%+v): %v", h, err)
		}
		if !bytes.Equal(data[:len(prefix)], []byte("prefix")) {
			t.Fatalf("Append changed dst: %q", data[:len(prefix)])
		}
		data = data[len(prefix):]
		got, err := hold.Codec{}.Decode(data)
		if err != nil {
			t.Fatalf("Decode(Append(%+v)) = %v", h, err)
		}
		if !got.Equal(h) {
			t.Fatalf("Decode(Append(h)) = %+v, want %+v", got, h)
		}
		if got.ExpiresAt.Location() != time.UTC {
			t.Fatalf("decoded expiry in %v, want UTC", got.ExpiresAt.Location())
		}
		again, err := hold.Codec{}.Append(nil, got)
		if err != nil || !bytes.Equal(again, data) {
			t.Fatalf("re-encoding gives %x, %v; want %x", again, err, data)
		}
		// Decoding does not keep data.
		clear(data)
		if !got.Equal(h) {
			t.Fatalf("decoded hold changed with its input: %+v", got)
		}
	})
}

func TestCodecZeroHold(t *testing.T) {
	data, err := hold.Codec{}.Append(nil, hold.Hold{})
	if err != nil {
		t.Fatal(err)
	}
	if want := []byte{hold.CodecFormat, 0, 0, 0, 0, 0, 0, 0, 0}; !bytes.Equal(data, want) {
		t.Fatalf("zero hold encodes to %x, want %x", data, want)
	}
	h, err := hold.Codec{}.Decode(data)
	if err != nil || !h.Equal(hold.Hold{}) || !h.ExpiresAt.IsZero() {
		t.Fatalf("Decode = %+v, %v; want the zero hold", h, err)
	}
}

// enc builds binary holds by hand for the rejection table.
type enc []byte

func (e enc) u(x uint64) enc       { return binary.AppendUvarint(e, x) }
func (e enc) b(bs ...byte) enc     { return append(e, bs...) }
func (e enc) s(s string) enc       { return append(e.u(uint64(len(s))), s...) }
func (e enc) set(ss ...string) enc { e = e.u(uint64(len(ss))); return e.strs(ss...) }
func (e enc) strs(ss ...string) enc {
	for _, s := range ss {
		e = e.s(s)
	}
	return e
}

// head is a valid hold up to and including the note.
func head() enc { return enc{hold.CodecFormat}.s("H-1").s("C1").b(1, 1).u(2 * 1000).s("").s("") }

func TestCodecRejects(t *testing.T) {
	valid := head().set("a", "b").set()
	if _, err := (hold.Codec{}).Decode(valid); err != nil {
		t.Fatalf("the table's valid hold does not decode: %v", err)
	}
	tooMany := head().u(hold.MaxCodecElements + 1)
	for range hold.MaxCodecElements + 1 {
		tooMany = tooMany.s("")
	}
	for _, tc := range []struct {
		name  string
		data  []byte
		field string
	}{
		{"empty", nil, "format"},
		{"unknown format", enc{1}.s("H-1"), "format"},
		{"too large", append(enc{hold.CodecFormat}, make([]byte, hold.MaxCodecBytes)...), "format"},
		{"truncated id length", enc{hold.CodecFormat}, "id"},
		{"truncated id", enc{hold.CodecFormat}.u(5).b('H'), "id"},
		{"long varint", enc{hold.CodecFormat}.b(0x83, 0x00).b('H', '-', '1'), "id"},
		{"varint overflow", enc{hold.CodecFormat}.b(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f), "id"},
		{"string over the limit", enc{hold.CodecFormat}.u(hold.MaxCodecString + 1), "id"},
		{"invalid UTF-8", enc{hold.CodecFormat}.s("H-\xff"), "id"},
		{"missing status", enc{hold.CodecFormat}.s("H-1").s("C1"), "status"},
		{"unknown status", enc{hold.CodecFormat}.s("H-1").s("C1").b(4), "status"},
		{"missing time flag", enc{hold.CodecFormat}.s("H-1").s("C1").b(1), "expires_at"},
		{"unknown time flag", enc{hold.CodecFormat}.s("H-1").s("C1").b(1, 2).u(0), "expires_at"},
		{"truncated time", enc{hold.CodecFormat}.s("H-1").s("C1").b(1, 1), "expires_at"},
		{"long time varint", enc{hold.CodecFormat}.s("H-1").s("C1").b(1, 1, 0x80, 0x00), "expires_at"},
		{"missing sets", head(), "agencies"},
		{"missing commands", head().set("a"), "commands"},
		{"unsorted set", head().set("b", "a").set(), "agencies"},
		{"duplicate in set", head().set("a", "a").set(), "agencies"},
		{"duplicate empty element", head().set().set("", ""), "commands"},
		{"count beyond the input", head().u(100).s("a"), "agencies"},
		{"count over the limit", tooMany.set(), "agencies"},
		{"truncated element", head().set("a").u(1).u(3).b('x'), "commands"},
		{"trailing byte", head().set().set().b(0), "commands"},
		{"command without its time", head().set().u(1).s("a"), "commands"},
		{"long command time varint", head().set().u(1).s("a").b(0x80, 0x00), "commands"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, err := hold.Codec{}.Decode(tc.data)
			if !errors.Is(err, hold.ErrMalformed) {
				t.Fatalf("Decode(%x) = %v, %v; want ErrMalformed", tc.data, h, err)
			}
			var de *hold.DecodeError
			if !errors.As(err, &de) || de.Field != tc.field {
				t.Fatalf("Decode(%x) = %v; want a DecodeError in field %s", tc.data, err, tc.field)
			}
			if !strings.HasPrefix(err.Error(), "hold: ") {
				t.Fatalf("error %q lacks the package prefix", err)
			}
			if !h.Equal(hold.Hold{}) {
				t.Fatalf("Decode returned %+v with its error", h)
			}
		})
	}
}

func TestCodecAppendRefuses(t *testing.T) {
	ok := sampleHold()
	many := make([]string, hold.MaxCodecElements+1)
	for i := range many {
		many[i] = string(rune('a'+i%26)) + strings.Repeat("x", i/26)
	}
	for _, tc := range []struct {
		name string
		edit func(h *hold.Hold)
	}{
		{"unknown status", func(h *hold.Hold) { h.Status = "pending" }},
		{"expiry before 1678", func(h *hold.Hold) { h.ExpiresAt = time.Date(1600, 1, 1, 0, 0, 0, 0, time.UTC) }},
		{"expiry after 2262", func(h *hold.Hold) { h.ExpiresAt = time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC) }},
		{"invalid UTF-8", func(h *hold.Hold) { h.Note = "caf\xe9" }},
		{"invalid UTF-8 element", func(h *hold.Hold) { h.Agencies = h.Agencies.Add("\xff") }},
		{"long string", func(h *hold.Hold) { h.Note = strings.Repeat("x", hold.MaxCodecString+1) }},
		{"too many elements", func(h *hold.Hold) { h.Agencies = policy.NewSet(many...) }},
		{"too many commands", func(h *hold.Hold) {
			for _, k := range many {
				h.Commands = h.Commands.Add(k, version.Timestamp{})
			}
		}},
		{"too large", func(h *hold.Hold) {
			for i := range 17 {
				h.Commands = h.Commands.Add(strings.Repeat(string(rune('a'+i)), hold.MaxCodecString), version.Timestamp{})
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := ok
			tc.edit(&h)
			dst := []byte("keep")
			out, err := hold.Codec{}.Append(dst, h)
			if err == nil || errors.Is(err, hold.ErrMalformed) || !strings.HasPrefix(err.Error(), "hold: ") {
				t.Fatalf("Append = %v; want an encoding error", err)
			}
			if string(out) != "keep" {
				t.Fatalf("Append returned %q with its error, want dst unchanged", out)
			}
		})
	}
}

func FuzzCodec(f *testing.F) {
	for _, h := range []hold.Hold{sampleHold(), {}, hold.New("H-1", "C1", "", time.Time{}), hold.NoteEdit("東京 🚢")} {
		b, err := hold.Codec{}.Append(nil, h)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(b[:len(b)-1])
		f.Add(append(b, 0))
	}
	f.Add([]byte(head().set("b", "a").set()))
	f.Add([]byte(head().set("a", "a").set()))
	f.Add([]byte(enc{hold.CodecFormat}.b(0x80, 0x00)))
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := hold.Codec{}.Decode(data)
		// Validate is Decode's verdict without the hold.
		if verr := (hold.Codec{}).Validate(data); fmt.Sprint(verr) != fmt.Sprint(err) {
			t.Fatalf("Validate(%x) = %v, Decode's error %v", data, verr, err)
		}
		if err != nil {
			var de *hold.DecodeError
			if !errors.Is(err, hold.ErrMalformed) || !errors.As(err, &de) {
				t.Fatalf("Decode(%x): untyped error %v", data, err)
			}
			if !h.Equal(hold.Hold{}) {
				t.Fatalf("Decode(%x) returned %+v with error %v", data, h, err)
			}
			return
		}
		again, err := hold.Codec{}.Append(nil, h)
		if err != nil {
			t.Fatalf("Decode(%x) = %+v, which does not encode: %v", data, h, err)
		}
		if !bytes.Equal(again, data) {
			t.Fatalf("Decode(%x) = %+v, which re-encodes to %x", data, h, again)
		}
		back, err := hold.Codec{}.Decode(again)
		if err != nil || !back.Equal(h) {
			t.Fatalf("decode(encode(%+v)) = %+v, %v", h, back, err)
		}
	})
}

// TestCodecValidate checks that Validate is what a replica may trust to
// store a binary hold without decoding it: replica.Validator, the same
// verdict as Decode on the fuzzer's seeds and on every truncation of a
// valid hold, no allocation on a valid one.
func TestCodecValidate(t *testing.T) {
	var _ replica.Validator = hold.Codec{}
	good, err := hold.Codec{}.Append(nil, sampleHold())
	if err != nil {
		t.Fatal(err)
	}
	for n := range len(good) + 1 {
		_, derr := hold.Codec{}.Decode(good[:n])
		if verr := (hold.Codec{}).Validate(good[:n]); fmt.Sprint(verr) != fmt.Sprint(derr) {
			t.Fatalf("Validate of %d of %d bytes = %v, Decode's error %v", n, len(good), verr, derr)
		}
	}
	if a := testing.AllocsPerRun(100, func() { _ = hold.Codec{}.Validate(good) }); a != 0 {
		t.Fatalf("Validate of a valid hold allocates %v times", a)
	}
}

// BenchmarkCodec compares the binary codec with the default JSON codec on a
// typical hold.
func BenchmarkCodec(b *testing.B) {
	h := sampleHold()
	for _, c := range []struct {
		name  string
		codec replica.Codec[hold.Hold]
	}{
		{"binary", hold.Codec{}},
		{"json", replica.JSON[hold.Hold]{}},
	} {
		data, err := c.codec.Append(nil, h)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(c.name+"/append", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			buf := make([]byte, 0, 4*len(data))
			for b.Loop() {
				if _, err := c.codec.Append(buf[:0], h); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(c.name+"/decode", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := c.codec.Decode(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
