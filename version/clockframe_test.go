package version_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"iter"
	"slices"
	"testing"

	"pgregory.net/rapid"

	"github.com/harborpoint/concord/internal/proof"
	"github.com/harborpoint/concord/version"
)

func encInt(dst []byte, v int) ([]byte, error) { return binary.AppendVarint(dst, int64(v)), nil }

func mustFrame(t *rapid.T, c version.Clock[int]) (version.ClockFrame, []byte) {
	data, err := c.AppendBinary(nil, encInt)
	if err != nil {
		t.Fatal(err)
	}
	f, err := version.ReadClockFrame(data, version.Limits{})
	if err != nil {
		t.Fatalf("ReadClockFrame of %v: %v", c, err)
	}
	return f, data
}

// TestClockFrameMatchesClock checks, on the clocks of random histories
// (every pair, and each clock against syncs that contain it), that a frame
// read from a clock's encoding compares, joins and counts as the decoded
// clock does, and lists the same siblings with the bytes DecodeClock hands
// to its decoder.
func TestClockFrameMatchesClock(t *testing.T) {
	proof.Check(t, proof.Histories(t, 200), func(t *rapid.T) {
		clocks, _ := genClocks(t)
		clocks = append(clocks, clocks[0].Sync(clocks[1]), clocks[1].Sync(clocks[2]), version.Clock[int]{})
		frames := make([]version.ClockFrame, len(clocks))
		for i, c := range clocks {
			f, data := mustFrame(t, c)
			frames[i] = f
			if f.Len() != c.Len() || !f.Join().Equal(c.Join()) {
				t.Fatalf("frame of %v: %d siblings, context %v", c, f.Len(), f.Join())
			}
			if got, want := slices.Collect(pairs(f.All())), slices.Collect(pairs(c.Join().All())); !slices.Equal(got, want) {
				t.Fatalf("frame of %v: All %v, want %v", c, got, want)
			}
			if want, _ := c.Join().AppendBinary([]byte("x")); !bytes.Equal(f.AppendJoin([]byte("x")), want) {
				t.Fatalf("frame of %v: AppendJoin %x, want %x", c, f.AppendJoin([]byte("x")), want)
			}
			var want, got []sib
			if _, err := version.DecodeClock(data, version.Limits{}, func(d version.Dot, b []byte) (int, error) {
				want = append(want, sib{d, b})
				return 0, nil
			}); err != nil {
				t.Fatal(err)
			}
			for d, b := range f.Siblings() {
				got = append(got, sib{d, b})
			}
			if !slices.EqualFunc(got, want, func(x, y sib) bool { return x.d == y.d && bytes.Equal(x.b, y.b) }) {
				t.Fatalf("frame siblings %v, DecodeClock's %v", got, want)
			}
			checkSummary(t, f, c, got[:min(1, len(got))])
		}
		for i := range clocks {
			for j := range clocks {
				if got, want := frames[i].Compare(frames[j]), clocks[i].Compare(clocks[j]); got != want {
					t.Fatalf("frames of %v and %v compare %v, the clocks %v", siblings(clocks[i]), siblings(clocks[j]), got, want)
				}
			}
		}
	})
}

// sib is a sibling's dot and encoded value.
type sib struct {
	d version.Dot
	b []byte
}

// checkSummary checks that Summarize reads of frame f of clock c what
// AppendJoin, All and Siblings (whose first sibling is first, if any) read,
// asked about each of c's replicas and about one it lacks.
func checkSummary(t *rapid.T, f version.ClockFrame, c version.Clock[int], first []sib) {
	ids := append(slices.Collect(func(yield func(version.ID) bool) {
		for id := range c.Join().All() {
			if !yield(id) {
				return
			}
		}
	}), version.MustID("absent"))
	for _, id := range ids {
		s, value := f.Summarize(id, []byte("x"), []uint64{7})
		var counts []uint64
		for _, n := range c.Join().All() {
			counts = append(counts, n)
		}
		wantJoin, _ := c.Join().AppendBinary([]byte("x"))
		wantDot, wantValue := version.Dot{}, []byte(nil)
		if len(first) > 0 {
			wantDot, wantValue = first[0].d, first[0].b
		}
		if !bytes.Equal(s.Join, wantJoin) || !slices.Equal(s.Counts, append([]uint64{7}, counts...)) ||
			s.Own != c.Join().Get(id) || s.Dot != wantDot || !bytes.Equal(value, wantValue) {
			t.Fatalf("Summarize of %v about %v: %+v, %x; want join %x, counts %v, own %d, first %v %x",
				c, id, s, value, wantJoin, counts, c.Join().Get(id), wantDot, wantValue)
		}
	}
}

