package rangesync

import (
	"crypto/sha256"
	"encoding/binary"
	"math/bits"
)

// sum is an element of the group of integers modulo 2^256: four 64-bit
// limbs, least significant first. The fingerprint of a range is built from
// the sum of its items' hashes, so that adding or removing an item is one
// addition or subtraction, and the sum of any range is a difference of two
// prefix sums.
type sum [4]uint64

func (s *sum) add(x *sum) {
	var c uint64
	s[0], c = bits.Add64(s[0], x[0], 0)
	s[1], c = bits.Add64(s[1], x[1], c)
	s[2], c = bits.Add64(s[2], x[2], c)
	s[3], _ = bits.Add64(s[3], x[3], c)
}

func (s *sum) sub(x *sum) {
	var b uint64
	s[0], b = bits.Sub64(s[0], x[0], 0)
	s[1], b = bits.Sub64(s[1], x[1], b)
	s[2], b = bits.Sub64(s[2], x[2], b)
	s[3], _ = bits.Sub64(s[3], x[3], b)
}

// itemHash is the hash of one item: SHA-256 of the key's length, the key
// and the caller's version bytes. The length prefix keeps ("ab", "c") and
// ("a", "bc") apart.
func itemHash(key string, version []byte) sum {
	var buf [160]byte
	b := binary.AppendUvarint(buf[:0], uint64(len(key)))
	b = append(b, key...)
	b = append(b, version...)
	d := sha256.Sum256(b)
	return sum{
		binary.LittleEndian.Uint64(d[0:]), binary.LittleEndian.Uint64(d[8:]),
		binary.LittleEndian.Uint64(d[16:]), binary.LittleEndian.Uint64(d[24:]),
	}
}

// FingerprintLen is the size in bytes of a range's fingerprint on the wire.
const FingerprintLen = 16

// TagLen is the size in bytes of the tag that names an item's version in a
// list of items on the wire: the first bytes of its hash.
const TagLen = 16

// fingerprint is what a message carries for a range: the first 16 bytes of
// SHA-256 over the range's sum and its item count. Hashing the count in
// keeps ranges whose sums agree by accident of size apart, and hashing the
// sum keeps the wire value from being a group element an attacker could
// do arithmetic with.
type fingerprint [FingerprintLen]byte

func fingerprintOf(s sum, count int) fingerprint {
	var buf [32 + binary.MaxVarintLen64]byte
	for i, limb := range s {
		binary.LittleEndian.PutUint64(buf[8*i:], limb)
	}
	b := binary.AppendUvarint(buf[:32], uint64(count))
	d := sha256.Sum256(b)
	var f fingerprint
	copy(f[:], d[:])
	return f
}

// tag is the wire name of an item's version: the first TagLen bytes of its
// hash.
type tag [TagLen]byte

func (s *sum) tag() tag {
	var t tag
	binary.LittleEndian.PutUint64(t[0:], s[0])
	binary.LittleEndian.PutUint64(t[8:], s[1])
	return t
}
