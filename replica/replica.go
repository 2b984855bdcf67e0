package replica

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/harborpoint/concord/policy"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

// Options configures a [Replica]. The zero Options is valid.
type Options[T any] struct {
	// Codec encodes record values. Nil means [JSON].
	Codec Codec[T]
	// Clock stamps writes. Nil means a new [version.HLC] with default
	// options; pass one restored from the last persisted stamp to keep
	// stamps monotonic across restarts.
	Clock *version.HLC
	// Observer is told of writes refused to clients, conflicts sent to
	// review and conflicts resolved. The resolver's own observer is told of
	// merges. Nil means none.
	Observer resolve.Observer
	// Limits bound decoding of stored and replicated records. The zero
	// Limits means version's defaults.
	Limits version.Limits
	// CommandKeys returns the record's set of applied idempotency keys.
	// [Replica.Command] needs it; the field it points to should be bound
	// with [policy.Union] so the keys replicate with the record.
	CommandKeys func(*T) *policy.Set[string]
	// Now reads the wall clock for review-queue times. Nil means time.Now.
	Now func() time.Time
	// MaxAttempts bounds compare-and-set retries under contention. Zero
	// means 100.
	MaxAttempts int
}

// Replica holds one region's records of one type over a [Store]. It offers
// three write styles — blind writes of last-writer-wins fields
// ([Replica.Blind]), conditional writes with a token ([Replica.Update]), and
// commands with an idempotency key ([Replica.Command]) — applies replicated
// versions from other replicas, serves anti-entropy, and keeps the review
// queue of conflicts no policy may merge.
//
// Every write is a read-modify-compare-and-set loop on the store, so a
// Replica is safe for concurrent use, and several Replica values may share
// one store (they must share the ID only if they also share the store).
type Replica[T any] struct {
	id       version.ID
	store    Store
	res      *resolve.Resolver[T]
	codec    Codec[T]
	hlc      *version.HLC
	obs      resolve.Observer
	limits   version.Limits
	cmdKeys  func(*T) *policy.Set[string]
	fields   int // the number of fields res binds
	now      func() time.Time
	attempts int

	locks keyLocks // serializes this replica's read-modify-writes of one key

	mu      sync.Mutex
	review  map[string]*ReviewItem[T]
	results map[string]Record[T] // first result of each command, by key and idempotency key
	order   []string             // results keys, oldest first, for bounding
}

// maxResults bounds the remembered command results.
const maxResults = 4096

// New returns the replica id over store, resolving records with res.
func New[T any](id version.ID, store Store, res *resolve.Resolver[T], opts Options[T]) (*Replica[T], error) {
	switch {
	case id.IsZero():
		return nil, fmt.Errorf("replica: %w: zero ID", version.ErrInvalidID)
	case store == nil:
		return nil, errors.New("replica: nil store")
	case res == nil:
		return nil, errors.New("replica: nil resolver")
	}
	r := &Replica[T]{
		id: id, store: store, res: res,
		codec: opts.Codec, hlc: opts.Clock, obs: opts.Observer, limits: opts.Limits,
		cmdKeys: opts.CommandKeys, now: opts.Now, attempts: opts.MaxAttempts, fields: len(res.Fields()),
		review:  map[string]*ReviewItem[T]{},
		results: map[string]Record[T]{},
	}
	if r.codec == nil {
		r.codec = JSON[T]{}
	}
	if r.hlc == nil {
		r.hlc = version.NewHLC(version.HLCOptions{}, version.Timestamp{})
	}
	if r.now == nil {
		r.now = time.Now
	}
	if r.attempts <= 0 {
		r.attempts = 100
	}
	return r, nil
}

// ID returns the replica's ID.
func (r *Replica[T]) ID() version.ID { return r.id }

// Resolver returns the replica's resolver.
func (r *Replica[T]) Resolver() *resolve.Resolver[T] { return r.res }

// Record is what a read or a write returns: the record's value (or its
// conflicting branches) and its token.
type Record[T any] struct {
	// Key is the record's key.
	Key string
	// Value is the value readers see: the single branch, or the policies'
	// merge of several. It is the zero T when Conflict is set.
	Value T
	// Stamp is the stamp of Value (the greatest merged stamp).
	Stamp version.Stamp
	// Context is the causal context of the record: a write made with it
	// supersedes every branch below.
	Context version.Vector
	// Token is Context in text form, for an ETag / If-Match header.
	Token string
	// Branches are the record's siblings; one unless writes were concurrent.
	Branches []resolve.Branch[T]
	// Decisions explain how concurrent branches were merged into Value.
	Decisions []resolve.Decision
	// Conflict is set when the branches cannot be merged; it carries them,
	// the reason, and the context a retry must use.
	Conflict *resolve.ConflictRequiresRetry[T]
}

// Write describes the write being made, for functions that build a value
// and need its identity (an add-wins set records the write's dot).
type Write struct {
	Replica version.ID
	Dot     version.Dot
	Time    version.Timestamp
	// Context is the causal context of the value being changed: every
	// write it reflects. An add-wins set folds it in with
	// policy.AWSet.JoinContext so its own context stays compact.
	Context version.Vector
}

func (r *Replica[T]) record(key string, s resolve.Siblings[T]) Record[T] {
	rec := Record[T]{Key: key, Context: s.Join(), Branches: s.Values()}
	rec.Token = rec.Context.Token()
	res, err := r.res.Resolve(s)
	var conflict *resolve.ConflictRequiresRetry[T]
	switch {
	case errors.As(err, &conflict):
		conflict.Key = key
		rec.Conflict = conflict
	case err == nil:
		rec.Value, rec.Stamp, rec.Decisions = res.Value, res.Stamp, res.Decisions
	}
	return rec
}

