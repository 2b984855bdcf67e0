package nats

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

// Options configures a [Region]. The zero Options is valid.
type Options[T any] struct {
	// Replica configures the region's replica (codec, clock, observer,
	// command keys, limits).
	Replica replica.Options[T]
	// Logger receives what [Region.Run] skips or retries: values in the
	// bucket that do not decode, and store errors. Nil means none.
	Logger *slog.Logger
	// Conn is the connection under the bucket. When it is set, [Region.Run]
	// restarts its watch as soon as the connection reconnects — after the
	// region's server restarts, say — instead of when the watch notices
	// its missing heartbeats, 10 s or more later. Nil means the heartbeats
	// only.
	Conn *natsgo.Conn
}

// Region is one region's view of a multi-region bucket: a [replica.Replica]
// over the region's own keys ([Store]), plus the copies of every other
// region's keys that JetStream sources into the same bucket.
//
//   - Reads ([Region.Get]) gather every region's copy of the key and merge
//     the ones the local copy does not cover into it with
//     [replica.Replica.Apply]; the merge — its context covering everything
//     merged — is written back under the local region's key.
//   - Writes (Create, Update, ResolveConflict, Blind, Command) are the
//     replica's, on the local copy: the three write styles of package
//     replica, with concord's causal context as the token.
//   - [Region.Run] watches the other regions' keys and applies each incoming
//     version to the local replica as it arrives, so conflicts are resolved
//     or queued for review (and counted by the observers) without waiting
//     for a read.
//
// No region ever writes another region's keys, and a merge that changes
// nothing is not written, so versions do not echo between regions: each
// write makes at most one merged write per other region.
//
// A Region is safe for concurrent use. Make one with [NewRegion].
type Region[T any] struct {
	topo   Topology
	kv     jetstream.KeyValue
	store  *Store
	scan   *scanStore
	rep    *replica.Replica[T]
	limits version.Limits // of stored states: record bytes and entries
	log    *slog.Logger
	conn   *natsgo.Conn
	others map[string]bool
	stats  struct{ watches, applied, covered, skipped atomic.Int64 }
}

// WatchStats counts what [Region.Run] has done since the Region was made.
type WatchStats struct {
	// Watches is how many times Run started its watch: once, and once
	// more each time it restarted it.
	Watches int64
	// Applied counts versions that changed the local copy: newer or
	// concurrent ones.
	Applied int64
	// Covered counts versions the local copy already covered, applied
	// again to no effect: each restart of the watch delivers again the
	// latest version of every other region's key.
	Covered int64
	// Skipped counts values that are not concord records.
	Skipped int64
}

// WatchStats returns the counts of [Region.Run]'s work.
func (r *Region[T]) WatchStats() WatchStats {
	return WatchStats{
		Watches: r.stats.watches.Load(),
		Applied: r.stats.applied.Load(),
		Covered: r.stats.covered.Load(),
		Skipped: r.stats.skipped.Load(),
	}
}

// NewRegion returns the local region of t over kv (the bucket
// [CreateBucket] made in the local domain). id is the replica ID that
// stamps the region's writes; give it the region's name and, after a loss
// of the region's store, a new incarnation (see version.ID).
func NewRegion[T any](kv *Bucket, t Topology, id version.ID, res *resolve.Resolver[T], opts Options[T]) (*Region[T], error) {
	if err := t.Validate(); err != nil {
		return nil, err
	}
	if kv == nil {
		return nil, errors.New("nats: nil KeyValue")
	}
	if kv.Bucket() != t.Bucket {
		return nil, fmt.Errorf("nats: bucket %q is not the topology's %q", kv.Bucket(), t.Bucket)
	}
	store, err := NewStore(kv, t.Local)
	if err != nil {
		return nil, err
	}
	scan := &scanStore{Store: store}
	rep, err := replica.New(id, scan, res, opts.Replica)
	if err != nil {
		return nil, err
	}
	r := &Region[T]{topo: t, kv: kv, store: store, scan: scan, rep: rep, limits: version.Limits{MaxEntries: opts.Replica.Limits.MaxEntries, MaxBytes: opts.Replica.MaxRecordBytes}, log: opts.Logger, conn: opts.Conn, others: map[string]bool{}}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	for _, o := range t.Others() {
		r.others[o] = true
	}
	return r, nil
}

