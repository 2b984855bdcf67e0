package replica

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"hash/crc32"
	"hash/crc64"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/harborpoint/concord/hold"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

// TestFrameRoundTrip: open(seal(p)) is p for any payload, and every single-bit flip and every truncation of a frame
// is ErrCorrupt (CRC-32C detects every burst of up to 32 bits).
func TestFrameRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		p := rapid.SliceOfN(rapid.Byte(), 0, 300).Draw(t, "payload")
		frame := seal(bytes.Clone(p))
		if len(frame) != len(p)+frameOverhead || frame[0] != StateFormat {
			t.Fatalf("frame of %d bytes starts %d", len(frame), frame[0])
		}
		got, err := open(frame, DefaultMaxRecordBytes)
		if err != nil || !bytes.Equal(got, p) {
			t.Fatalf("open(seal(%x)) = %x, %v", p, got, err)
		}
		bit := rapid.IntRange(0, 8*len(frame)-1).Draw(t, "bit")
		bad := bytes.Clone(frame)
		bad[bit/8] ^= 1 << (bit % 8)
		if _, err := open(bad, DefaultMaxRecordBytes); !errors.Is(err, ErrCorrupt) || !errors.Is(err, ErrMalformed) {
			t.Fatalf("bit %d flipped: %v", bit, err)
		}
		cut := rapid.IntRange(0, len(frame)-1).Draw(t, "cut")
		if _, err := open(frame[:cut], DefaultMaxRecordBytes); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("truncated to %d: %v", cut, err)
		}
	})
}

// seal frames payload as the replica does.
func seal(payload []byte) []byte { return endFrame(append(beginFrame(nil), payload...)) }

// FuzzOpen: open never panics, and a frame it accepts is exactly the seal
// of the payload it returns.
func FuzzOpen(f *testing.F) {
	f.Add(seal([]byte("state")))
	f.Add(seal(nil))
	f.Add([]byte{})
	f.Add([]byte{StateFormat, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := open(data, DefaultMaxRecordBytes)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		if !bytes.Equal(seal(bytes.Clone(p)), data) {
			t.Fatalf("accepted %x, which is not the seal of %x", data, p)
		}
	})
}

// benchState is a hold record's state as the replica stores it: one
// sibling, or two concurrent ones.
func benchState(b *testing.B, siblings int) resolve.Siblings[hold.Hold] {
	var s resolve.Siblings[hold.Hold]
	ts := version.Timestamp{Wall: time.Date(2026, 11, 26, 14, 0, 0, 0, time.UTC).UnixNano()}
	for i := range siblings {
		h := hold.New("H-8821", "C14", "lisbon-desk", time.Date(2026, 11, 26, 14, 10, 0, 0, time.UTC))
		h.Note = "window seat, late check-in"
		h.Commands = h.Commands.Add("x1", ts).Add("x2", ts)
		var err error
		s, _, err = s.UpdateWith(version.Vector{}, version.MustID([]string{"lisbon", "baltimore"}[i]), func(d version.Dot) resolve.Branch[hold.Hold] {
			return resolve.Branch[hold.Hold]{Value: h, Stamp: version.Stamp{Time: ts, Dot: d}}
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	return s
}

// BenchmarkFrame measures the checksum against the work around it: encoding
// and decoding a hold's state (JSON codec and hold.Codec) bare and framed
// as the replica does (format byte in front, CRC-32C behind), and the
// checksums it could use instead (CRC-32 IEEE, CRC-64, SHA-256) over the
// same bytes.
func BenchmarkFrame(b *testing.B) {
	for _, tc := range []struct {
		name  string
		codec Codec[hold.Hold]
	}{{"json", JSON[hold.Hold]{}}, {"holdcodec", hold.Codec{}}} {
		for _, n := range []int{1, 2} {
			s := benchState(b, n)
			payload, err := encodeState(s, tc.codec)
			if err != nil {
				b.Fatal(err)
			}
			frame := seal(bytes.Clone(payload))
			prefix := tc.name + "/" + []string{"", "one", "two"}[n] + "/"
			b.Run(prefix+"encode", func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(payload)))
				for range b.N {
					if _, err := encodeState(s, tc.codec); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run(prefix+"encode+frame", func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(payload)))
				for range b.N {
					p, _, _, err := encodeStateLast(beginFrame(nil), s, tc.codec, nil)
					if err != nil {
						b.Fatal(err)
					}
					_ = endFrame(p)
				}
			})
			b.Run(prefix+"decode", func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(payload)))
				for range b.N {
					if _, err := decodeState(payload, tc.codec, version.Limits{}, 8); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run(prefix+"open+decode", func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(payload)))
				for range b.N {
					p, err := open(frame, DefaultMaxRecordBytes)
					if err != nil {
						b.Fatal(err)
					}
					if _, err := decodeState(p, tc.codec, version.Limits{}, 8); err != nil {
						b.Fatal(err)
					}
				}
			})
			sums := []struct {
				name string
				sum  func([]byte)
			}{
				{"crc32c", func(p []byte) { crc32.Checksum(p, castagnoli) }},
				{"crc32ieee", func(p []byte) { crc32.ChecksumIEEE(p) }},
				{"crc64ecma", func(p []byte) { crc64.Checksum(p, crc64ECMA) }},
				{"sha256", func(p []byte) { sha256.Sum256(p) }},
			}
			for _, c := range sums {
				b.Run(prefix+c.name, func(b *testing.B) {
					b.ReportAllocs()
					b.SetBytes(int64(len(payload)))
					for range b.N {
						c.sum(frame)
					}
				})
			}
		}
	}
}

var crc64ECMA = crc64.MakeTable(crc64.ECMA)
