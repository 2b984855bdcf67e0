package replica

import (
	"context"
	"errors"
	"fmt"

	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

// Every write style below is a small plan (see commit): it checks its
// preconditions against the current state, builds the new value from the
// record it read and hands it to the resolver as a write whose context
// covers that state. Each returns the record as stored.

// Create stores v as a new record. It fails with ErrExists if this replica
// already holds a record under key, and with a [*Deleted] if it holds the
// record's tombstone: re-creating a deleted record is a write over the
// delete, made on purpose with its token ([Replica.Update]). Two replicas
// may still create the same key concurrently; their records meet as
// siblings like any concurrent writes.
func (r *Replica[T]) Create(ctx context.Context, key string, v T) (Record[T], error) {
	return r.write(ctx, key, func(cur resolve.Siblings[T]) (resolve.Outcome[T], error) {
		if h, reaped := r.horizon(key); reaped && cur.Len() > 0 && cur.Equal(h) {
			// The key's tombstone was reaped: the key is free, and the new
			// record supersedes the delete.
			return r.change(cur, cur.Join(), nil, func(Write) (T, error) { return v, nil })
		}
		if cur.Len() > 0 {
			if rec := r.read(key, cur); rec.Deleted {
				return resolve.Outcome[T]{}, deleted(rec)
			}
			return resolve.Outcome[T]{}, wrapf(ErrExists, "replica: %q", key)
		}
		return r.change(cur, version.Vector{}, nil, func(Write) (T, error) { return v, nil })
	})
}

// parseToken decodes a client's token; "" means none was sent.
func (r *Replica[T]) parseToken(token string) (version.Vector, error) {
	if token == "" {
		return version.Vector{}, ErrPreconditionRequired
	}
	return version.ParseToken(token, r.limits)
}

// Update is a conditional write: fn changes the current value, and the write
// happens only if token is the record's current token (the ETag the client
// read). A missing token fails with ErrPreconditionRequired, a malformed one
// with a [*version.DecodeError] (matching version.ErrMalformedToken), and a
// stale one with a [*PreconditionFailed] naming the
// record's current version so the client can look again. A record with an open
// conflict returns its [*resolve.ConflictRequiresRetry]; settle it with
// [Replica.ResolveConflict]. An error from fn is returned as is and nothing
// is written.
//
// fn runs once per compare-and-set attempt, on a fresh copy of the current
// value: when another process changes the record meanwhile, it runs again
// (and then the token no longer matches, so the write is refused). It must
// only change the value it is given.
//
// Fields fn leaves equal keep the stamps of the writes that last changed
// them; the fields it changes take this write's stamp (see resolve.Branch).
// Use Update for state whose merge is not automatic or must not be guessed,
// such as a hold's lifecycle. It returns the record as stored.
//
// Update with the token of a deleted record (the one a [*Deleted] error
// carries) re-creates it: fn runs on the zero T, every field is new, and the
// write supersedes the delete.
func (r *Replica[T]) Update(ctx context.Context, key, token string, fn func(v *T, w Write) error) (Record[T], error) {
	return r.writeIf(ctx, key, token, func(cur resolve.Siblings[T], want version.Vector) (resolve.Outcome[T], error) {
		base, err := r.res.Resolve(cur)
		if err != nil {
			return resolve.Outcome[T]{}, r.conflictErr(key, err)
		}
		from := &base.Branch
		if base.Deleted {
			from = nil // a re-creation: every field is new
		}
		return r.change(cur, want, from, func(w Write) (T, error) {
			v := base.Value
			err := fn(&v, w)
			return v, err
		})
	})
}

// writeIf writes key as plan says, provided token is the key's current
// one (see precondition): the conditional write path of Update and Delete.
func (r *Replica[T]) writeIf(ctx context.Context, key, token string, plan func(cur resolve.Siblings[T], want version.Vector) (resolve.Outcome[T], error)) (Record[T], error) {
	want, err := r.parseToken(token)
	if err != nil {
		return Record[T]{}, wrapf(err, "replica: %q", key)
	}
	return r.write(ctx, key, func(cur resolve.Siblings[T]) (resolve.Outcome[T], error) {
		if err := r.precondition(key, token, want, cur); err != nil {
			return resolve.Outcome[T]{}, err
		}
		return plan(cur, want)
	})
}

// precondition checks a token against the current state.
func (r *Replica[T]) precondition(key, token string, want version.Vector, cur resolve.Siblings[T]) error {
	if cur.Len() == 0 {
		return wrapf(ErrNotFound, "replica: %q", key)
	}
	if !cur.Join().Equal(want) {
		pf := &PreconditionFailed{Key: key, Given: token, Context: cur.Join()}
		pf.Current = pf.Context.Token()
		for b := range cur.Siblings() {
			pf.Stamps = append(pf.Stamps, b.Value.Stamp)
		}
		return pf
	}
	return nil
}

// ResolveConflict settles an open conflict (or any record) by writing v with
// the token the caller read, which must be current: a write whose context
// covers every branch replaces them all. It is how a client retries after
// [resolve.ConflictRequiresRetry] and how an operator clears the review
// queue. When the replica has Options.CommandKeys, the idempotency keys of
// every replaced branch are added to v's, so that a command applied on a
// branch the caller discarded is not applied again when retried.
//
// A field every replaced branch holds a value equal to v's keeps its stamp;
// the others take this write's ([resolve.Resolver.Agreement]), even where v
// keeps one branch's value, and whether or not the branches would merge.
// The replaced branches of a review item of rule [RecordLimitRule] are all
// its Branches, the ones this replica never stored included. It returns the
// record as stored.
func (r *Replica[T]) ResolveConflict(ctx context.Context, key, token string, v T) (Record[T], error) {
	want, err := r.parseToken(token)
	if err != nil {
		return Record[T]{}, wrapf(err, "replica: %q", key)
	}
	return r.write(ctx, key, func(cur resolve.Siblings[T]) (resolve.Outcome[T], error) {
		replaced := cur.Values()
		if it := r.oversizeItem(key, want); it != nil && cur.Len() > 0 && want.Descends(cur.Join()) {
			// A merge refused for size: the token covers the local
			// branches and the replicated ones this replica never stored.
			replaced = it.Branches
		} else if err := r.precondition(key, token, want, cur); err != nil {
			return resolve.Outcome[T]{}, err
		}
		// The base is what every replaced branch agrees on, the queue's
		// included (a merge refused for size left them unstored here): a
		// field the settlement keeps from one branch is its change where
		// another branch held something else.
		return r.change(cur, want, r.res.Agreement(replaced), func(Write) (T, error) { return r.keepCommandKeys(v, replaced), nil })
	})
}

// Blind overwrites one field without a token: the field named field takes
// its value in src, and every other field keeps the current value (and its
// stamp). Blind writes are last-writer-wins by construction — a concurrent
// blind write of the same field in another region is settled by stamp order
// and one of the two is discarded — so they are allowed only for fields
// whose policy says it is replaceable ([policy.Replaceable], as policy.LWW
// and a user's own last-writer-wins policy do); any other field fails with
// ErrNotBlindWritable. A record with an open conflict returns the conflict.
// It returns the record as stored.
func (r *Replica[T]) Blind(ctx context.Context, key, field string, src T) (Record[T], error) {
	f, ok := r.res.Field(field)
	if !ok || !f.Replaceable() {
		why := "is not bound"
		if ok {
			why = fmt.Sprintf("has policy %s, which is not replaceable", f.Policy())
		}
		return Record[T]{}, fmt.Errorf("%w: %s.%s %s", ErrNotBlindWritable, r.res.Entity(), field, why)
	}
	return r.write(ctx, key, func(cur resolve.Siblings[T]) (resolve.Outcome[T], error) {
		if cur.Len() == 0 {
			return resolve.Outcome[T]{}, wrapf(ErrNotFound, "replica: %q", key)
		}
		base, err := r.resolveForWrite(key, cur)
		if err != nil {
			return resolve.Outcome[T]{}, err
		}
		return r.change(cur, base.Version, &base.Branch, func(Write) (T, error) {
			v := base.Value
			f.Copy(&v, &src)
			return v, nil
		})
	})
}

// Command runs a merge-aware command: fn changes the current value, with no
// token, because the record's policies merge concurrent runs of it (two
// extends of one hold keep the later expiry). The command is deduplicated by
// idemKey: the key is added to the record's command keys (Options.CommandKeys),
// which replicate with it, and a retry with a key already applied changes
// nothing and returns replayed = true with the first result when this replica
// still remembers it, or the current record otherwise.
//
// fn runs once per compare-and-set attempt, on a fresh copy of the current
// value, and must only change the value it is given. An error from fn is
// returned as is and nothing is written; the key is not recorded, so the
// command may be retried. It returns the record as stored.
func (r *Replica[T]) Command(ctx context.Context, key, idemKey string, fn func(v *T, w Write) error) (rec Record[T], replayed bool, err error) {
	if idemKey == "" {
		return Record[T]{}, false, ErrIdempotencyKeyRequired
	}
	if r.cmdKeys == nil {
		return Record[T]{}, false, ErrNoCommandKeys
	}
	if err := r.catchUp(ctx, key); err != nil {
		return Record[T]{}, false, err
	}
	rk := resultKey{key, idemKey}
	var recErr error
	_, err = r.commit(ctx, key, func(cur resolve.Siblings[T]) (resolve.Outcome[T], error) {
		replayed = false
		if cur.Len() == 0 {
			return resolve.Outcome[T]{}, wrapf(ErrNotFound, "replica: %q", key)
		}
		base, err := r.resolveForWrite(key, cur)
		if err != nil {
			return resolve.Outcome[T]{}, err
		}
		if r.cmdKeys(&base.Value).Has(idemKey) {
			replayed = true
			return resolve.Outcome[T]{State: cur, Resolution: &base}, nil
		}
		return r.change(cur, base.Version, &base.Branch, func(w Write) (T, error) {
			v := base.Value
			if err := fn(&v, w); err != nil {
				return v, err
			}
			keys := r.cmdKeys(&v)
			*keys = keys.Add(idemKey, w.Time)
			return v, nil
		})
	}, func(c *committed[T]) {
		// Still holding the key: a concurrent retry waits for this, so it
		// finds the first result remembered.
		if replayed {
			if first, ok := r.result(rk); ok {
				rec = first
				return
			}
		}
		rec, recErr = r.stored(key, c)
		if recErr == nil && !replayed {
			r.remember(rk, rec, len(c.data))
		}
	})
	if err = errors.Join(err, recErr); err != nil {
		return Record[T]{}, false, err
	}
	return rec, replayed, nil
}

// write commits a plan that makes one local write and returns the record
// as stored.
func (r *Replica[T]) write(ctx context.Context, key string, p plan[T]) (Record[T], error) {
	var (
		rec Record[T]
		err error
	)
	if err := r.catchUp(ctx, key); err != nil {
		return Record[T]{}, err
	}
	_, cerr := r.commit(ctx, key, p, func(c *committed[T]) { rec, err = r.stored(key, c) })
	if cerr != nil {
		return Record[T]{}, cerr
	}
	return rec, err
}

// change plans a client write of the value built by build, made with
// context seen, stamped now. base is the record the value is built from
// (nil: the record the siblings seen covers resolve to).
func (r *Replica[T]) change(cur resolve.Siblings[T], seen version.Vector, base *resolve.Branch[T], build func(w Write) (T, error)) (resolve.Outcome[T], error) {
	ts := r.hlc.Now()
	var buildErr error
	// Numbered above the floor: this replica's writes of the key up to it
	// may have been issued before the key was reaped (see FloorStore).
	o, err := r.res.Write(cur, resolve.Change[T]{Context: r.aboveFloor(seen), Base: base, Replica: r.id, Time: ts, Value: func(d version.Dot) T {
		v, err := build(Write{Replica: r.id, Dot: d, Time: ts, Context: seen})
		buildErr = err
		return v
	}})
	if err == nil {
		err = buildErr
	}
	return o, err
}

// resolveForWrite resolves the current state for a write built on it; an
// open conflict is returned as its [*resolve.ConflictRequiresRetry] with the
// key filled in, and a deleted record as a [*Deleted].
func (r *Replica[T]) resolveForWrite(key string, cur resolve.Siblings[T]) (resolve.Resolution[T], error) {
	base, err := r.res.Resolve(cur)
	if err != nil {
		return base, r.conflictErr(key, err)
	}
	if base.Deleted {
		return base, deleted(r.record(key, cur, &base, nil))
	}
	return base, nil
}

// conflictErr fills in the key of a conflict error.
func (r *Replica[T]) conflictErr(key string, err error) error {
	var conflict *resolve.ConflictRequiresRetry
	if errors.As(err, &conflict) {
		conflict.Key = key
	}
	return err
}

// keepCommandKeys returns v with the idempotency keys of every branch it
// replaces added: a write that settles a conflict decides the record's
// value, but the commands applied on the branches it replaces were applied,
// and a retry of one must not apply it again.
func (r *Replica[T]) keepCommandKeys(v T, replaced []resolve.Branch[T]) T {
	if r.cmdKeys == nil {
		return v
	}
	keys := r.cmdKeys(&v)
	for _, b := range replaced {
		bv := b.Value
		*keys = keys.Union(*r.cmdKeys(&bv))
	}
	return v
}

func (r *Replica[T]) result(k resultKey) (Record[T], bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.results.get(k)
}

func (r *Replica[T]) remember(k resultKey, rec Record[T], size int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.results.put(k, rec, size)
}
