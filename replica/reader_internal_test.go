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
