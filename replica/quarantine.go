package replica

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/harborpoint/concord/resolve"
)

// ErrQuarantined is wrapped by the error of every operation on a record
// whose stored state this replica cannot read — damaged (ErrCorrupt), not
// a state it knows how to decode (ErrMalformed), or over its limits
// (ErrTooLarge, after the limits were lowered). The error also wraps the
// cause.
//
// A quarantined record is set aside, never dropped: its bytes stay in the
// store as they are, it refuses writes and replicated states (writing over
// it could reissue dots of this replica that only the lost state recorded),
// it is never sent to a peer (anti-entropy skips it and reports it), and it
// is listed by [Replica.Quarantined]. Every other record goes on
// replicating. It leaves
// quarantine when its stored value reads again — an operator restored it, or
// raised the limit — at its next read.
var ErrQuarantined = errors.New("replica: record quarantined: its stored state cannot be read")

// Quarantine describes one quarantined record.
type Quarantine struct {
	Key string
	// Err says why the stored state cannot be read; it wraps ErrCorrupt,
	// ErrMalformed or ErrTooLarge.
	Err error
	// Revision is the store revision of the unreadable value.
	Revision uint64
	// Since is when this replica first found it unreadable.
	Since time.Time
}

// quarantineError is the error of an operation on a quarantined record.
type quarantineError struct {
	key   string
	cause error
}

func (e *quarantineError) Error() string {
	return fmt.Sprintf("replica: %q: record quarantined: %s", e.key, unprefixed(e.cause))
}

func (e *quarantineError) Is(target error) bool { return target == ErrQuarantined }
func (e *quarantineError) Unwrap() error        { return e.cause }

// unreadable reports whether err from decoding a stored state means the
// state itself is bad, rather than the store failing to answer.
func unreadable(err error) bool {
	return errors.Is(err, ErrMalformed) || errors.Is(err, ErrTooLarge)
}

// quarantined returns the quarantine error of key at revision rev, if key
// is quarantined at that revision: its stored value has not changed since
// it was found unreadable, so it is not decoded (or reported) again.
func (r *Replica[T]) quarantined(key string, rev uint64) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if q, ok := r.quarantine[key]; ok && q.Revision == rev {
		return &quarantineError{key: key, cause: q.Err}
	}
	return nil
}

// setAside quarantines key, whose stored value at rev failed to decode with
// cause, and reports it once.
func (r *Replica[T]) setAside(key string, rev uint64, cause error) error {
	r.mu.Lock()
	q, had := r.quarantine[key]
	if !had {
		q = &Quarantine{Key: key, Since: r.now()}
		r.quarantine[key] = q
		r.nQuarantine.Add(1)
	}
	q.Err, q.Revision = cause, rev
	r.mu.Unlock()
	if !had {
		r.report(resolve.Event{Kind: resolve.Quarantined, Entity: r.res.Entity()}, key, cause)
	}
	return &quarantineError{key: key, cause: cause}
}

// release takes key out of quarantine, if it is in, after its stored value
// read again or was deleted.
func (r *Replica[T]) release(key string) {
	if r.nQuarantine.Load() == 0 {
		return
	}
	r.mu.Lock()
	_, had := r.quarantine[key]
	if had {
		delete(r.quarantine, key)
		r.nQuarantine.Add(-1)
	}
	r.mu.Unlock()
	if had {
		r.log.Info("replica: record readable again, out of quarantine", "replica", r.id.String(), "key", key)
	}
}

// Quarantined returns the records this replica found unreadable, by key.
// The list holds at most one entry per key of the store.
func (r *Replica[T]) Quarantined() []Quarantine {
	r.mu.Lock()
	out := make([]Quarantine, 0, len(r.quarantine))
	for _, q := range r.quarantine {
		out = append(out, *q)
	}
	r.mu.Unlock()
	slices.SortFunc(out, func(a, b Quarantine) int { return strings.Compare(a.Key, b.Key) })
	return out
}

// report tells the observer of e and logs it with the key and the error:
// the observer counts, the log says which record.
func (r *Replica[T]) report(e resolve.Event, key string, err error) {
	r.observe(e)
	level := slog.LevelWarn
	if e.Kind == resolve.Corrupt || e.Kind == resolve.UnissuedDot || e.Kind == resolve.Quarantined {
		level = slog.LevelError
	}
	r.log.LogAttrs(context.Background(), level, "replica: "+e.Kind.String(),
		slog.String("replica", r.id.String()), slog.String("entity", e.Entity), slog.String("key", key), slog.Any("err", err))
}