// load reads and decodes a record's state.
func (r *Replica[T]) load(ctx context.Context, key string) (resolve.Siblings[T], uint64, error) {
	data, rev, err := r.store.Get(ctx, key)
	if err != nil {
		return resolve.Siblings[T]{}, 0, fmt.Errorf("replica %v: get %q: %w", r.id, key, err)
	}
	if rev == 0 {
		return resolve.Siblings[T]{}, 0, nil
	}
	s, err := decodeState(data, r.codec, r.limits, r.fields)
	if err != nil {
		return s, 0, fmt.Errorf("replica %v: stored record %q: %w", r.id, key, err)
	}
	return s, rev, nil
}

// Get returns the record stored under key, or an error wrapping ErrNotFound.
// A record with an open conflict is returned with its Conflict set and no
// error: reading is always allowed.
func (r *Replica[T]) Get(ctx context.Context, key string) (Record[T], error) {
	s, _, err := r.load(ctx, key)
	if err != nil {
		return Record[T]{}, err
	}
	if s.Len() == 0 {
		return Record[T]{Key: key}, fmt.Errorf("replica: %q: %w", key, ErrNotFound)
	}
	return r.record(key, s), nil
}

// State returns the raw replicated state of key (empty if absent), for
// replication in process and for tests.
func (r *Replica[T]) State(ctx context.Context, key string) (resolve.Siblings[T], error) {
	s, _, err := r.load(ctx, key)
	return s, err
}

// change is one attempt of a read-modify-write: given the current state, it
// returns the new state to store, or an error to stop.
type change[T any] func(cur resolve.Siblings[T]) (resolve.Siblings[T], resolve.Outcome[T], error)

// update runs a change in a compare-and-set loop and keeps the review queue.
// committed, if not nil, is called with the stored state once the change has
// been stored (or found to change nothing), before any other change of key
// by this replica can start.
//
// The replica's own writers of one key take turns (a per-key lock), so the
// compare-and-set loses only to writers outside this Replica value — other
// processes or Replica values sharing the store — and the review queue is
// updated in the order the states were stored.
func (r *Replica[T]) update(ctx context.Context, key string, fn change[T], committed func(resolve.Siblings[T])) (resolve.Outcome[T], error) {
	unlock, err := r.locks.lock(ctx, key)
	if err != nil {
		return resolve.Outcome[T]{}, fmt.Errorf("replica %v: %q: %w", r.id, key, err)
	}
	defer unlock()
	for range r.attempts {
		cur, rev, err := r.load(ctx, key)
		if err != nil {
			return resolve.Outcome[T]{}, err
		}
		next, out, err := fn(cur)
		if err != nil {
			return out, err
		}
		if rev != 0 && next.Equal(cur) {
			r.track(key, next)
			if committed != nil {
				committed(next)
			}
			return out, nil // nothing to store: stale or duplicate
		}
		data, err := encodeState(next, r.codec)
		if err != nil {
			return out, fmt.Errorf("replica %v: encode %q: %w", r.id, key, err)
		}
		_, err = r.store.CompareAndSet(ctx, key, data, rev)
		if errors.Is(err, ErrRevisionMismatch) {
			continue
		}
		if err != nil {
			return out, fmt.Errorf("replica %v: store %q: %w", r.id, key, err)
		}
		r.track(key, next)
		if committed != nil {
			committed(next)
		}
		return out, nil
	}
	return resolve.Outcome[T]{}, fmt.Errorf("replica %v: %q: %w after %d attempts", r.id, key, ErrContention, r.attempts)
}

// keyLocks is a set of per-key locks that honour context cancellation. The
// zero keyLocks is ready to use.
type keyLocks struct {
	mu sync.Mutex
	m  map[string]*keyLock
}

type keyLock struct {
	ch   chan struct{} // holds one token while the key is locked
	refs int           // holders and waiters; the entry goes when it drops to 0
}

// lock locks key, waiting until it is free or ctx is done, and returns the
// function that unlocks it.
func (l *keyLocks) lock(ctx context.Context, key string) (unlock func(), err error) {
	l.mu.Lock()
	if l.m == nil {
		l.m = map[string]*keyLock{}
	}
	k := l.m[key]
	if k == nil {
		k = &keyLock{ch: make(chan struct{}, 1)}
		l.m[key] = k
	}
	k.refs++
	l.mu.Unlock()
	release := func() {
		l.mu.Lock()
		if k.refs--; k.refs == 0 {
			delete(l.m, key)
		}
		l.mu.Unlock()
	}
	select {
	case k.ch <- struct{}{}:
		return func() { <-k.ch; release() }, nil
	case <-ctx.Done():
		release()
		return nil, ctx.Err()
	}
}

// write makes a client write of the value built by build from the current
// state, with context ctx, stamped now. base is the record the value is
// built from (nil: the record the siblings ctx covers resolve to).
func (r *Replica[T]) write(cur resolve.Siblings[T], ctx version.Vector, base *resolve.Branch[T], build func(w Write) (T, error)) (resolve.Siblings[T], resolve.Outcome[T], error) {
	ts := r.hlc.Now()
	var buildErr error
	o, err := r.res.Write(cur, resolve.Change[T]{Context: ctx, Base: base, Replica: r.id, Time: ts, Value: func(d version.Dot) T {
		v, err := build(Write{Replica: r.id, Dot: d, Time: ts, Context: ctx})
		buildErr = err
		return v
	}})
	if err != nil {
		return cur, o, err
	}
	if buildErr != nil {
		return cur, resolve.Outcome[T]{}, buildErr
	}
	return o.State, o, nil
}

func (r *Replica[T]) observe(e resolve.Event) {
	if r.obs != nil {
		r.obs.Observe(e)
	}
}
