package version

import (
	"errors"
	"fmt"
	"math"
	"sync"
	"time"
)

// DefaultMaxDrift is the drift an [HLC] tolerates when HLCOptions.MaxDrift is
// zero: a remote timestamp more than this far ahead of the local clock is
// refused.
const DefaultMaxDrift = 500 * time.Millisecond

// ErrClockDrift is matched by errors.Is when [HLC.Observe] refuses a remote
// timestamp that is too far ahead of the local clock. The error is a
// [*DriftError].
var ErrClockDrift = errors.New("version: remote clock too far ahead")

// DriftError reports a remote timestamp that [HLC.Observe] refused because it
// was further ahead of the local physical clock than the maximum drift.
type DriftError struct {
	Remote   Timestamp     // the refused timestamp
	Local    time.Time     // the local physical time when it was refused
	MaxDrift time.Duration // the configured limit
}

// Error implements the error interface.
func (e *DriftError) Error() string {
	ahead := time.Duration(e.Remote.Wall - e.Local.UnixNano())
	return fmt.Sprintf("version: remote clock too far ahead: %v is %v ahead of local %v (max drift %v)",
		e.Remote, ahead, e.Local.UTC().Format(time.RFC3339Nano), e.MaxDrift)
}

// Unwrap returns [ErrClockDrift].
func (e *DriftError) Unwrap() error { return ErrClockDrift }

// HLCOptions configures an [HLC]. The zero HLCOptions is valid and means the
// system clock and [DefaultMaxDrift].
type HLCOptions struct {
	// Now reads the physical clock; nil means time.Now. Tests pass a fake.
	Now func() time.Time
	// MaxDrift bounds how far ahead of the local physical clock a remote
	// timestamp may be. Observe refuses (and does not adopt) a timestamp
	// further ahead, so one replica with a runaway clock cannot drag every
	// other replica's clock into the future. Zero or negative means
	// [DefaultMaxDrift].
	// (The clock skew within which last-writer-wins decisions are flagged
	// is a property of the merge, configured once in resolve.Options.)
	MaxDrift time.Duration
}

// HLC is a hybrid logical clock: timestamps close to physical time that
// never go backwards and never repeat, even when the physical clock does,
// and that move past every timestamp the replica has observed from others.
// Stamps for last-writer-wins come from it.
//
// An HLC is safe for concurrent use. Create one with [NewHLC]; the zero HLC
// is not usable.
type HLC struct {
	now      func() time.Time
	maxDrift time.Duration

	mu   sync.Mutex
	last Timestamp // the greatest timestamp issued or observed
}

// NewHLC returns a clock configured by opts whose readings are all greater
// than last. Pass the last timestamp the replica persisted (or the zero
// Timestamp for a new replica), so that the clock stays monotonic across
// restarts even if the physical clock went backwards meanwhile.
func NewHLC(opts HLCOptions, last Timestamp) *HLC {
	c := &HLC{now: opts.Now, maxDrift: opts.MaxDrift, last: last}
	if c.now == nil {
		c.now = time.Now
	}
	if c.maxDrift <= 0 {
		c.maxDrift = DefaultMaxDrift
	}
	return c
}

// Now returns a new timestamp, strictly greater than every timestamp c
// returned or observed before: the physical time if that is greater,
// otherwise the last timestamp with its logical counter advanced.
func (c *HLC) Now() Timestamp {
	pt := c.now().UnixNano()
	c.mu.Lock()
	defer c.mu.Unlock()
	if pt > c.last.Wall {
		c.last = Timestamp{Wall: pt}
	} else {
		c.last = c.last.next()
	}
	return c.last
}

// next returns the smallest timestamp greater than t: the logical counter
// advanced, or, if it would overflow, the next nanosecond.
func (t Timestamp) next() Timestamp {
	if t.Logical == math.MaxUint32 {
		return Timestamp{Wall: t.Wall + 1}
	}
	return Timestamp{Wall: t.Wall, Logical: t.Logical + 1}
}

// Observe moves c past remote, a timestamp received from another replica,
// so that every later [HLC.Now] is greater than remote. Call it for each
// write received by replication before stamping writes that depend on it.
//
// A timestamp more than MaxDrift ahead of the local physical clock is not
// adopted: Observe returns a [*DriftError] (matching [ErrClockDrift]) and
// leaves c unchanged. The caller decides what to do with the write: keep it
// (its stamp still orders it), or alert.
func (c *HLC) Observe(remote Timestamp) error {
	now := c.now()
	pt := now.UnixNano()
	if remote.Wall > pt && uint64(remote.Wall)-uint64(pt) > uint64(c.maxDrift) {
		return &DriftError{Remote: remote, Local: now, MaxDrift: c.maxDrift}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if remote.Compare(c.last) > 0 {
		c.last = remote
	}
	return nil
}

// Last returns the greatest timestamp c has issued or observed: the value to
// persist so that [NewHLC] can resume after a restart. Persist it before
// using timestamps issued after it, or persist a bound above it (such as
// Last plus a second) to avoid writing on every tick.
func (c *HLC) Last() Timestamp {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.last
}
