package nats

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/harborpoint/concord/replica"
)

// The reaping state of a region's replica — its counter floor and the
// horizons of the keys it reaped (replica.FloorStore,
// replica.HorizonStore) — lives in the region's bucket beside its records,
// under keys that start with '=', which no region name can: "=floor.R" and
// "=horizon.R.<key>" for region R. The other regions source only
// "<region>.>" subjects, so these keys stay in the region that wrote them,
// and Region.Run, which applies only other regions' keys, ignores them.

// floorKey is the bucket key of the region's counter floor.
func (s *Store) floorKey() string { return "=floor." + s.Region() }

// horizonPrefix is the start of the bucket keys of the region's horizons.
func (s *Store) horizonPrefix() string { return "=horizon." + s.prefix }

// CounterFloor implements [replica.FloorStore]: 0 until the first raise.
func (s *Store) CounterFloor(ctx context.Context) (uint64, error) {
	n, _, err := s.floor(ctx)
	return n, err
}

// floor returns the stored floor and the revision of its key (0: none).
func (s *Store) floor(ctx context.Context) (uint64, uint64, error) {
	e, err := s.kv.Get(ctx, s.floorKey())
	switch {
	case errors.Is(err, jetstream.ErrKeyNotFound):
		return 0, 0, nil
	case err != nil:
		return 0, 0, fmt.Errorf("nats: counter floor: %w", err)
	case len(e.Value()) != 8:
		return 0, 0, fmt.Errorf("nats: counter floor %s: %d bytes, want 8: %w", s.floorKey(), len(e.Value()), replica.ErrMalformed)
	}
	return binary.BigEndian.Uint64(e.Value()), e.Revision(), nil
}

// RaiseCounterFloor implements [replica.FloorStore]: a compare-and-set of
// the floor's key at the revision read, again until it holds n or more.
func (s *Store) RaiseCounterFloor(ctx context.Context, n uint64) error {
	for {
		cur, rev, err := s.floor(ctx)
		if err != nil || cur >= n {
			return err
		}
		v := binary.BigEndian.AppendUint64(nil, n)
		if rev == 0 {
			_, err = s.kv.Create(ctx, s.floorKey(), v)
		} else {
			_, err = s.kv.Update(ctx, s.floorKey(), v, rev)
		}
		switch {
		case err == nil:
			return nil
		case errors.Is(err, jetstream.ErrKeyExists), errors.Is(err, jetstream.ErrKeyRevisionMismatch):
			continue // raised meanwhile: read it again
		default:
			return fmt.Errorf("nats: raise counter floor to %d: %w", n, err)
		}
	}
}

// PutHorizon implements [replica.HorizonStore]: a KV put.
func (s *Store) PutHorizon(ctx context.Context, key string, value []byte) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if _, err := s.kv.Put(ctx, s.horizonPrefix()+key, value); err != nil {
		return fmt.Errorf("nats: put horizon %s: %w", s.horizonPrefix()+key, err)
	}
	return nil
}

// DeleteHorizon implements [replica.HorizonStore]: a purge of the
// horizon's subject in the bucket's stream, which leaves no message behind —
// not even the marker a KV purge keeps — so that the horizon keys listed
// stay those reaped within the retention. Horizon keys are local to the
// region and never sourced, so no other region needs a marker.
func (s *Store) DeleteHorizon(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	subject := "$KV." + s.kv.Bucket() + "." + s.horizonPrefix() + key
	if err := s.kv.stream.Purge(ctx, jetstream.WithPurgeSubject(subject)); err != nil {
		return fmt.Errorf("nats: delete horizon %s: %w", s.horizonPrefix()+key, err)
	}
	return nil
}

// ScanHorizons implements [replica.HorizonStore] as Scan does: it lists
// the region's horizon keys from the stream's state, sorts them and reads
// the first limit after after.
func (s *Store) ScanHorizons(ctx context.Context, after string, limit int) ([]replica.Entry, error) {
	if limit < 1 {
		return nil, fmt.Errorf("nats: scan limit %d is below 1", limit)
	}
	subjectPrefix := "$KV." + s.kv.Bucket() + "." + s.horizonPrefix()
	info, err := s.kv.stream.Info(ctx, jetstream.WithSubjectFilter(subjectPrefix+">"))
	if err != nil {
		return nil, fmt.Errorf("nats: list %s>: %w", subjectPrefix, err)
	}
	var keys []string
	for subj := range info.State.Subjects {
		if key, ok := strings.CutPrefix(subj, subjectPrefix); ok && key > after && checkKey(key) == nil {
			keys = append(keys, key)
		}
	}
	slices.Sort(keys)
	var out []replica.Entry
	for _, k := range keys {
		if len(out) == limit {
			break
		}
		e, err := s.kv.Get(ctx, s.horizonPrefix()+k)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			continue // deleted since the listing, or a purge marker
		}
		if err != nil {
			return nil, fmt.Errorf("nats: get horizon %s: %w", s.horizonPrefix()+k, err)
		}
		out = append(out, replica.Entry{Key: k, Value: e.Value()})
	}
	return out, nil
}

var _ replica.HorizonStore = (*Store)(nil)
