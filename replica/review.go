package replica

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

// ReviewItem is an open conflict in the review queue: concurrent branches
// of one record that no policy may merge, waiting for a client retry or an
// operator.
type ReviewItem[T any] struct {
	Key    string
	Entity string
	// Field or Rule says what refused the merge; Reason says why.
	Field, Rule, Reason string
	// Branches are the conflicting branches; each Stamp.Dot names its write.
	Branches []resolve.Branch[T]
	// Context covers every branch; Token is its text form. A write made
	// with it (Replica.ResolveConflict) settles the conflict.
	Context version.Vector
	Token   string
	// FirstSeen is when this replica first saw the conflict.
	FirstSeen time.Time
}

// RecordLimitRule is the Rule of a [ReviewItem] for a merge refused because
// the merged record would exceed the record limit: its Branches are the
// local and the replicated ones, and a write with its Token
// ([Replica.ResolveConflict]) replaces them all with one value, although
// this replica never stored the replicated branches.
const RecordLimitRule = "record-limit"

// queued is a review item with what the replica needs to keep it current
// (see refresh): the context of the stored state it was made from and, for
// a merge refused for size, the refused merge itself.
type queued[T any] struct {
	ReviewItem[T]
	basis  version.Vector      // the context of the stored state the item describes
	merged resolve.Siblings[T] // RecordLimitRule: the stored state merged with the replicated one
	sent   resolve.Event       // the SentToReview event of the item
}

// observed is a state of a key as the store holds it (just read or just
// stored), with its conflict when the caller resolved it.
type observed[T any] struct {
	state    resolve.Siblings[T]
	join     version.Vector // state.Join()
	resolved bool           // conflict is known
	conflict *resolve.ConflictRequiresRetry
}

// reviewOversize queues a merge refused for size: merged is the merge of
// cur, the stored state, with a replicated one.
func (r *Replica[T]) reviewOversize(key string, cur, merged resolve.Siblings[T], tl *TooLargeError) {
	o := &observed[T]{state: cur, join: cur.Join()}
	next := r.oversize(key, merged, tl)
	for range 4 { // another refresh of key changed the item meanwhile: once more
		if r.requeue(key, o, r.peek(key), next) {
			return
		}
	}
}

// oversize returns the review item of merged, a merge refused for size.
func (r *Replica[T]) oversize(key string, merged resolve.Siblings[T], tl *TooLargeError) *queued[T] {
	seen := merged.Join()
	q := &queued[T]{ReviewItem: ReviewItem[T]{
		Key: key, Entity: r.res.Entity(), Rule: RecordLimitRule, Reason: tl.Error(),
		Branches: merged.Values(), Context: seen, Token: seen.Token(),
	}, merged: merged}
	q.sent = resolve.Event{Kind: resolve.SentToReview, Entity: q.Entity, Field: RecordLimitRule, Policy: "rule", Siblings: merged.Len()}
	return q
}

// conflictItem returns the review item of s, a stored state whose
// branches conflict as c says.
func conflictItem[T any](key string, s resolve.Siblings[T], c *resolve.ConflictRequiresRetry) *queued[T] {
	q := &queued[T]{ReviewItem: ReviewItem[T]{
		Key: key, Entity: c.Entity, Field: c.Field, Rule: c.Rule, Reason: c.Reason,
		Branches: s.Values(), Context: c.Context, Token: c.Context.Token(),
	}}
	q.sent = resolve.Event{Kind: resolve.SentToReview, Entity: c.Entity, Field: c.Field + c.Rule, Policy: c.Policy, Siblings: s.Len()}
	return q
}

// oversizeItem returns the review item of a merge of key refused for size
// whose context is seen, if there is one.
func (r *Replica[T]) oversizeItem(key string, seen version.Vector) *queued[T] {
	r.mu.Lock()
	defer r.mu.Unlock()
	if it, ok := r.review[key]; ok && it.Rule == RecordLimitRule && it.Context.Equal(seen) {
		return it
	}
	return nil
}

