package nats

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/harborpoint/concord/replica"
)

// Store is a [replica.Store] on a JetStream KV bucket: the keys of one
// region, stored under "<region>.<key>". Get is KeyValue.Get, CompareAndSet
// is KeyValue.Create for revision 0 and KeyValue.Update with the last
// revision otherwise, and a wrong-last-sequence refusal from the server is
// returned wrapping [replica.ErrRevisionMismatch].
//
// The revisions are the bucket's stream sequences in this region. They guard
// the compare-and-set of this region's writers and nothing else: the same
// version of a record has different revisions in different regions, so they
// never leave the process. What a client holds (an If-Match token) is always
// concord's causal context, [replica.Record.Token].
//
// A Store is safe for concurrent use. Make one with [NewStore].
type Store struct {
	kv     jetstream.KeyValue
	prefix string // "<region>."
}

// NewStore returns the store of region's keys in kv. The region name must
// be a valid region name (see [Topology]).
func NewStore(kv jetstream.KeyValue, region string) (*Store, error) {
	if kv == nil {
		return nil, errors.New("nats: nil KeyValue")
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

// Keys implements [replica.Store]: the region's keys, without the prefix.
func (s *Store) Keys(ctx context.Context) ([]string, error) {
	l, err := s.kv.ListKeysFiltered(ctx, s.prefix+">")
	if err != nil {
		return nil, fmt.Errorf("nats: list %s>: %w", s.prefix, err)
	}
	defer l.Stop()
	var keys []string
	for k := range l.Keys() {
		if key, ok := strings.CutPrefix(k, s.prefix); ok {
			keys = append(keys, key)
		}
	}
	return keys, ctx.Err()
}

// ErrInvalidKey is wrapped by the error for a record key that cannot be a
// bucket key: it must be 1 or more of the bytes a JetStream KV key allows
// (ASCII letters, digits, '-', '_', '/', '=' and '.'), and must not start or
// end with '.' or hold "..".
var ErrInvalidKey = errors.New("nats: invalid record key")

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
