package rangesync

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"testing"

	"pgregory.net/rapid"
)

// exchange is the outcome of one reconciliation run in process.
type exchange struct {
	have, need []string
	rounds     int // round trips
	sent, recv int // bytes the initiator sent and received
	biggest    int // the largest message either side wrote
}

// run reconciles a (the initiator) with b to the end.
func run(a, b *Index, opts Options) (exchange, error) {
	var x exchange
	s, err := NewInitiator(a, opts)
	if err != nil {
		return x, err
	}
	msg := s.Initiate()
	for msg != nil {
		x.rounds++
		x.sent += len(msg)
		x.biggest = max(x.biggest, len(msg))
		reply, err := Respond(b, msg, opts)
		if err != nil {
			return x, err
		}
		x.recv += len(reply)
		x.biggest = max(x.biggest, len(reply))
		var have, need []string
		msg, have, need, err = s.Reconcile(reply)
		if err != nil {
			return x, err
		}
		x.have = append(x.have, have...)
		x.need = append(x.need, need...)
	}
	return x, nil
}

// sets is a pair of item sets with known differences.
type sets struct {
	a, b       map[string]string // key → version
	have, need []string          // what the initiator a must find, sorted
}

func (s *sets) index(m map[string]string) *Index {
	var x Index
	for k, v := range m {
		if err := x.Put(k, []byte(v)); err != nil {
			panic(err)
		}
	}
	return &x
}

// drawSets draws n shared keys and d differences of the three kinds: a key
// only in a, only in b, or in both at different versions.
func drawSets(t *rapid.T, maxN, maxD int) *sets {
	n := rapid.IntRange(0, maxN).Draw(t, "n")
	d := rapid.IntRange(0, maxD).Draw(t, "d")
	keyLen := rapid.IntRange(1, 12).Draw(t, "keyLen")
	s := &sets{a: map[string]string{}, b: map[string]string{}}
	key := func(i int) string { return fmt.Sprintf("%0*d", keyLen, i) }
	for i := range n {
		s.a[key(i)], s.b[key(i)] = "v1", "v1"
	}
	for j := range d {
		kind := rapid.IntRange(0, 2).Draw(t, "kind")
		k := key(n + j)
		if n > 0 && kind == 2 && rapid.Bool().Draw(t, "shared") {
			k = key(rapid.IntRange(0, n-1).Draw(t, "at"))
		}
		switch kind {
		case 0:
			if _, shared := s.b[k]; !shared {
				s.a[k] = "v1"
			}
		case 1:
			if _, shared := s.a[k]; !shared {
				s.b[k] = "v1"
			}
		case 2:
			s.a[k], s.b[k] = "v2", "v3"
		}
	}
	for k, v := range s.a {
		if w, ok := s.b[k]; !ok || w != v {
			s.have = append(s.have, k)
		}
	}
	for k, v := range s.b {
		if w, ok := s.a[k]; !ok || w != v {
			s.need = append(s.need, k)
		}
	}
	slices.Sort(s.have)
	slices.Sort(s.need)
	return s
}

// roundBound is the most round trips a reconciliation of sets of at most n
// items may take when every answer fits in a frame: one to compare the
// whole set, one per halving of the larger side by 16 down to a list, and
// one to settle the lists.
func roundBound(n int) int {
	return 3 + int(math.Ceil(math.Log(float64(max(n, 2)))/math.Log(buckets)))
}

// TestReconcileFindsSymmetricDifference: for random sets with random
// differences, the initiator reports exactly the keys it holds that the
// other lacks or holds at another version (have) and the reverse (need),
// each once, in O(log n) round trips.
func TestReconcileFindsSymmetricDifference(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := drawSets(t, 3000, 60)
		x, err := run(s.index(s.a), s.index(s.b), Options{})
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(x.have)
		slices.Sort(x.need)
		if !slices.Equal(x.have, s.have) || !slices.Equal(x.need, s.need) {
			t.Fatalf("have %q need %q, want have %q need %q", x.have, x.need, s.have, s.need)
		}
		if lim := roundBound(max(len(s.a), len(s.b))); x.rounds > lim {
			t.Fatalf("%d round trips for %d and %d items, bound %d", x.rounds, len(s.a), len(s.b), lim)
		}
	})
}