// Replica returns the replica over the local region's keys. Its reads see
// only the local copy.
func (r *Region[T]) Replica() *replica.Replica[T] { return r.rep }

// Store returns the store of the local region's keys.
func (r *Region[T]) Store() *Store { return r.store }

// Topology returns the region's topology.
func (r *Region[T]) Topology() Topology { return r.topo }

// MalformedError is the error for a value in the bucket that is not a
// concord record — written by another program, or damaged. The value is
// left as it is; the error names it so that an operator can inspect it. It
// wraps [replica.ErrMalformed].
type MalformedError struct {
	// Key is the bucket key ("<region>.<record key>").
	Key string
	// Revision is the value's revision in this region's bucket.
	Revision uint64
	// Err is the decoding error; it wraps replica.ErrMalformed.
	Err error
}

// Error implements the error interface.
func (e *MalformedError) Error() string {
	return fmt.Sprintf("nats: bucket key %s (revision %d) is not a concord record: %v", e.Key, e.Revision, e.Err)
}

// Unwrap returns Err.
func (e *MalformedError) Unwrap() error { return e.Err }

// malformed makes an error about the local copy of key a *MalformedError.
func (r *Region[T]) malformed(key string, err error) error {
	var me *MalformedError
	if err == nil || !errors.Is(err, replica.ErrMalformed) || errors.As(err, &me) {
		return err
	}
	var rev uint64
	if e, gerr := r.kv.Get(context.Background(), r.store.Subject(key)); gerr == nil {
		rev = e.Revision()
	}
	return &MalformedError{Key: r.store.Subject(key), Revision: rev, Err: err}
}

// copyOf is one region's copy of a record, as stored in this bucket.
type copyOf struct {
	region string
	data   []byte
	rev    uint64
	err    error
}

// gather reads every region's copy of key, concurrently.
func (r *Region[T]) gather(ctx context.Context, key string) []copyOf {
	out := make([]copyOf, len(r.topo.Regions))
	var wg sync.WaitGroup
	for i, region := range r.topo.Regions {
		out[i].region = region
		get := func() {
			e, err := r.kv.Get(ctx, region+"."+key)
			switch {
			case errors.Is(err, jetstream.ErrKeyNotFound):
			case err != nil:
				out[i].err = fmt.Errorf("nats: get %s.%s: %w", region, key, err)
			default:
				out[i].data, out[i].rev = e.Value(), e.Revision()
			}
		}
		if i == len(r.topo.Regions)-1 {
			get()
			continue
		}
		wg.Go(get)
	}
	wg.Wait()
	return out
}

// context decodes the causal context of an encoded record without decoding
// its values.
func (r *Region[T]) context(c copyOf) (version.Vector, error) {
	v, err := replica.DecodeContext(c.data, r.limits)
	if err != nil {
		return version.Vector{}, &MalformedError{Key: c.region + ".", Revision: c.rev, Err: err}
	}
	return v, nil
}

// catchUp merges into the local copy of key every other region's copy that
// the local copy does not cover yet.
func (r *Region[T]) catchUp(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	copies := r.gather(ctx, key)
	var local version.Vector
	for _, c := range copies {
		if c.err != nil {
			return c.err
		}
		if c.region != r.topo.Local || c.rev == 0 {
			continue
		}
		ctxt, err := r.context(c)
		if err != nil {
			return r.fix(err, c, key)
		}
		local = ctxt
	}
	for _, c := range copies {
		if c.region == r.topo.Local || c.rev == 0 {
			continue
		}
		theirs, err := r.context(c)
		if err != nil {
			return r.fix(err, c, key)
		}
		if local.Descends(theirs) {
			continue
		}
		if _, err := r.rep.Apply(ctx, key, c.data); err != nil {
			if errors.Is(err, replica.ErrMalformed) {
				return &MalformedError{Key: c.region + "." + key, Revision: c.rev, Err: err}
			}
			return r.malformed(key, err)
		}
	}
	return nil
}

