package replica

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/harborpoint/concord/policy"
	"github.com/harborpoint/concord/replica/rangesync"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

// Options configures a [Replica]. The zero Options is valid.
type Options[T any] struct {
	// Codec encodes record values. Nil means [JSON]. A codec that is also
	// a [Validator] makes Apply cheaper.
	Codec Codec[T]
	// Clock stamps writes. Nil means a new [version.HLC] with default
	// options; pass one restored from the last persisted stamp to keep
	// stamps monotonic across restarts.
	Clock *version.HLC
	// Observer is told of every event of this replica — merges and the
	// decisions of every policy that fired, conflicts, stale and duplicate
	// versions, writes refused to clients, conflicts sent to and cleared
	// from review, and replicated writes stamped beyond the clock's drift —
	// once each, after the state behind it is stored. It is the one place
	// to wire observation: a [resolve.Resolver] notifies no one. Nil means
	// none.
	Observer resolve.Observer
	// Logger receives a debug record for every decision of every merge this
	// replica stores, once, and a warning or error, with the record's key,
	// for every event an operator must act on: a corrupt or oversized
	// state, a state claiming a write this replica never issued, a record
	// quarantined. The observer counts them; the log says which record. Nil
	// means none.
	Logger *slog.Logger
	// Limits bound decoding of tokens (If-Match), and MaxEntries also the
	// siblings and the replicas of a record's context. The zero Limits
	// means version's defaults.
	Limits version.Limits
	// MaxRecordBytes is the record limit: the most bytes a record's stored
	// state (every sibling, its context and its frame) may take. A write
	// that would exceed it is refused with a [*TooLargeError] before
	// anything is stored, a replicated state over it is refused, and a
	// merge that would exceed it keeps the local record and goes to the
	// review queue. Zero means [DefaultMaxRecordBytes]. Lowering it leaves
	// existing larger records unreadable (quarantined): raise it, never
	// lower it, across a deployment's versions.
	MaxRecordBytes int
	// CommandKeys returns the record's applied idempotency keys.
	// [Replica.Command] needs it. Bind the field it points to with
	// [policy.AppliedKeys] so the keys replicate with the record and stay
	// within their horizon: a retry applies once while the record still
	// knows its key (see [policy.Horizon]); after that it is a new command.
	//
	// The replica stores the keys itself, in their compact binary form
	// beside the codec's bytes, and hands the codec the value without them:
	// a command then costs a few bytes per key held to decode and encode,
	// whatever the codec. Every replica that shares a record type's states
	// (by replication or by a store) must set CommandKeys alike: a state
	// carrying keys is malformed to a replica without it, which refuses it
	// rather than lose them.
	CommandKeys func(*T) *policy.Applied
	// Now reads the wall clock for review-queue times. Nil means time.Now.
	Now func() time.Time
	// MaxAttempts bounds compare-and-set retries under contention. Zero
	// means 100.
	MaxAttempts int
	// Reconcile configures anti-entropy ([Replica.Sync], [Replica.Respond]):
	// the frame limit of its messages and the rounds it may take. The zero
	// value means rangesync's defaults; replicas that reconcile with each
	// other must use the same frame limit.
	Reconcile rangesync.Options
	// Members is the membership that reaping waits for (this replica's ID
	// may be among them): a tombstone is removed from the store once every
	// member has acknowledged it (see [Replica.Reap]). Nil means no
	// membership: tombstones are kept. Change it with [Replica.AddMember]
	// and [Replica.RemoveMember].
	Members []version.ID
	// Retention is how long the horizon of a reaped key is kept (see
	// [Replica.Reap]) — and so how long a late copy of a version older
	// than a delete may take to arrive and still be refused — and how long
	// a member may go unheard from before it is refused as expired
	// ([ErrExpired]). Zero means [DefaultRetention]; a negative Retention
	// keeps horizons for ever (memory grows with every key reaped) and
	// never expires a member.
	Retention time.Duration
	// Peers hands the replica the copies of a record that other replicas
	// hold, merged before every read and write of the record: Get,
	// Create, Update, ResolveConflict, Delete, Blind and Command first
	// merge each copy the local state does not cover, so a client's token
	// and a write's base include whatever reached the peer source. Nil
	// means none: other replicas' writes arrive only through Apply and
	// anti-entropy.
	Peers Peers
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
// Each attempt of the loop plans the write afresh from the state it read —
// so a function a write style takes (Update's, Command's) may run more than
// once in one call, once per attempt, and must not have effects of its own —
// and only the state the store accepted is reported to the observer.
type Replica[T any] struct {
	id                    version.ID
	store                 Store
	res                   *resolve.Resolver[T]
	codec                 Codec[T]
	hlc                   *version.HLC
	obs                   resolve.Observer
	log                   *slog.Logger
	limits                version.Limits
	maxEntries, maxRecord int
	cmdKeys               func(*T) *policy.Applied
	fields                int // the number of fields res binds
	now                   func() time.Time
	attempts              int

	reconcile rangesync.Options
	peers     Peers
	ix        syncIndex // the reconciliation index, see index.go

	locks    keyLocks     // serializes this replica's read-modify-writes of one key
	sizeHint atomic.Int64 // the size of the last state encoded
	recent   recent       // the states this replica stored last, see recent.go

	mu          sync.Mutex
	quarantine  map[string]*Quarantine // records whose stored state cannot be read
	nQuarantine atomic.Int32           // len(quarantine), read without mu on every load
	review      map[string]*queued[T]  // the review queue, see review.go
	nReview     atomic.Int32           // len(review), read without mu on every load
	nTombs      atomic.Int32           // len(memb.tombs), read without mu on every write
	nHorizons   atomic.Int32           // len(memb.reaped), read without mu on every fresh apply
	results     results[T]             // first result of each command
	memb        membership[T]          // reaping: members, their acks, reaped horizons
	retention   time.Duration          // how long horizons are kept; negative: for ever
	floor       floor                  // the counter floor, see floor.go
	hz          horizons               // the horizons read from a HorizonStore, see horizon.go
}

// The remembered command results are bounded by count and by the stored
// size of their records: the oldest are forgotten first. A retry whose first
// result was forgotten still applies once (the record's command keys say it
// was applied) and returns the current record instead.
const (
	maxResults     = 4096
	maxResultBytes = 64 << 20
)

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
		codec: opts.Codec, hlc: opts.Clock, obs: opts.Observer, log: opts.Logger, limits: opts.Limits,
		maxEntries: opts.Limits.MaxEntries, maxRecord: opts.MaxRecordBytes,
		cmdKeys: opts.CommandKeys, now: opts.Now, attempts: opts.MaxAttempts, fields: len(res.Fields()),
		reconcile: opts.Reconcile, peers: opts.Peers,
		review: map[string]*queued[T]{}, quarantine: map[string]*Quarantine{},
		memb: membership[T]{members: map[version.ID]bool{}, heard: map[version.ID]time.Time{}, acks: map[version.ID]Digest{},
			reaped: map[string]horizon[T]{}, tombs: map[string]struct{}{}},
		retention: opts.Retention,
	}
	r.ix.seed = maphash.MakeSeed()
	if r.maxEntries <= 0 {
		r.maxEntries = version.DefaultMaxEntries
	}
	if r.maxRecord <= 0 {
		r.maxRecord = DefaultMaxRecordBytes
	}
	if r.codec == nil {
		r.codec = JSON[T]{}
	}
	if r.hlc == nil {
		r.hlc = version.NewHLC(version.HLCOptions{}, version.Timestamp{})
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	if r.now == nil {
		r.now = time.Now
	}
	if r.attempts <= 0 {
		r.attempts = 100
	}
	if r.retention == 0 {
		r.retention = DefaultRetention
	}
	for _, m := range opts.Members {
		r.memb.members[m] = true
		r.memb.heard[m] = r.now() // a grace of one retention from the start
	}
	if _, err := rangesync.NewInitiator(&r.ix.x, r.reconcile); err != nil { // validates the options
		return nil, wrapf(err, "replica")
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
	Conflict *resolve.ConflictRequiresRetry
	// Deleted is set when the record is deleted: every branch is a
	// tombstone, or a delete won over a concurrent update
	// ([resolve.DeleteWins]). Value is then the zero T. Only
	// [Replica.Delete] returns such a record; a read returns a [*Deleted]
	// error instead.
	Deleted bool
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

// record returns the record of state s: its value read from res, or its
// conflict.
func (r *Replica[T]) record(key string, s resolve.Siblings[T], res *resolve.Resolution[T], conflict *resolve.ConflictRequiresRetry) Record[T] {
	rec := Record[T]{Key: key, Branches: s.Values()}
	switch {
	case res != nil:
		rec.Context = res.Version
	case conflict != nil:
		rec.Context = conflict.Context
	default:
		rec.Context = s.Join()
	}
	rec.Token = rec.Context.Token()
	switch {
	case conflict != nil:
		conflict.Key = key
		rec.Conflict = conflict
	case res != nil:
		rec.Value, rec.Stamp, rec.Decisions, rec.Deleted = res.Value, res.Stamp, res.Decisions(), res.Deleted
	}
	return rec
}

// read resolves state s and returns its record.
func (r *Replica[T]) read(key string, s resolve.Siblings[T]) Record[T] {
	res, err := r.res.Resolve(s)
	var conflict *resolve.ConflictRequiresRetry
	if errors.As(err, &conflict) {
		return r.record(key, s, nil, conflict)
	}
	return r.record(key, s, &res, nil)
}

// load reads and decodes a record's state, takes it into the index if
// another writer stored it (see seen), and brings the key's review item, if
// any, up to date with it (see refresh).
func (r *Replica[T]) load(ctx context.Context, key string) (resolve.Siblings[T], uint64, error) {
	data, rev, err := r.store.Get(ctx, key)
	if err != nil {
		return resolve.Siblings[T]{}, 0, wrapf(err, "replica %v: get %q", r.id, key)
	}
	s, err := r.decodeStored(key, data, rev)
	if err != nil {
		return s, 0, err
	}
	join := s.Join()
	r.seen(ctx, key, rev, join)
	if rev != 0 {
		r.refresh(key, &observed[T]{state: s, join: join}, false)
	}
	return s, rev, nil
}

// decodeStored decodes the stored value of key at revision rev (0: absent). A value
// that cannot be decoded quarantines the record; a quarantined record whose
// value changed is tried again, and released if it reads.
func (r *Replica[T]) decodeStored(key string, data []byte, rev uint64) (resolve.Siblings[T], error) {
	if r.nQuarantine.Load() > 0 {
		if err := r.quarantined(key, rev); err != nil {
			return resolve.Siblings[T]{}, err
		}
	}
	if rev == 0 {
		r.release(key)
		return resolve.Siblings[T]{}, nil
	}
	s, err := r.decode(key, data)
	if unreadable(err) {
		return s, r.setAside(key, rev, err)
	}
	if err != nil {
		return s, wrapf(err, "replica %v: stored record %q", r.id, key)
	}
	r.release(key)
	return s, nil
}

// Get returns the record stored under key, or an error wrapping ErrNotFound.
// A deleted record whose tombstone is not yet reaped fails with a
// [*Deleted] (matching both ErrDeleted and ErrNotFound) that carries the
// tombstone's token, and the returned Record has Deleted set. A record with
// an open conflict — a delete concurrent with an update included — is
// returned with its Conflict set and no error: reading is always allowed.
func (r *Replica[T]) Get(ctx context.Context, key string) (Record[T], error) {
	if err := r.catchUp(ctx, key); err != nil {
		return Record[T]{Key: key}, err
	}
	s, _, err := r.load(ctx, key)
	if err != nil {
		return Record[T]{}, err
	}
	if s.Len() == 0 {
		return Record[T]{Key: key}, wrapf(ErrNotFound, "replica: %q", key)
	}
	rec := r.read(key, s)
	if rec.Conflict != nil { // queued here too, if another writer stored it
		r.queueRead(ctx, key, &observed[T]{state: s, join: s.Join(), resolved: true, conflict: rec.Conflict})
	}
	if rec.Deleted {
		return rec, deleted(rec)
	}
	return rec, nil
}

// deleted returns the error of a deleted record.
func deleted[T any](rec Record[T]) error {
	return &Deleted{Key: rec.Key, Token: rec.Token, Context: rec.Context, Stamp: rec.Stamp}
}

// State returns the raw replicated state of key (empty if absent), for
// replication in process and for tests.
func (r *Replica[T]) State(ctx context.Context, key string) (resolve.Siblings[T], error) {
	s, _, err := r.load(ctx, key)
	return s, err
}