// TestReadClockFrameAgreesWithDecode checks that ReadClockFrame refuses what
// DecodeClock refuses (for reasons other than a value), with the same error.
func TestReadClockFrameAgreesWithDecode(t *testing.T) {
	good, _ := sampleClock(t).AppendBinary(nil, encString)
	for _, data := range [][]byte{nil, {1, 0}, good[:len(good)-1], append(slices.Clone(good), 0),
		{2, 1, 1, 'a', 0, 1, 2, 0, 0}, {2, 0xff, 0xff, 0xff, 0x7f}, {2, 2, 1, 'b', 0, 1, 0, 1, 'a', 0, 1, 0}} {
		for _, lim := range []version.Limits{{}, {MaxBytes: 10}, {MaxEntries: 2}} {
			_, want := version.DecodeClock(data, lim, decString)
			_, got := version.ReadClockFrame(data, lim)
			if (got == nil) != (want == nil) || got != nil && got.Error() != want.Error() {
				t.Errorf("%x within %+v: ReadClockFrame says %v, DecodeClock %v", data, lim, got, want)
			}
		}
	}
}

func TestClockFrameZero(t *testing.T) {
	var f version.ClockFrame
	empty, _ := version.Vector{}.AppendBinary(nil)
	if f.Len() != 0 || !f.Join().IsZero() || len(slices.Collect(pairs(f.All()))) != 0 || f.Compare(f) != version.Equal || !bytes.Equal(f.AppendJoin(nil), empty) {
		t.Fatal("the zero frame is not the empty clock")
	}
	for range f.Siblings() {
		t.Fatal("the zero frame has a sibling")
	}
}

func FuzzReadClockFrame(f *testing.F) {
	good, _ := sampleClock(f).AppendBinary(nil, encString)
	f.Add(good)
	f.Add([]byte{2, 0})
	f.Add([]byte{2, 1, 1, 'a', 0, 1, 1, 1, 'x'})
	f.Add([]byte{2, 1, 1, 'a', 0, 1, 2, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		lim := version.Limits{MaxEntries: 64, MaxBytes: 4096}
		fr, err := version.ReadClockFrame(data, lim)
		c, derr := version.DecodeClock(data, lim, func(_ version.Dot, b []byte) (string, error) { return string(b), nil })
		if (err == nil) != (derr == nil) {
			t.Fatalf("ReadClockFrame: %v; DecodeClock: %v", err, derr)
		}
		if err != nil {
			var de *version.DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("untyped error: %v", err)
			}
			return
		}
		if fr.Len() != c.Len() || !fr.Join().Equal(c.Join()) || fr.Compare(fr) != version.Equal {
			t.Fatalf("frame %d siblings, context %v; clock %v", fr.Len(), fr.Join(), c)
		}
		var vals []string
		for _, b := range fr.Siblings() {
			vals = append(vals, string(b))
		}
		if !slices.Equal(vals, c.Values()) {
			t.Fatalf("frame values %q, clock's %q", vals, c.Values())
		}
		s, value := fr.Summarize(version.ID{}, nil, nil)
		if want, _ := c.Join().AppendBinary(nil); !bytes.Equal(s.Join, want) || len(s.Counts) != c.Join().Len() ||
			len(vals) > 0 && string(value) != vals[0] {
			t.Fatalf("summary %+v of clock %v", s, c)
		}
	})
}

// TestClockFrameCompareSiblings checks frames whose contexts are equal but
// whose siblings differ (a clock that saw a supersession the other did
// not): they order as the clocks do.
func TestClockFrameCompareSiblings(t *testing.T) {
	x, y := clockIDs[0], clockIDs[1]
	c0, _, _ := version.NewClock(version.Vector{}, 1, x)
	c1, _, _ := c0.Update(version.Vector{}, 2, x)               // x:2 and x:1, concurrent
	fewer, _, _ := c1.Update(version.MustVector("{x:1}"), 3, y) // y:1 supersedes x:1
	more, _, _ := c1.Update(version.Vector{}, 3, y)             // y:1 beside both
	if !fewer.Join().Equal(more.Join()) || fewer.Len() >= more.Len() {
		t.Fatalf("bad shape: %v, %v", siblings(fewer), siblings(more))
	}
	for _, pair := range [][2]version.Clock[int]{{fewer, more}, {more, fewer}, {fewer, fewer}} {
		fa := frameOf(t, pair[0])
		fb := frameOf(t, pair[1])
		if got, want := fa.Compare(fb), pair[0].Compare(pair[1]); got != want || want == version.Concurrent {
			t.Errorf("%v vs %v: frames %v, clocks %v", siblings(pair[0]), siblings(pair[1]), got, want)
		}
	}
}

func frameOf(t *testing.T, c version.Clock[int]) version.ClockFrame {
	t.Helper()
	data, err := c.AppendBinary(nil, encInt)
	if err != nil {
		t.Fatal(err)
	}
	f, err := version.ReadClockFrame(data, version.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// pairs turns an iterator of a context's entries into one of dots, to
// collect and compare.
func pairs(all iter.Seq2[version.ID, uint64]) iter.Seq[version.Dot] {
	return func(yield func(version.Dot) bool) {
		for id, n := range all {
			if !yield(version.Dot{ID: id, Counter: n}) {
				return
			}
		}
	}
}
