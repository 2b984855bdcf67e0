package replica

import (
	"encoding/binary"
	"testing"

	"pgregory.net/rapid"
)

// TestReaderUvarintMatchesBinary checks that the branch-header reader reads
// each varint as binary.Uvarint does — value, length, and failure on
// truncated and overlong input, after which nothing more is read — on
// every input of up to two bytes and on random ones.
func TestReaderUvarintMatchesBinary(t *testing.T) {
	check := func(t interface{ Fatalf(string, ...any) }, b []byte) {
		r := reader{b: b}
		got := r.uvarint()
		want, n := binary.Uvarint(b)
		switch {
		case n <= 0 && (r.err == nil || r.off != len(b) || got != 0):
			t.Fatalf("%x: read %d to %d, err %v; binary.Uvarint fails", b, got, r.off, r.err)
		case n > 0 && (r.err != nil || got != want || r.off != n):
			t.Fatalf("%x: read %d to %d, err %v; binary.Uvarint reads %d in %d", b, got, r.off, r.err, want, n)
		case n <= 0 && r.uvarint() != 0:
			t.Fatalf("%x: read after a failure", b)
		}
	}
	check(t, nil)
	for x := range 1 << 16 {
		check(t, []byte{byte(x)})
		check(t, []byte{byte(x), byte(x >> 8)})
		check(t, []byte{byte(x), byte(x >> 8), 0x01})
	}
	rapid.Check(t, func(t *rapid.T) {
		check(t, rapid.SliceOfN(rapid.Byte(), 0, 12).Draw(t, "b"))
	})
	// Varints of every length up to eleven bytes (canonical or not, the
	// longest overflowing), with bytes after them or cut short: random
	// bytes seldom make the long ones, which a wall time in nanoseconds is.
	rapid.Check(t, func(t *rapid.T) {
		var b []byte
		for range rapid.IntRange(0, 10).Draw(t, "continuation bytes") {
			b = append(b, 0x80|rapid.Byte().Draw(t, "continuation"))
		}
		b = append(b, rapid.Byte().Draw(t, "last")&0x7f)
		b = append(b, rapid.SliceOfN(rapid.Byte(), 0, 9).Draw(t, "after")...)
		check(t, b[:rapid.IntRange(0, len(b)).Draw(t, "length")])
	})
	for x := uint64(1); x != 0; x <<= 1 {
		for _, v := range []uint64{x - 1, x, x + 1} {
			b := binary.AppendUvarint(nil, v)
			check(t, b)
			check(t, append(b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff))
		}
	}
}

// TestReaderVarintMatchesBinary checks the signed reader against
// binary.Varint.
func TestReaderVarintMatchesBinary(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		x := rapid.Int64().Draw(t, "x")
		b := binary.AppendVarint(nil, x)
		r := reader{b: b}
		if got := r.varint(); got != x || r.err != nil || r.off != len(b) {
			t.Fatalf("%x: read %d, want %d", b, got, x)
		}
	})
}
