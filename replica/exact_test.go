package replica_test

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/harborpoint/concord/hold"
	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

// countingCodec is a codec that counts its decodes, exact or not as its
// inner codec is.
type countingCodec[C replica.Codec[hold.Hold]] struct {
	inner   C
	decodes *atomic.Int64
}

func (c countingCodec[C]) Append(dst []byte, h hold.Hold) ([]byte, error) {
	return c.inner.Append(dst, h)
}

func (c countingCodec[C]) Decode(b []byte) (hold.Hold, error) {
	c.decodes.Add(1)
	return c.inner.Decode(b)
}

// exactCounting is a countingCodec that passes its inner codec's
// RoundTrips on.
type exactCounting[C replica.ExactCodec[hold.Hold]] struct{ countingCodec[C] }

func (c exactCounting[C]) RoundTrips(h *hold.Hold) bool { return c.inner.RoundTrips(h) }

// TestExactCodecsSkipTheSecondDecode: a write returns the record as stored
// (what a read returns next, deep-equal) whether or not its codec vouches
// for the round trip; with JSON or the hold codec vouching for a hold, a
// command decodes once (the state it reads), not twice; a hold they cannot
// vouch for (a local expiry) is decoded again, and comes back in UTC.
func TestExactCodecsSkipTheSecondDecode(t *testing.T) {
	for _, tc := range []struct {
		name  string
		codec func(*atomic.Int64) replica.Codec[hold.Hold]
		exact bool
	}{
		{"JSON", func(n *atomic.Int64) replica.Codec[hold.Hold] {
			return exactCounting[replica.JSON[hold.Hold]]{countingCodec[replica.JSON[hold.Hold]]{decodes: n}}
		}, true},
		{"hold.Codec", func(n *atomic.Int64) replica.Codec[hold.Hold] {
			return exactCounting[hold.Codec]{countingCodec[hold.Codec]{decodes: n}}
		}, true},
		{"not vouching", func(n *atomic.Int64) replica.Codec[hold.Hold] {
			return countingCodec[replica.JSON[hold.Hold]]{decodes: n}
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var decodes atomic.Int64
			r, err := replica.New(version.MustID("lisbon"), replica.NewMemoryStore(), hold.Resolver(resolve.Options{}),
				replica.Options[hold.Hold]{Codec: tc.codec(&decodes), CommandKeys: hold.CommandKeys})
			require.NoError(t, err)
			expires := time.Date(2026, 11, 26, 14, 0, 0, 0, time.UTC)
			_, err = r.Create(bg, "H-1", hold.New("H-1", "C1", "desk", expires))
			require.NoError(t, err)
			check := func(key string, fn func(*hold.Hold, replica.Write) error, wantDecodes int64) {
				t.Helper()
				decodes.Store(0)
				rec, _, err := r.Command(bg, "H-1", key, fn)
				require.NoError(t, err)
				require.Equal(t, wantDecodes, decodes.Load(), "decodes of one command")
				read, err := r.Get(bg, "H-1")
				require.NoError(t, err)
				require.Equal(t, read, rec, "the command returned what was not stored")
			}
			want := int64(2)
			if tc.exact {
				want = 1
			}
			check("k1", func(h *hold.Hold, _ replica.Write) error { h.Note = "x"; return nil }, want)
			// A local expiry with a monotonic clock reading is not what a
			// decoder returns: decoded again, it comes back in UTC.
			check("k2", func(h *hold.Hold, _ replica.Write) error {
				h.ExpiresAt = time.Now().Add(1000 * time.Hour)
				return nil
			}, 2)
			// Idempotency keys are stored beside the codec's bytes, in
			// binary that keeps any string: one that is not UTF-8 costs
			// JSON no second decode, and comes back as it was.
			check("k3\xff", func(h *hold.Hold, _ replica.Write) error { h.Note = "y"; return nil }, want)
			if tc.name == "JSON" {
				// A note that is not UTF-8 is what JSON cannot keep (the
				// hold codec refuses it): decoded again, it comes back as
				// JSON gives it back.
				check("k4", func(h *hold.Hold, _ replica.Write) error { h.Note = "z\xff"; return nil }, 2)
			}
			rec, err := r.Get(bg, "H-1")
			require.NoError(t, err)
			require.True(t, rec.Value.Commands.Has("k3\xff"), "an idempotency key that is not UTF-8 was lost")
		})
	}
}
