package nats

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/harborpoint/concord/replica"
)

// Store is a [replica.Store] on a JetStream KV bucket: the keys of one
// region, stored under "<region>.<key>". Get is KeyValue.Get, CompareAndSet
// is KeyValue.Create for revision 0 and KeyValue.Update with the last
// revision otherwise, Delete is KeyValue.Delete with the last revision, and
// a wrong-last-sequence refusal from the server is returned wrapping
// [replica.ErrRevisionMismatch].
//
// The revisions are the bucket's stream sequences in this region: one
// counter for the whole bucket, so a key deleted and created again never
// gets back a revision it had. They guard the compare-and-set of this
// region's writers and nothing else: the same version of a record has
// different revisions in different regions, so they never leave the process.
// What a client holds (an If-Match token) is always concord's causal
// context, [replica.Record.Token].
//
// JetStream KV has no ordered scan: Scan lists the region's keys (the
// subjects in the stream's state, listed atomically by the server), sorts
// them and reads the page's keys one by one, so each page costs a listing
// of every key in the region. That suits the anti-entropy of thousands of
// records; a region of millions needs a store with an index (SQL).
//
// A Store is safe for concurrent use. Make one with [NewStore].
type Store struct {
	kv     *Bucket
	prefix string // "<region>."
}

// NewStore returns the store of region's keys in kv. The region name must
// be a valid region name (see [Topology]).
func NewStore(kv *Bucket, region string) (*Store, error) {
	if kv == nil || kv.KeyValue == nil || kv.stream == nil {
		return nil, errors.New("nats: nil bucket (make it with CreateBucket)")
	}
	if err := checkRegion(region); err != nil {
		return nil, err
	}
	return &Store{kv: kv, prefix: region + "."}, nil
}

// Region returns the name of the region whose keys the store holds.
func (s *Store) Region() string { return strings.TrimSuffix(s.prefix, ".") }

// Subject returns the bucket key that stores key: "<region>.<key>".
func (s *Store) Subject(key string) string { return s.prefix + key }

// Get implements [replica.Store]. A key deleted or purged in the bucket is
// absent.
func (s *Store) Get(ctx context.Context, key string) ([]byte, uint64, error) {
	if err := checkKey(key); err != nil {
		return nil, 0, err
	}
	e, err := s.kv.Get(ctx, s.prefix+key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("nats: get %s: %w", s.prefix+key, err)
	}
	return e.Value(), e.Revision(), nil
}

// CompareAndSet implements [replica.Store].
func (s *Store) CompareAndSet(ctx context.Context, key string, value []byte, rev uint64) (uint64, error) {
	if err := checkKey(key); err != nil {
		return 0, err
	}
	k := s.prefix + key
	var (
		n   uint64
		err error
	)
	if rev == 0 {
		n, err = s.kv.Create(ctx, k, value)
	} else {
		n, err = s.kv.Update(ctx, k, value, rev)
	}
	switch {
	case err == nil:
		return n, nil
	case errors.Is(err, jetstream.ErrKeyExists), errors.Is(err, jetstream.ErrKeyRevisionMismatch):
		return 0, fmt.Errorf("nats: %s at revision %d: %w (%w)", k, rev, replica.ErrRevisionMismatch, err)
	default:
		return 0, fmt.Errorf("nats: store %s: %w", k, err)
	}
}

// Delete implements [replica.Store]. It leaves a delete marker in the
// bucket, as KeyValue.Delete does, so the next revision of the key is new.
func (s *Store) Delete(ctx context.Context, key string, rev uint64) error {
	if err := checkKey(key); err != nil {
		return err
	}
	k := s.prefix + key
	if rev == 0 { // KeyValue.Delete would not check the revision at all
		return fmt.Errorf("nats: delete %s at revision 0: %w", k, replica.ErrRevisionMismatch)
	}
	err := s.kv.Delete(ctx, k, jetstream.LastRevision(rev))
	switch {
	case err == nil:
		return nil
	case errors.Is(err, jetstream.ErrKeyExists), errors.Is(err, jetstream.ErrKeyRevisionMismatch):
		return fmt.Errorf("nats: delete %s at revision %d: %w (%w)", k, rev, replica.ErrRevisionMismatch, err)
	default:
		return fmt.Errorf("nats: delete %s: %w", k, err)
	}
}

