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
type Options struct {
	// Logger receives what [Region.Run] skips or retries: values in the
	// bucket that do not decode, records the replica cannot take, and
	// store errors. Nil means none.
	Logger *slog.Logger
	// Conn is the connection under the bucket. When it is set, [Region.Run]
	// restarts its watch as soon as the connection reconnects — after the
	// region's server restarts, say — instead of when the watch notices
	// its missing heartbeats, 10 s or more later. Nil means the heartbeats
	// only.
	Conn *natsgo.Conn
	// Limits bound the decoding of the contexts [Region.Contexts] reads:
	// MaxBytes is the record limit (set it to the replica's
	// replica.Options.MaxRecordBytes, which [Bucket.MaxRecordBytes]
	// derives from the bucket and the server), MaxEntries the
	// limit on siblings and replicas. The zero Limits means replica's
	// defaults.
	Limits version.Limits
}

// Region is one region's place in a multi-region bucket: the [Store] of the
// region's own keys, and the copies of every other region's keys that
// JetStream sources into the same bucket. It is wiring, not a second
// replica API: the application works with a [replica.Replica] made over
// [Region.Store] with the Region as its peers,
//
//	region, err := concordnats.NewRegion(kv, topo, concordnats.Options{Conn: nc})
//	rep, err := replica.New(id, region.Store(), res, replica.Options[T]{Peers: region})
//	go region.Run(ctx, rep)
//
// so that
//
//   - every read and write of a key through rep first merges the other
//     regions' copies of it that the local copy does not cover
//     ([Region.Copies], a get per region from the local bucket, so a
//     region cut off from the others still serves its keys), and the
//     token rep returns is the context a conditional write in this region
//     must present;
//   - [Region.Run] watches the other regions' keys and applies each
//     incoming version to rep as it arrives, so conflicts are resolved or
//     queued for review (and counted by the observers) without waiting
//     for a read.
//
// No region ever writes another region's keys, and a merge that changes
// nothing is not written, so versions do not echo between regions: each
// write makes at most one merged write per other region.
//
// A Region is safe for concurrent use. Make one with [NewRegion].
type Region struct {
	topo   Topology
	kv     jetstream.KeyValue
	store  *Store
	limits version.Limits
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
	// Skipped counts values that are not concord records, and records the
	// replica could not take.
	Skipped int64
}

// WatchStats returns the counts of [Region.Run]'s work.
func (r *Region) WatchStats() WatchStats {
	return WatchStats{
		Watches: r.stats.watches.Load(),
		Applied: r.stats.applied.Load(),
		Covered: r.stats.covered.Load(),
		Skipped: r.stats.skipped.Load(),
	}
}

// NewRegion returns the local region of t over kv (the bucket
// [CreateBucket] made in the local domain).
func NewRegion(kv *Bucket, t Topology, opts Options) (*Region, error) {
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
	r := &Region{topo: t, kv: kv, store: store, limits: opts.Limits, log: opts.Logger, conn: opts.Conn, others: map[string]bool{}}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	for _, o := range t.Others() {
		r.others[o] = true
	}
	return r, nil
}

// Store returns the store of the local region's keys: the store to make
// the region's replica over.
func (r *Region) Store() *Store { return r.store }

// Topology returns the region's topology.
func (r *Region) Topology() Topology { return r.topo }

// copyOf is one region's copy of a record, as stored in this bucket.
type copyOf struct {
	region string
	data   []byte
	rev    uint64
	err    error
}

// gather reads the copies of key of regions, concurrently.
func (r *Region) gather(ctx context.Context, key string, regions []string) []copyOf {
	out := make([]copyOf, len(regions))
	var wg sync.WaitGroup
	for i, region := range regions {
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
		if i == len(regions)-1 {
			get()
			continue
		}
		wg.Go(get)
	}
	wg.Wait()
	return out
}

// Copies implements [replica.Peers]: it returns the other regions' copies
// of key as this region's bucket holds them (a get per region, from the
// local bucket, concurrently). Copy.From names the bucket key and its
// revision, so that an error about a copy that is not a concord record
// says where it is.
func (r *Region) Copies(ctx context.Context, key string) ([]replica.Copy, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	var out []replica.Copy
	for _, c := range r.gather(ctx, key, r.topo.Others()) {
		if c.err != nil {
			return nil, c.err
		}
		if c.rev != 0 {
			out = append(out, replica.Copy{From: fmt.Sprintf("bucket key %s.%s (revision %d)", c.region, key, c.rev), Data: c.data})
		}
	}
	return out, nil
}

