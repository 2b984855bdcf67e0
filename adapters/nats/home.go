package nats

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/harborpoint/concord/replica"
)

// HomeOptions configures the bucket of a claim home. The zero HomeOptions
// is valid: three replicas on file storage, placed where JetStream likes.
type HomeOptions struct {
	// Replicas is the number of copies the JetStream cluster keeps: 3 or 5;
	// 0 means 3. A claim is acknowledged once a majority has it, so a home
	// loses no claim when a minority of its servers dies, and claims only
	// while a majority is up.
	Replicas int
	// Storage is jetstream.FileStorage (the zero value) or MemoryStorage;
	// a memory home forgets its claims when a majority restarts — tests
	// only.
	Storage jetstream.StorageType
	// Placement pins the bucket to a cluster or to tagged servers: the
	// names' home region.
	Placement *jetstream.Placement
}

// ErrNotAHome is wrapped by the error of [CheckHome] for a bucket whose
// settings do not keep claims safely.
var ErrNotAHome = errors.New("nats: bucket is not a claim home")

// HomeConfig returns the stream configuration of the claim home bucket
// (the stream "KV_<bucket>"): a KV bucket as nats.go would create it, with
// the settings that make each key's compare-and-set linearizable and keep
// every claim:
//
//   - Replicas 3 (or 5): the stream is a Raft group; a write is applied in
//     log order on every replica and acknowledged once a majority has it,
//     and the compare-and-set condition (Nats-Expected-Last-Subject-Sequence,
//     which KeyValue.Update sends) is checked against the log, so two
//     compare-and-sets from the same revision cannot both succeed, across
//     leader changes too;
//   - no Mirror and no Sources: the home is the one place its claims are
//     written; a mirrored or sourced copy is updated asynchronously and
//     must never be claimed from;
//   - AllowDirect false (and MirrorDirect false): reads go to the stream
//     leader ($JS.API.STREAM.MSG.GET, which only the leader answers)
//     instead of any replica — a direct get may be served by a follower
//     that has not applied the write just acknowledged. KV buckets that
//     nats.go creates allow direct gets, so a home is created as a stream;
//   - MaxAge 0, DenyDelete, DenyPurge, AllowRollup false, Discard new: no
//     claim is ever expired, deleted or purged by the stream (a name that
//     vanished would restart its fencing tokens at 1);
//   - one value per key (history 1): a claim's value carries all its state.
func HomeConfig(bucket string, opts HomeOptions) jetstream.StreamConfig {
	replicas := opts.Replicas
	if replicas == 0 {
		replicas = 3
	}
	return jetstream.StreamConfig{
		Name:              streamName(bucket),
		Description:       "concord claims: one home per name, linearizable compare-and-set",
		Subjects:          []string{"$KV." + bucket + ".>"},
		MaxMsgsPerSubject: 1,
		MaxMsgs:           -1,
		MaxBytes:          -1,
		MaxMsgSize:        -1,
		MaxConsumers:      -1,
		Storage:           opts.Storage,
		Replicas:          replicas,
		Placement:         opts.Placement,
		Discard:           jetstream.DiscardNew,
		Duplicates:        2 * time.Minute,
		DenyDelete:        true,
		DenyPurge:         true,
	}
}

// CheckHome checks the configuration of the stream behind a claim home
// bucket and returns every setting that breaks a promise of package claim,
// in one error wrapping [ErrNotAHome]. [CreateHome] and [OpenHome] call it;
// call it on buckets made by other tools.
func CheckHome(cfg jetstream.StreamConfig) error {
	var problems []error
	bad := func(format string, args ...any) { problems = append(problems, fmt.Errorf(format, args...)) }
	if cfg.Replicas < 3 || cfg.Replicas%2 == 0 {
		bad("replicas %d: want 3 or 5, so a claim is acknowledged by a Raft majority", cfg.Replicas)
	}
	if cfg.Mirror != nil || len(cfg.Sources) > 0 {
		bad("mirror or sources: a home is written only in place, never copied into")
	}
	if cfg.AllowDirect || cfg.MirrorDirect {
		bad("direct get allowed: a follower could answer a read without the latest claim")
	}
	if cfg.MaxAge != 0 || !cfg.DenyDelete || !cfg.DenyPurge || cfg.AllowRollup || cfg.AllowMsgTTL {
		bad("claims could expire, be deleted or purged (max age %v, deny delete %v, deny purge %v, rollup %v, message TTL %v)",
			cfg.MaxAge, cfg.DenyDelete, cfg.DenyPurge, cfg.AllowRollup, cfg.AllowMsgTTL)
	}
	if cfg.MaxMsgsPerSubject < 1 || cfg.MaxMsgs > 0 || cfg.MaxBytes > 0 {
		bad("limits could drop claims (per subject %d, messages %d, bytes %d)", cfg.MaxMsgsPerSubject, cfg.MaxMsgs, cfg.MaxBytes)
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: %s: %w", ErrNotAHome, cfg.Name, errors.Join(problems...))
	}
	return nil
}

