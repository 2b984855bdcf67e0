package bench

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
)

// Sizes are the numbers of replicas every vector benchmark runs at.
var Sizes = []int{3, 16, 128}

// Seed seeds every generated input.
const Seed = 0x636f6e636f7264 // "concord"

// ReplicaName returns the name of replica i: eight bytes, such as
// "reg00042", ordered as i is.
func ReplicaName(i int) string { return fmt.Sprintf("reg%05d", i) }

// ReplicaNumber returns the integer ID of replica i for implementations whose
// IDs are integers: the name's eight bytes read big-endian, so integer IDs
// order as names do and are as wide as real 64-bit IDs (syncthing's ShortID
// is the first eight bytes of a device ID).
func ReplicaNumber(i int) uint64 { return binary.BigEndian.Uint64([]byte(ReplicaName(i))) }

// Counters is the shape of a version vector: Counters[i] is replica i's
// counter, 0 when absent. Every implementation's vector is built from one.
type Counters []uint64

// RandomCounters returns n counters drawn from a generator seeded with Seed
// and n, each in [1, 2^20), so that encodings carry three-byte varints.
func RandomCounters(n int) Counters { return randomCounters(n, 1<<20) }

// randomCounters returns n counters in [1, limit) from a generator seeded
// with Seed and n.
func randomCounters(n int, limit uint64) Counters {
	r := rand.New(rand.NewPCG(Seed, uint64(n)))
	c := make(Counters, n)
	for i := range c {
		c[i] = 1 + r.Uint64N(limit-1)
	}
	return c
}

// ComparePair returns the shapes compared by the compare benchmarks, shaped
// so that every implementation scans to the end: in the "descends" case a is
// b with its last counter raised (a descends from b; the difference is in the
// last entry); in the "concurrent" case a is ahead at the first entry and b
// at the last, so the concurrency shows only at the end.
func ComparePair(n int, concurrent bool) (a, b Counters) {
	base := RandomCounters(n)
	a, b = clone(base), clone(base)
	if concurrent {
		a[0]++
		b[n-1]++
	} else {
		a[n-1]++
	}
	return a, b
}

// Cases are the compare cases.
var Cases = []string{"descends", "concurrent"}

// JoinPair returns the shapes joined by the join benchmarks: the concurrent
// compare pair, whose join differs from both.
func JoinPair(n int) (a, b Counters) { return ComparePair(n, true) }

// DVVShape returns the shape of the DVV benchmark: a write v made at the
// last replica with context past (its dot's counter one above the past's),
// and an earlier write w at the middle replica that v's writer had seen, with
// the counter past holds for it. A plain vector implementation compares the
// vectors of the two writes instead: vv is past with v's dot, wv is past.
// Counters stay below 64 so that aalpar's dot context, which can only issue
// dots one at a time, can be built.
func DVVShape(n int) (past Counters, vDot, wDot int, vv, wv Counters) {
	past = randomCounters(n, 64)
	vv, wv = clone(past), clone(past)
	vv[n-1]++
	return past, n - 1, n / 2, vv, wv
}

// AsPairs returns the baseline vector of c.
func (c Counters) AsPairs() Pairs {
	var p Pairs
	for i, n := range c {
		if n > 0 {
			p = append(p, Pair{ReplicaNumber(i), n})
		}
	}
	return p
}

func clone(c Counters) Counters { return append(Counters(nil), c...) }

// SetShape is the add-wins set benchmark's input: 1,000 elements on each
// side, the first 500 shared (added at replica "lisbon" before the two sides
// diverged), then 500 added concurrently on each side — at "lisbon" after the
// shared ones and at "baltimore".
type SetShape struct {
	Shared, Left, Right []string
}

// Replica names of the set and register benchmarks.
const (
	Lisbon    = "lisbon"
	Baltimore = "baltimore"
)

// NewSetShape returns the 500 + 500 / 500 + 500 shape.
func NewSetShape() SetShape {
	var s SetShape
	for i := 1; i <= 500; i++ {
		s.Shared = append(s.Shared, fmt.Sprintf("shared-%04d", i))
		s.Left = append(s.Left, fmt.Sprintf("lisbon-%04d", i))
		s.Right = append(s.Right, fmt.Sprintf("baltimore-%04d", i))
	}
	return s
}

// AddElements returns the 1,000 elements of the add benchmark, added one
// write at a time at replica "lisbon".
func AddElements() []string {
	e := make([]string, 1000)
	for i := range e {
		e[i] = fmt.Sprintf("item-%04d", i)
	}
	return e
}