// Contexts returns the causal context of each region's copy of key as this
// region's bucket holds it, by region; a region without a copy is missing
// from the map. It is for operators and tests: which writes of each region
// have reached this one. The values are not decoded; a copy that is not a
// concord record fails with an error wrapping replica.ErrMalformed.
func (r *Region) Contexts(ctx context.Context, key string) (map[string]version.Vector, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	out := map[string]version.Vector{}
	for _, c := range r.gather(ctx, key, r.topo.Regions) {
		if c.err != nil {
			return nil, c.err
		}
		if c.rev == 0 {
			continue
		}
		v, err := replica.DecodeContext(c.data, r.limits)
		if err != nil {
			return nil, fmt.Errorf("nats: bucket key %s.%s (revision %d): %w", c.region, key, c.rev, err)
		}
		out[c.region] = v
	}
	return out, nil
}

// Applier is what [Region.Run] delivers the other regions' versions to:
// the region's [replica.Replica], of any record type.
type Applier interface {
	// Apply merges a replicated state (replica.Replica.Apply).
	Apply(ctx context.Context, key string, data []byte) (resolve.Class, error)
	// Rescan rebuilds the review queue from the store, and the
	// reconciliation index if the replica has built one
	// (replica.Replica.Rescan).
	Rescan(ctx context.Context) error
}

// Run watches the other regions' keys and applies every version that
// arrives to rep, the replica made over [Region.Store], until ctx is done;
// it then returns ctx.Err(). It first rebuilds rep's review queue from the
// local keys ([replica.Replica.Rescan]); a local record that cannot be
// read is logged and left to rep's quarantine. The watch then delivers the
// latest copy of every other region's key before the updates, so a
// restarted region catches up. Applying is idempotent: a version already
// covered changes nothing and is not written.
//
// The watch restarts when it ends, and, with [Options.Conn], as soon as
// the connection reconnects; a restart delivers the latest copy of every
// key again (counted as Covered in [Region.WatchStats]), so nothing is
// missed in between. A watch that fails to start is retried after 50 ms,
// backing off to 1 s.
//
// A value that is not a concord record, or a record rep cannot take (over
// its record limit), is logged with its bucket key and revision and
// skipped (left in the bucket); a store error is retried with backoff.
//
// Deletes are tombstones rep stores in the local key — puts, not KV delete
// markers — which the other regions' watchers apply like any write, so a
// delete concurrent with an update in another region meets it there and is
// settled by the resolver's OnDelete. KV delete markers and purges are
// what reaping leaves (rep.Reap deletes the local key at its revision):
// Run ignores them in other regions' keys, because removing a stable
// tombstone is each region's own decision and changes no record. A delete
// marker or purge made outside concord is ignored the same way; on the
// local region's own key it is the loss of the region's state of the
// record, which the package doc describes ("Deletes and purges made
// outside concord").
//
// Call Run once per Region, in its own goroutine, with the one replica
// over its store.
func (r *Region) Run(ctx context.Context, rep Applier) error {
	if err := r.retry(ctx, "rescan", func() error { return r.rescan(ctx, rep) }); err != nil {
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
		err = r.watch(ctx, w, rep, reconnected)
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

// rescan rebuilds rep's review queue from the local keys. Records rep
// cannot read are skipped by Rescan and reported in its error as
// *replica.KeyError values: they are logged (rep has quarantined them),
// not retried.
func (r *Region) rescan(ctx context.Context, rep Applier) error {
	err := rep.Rescan(ctx)
	if ke := (*replica.KeyError)(nil); errors.As(err, &ke) {
		r.log.Warn("concord/nats: skipping local records that cannot be read", "region", r.topo.Local, "err", err)
		return nil
	}
	return err
}

// watch applies a watcher's entries until it ends, the connection
// reconnects (a status on reconnected, which may be nil) or ctx is done.
func (r *Region) watch(ctx context.Context, w jetstream.KeyWatcher, rep Applier, reconnected chan natsgo.Status) error {
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
			if err := r.applyEntry(ctx, rep, e); err != nil {
				return err
			}
		}
	}
}

// applyEntry applies one watched entry; it returns an error only when ctx
// is done.
func (r *Region) applyEntry(ctx context.Context, rep Applier, e jetstream.KeyValueEntry) error {
	if e.Operation() != jetstream.KeyValuePut {
		return nil // a reaped tombstone (delete marker) or a purge: see Region.Run
	}
	region, key, ok := strings.Cut(e.Key(), ".")
	if !ok || !r.others[region] {
		return nil
	}
	return r.retry(ctx, "apply "+e.Key(), func() error {
		class, err := rep.Apply(ctx, key, e.Value())
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
				"region", r.topo.Local, "key", e.Key(), "revision", e.Revision(), "err", err)
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
func (r *Region) retry(ctx context.Context, what string, fn func() error) error {
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
