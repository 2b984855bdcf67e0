package replica

import (
	"bytes"
	"testing"
	"time"
)

// FuzzOpenHorizon: a stored horizon that does not read is an error, never
// a panic, and one encodeHorizon made reads back as it was written.
func FuzzOpenHorizon(f *testing.F) {
	f.Add(encodeHorizon(time.Unix(1, 2), []byte("state")))
	f.Add(encodeHorizon(time.Unix(0, 0), nil))
	f.Add([]byte{horizonFormat})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		at, data, err := openHorizon(b)
		if err != nil {
			return
		}
		if again := encodeHorizon(at, data); !bytes.Equal(again, b) {
			t.Fatalf("%x reads back as %v, %x, which encodes as %x", b, at, data, again)
		}
	})
}

// TestOpenHorizonRefusesDamage: a flipped bit anywhere in a stored horizon
// is refused.
func TestOpenHorizonRefusesDamage(t *testing.T) {
	b := encodeHorizon(time.Unix(1700000000, 5), []byte("tombstone"))
	for i := range b {
		for bit := range 8 {
			c := bytes.Clone(b)
			c[i] ^= 1 << bit
			if _, _, err := openHorizon(c); err == nil {
				t.Fatalf("byte %d bit %d flipped: read back", i, bit)
			}
		}
	}
}