// TestReconcileEqualSetsOneRoundTrip: equal sets cost one round trip of a
// fingerprint out and a version byte back, whatever their size.
func TestReconcileEqualSetsOneRoundTrip(t *testing.T) {
	for _, n := range []int{0, 1, 16, 17, 5000} {
		var a, b Index
		for i := range n {
			k := fmt.Sprintf("H-%06d", i)
			_ = a.Put(k, []byte("v"))
			_ = b.Put(k, []byte("v"))
		}
		x, err := run(&a, &b, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if x.rounds != 1 || x.sent != 19 || x.recv != 1 || len(x.have)+len(x.need) != 0 {
			t.Errorf("n=%d: %d round trips, %d bytes out, %d back, have %q need %q", n, x.rounds, x.sent, x.recv, x.have, x.need)
		}
	}
}

// TestReconcileCostGrowsWithDifferences: among 20,000 keys of 8 bytes,
// d differences cost at most, per difference and round trip, the 16
// fingerprints (bound and mode: 12 bytes, fingerprint 16) of one split —
// not a cost that grows with the keys that agree.
func TestReconcileCostGrowsWithDifferences(t *testing.T) {
	const n = 20000
	var a Index
	for i := range n {
		_ = a.Put(fmt.Sprintf("H-%06d", i), []byte("v"))
	}
	for _, d := range []int{1, 10, 100} {
		var b Index
		for i := range n {
			v := "v"
			if i%(n/d) == 0 {
				v = "w"
			}
			_ = b.Put(fmt.Sprintf("H-%06d", i), []byte(v))
		}
		x, err := run(&a, &b, Options{})
		if err != nil {
			t.Fatal(err)
		}
		limit := 64 + d*x.rounds*buckets*(12+FingerprintLen)
		t.Logf("d=%d: %d bytes, %d round trips, bound %d", d, x.sent+x.recv, x.rounds, limit)
		if len(x.have) != d || x.sent+x.recv > limit {
			t.Errorf("d=%d: found %d, %d bytes in %d round trips, bound %d", d, len(x.have), x.sent+x.recv, x.rounds, limit)
		}
	}
}

// TestReconcileSmallFrames: with the smallest frame limit and many
// differences, answers are cut at the limit and deferred, every message
// stays within it, and the result is still exact.
func TestReconcileSmallFrames(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		maxN, maxD := 4000, 3000
		if raceEnabled {
			maxN, maxD = 1500, 1000
		}
		s := drawSets(t, maxN, maxD)
		opts := Options{FrameLimit: MinFrameLimit}
		x, err := run(s.index(s.a), s.index(s.b), opts)
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(x.have)
		slices.Sort(x.need)
		if !slices.Equal(x.have, s.have) || !slices.Equal(x.need, s.need) {
			t.Fatalf("have %d keys, need %d; want %d and %d", len(x.have), len(x.need), len(s.have), len(s.need))
		}
		if x.biggest > MinFrameLimit {
			t.Fatalf("a message of %d bytes, limit %d", x.biggest, MinFrameLimit)
		}
	})
}

// TestReconcileCutsAtTheFrame: 20,000 differences among 50,000 keys (a fifth
// of that under -race) do not
// fit in frames of 32 KiB: the answers are cut, messages fill the frame
// without passing it, and the result is exact.
func TestReconcileCutsAtTheFrame(t *testing.T) {
	n := 50000
	if raceEnabled {
		n = 10000
	}
	var a, b Index
	for i := range n {
		k := fmt.Sprintf("H-%06d", i)
		_ = a.Put(k, []byte("v"))
		if i%5 < 3 {
			_ = b.Put(k, []byte("v"))
		}
	}
	x, err := run(&a, &b, Options{FrameLimit: MinFrameLimit})
	if err != nil {
		t.Fatal(err)
	}
	if len(x.have) != n*2/5 || len(x.need) != 0 {
		t.Fatalf("have %d need %d, want %d and 0", len(x.have), len(x.need), n*2/5)
	}
	if x.biggest > MinFrameLimit || x.biggest < MinFrameLimit*3/4 || x.rounds <= roundBound(n) {
		t.Fatalf("largest message %d bytes, %d rounds: no frame was cut", x.biggest, x.rounds)
	}
	t.Logf("%d round trips, %d bytes out, %d back", x.rounds, x.sent, x.recv)
}

// TestReconcileLongKeys: keys of MaxKeyLen bytes that share long prefixes
// still fit every answer in the smallest frame.
func TestReconcileLongKeys(t *testing.T) {
	var a, b Index
	long := func(i int) string { return fmt.Sprintf("%0*d", MaxKeyLen, i) }
	for i := range 600 {
		_ = a.Put(long(i), []byte("v"))
		if i%7 != 0 {
			_ = b.Put(long(i), []byte("v"))
		}
		if i%11 == 0 {
			_ = b.Put(long(10000+i), []byte("v"))
		}
	}
	x, err := run(&a, &b, Options{FrameLimit: MinFrameLimit})
	if err != nil {
		t.Fatal(err)
	}
	if len(x.have) != 86 || len(x.need) != 55 || x.biggest > MinFrameLimit {
		t.Fatalf("have %d need %d (want 86, 55), largest message %d", len(x.have), len(x.need), x.biggest)
	}
	if err := a.Put(long(0)+"x", nil); !errors.Is(err, ErrKeyTooLong) {
		t.Fatalf("Put of a key of %d bytes: %v", MaxKeyLen+1, err)
	}
}