// fix fills in the key of a MalformedError made by context.
func (r *Region[T]) fix(err error, c copyOf, key string) error {
	var me *MalformedError
	if errors.As(err, &me) {
		me.Key = c.region + "." + key
	}
	return err
}

// Get returns the record stored under key, merged from every region's
// copy: copies the local one does not cover are applied to it first (and
// the merge stored under the local key), so the token returned is the
// context a conditional write in this region must present. A key absent
// everywhere fails with an error wrapping replica.ErrNotFound; a copy that
// is not a concord record fails with a [*MalformedError] and is left as it
// is.
func (r *Region[T]) Get(ctx context.Context, key string) (replica.Record[T], error) {
	if err := r.catchUp(ctx, key); err != nil {
		return replica.Record[T]{Key: key}, err
	}
	rec, err := r.rep.Get(ctx, key)
	return rec, r.malformed(key, err)
}

// Contexts returns the causal context of each region's copy of key as this
// region's bucket holds it, by region; a region without a copy is missing
// from the map. It is for operators and tests: which writes of each region
// have reached this one. The values are not decoded.
func (r *Region[T]) Contexts(ctx context.Context, key string) (map[string]version.Vector, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	out := map[string]version.Vector{}
	for _, c := range r.gather(ctx, key) {
		if c.err != nil {
			return nil, c.err
		}
		if c.rev == 0 {
			continue
		}
		v, err := r.context(c)
		if err != nil {
			return nil, r.fix(err, c, key)
		}
		out[c.region] = v
	}
	return out, nil
}

// Create stores v as a new record in the local region, after merging the
// other regions' copies of key: it fails with replica.ErrExists if any
// region's record has reached this one.
func (r *Region[T]) Create(ctx context.Context, key string, v T) (replica.Record[T], error) {
	if err := r.catchUp(ctx, key); err != nil {
		return replica.Record[T]{}, err
	}
	rec, err := r.rep.Create(ctx, key, v)
	return rec, r.malformed(key, err)
}

// Update is [replica.Replica.Update] on the local copy: a conditional
// write with the token the client read from [Region.Get].
func (r *Region[T]) Update(ctx context.Context, key, token string, fn func(v *T, w replica.Write) error) (replica.Record[T], error) {
	if err := checkKey(key); err != nil {
		return replica.Record[T]{}, err
	}
	rec, err := r.rep.Update(ctx, key, token, fn)
	return rec, r.malformed(key, err)
}

// Delete is [replica.Replica.Delete] on the local copy: a conditional
// delete with the token the client read from [Region.Get]. It stores a
// tombstone in the local region's key — a put, not a KV delete marker —
// which the other regions' watchers apply like any write, so a delete
// concurrent with an update in another region meets it there and is
// settled by the resolver's OnDelete. KV delete markers and purges are
// what reaping leaves ([replica.Replica.Reap] on this region's store
// deletes the key at its revision): a watcher ignores them in other
// regions' keys, because removing a stable tombstone is each region's own
// decision and changes no record.
func (r *Region[T]) Delete(ctx context.Context, key, token string) (replica.Record[T], error) {
	if err := checkKey(key); err != nil {
		return replica.Record[T]{}, err
	}
	rec, err := r.rep.Delete(ctx, key, token)
	return rec, r.malformed(key, err)
}

// ResolveConflict is [replica.Replica.ResolveConflict] on the local copy.
func (r *Region[T]) ResolveConflict(ctx context.Context, key, token string, v T) (replica.Record[T], error) {
	if err := checkKey(key); err != nil {
		return replica.Record[T]{}, err
	}
	rec, err := r.rep.ResolveConflict(ctx, key, token, v)
	return rec, r.malformed(key, err)
}

// Blind is [replica.Replica.Blind] on the local copy.
func (r *Region[T]) Blind(ctx context.Context, key, field string, src T) (replica.Record[T], error) {
	if err := checkKey(key); err != nil {
		return replica.Record[T]{}, err
	}
	rec, err := r.rep.Blind(ctx, key, field, src)
	return rec, r.malformed(key, err)
}