// CreateHome creates the claim home bucket through js (or updates it to
// [HomeConfig]) and returns its store, to give to claim.NewHome. js must
// talk to the JetStream cluster that is the names' home.
func CreateHome(ctx context.Context, js jetstream.JetStream, bucket string, opts HomeOptions) (*HomeStore, error) {
	if opts.Replicas != 0 && opts.Replicas != 3 && opts.Replicas != 5 {
		return nil, fmt.Errorf("%w: replicas %d, want 3 or 5", ErrNotAHome, opts.Replicas)
	}
	if _, err := js.CreateOrUpdateStream(ctx, HomeConfig(bucket, opts)); err != nil {
		return nil, fmt.Errorf("nats: claim home %s: %w", bucket, err)
	}
	return OpenHome(ctx, js, bucket)
}

// OpenHome returns the store of an existing claim home bucket, after
// checking its settings with [CheckHome].
func OpenHome(ctx context.Context, js jetstream.JetStream, bucket string) (*HomeStore, error) {
	s, err := js.Stream(ctx, streamName(bucket))
	if err != nil {
		return nil, fmt.Errorf("nats: claim home %s: %w", bucket, err)
	}
	if err := CheckHome(s.CachedInfo().Config); err != nil {
		return nil, err
	}
	kv, err := js.KeyValue(ctx, bucket)
	if err != nil {
		return nil, fmt.Errorf("nats: claim home %s: %w", bucket, err)
	}
	return &HomeStore{stream: s, kv: kv, subject: "$KV." + bucket + "."}, nil
}

// HomeStore keeps claims in a home bucket: the claim.Store of package
// claim (the Get and CompareAndSet of replica.Store). Get reads the last
// value of the key from the stream leader; CompareAndSet is KeyValue.Update
// with the expected revision (0: the key must never have been written), so
// a key that was deleted is never written over. A key's value that is a
// delete or purge marker comes back as an empty value at its revision,
// which package claim reports as malformed: an operator repairs it.
//
// A HomeStore is safe for concurrent use. Make one with [CreateHome] or
// [OpenHome].
type HomeStore struct {
	stream  jetstream.Stream
	kv      jetstream.KeyValue
	subject string // "$KV.<bucket>."
}

// Get implements claim.Store.
func (s *HomeStore) Get(ctx context.Context, key string) ([]byte, uint64, error) {
	if err := checkKey(key); err != nil {
		return nil, 0, err
	}
	m, err := s.stream.GetLastMsgForSubject(ctx, s.subject+key)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("nats: home get %s: %w", key, err)
	}
	if op := m.Header.Get("KV-Operation"); op != "" {
		return []byte{}, m.Sequence, nil // a delete or purge marker: not a claim
	}
	return m.Data, m.Sequence, nil
}

// CompareAndSet implements claim.Store.
func (s *HomeStore) CompareAndSet(ctx context.Context, key string, value []byte, rev uint64) (uint64, error) {
	if err := checkKey(key); err != nil {
		return 0, err
	}
	n, err := s.kv.Update(ctx, key, value, rev)
	switch {
	case err == nil:
		return n, nil
	case errors.Is(err, jetstream.ErrKeyExists), errors.Is(err, jetstream.ErrKeyRevisionMismatch):
		return 0, fmt.Errorf("nats: home %s at revision %d: %w (%w)", key, rev, replica.ErrRevisionMismatch, err)
	}
	return 0, fmt.Errorf("nats: home store %s: %w", key, err)
}