// peek returns key's review item, nil if none.
func (r *Replica[T]) peek(key string) *queued[T] {
	if r.nReview.Load() == 0 { // the common case, without the lock
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.review[key]
}

// track updates the review queue for key from the outcome of a state this
// replica just stored. It resolves nothing: the outcome was resolved when
// planned.
func (r *Replica[T]) track(key string, o *resolve.Outcome[T]) {
	r.refresh(key, &observed[T]{state: o.State, join: o.State.Join(), resolved: true, conflict: o.Conflict}, true)
}

// refresh brings key's review item up to date with o, a state of key the
// store holds — read by any path, or stored by this replica — so that the
// item always carries a token that settles what is stored: another
// writer sharing the store may have changed the record since the item was
// made, and only a read tells this replica. A conflict of o's state is
// queued, with its current branches and context; an item whose conflict
// the state no longer has is dropped; a merge refused for size stays
// queued, with the state's branches and context in it, for as long as the
// merge is still over the limit (see recheck).
//
// With queue unset, only a key already in the queue is looked at (the
// cheap path every read takes), and a conflict of o's state is not queued
// unless key was. An item is never made from a state older than the one
// it was made from (reads of one key may race).
func (r *Replica[T]) refresh(key string, o *observed[T], queue bool) {
	for range 4 { // another refresh of key changed the item meanwhile: once more
		old := r.peek(key)
		switch {
		case old == nil && (!queue || o.resolved && o.conflict == nil):
			return // nothing queued, nothing to queue
		case old != nil && o.join.Equal(old.basis):
			return // made from this very state
		}
		if r.requeue(key, o, old, r.recheck(key, o, old)) {
			return
		}
	}
}

// queueRead is refresh with queue set for o, a conflicted state read
// without key's lock. Unless key's item was made from o's very state, a
// write of this replica may have settled the conflict and dropped the item
// since o was read, and nothing remembers the state an item was dropped
// at: queueing o would bring the settled conflict back. So the item is
// made from the state read anew under key's lock, which this replica's
// writes of key hold. A read that cannot lock or read key again queues
// nothing: the next read will.
func (r *Replica[T]) queueRead(ctx context.Context, key string, o *observed[T]) {
	if it := r.peek(key); it != nil && o.join.Equal(it.basis) {
		return // a conflicted record read again: the common case, without the lock
	}
	lk, err := r.locks.lock(ctx, key)
	if err != nil {
		return
	}
	defer r.locks.unlock(key, lk)
	if s, _, err := r.load(ctx, key); err == nil {
		r.refresh(key, &observed[T]{state: s, join: s.Join()}, true)
	}
}

// refreshRaw is refresh for data, the stored state of a key just read
// without decoding its values (which it decodes only if the key is in the
// queue).
func (r *Replica[T]) refreshRaw(key string, data []byte) {
	if r.peek(key) == nil {
		return
	}
	if s, err := r.decode(key, data); err == nil {
		r.refresh(key, &observed[T]{state: s, join: s.Join()}, false)
	}
}

// recheck returns the review item of o's state: the merge refused for size
// that old records, while o's state merged with it is still over the
// limit, and otherwise the state's own conflict; nil if there is neither.
func (r *Replica[T]) recheck(key string, o *observed[T], old *queued[T]) *queued[T] {
	if old != nil && old.Rule == RecordLimitRule {
		if q := r.stillOversize(key, o.state, old.merged); q != nil {
			return q
		}
	}
	if !o.resolved {
		o.resolved = true
		if o.state.Len() > 1 { // a single branch never conflicts
			if _, err := r.res.Resolve(o.state); err != nil {
				errors.As(err, &o.conflict)
			}
		}
	}
	if o.conflict == nil {
		return nil
	}
	return conflictItem(key, o.state, o.conflict)
}

// stillOversize returns the review item of the merge of cur, a state the
// store holds, with merged, a merge refused for size: nil if cur covers
// merged (the store has it all: the conflict was settled or merged by
// another writer) or if their merge is now within the limits (the
// replicated branches will come again, and merge).
func (r *Replica[T]) stillOversize(key string, cur, merged resolve.Siblings[T]) *queued[T] {
	out := r.res.Apply(cur, merged)
	if out.Class == resolve.StaleWrite || out.Class == resolve.Duplicate {
		return nil
	}
	var tl *TooLargeError
	if _, _, _, err := r.encode(key, nil, out.State); !errors.As(err, &tl) {
		return nil
	}
	tl.Merge = true
	return r.oversize(key, out.State, tl)
}

// requeue puts next, made from o, in the review queue as key's item in
// place of old, or drops old when next is nil, and tells the observer of
// an item added or dropped. It reports false, changing nothing, when key's
// item is no longer old (another refresh got there first); and true,
// changing nothing, when o's state is older than the one the item was made
// from.
func (r *Replica[T]) requeue(key string, o *observed[T], old, next *queued[T]) bool {
	now := r.now() // Options.Now is the user's: not under the lock
	r.mu.Lock()
	cur := r.review[key]
	switch {
	case cur != old:
		r.mu.Unlock()
		return false
	case cur != nil && !o.join.Descends(cur.basis):
		r.mu.Unlock()
		return true
	}
	if next == nil {
		delete(r.review, key)
	} else {
		next.basis, next.FirstSeen = o.join, now
		if cur != nil {
			next.FirstSeen = cur.FirstSeen
		}
		r.review[key] = next
	}
	r.nReview.Store(int32(len(r.review)))
	r.mu.Unlock()
	switch {
	case cur == nil && next != nil:
		r.observe(next.sent)
	case cur != nil && next == nil:
		r.observe(resolve.Event{Kind: resolve.Reviewed, Entity: r.res.Entity(), Field: cur.Field + cur.Rule, Siblings: o.state.Len()})
	}
	return true
}

// drop settles key's review item, if any: the record is gone.
func (r *Replica[T]) drop(key string) {
	r.mu.Lock()
	old := r.review[key]
	delete(r.review, key)
	r.nReview.Store(int32(len(r.review)))
	r.mu.Unlock()
	if old != nil {
		r.observe(resolve.Event{Kind: resolve.Reviewed, Entity: r.res.Entity(), Field: old.Field + old.Rule})
	}
}

// Conflicts returns the review queue: every open conflict this replica
// knows of, oldest first. An item's token settles the conflict as this
// replica last read or wrote the record: when another process sharing the
// store has changed it since, [Replica.ResolveConflict] with the token
// fails with a [*PreconditionFailed], and the item is made anew from the
// record as stored — as it is by any read of the record ([Replica.Get]) —
// so the next call returns a token that settles it (or no item, if the
// conflict is gone).
func (r *Replica[T]) Conflicts() []ReviewItem[T] {
	r.mu.Lock()
	items := make([]ReviewItem[T], 0, len(r.review))
	for _, it := range r.review {
		items = append(items, it.ReviewItem)
	}
	r.mu.Unlock()
	slices.SortFunc(items, func(a, b ReviewItem[T]) int {
		if c := a.FirstSeen.Compare(b.FirstSeen); c != 0 {
			return c
		}
		return strings.Compare(a.Key, b.Key)
	})
	return items
}
