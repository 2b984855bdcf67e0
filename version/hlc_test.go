package version_test

import (
	"errors"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/harborpoint/concord/version"
	"pgregory.net/rapid"
)

// fakeClock is a physical clock the test sets by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

var t0 = time.Date(2026, 3, 14, 14, 4, 52, 0, time.UTC)

func TestHLCMonotonicWhenClockGoesBack(t *testing.T) {
	clk := &fakeClock{t: t0}
	c := version.NewHLC(version.HLCOptions{Now: clk.Now}, version.Timestamp{})
	var prev version.Timestamp
	for i, d := range []time.Duration{0, 0, -time.Second, -time.Hour, time.Millisecond, -time.Millisecond, 2 * time.Second} {
		clk.Set(t0.Add(d))
		ts := c.Now()
		if ts.Compare(prev) <= 0 {
			t.Fatalf("reading %d (clock at %v): %v not after %v", i, d, ts, prev)
		}
		prev = ts
	}
	if got := prev.Time(); !got.Equal(t0.Add(2 * time.Second)) {
		t.Fatalf("after the clock recovered: %v, want physical time %v", got, t0.Add(2*time.Second))
	}
}

func TestHLCRestart(t *testing.T) {
	clk := &fakeClock{t: t0}
	c := version.NewHLC(version.HLCOptions{Now: clk.Now}, version.Timestamp{})
	c.Now()
	last := c.Now()
	if c.Last() != last {
		t.Fatalf("Last() = %v, want %v", c.Last(), last)
	}
	// The process restarts and the physical clock is now behind.
	clk.Set(t0.Add(-time.Minute))
	c2 := version.NewHLC(version.HLCOptions{Now: clk.Now}, last)
	if ts := c2.Now(); ts.Compare(last) <= 0 {
		t.Fatalf("after restart: %v not after persisted %v", ts, last)
	}
}

func TestHLCLogicalOverflow(t *testing.T) {
	clk := &fakeClock{t: t0}
	last := version.Timestamp{Wall: t0.UnixNano(), Logical: math.MaxUint32}
	c := version.NewHLC(version.HLCOptions{Now: clk.Now}, last)
	want := version.Timestamp{Wall: t0.UnixNano() + 1}
	if ts := c.Now(); ts != want {
		t.Fatalf("after logical overflow: %v, want %v", ts, want)
	}
}

func TestHLCObserve(t *testing.T) {
	clk := &fakeClock{t: t0}
	c := version.NewHLC(version.HLCOptions{Now: clk.Now, MaxDrift: time.Second}, version.Timestamp{})
	before := c.Now()

	// Within the drift: adopted, and later readings pass it.
	near := version.Timestamp{Wall: t0.Add(900 * time.Millisecond).UnixNano(), Logical: 7}
	if err := c.Observe(near); err != nil {
		t.Fatalf("Observe(%v) = %v", near, err)
	}
	if ts := c.Now(); ts.Compare(near) <= 0 {
		t.Fatalf("Now() = %v, not after observed %v", ts, near)
	}

	// Too far ahead: refused and not adopted.
	last := c.Last()
	far := version.Timestamp{Wall: t0.Add(time.Hour).UnixNano()}
	err := c.Observe(far)
	var de *version.DriftError
	if !errors.Is(err, version.ErrClockDrift) || !errors.As(err, &de) || de.Remote != far || de.MaxDrift != time.Second {
		t.Fatalf("Observe(far) = %v, want a *DriftError for %v", err, far)
	}
	if c.Last() != last {
		t.Fatalf("refused timestamp was adopted: Last() = %v, want %v", c.Last(), last)
	}
	const wantMsg = "version: remote clock too far ahead: 2026-03-14T15:04:52Z is 1h0m0s ahead of local 2026-03-14T14:04:52Z (max drift 1s)"
	if err.Error() != wantMsg {
		t.Fatalf("error text:\n got %s\nwant %s", err, wantMsg)
	}

	// Behind: nothing changes.
	if err := c.Observe(before); err != nil || c.Last() != last {
		t.Fatalf("Observe(older) = %v, Last() = %v, want nil, %v", err, c.Last(), last)
	}
}

func TestHLCDefaults(t *testing.T) {
	c := version.NewHLC(version.HLCOptions{}, version.Timestamp{})
	a, b := c.Now(), c.Now()
	if b.Compare(a) <= 0 {
		t.Fatalf("system clock readings %v then %v", a, b)
	}
}

// TestHLCProperty interleaves readings, observations and a physical clock
// that jumps both ways: readings strictly increase and pass every accepted
// observation; refused observations are exactly those beyond the drift.
func TestHLCProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		clk := &fakeClock{t: t0}
		drift := time.Duration(rapid.Int64Range(1, 2000).Draw(t, "drift ms")) * time.Millisecond
		start := version.Timestamp{
			Wall:    t0.UnixNano() + rapid.Int64Range(-1e9, 1e9).Draw(t, "start offset"),
			Logical: rapid.SampledFrom([]uint32{0, 1, math.MaxUint32 - 1, math.MaxUint32}).Draw(t, "start logical"),
		}
		c := version.NewHLC(version.HLCOptions{Now: clk.Now, MaxDrift: drift}, start)
		floor := start // every later reading must exceed it
		t.Repeat(map[string]func(*rapid.T){
			"tick": func(t *rapid.T) {
				clk.Set(clk.Now().Add(time.Duration(rapid.Int64Range(-3e9, 3e9).Draw(t, "jump"))))
			},
			"now": func(t *rapid.T) {
				ts := c.Now()
				if ts.Compare(floor) <= 0 {
					t.Fatalf("Now() = %v, not after %v", ts, floor)
				}
				floor = ts
			},
			"observe": func(t *rapid.T) {
				pt := clk.Now().UnixNano()
				r := version.Timestamp{
					Wall:    pt + rapid.Int64Range(-3e9, 3e9).Draw(t, "remote offset"),
					Logical: rapid.Uint32Range(0, 3).Draw(t, "remote logical"),
				}
				err := c.Observe(r)
				if tooFar := r.Wall-pt > int64(drift); tooFar != (err != nil) {
					t.Fatalf("Observe(%v) at %v with drift %v = %v", r, time.Unix(0, pt).UTC(), drift, err)
				}
				if err == nil && r.Compare(floor) > 0 {
					floor = r
				}
			},
		})
	})
}

// TestHLCConcurrent reads one clock from many goroutines while others
// observe: no reading repeats, and each goroutine's readings increase.
func TestHLCConcurrent(t *testing.T) {
	clk := &fakeClock{t: t0}
	c := version.NewHLC(version.HLCOptions{Now: clk.Now}, version.Timestamp{})
	const goroutines, readings = 8, 2000
	out := make([][]version.Timestamp, goroutines)
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range readings {
				if g%2 == 0 && i%10 == 0 {
					_ = c.Observe(version.Timestamp{Wall: t0.UnixNano() + int64(i), Logical: uint32(g)})
				}
				if g == 1 && i%100 == 0 {
					clk.Set(t0.Add(time.Duration(i%300) * time.Microsecond))
				}
				out[g] = append(out[g], c.Now())
			}
		})
	}
	wg.Wait()
	seen := make(map[version.Timestamp]bool, goroutines*readings)
	for g, ts := range out {
		for i, x := range ts {
			if seen[x] {
				t.Fatalf("reading %v issued twice", x)
			}
			seen[x] = true
			if i > 0 && x.Compare(ts[i-1]) <= 0 {
				t.Fatalf("goroutine %d: %v after %v", g, x, ts[i-1])
			}
		}
	}
}