// TestReconcileWhileWriting: writers change both indexes while
// reconciliations run (for the race detector); once they stop, one more
// reconciliation finds exactly the difference.
func TestReconcileWhileWriting(t *testing.T) {
	var a, b Index
	for i := range 2000 {
		k := fmt.Sprintf("k%05d", i)
		_ = a.Put(k, []byte("v"))
		_ = b.Put(k, []byte("v"))
	}
	var wg sync.WaitGroup
	for w, x := range []*Index{&a, &b} {
		wg.Go(func() {
			for i := range 3000 {
				k := fmt.Sprintf("k%05d", (i*7919+w*31)%2500)
				if i%5 == 0 {
					x.Remove(k)
				} else {
					_ = x.Put(k, []byte(fmt.Sprint(w, i)))
				}
			}
		})
	}
	for range 5 {
		if _, err := run(&a, &b, Options{}); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	x, err := run(&a, &b, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for i := range 2500 {
		k := fmt.Sprintf("k%05d", i)
		inA, inB := a.has(k), b.has(k)
		if inA != inB || inA && a.hash(k) != b.hash(k) {
			want[k] = true
		}
	}
	got := map[string]bool{}
	for _, k := range slices.Concat(x.have, x.need) {
		got[k] = true
	}
	if len(got) != len(want) {
		t.Fatalf("found %d differing keys, want %d", len(got), len(want))
	}
	for k := range want {
		if !got[k] {
			t.Fatalf("missed %q", k)
		}
	}
}

func (x *Index) has(k string) bool {
	x.mu.RLock()
	defer x.mu.RUnlock()
	n, _ := x.t.before(k)
	return n < x.t.len() && x.t.at(n).key == k
}

func (x *Index) hash(k string) sum {
	x.mu.RLock()
	defer x.mu.RUnlock()
	n, _ := x.t.before(k)
	return x.t.at(n).h
}

// TestIndexHasAndFingerprint: Has sees a key's current version only, and
// the whole-index fingerprint depends on the items, not on the order they
// were put in.
func TestIndexHasAndFingerprint(t *testing.T) {
	var a, b Index
	_ = a.Put("x", []byte("1"))
	_ = a.Put("y", []byte("2"))
	_ = b.Put("y", []byte("2"))
	_ = b.Put("x", []byte("0"))
	if a.Fingerprint() == b.Fingerprint() {
		t.Fatal("different versions, same fingerprint")
	}
	_ = b.Put("x", []byte("1"))
	if a.Fingerprint() != b.Fingerprint() || !b.Has("x", []byte("1")) || b.Has("x", []byte("0")) || b.Has("z", nil) {
		t.Fatal("fingerprint or Has disagree after the update")
	}
	b.Clear()
	var empty Index
	if b.Len() != 0 || b.Fingerprint() != empty.Fingerprint() || b.Remove("x") {
		t.Fatal("Clear left items")
	}
}

// TestOptions: the zero Options is valid; a frame limit below the minimum
// and a negative round limit are not.
func TestOptions(t *testing.T) {
	var x Index
	if _, err := NewInitiator(&x, Options{}); err != nil {
		t.Fatal(err)
	}
	for _, o := range []Options{{FrameLimit: MinFrameLimit - 1}, {MaxRounds: -1}} {
		if _, err := NewInitiator(&x, o); !errors.Is(err, ErrInvalidOptions) {
			t.Errorf("%+v: %v", o, err)
		}
		if _, err := Respond(&x, []byte{ProtocolVersion}, o); !errors.Is(err, ErrInvalidOptions) {
			t.Errorf("%+v: %v", o, err)
		}
	}
}

// TestMaxRounds: a peer that never agrees (it answers every message with a
// fingerprint of nothing) is cut off after MaxRounds rounds.
func TestMaxRounds(t *testing.T) {
	var x Index
	_ = x.Put("a", nil)
	s, err := NewInitiator(&x, Options{MaxRounds: 3})
	if err != nil {
		t.Fatal(err)
	}
	w := newWriter(32)
	w.fingerprint(bound{}, infinity, fingerprint{})
	stubborn := w.bytes()
	s.Initiate()
	for i := range 4 {
		_, _, _, err := s.Reconcile(stubborn)
		if i < 3 && err != nil || i == 3 && !errors.Is(err, ErrTooManyRounds) {
			t.Fatalf("round %d: %v", i+1, err)
		}
	}
}