// Scan implements [replica.Store]: it lists the region's keys, sorts them,
// and reads the first limit of those after after. A key deleted between the
// listing and its read is skipped and the next one read instead, so a short
// page still means the end.
func (s *Store) Scan(ctx context.Context, after string, limit int) ([]replica.Entry, error) {
	if limit < 1 {
		return nil, fmt.Errorf("nats: scan limit %d is below 1", limit)
	}
	keys, err := s.keys(ctx, after)
	if err != nil {
		return nil, err
	}
	var out []replica.Entry
	for _, k := range keys {
		if len(out) == limit {
			break
		}
		v, rev, err := s.Get(ctx, k)
		if err != nil {
			return nil, err
		}
		if rev != 0 {
			out = append(out, replica.Entry{Key: k, Value: v, Rev: rev})
		}
	}
	return out, nil
}

// keys returns the region's keys after after, sorted: the subjects of the
// region in the stream's state, which the server lists atomically (up to
// 100,000 subjects per request: beyond that the client pages through them
// and the list is atomic page by page). The list includes keys whose last
// message is a delete; Scan skips them when it reads them. (KeyValue.ListKeys
// is not atomic: it delivers the last message of each subject from a list
// of sequences made when it starts, so a key updated meanwhile has its
// listed message replaced by a later one and is missed.)
func (s *Store) keys(ctx context.Context, after string) ([]string, error) {
	filter := "$KV." + s.kv.Bucket() + "." + s.prefix + ">"
	info, err := s.kv.stream.Info(ctx, jetstream.WithSubjectFilter(filter))
	if err != nil {
		return nil, fmt.Errorf("nats: list %s: %w", filter, err)
	}
	var keys []string
	subjectPrefix := "$KV." + s.kv.Bucket() + "." + s.prefix
	for subj := range info.State.Subjects {
		// A key no record can have was written by another program: skip it.
		if key, ok := strings.CutPrefix(subj, subjectPrefix); ok && key > after && checkKey(key) == nil {
			keys = append(keys, key)
		}
	}
	slices.Sort(keys)
	return keys, nil
}

// ErrInvalidKey is wrapped by the error for a record key that cannot be a
// bucket key: it must be 1 or more of the bytes a JetStream KV key allows
// (ASCII letters, digits, '-', '_', '/', '=' and '.'), and must not start or
// end with '.' or hold "..". It wraps [replica.ErrInvalidKey].
var ErrInvalidKey = fmt.Errorf("nats: not a bucket key: %w", replica.ErrInvalidKey)

// ValidKey reports whether key can be a record key in a [Store].
func ValidKey(key string) bool { return checkKey(key) == nil }

func checkKey(key string) error {
	if key == "" || key[0] == '.' || key[len(key)-1] == '.' || strings.Contains(key, "..") {
		return fmt.Errorf("%w: %q", ErrInvalidKey, key)
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		if !(nameByte(c) || c == '/' || c == '=' || c == '.') {
			return fmt.Errorf("%w: %q has byte %q", ErrInvalidKey, key, c)
		}
	}
	return nil
}

func nameByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_'
}

// ErrInvalidRegion is wrapped by the error for a region name that cannot be
// a key prefix, a domain and a consumer name at once: 1 to 32 ASCII letters,
// digits, '-' and '_'.
var ErrInvalidRegion = errors.New("nats: invalid region name")

func checkRegion(name string) error {
	if name == "" || len(name) > 32 {
		return fmt.Errorf("%w: %q", ErrInvalidRegion, name)
	}
	for i := 0; i < len(name); i++ {
		if !nameByte(name[i]) {
			return fmt.Errorf("%w: %q has byte %q", ErrInvalidRegion, name, name[i])
		}
	}
	return nil
}