// Command is [replica.Replica.Command] on the local copy.
func (r *Region[T]) Command(ctx context.Context, key, idemKey string, fn func(v *T, w replica.Write) error) (replica.Record[T], bool, error) {
	if err := checkKey(key); err != nil {
		return replica.Record[T]{}, false, err
	}
	rec, replayed, err := r.rep.Command(ctx, key, idemKey, fn)
	return rec, replayed, r.malformed(key, err)
}

// Conflicts returns the local review queue ([replica.Replica.Conflicts]).
func (r *Region[T]) Conflicts() []replica.ReviewItem[T] { return r.rep.Conflicts() }

// Run watches the other regions' keys and applies every version that
// arrives to the local replica, until ctx is done; it then returns
// ctx.Err(). It first rebuilds the review queue from the local keys
// ([replica.Replica.Rescan]); the watch then delivers the latest copy of
// every other region's key before the updates, so a restarted region
// catches up. Applying is idempotent: a version already covered changes
// nothing and is not written.
//
// The watch restarts when it ends, and, with [Options.Conn], as soon as
// the connection reconnects; a restart delivers the latest copy of every
// key again (counted as Covered in [Region.WatchStats]), so nothing is
// missed in between. A watch that fails to start is retried after 50 ms,
// backing off to 1 s.
//
// A value that is not a concord record is logged with its
// [*MalformedError] and skipped (left in the bucket); deletes and purges
// are ignored. A store error is retried with backoff. Call Run once per
// Region, in its own goroutine.
func (r *Region[T]) Run(ctx context.Context) error {
	if err := r.retry(ctx, "rescan", func() error { return r.rescan(ctx) }); err != nil {
		return err
	}
	filters := make([]string, 0, len(r.others))
	for _, o := range r.topo.Others() {
		filters = append(filters, o+".>")
	}
	if len(filters) == 0 {
		<-ctx.Done()
		return ctx.Err()
	}
	var reconnected chan natsgo.Status
	if r.conn != nil {
		reconnected = r.conn.StatusChanged(natsgo.CONNECTED)
		defer r.conn.RemoveStatusListener(reconnected)
	}
	const minWait, maxWait = 50 * time.Millisecond, time.Second
	wait := minWait
	for {
		drain(reconnected) // the watch about to start sees the connection as it is
		// WatchFiltered rewrites the slice it is given: hand it a copy.
		w, err := r.kv.WatchFiltered(ctx, slices.Clone(filters))
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			r.log.Warn("concord/nats: watch failed; retrying", "bucket", r.topo.Bucket, "region", r.topo.Local, "in", wait, "err", err)
			if !sleep(ctx, wait) {
				return ctx.Err()
			}
			wait = min(2*wait, maxWait)
			continue
		}
		wait = minWait
		r.stats.watches.Add(1)
		err = r.watch(ctx, w, reconnected)
		_ = w.Stop()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		r.log.Info("concord/nats: restarting the watch", "bucket", r.topo.Bucket, "region", r.topo.Local, "reason", err)
	}
}

// errReconnected ends a watch when the connection has reconnected.
var errReconnected = errors.New("the connection reconnected")

// drain empties ch without blocking; ch may be nil.
func drain(ch chan natsgo.Status) {
	for {
		select {
		case <-ch:
		default:
			return
		}
	}
}

// rescan rebuilds the review queue from the local keys, skipping (and
// logging) the ones that do not decode: replica.Rescan stops at the first
// error, so it runs over a scan without them.
func (r *Region[T]) rescan(ctx context.Context) error {
	skip := map[string]bool{}
	after := ""
	for {
		page, err := r.store.Scan(ctx, after, scanPage)
		if err != nil {
			return err
		}
		for _, e := range page {
			if _, err := r.rep.Get(ctx, e.Key); errors.Is(err, replica.ErrMalformed) {
				r.log.Warn("concord/nats: skipping a value that is not a concord record", "region", r.topo.Local, "err", r.malformed(e.Key, err))
				skip[e.Key] = true
			}
		}
		if len(page) < scanPage {
			break
		}
		after = page[len(page)-1].Key
	}
	r.scan.skipKeys(skip)
	defer r.scan.skipKeys(nil)
	return r.rep.Rescan(ctx)
}

