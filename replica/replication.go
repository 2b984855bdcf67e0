package replica

import (
	"context"
	"fmt"

	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

// Export returns the encoded state of key, as another replica's Apply
// takes it. An absent key fails with ErrNotFound.
func (r *Replica[T]) Export(ctx context.Context, key string) ([]byte, error) {
	data, rev, err := r.store.Get(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("replica %v: get %q: %w", r.id, key, err)
	}
	if rev == 0 {
		return nil, fmt.Errorf("replica: %q: %w", key, ErrNotFound)
	}
	return data, nil
}

// Apply merges an encoded version of key received from another replica (its
// Export, or a message on the wire). Apply is idempotent and independent of
// order: replicas that apply the same versions in any order, grouping or
// number of times hold the same record. Input that does not decode fails
// with an error wrapping ErrMalformed and changes nothing.
func (r *Replica[T]) Apply(ctx context.Context, key string, data []byte) (resolve.Class, error) {
	s, err := decodeState(data, r.codec, r.limits, r.fields)
	if err != nil {
		return 0, fmt.Errorf("replica %v: apply %q: %w", r.id, key, err)
	}
	return r.ApplyState(ctx, key, s)
}

// ApplyState is Apply for a state already decoded, such as one read from
// another replica in the same process.
func (r *Replica[T]) ApplyState(ctx context.Context, key string, incoming resolve.Siblings[T]) (resolve.Class, error) {
	if incoming.Len() == 0 && incoming.Join().IsZero() {
		return resolve.StaleWrite, nil
	}
	for s := range incoming.Siblings() {
		_ = r.hlc.Observe(s.Value.Stamp.Time) // keep local stamps after remote ones; a far-future stamp is not adopted
	}
	o, err := r.update(ctx, key, func(cur resolve.Siblings[T]) (resolve.Siblings[T], resolve.Outcome[T], error) {
		o := r.res.Apply(cur, incoming)
		return o.State, o, nil
	}, nil)
	return o.Class, err
}

// Digest maps each key to the causal context of its record: what a replica
// sends so that another can tell which records it lacks.
type Digest map[string]version.Vector

// Digest returns the context of every record this replica holds.
func (r *Replica[T]) Digest(ctx context.Context) (Digest, error) {
	d := Digest{}
	err := scanAll(ctx, r.store, func(e Entry) error {
		s, err := decodeState(e.Value, r.codec, r.limits, r.fields)
		if err != nil {
			return fmt.Errorf("replica %v: stored record %q: %w", r.id, e.Key, err)
		}
		d[e.Key] = s.Join()
		return nil
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}

// Delta is one record's encoded state sent during anti-entropy.
type Delta struct {
	Key  string
	Data []byte
}

// Missing returns the records the owner of remote lacks: every key it does
// not have, and every record whose context remote does not descend from.
func (r *Replica[T]) Missing(ctx context.Context, remote Digest) ([]Delta, error) {
	var out []Delta
	err := scanAll(ctx, r.store, func(e Entry) error {
		s, err := decodeState(e.Value, r.codec, r.limits, r.fields)
		if err != nil {
			return fmt.Errorf("replica %v: stored record %q: %w", r.id, e.Key, err)
		}
		if theirs, ok := remote[e.Key]; !ok || !theirs.Descends(s.Join()) {
			out = append(out, Delta{Key: e.Key, Data: e.Value})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ApplyDeltas applies what another replica's Missing returned.
func (r *Replica[T]) ApplyDeltas(ctx context.Context, deltas []Delta) error {
	for _, d := range deltas {
		if _, err := r.Apply(ctx, d.Key, d.Data); err != nil {
			return err
		}
	}
	return nil
}

// AntiEntropy brings a and b to the same state for every key: each sends its
// digest, receives only the records it lacks, and applies them.
func AntiEntropy[T any](ctx context.Context, a, b *Replica[T]) error {
	da, err := a.Digest(ctx)
	if err != nil {
		return err
	}
	db, err := b.Digest(ctx)
	if err != nil {
		return err
	}
	toA, err := b.Missing(ctx, da)
	if err != nil {
		return err
	}
	toB, err := a.Missing(ctx, db)
	if err != nil {
		return err
	}
	if err := a.ApplyDeltas(ctx, toA); err != nil {
		return err
	}
	return b.ApplyDeltas(ctx, toB)
}
