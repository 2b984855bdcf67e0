package claim

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"testing"
	"time"
)

// FuzzDecode decodes arbitrary bytes as a stored claim: it never panics,
// fails only with ErrMalformed, and what it accepts is a valid claim that
// encodes back to the same bytes (the stored form is canonical).
func FuzzDecode(f *testing.F) {
	at := time.Date(2027, 3, 14, 9, 0, 0, 0, time.UTC)
	for _, c := range []Claim{
		{},
		{Token: 7, Since: at},
		{State: StatePending, Owner: "H-8821", Token: 1, Until: at, Since: at.Add(-time.Minute)},
		{State: StateCommitted, Owner: "H-8821", Token: 3, Since: at, Data: "B-3107"},
	} {
		b := encode(c)
		f.Add(b)
		f.Add(b[:len(b)/2])
		f.Add(append(bytes.Clone(b), 0))
		for _, i := range []int{0, 1, 2, 3, len(b) - 5, len(b) - 1} {
			m := bytes.Clone(b)
			m[i] ^= 0xff
			f.Add(m)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := decode("n", data)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		if err := c.validate(); err != nil {
			t.Fatalf("accepted an invalid claim %v: %v", c, err)
		}
		if again := encode(c); !bytes.Equal(again, data) {
			t.Fatalf("%v re-encodes to %x, not %x", c, again, data)
		}
	})
}

// TestCodecRejects names the malformations the decoder must refuse.
func TestCodecRejects(t *testing.T) {
	at := time.Date(2027, 3, 14, 9, 0, 0, 0, time.UTC)
	withSum := func(body []byte) []byte {
		return binary.BigEndian.AppendUint32(body, crc32.Checksum(body, castagnoli))
	}
	long := append([]byte{magic, formatVersion, byte(StatePending), 1, 0, 0}, 0xff, 0xff, 0xff, 0xff, 0x0f) // owner of 4 GiB
	for name, data := range map[string][]byte{
		"empty":             nil,
		"bad checksum":      append(encode(Claim{}), 0)[1:],
		"unknown version":   withSum([]byte{magic, 9, 0, 0, 0, 0, 0, 0}),
		"unknown state":     withSum([]byte{magic, formatVersion, 7, 0, 0, 0, 0, 0}),
		"free with owner":   encode(Claim{Owner: "H-1"}),
		"pending, no owner": encode(Claim{State: StatePending, Token: 1, Until: at}),
		"pending, no until": encode(Claim{State: StatePending, Owner: "H-1", Token: 1}),
		"held, token 0":     encode(Claim{State: StateCommitted, Owner: "H-1"}),
		"committed, until":  encode(Claim{State: StateCommitted, Owner: "H-1", Token: 1, Until: at}),
		"owner of 4 GiB":    withSum(long),
		"overlong varint":   withSum([]byte{magic, formatVersion, 0, 0x80, 0x00, 0, 0, 0, 0}),
		"trailing bytes":    withSum(append(encode(Claim{})[:len(encode(Claim{}))-4], 0)),
	} {
		if _, err := decode("n", data); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v", name, err)
		}
	}
}