// scanPage is how many entries rescan reads at a time.
const scanPage = 256

// scanStore is the Store under the replica: Scan leaves out the keys set
// with skipKeys.
type scanStore struct {
	*Store
	mu   sync.Mutex
	skip map[string]bool
}

func (s *scanStore) skipKeys(skip map[string]bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.skip = skip
}

func (s *scanStore) skipped(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.skip[key]
}

// Scan implements [replica.Store]. It reads on past the skipped keys to
// fill the page, so that a short page still means the end.
func (s *scanStore) Scan(ctx context.Context, after string, limit int) ([]replica.Entry, error) {
	var out []replica.Entry
	for {
		page, err := s.Store.Scan(ctx, after, limit)
		if err != nil {
			return nil, err
		}
		for _, e := range page {
			if !s.skipped(e.Key) && len(out) < limit {
				out = append(out, e)
			}
		}
		if len(out) == limit || len(page) < limit {
			return out, nil
		}
		after = page[len(page)-1].Key
	}
}

// watch applies a watcher's entries until it ends, the connection
// reconnects (a status on reconnected, which may be nil) or ctx is done.
func (r *Region[T]) watch(ctx context.Context, w jetstream.KeyWatcher, reconnected chan natsgo.Status) error {
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-reconnected:
			return errReconnected
		case e, ok := <-w.Updates():
			if !ok {
				return errors.New("updates closed")
			}
			if e == nil { // the initial values have been delivered
				continue
			}
			if err := r.applyEntry(ctx, e); err != nil {
				return err
			}
		}
	}
}

// applyEntry applies one watched entry; it returns an error only when ctx
// is done.
func (r *Region[T]) applyEntry(ctx context.Context, e jetstream.KeyValueEntry) error {
	if e.Operation() != jetstream.KeyValuePut {
		return nil // a reaped tombstone (delete marker) or a purge: see Region.Delete
	}
	region, key, ok := strings.Cut(e.Key(), ".")
	if !ok || !r.others[region] {
		return nil
	}
	return r.retry(ctx, "apply "+e.Key(), func() error {
		class, err := r.rep.Apply(ctx, key, e.Value())
		switch {
		case err == nil && (class == resolve.StaleWrite || class == resolve.Duplicate):
			r.stats.covered.Add(1)
			return nil
		case err == nil:
			r.stats.applied.Add(1)
			return nil
		case errors.Is(err, replica.ErrMalformed):
			r.stats.skipped.Add(1)
			r.log.Warn("concord/nats: skipping a value that is not a concord record",
				"region", r.topo.Local, "err", &MalformedError{Key: e.Key(), Revision: e.Revision(), Err: err})
			return nil
		case errors.Is(err, replica.ErrTooLarge), errors.Is(err, replica.ErrQuarantined):
			// Retrying cannot help: the record is over this region's limit
			// (or its merge would be), or the local copy is unreadable. Skip
			// it so that every other record goes on replicating; the
			// replica has reported it (event, log, review or quarantine).
			r.stats.skipped.Add(1)
			r.log.Warn("concord/nats: skipping a record this region cannot take",
				"region", r.topo.Local, "key", e.Key(), "revision", e.Revision(), "err", err)
			return nil
		}
		return err
	})
}

// retry runs fn until it succeeds or ctx is done, backing off from 50ms to
// 2s between failures.
func (r *Region[T]) retry(ctx context.Context, what string, fn func() error) error {
	wait := 50 * time.Millisecond
	for {
		err := fn()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		r.log.Warn("concord/nats: retrying", "region", r.topo.Local, "op", what, "err", err)
		if !sleep(ctx, wait) {
			return ctx.Err()
		}
		wait = min(2*wait, 2*time.Second)
	}
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
