package replica

import (
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

// reviewOversize queues a merge refused for size, with the merged branches
// and the context that covers them.
func (r *Replica[T]) reviewOversize(key string, merged resolve.Siblings[T], tl *TooLargeError) {
	seen := merged.Join()
	item := &ReviewItem[T]{
		Key: key, Entity: r.res.Entity(), Rule: RecordLimitRule, Reason: tl.Error(),
		Branches: merged.Values(), Context: seen, Token: seen.Token(),
	}
	if r.enqueue(item) {
		r.observe(resolve.Event{Kind: resolve.SentToReview, Entity: item.Entity, Field: RecordLimitRule, Policy: "rule", Siblings: merged.Len()})
	}
}

// enqueue puts item in the review queue in place of key's open item, if
// any, whose FirstSeen it keeps; a new item is first seen now. It reports
// whether the item is new, for the caller to send one SentToReview event.
func (r *Replica[T]) enqueue(item *ReviewItem[T]) (added bool) {
	item.FirstSeen = r.now() // Options.Now is the user's: not under the lock
	r.mu.Lock()
	defer r.mu.Unlock()
	old, had := r.review[item.Key]
	if had {
		item.FirstSeen = old.FirstSeen
	}
	r.review[item.Key] = item
	return !had
}

// oversizeItem returns the review item of a merge of key refused for size
// whose context is seen, if there is one.
func (r *Replica[T]) oversizeItem(key string, seen version.Vector) *ReviewItem[T] {
	r.mu.Lock()
	defer r.mu.Unlock()
	if it, ok := r.review[key]; ok && it.Rule == RecordLimitRule && it.Context.Equal(seen) {
		return it
	}
	return nil
}

// track updates the review queue for key from the outcome that was just
// stored: its conflict, if any, is open; otherwise any open conflict of key
// is settled. It resolves nothing: the outcome was resolved when planned.
func (r *Replica[T]) track(key string, o *resolve.Outcome[T]) {
	conflict := o.Conflict
	n := o.State.Len()
	if conflict == nil {
		r.untrack(key, n)
		return
	}
	item := &ReviewItem[T]{
		Key: key, Entity: conflict.Entity, Field: conflict.Field, Rule: conflict.Rule, Reason: conflict.Reason,
		Branches: o.State.Values(), Context: conflict.Context, Token: conflict.Context.Token(),
	}
	if r.enqueue(item) {
		r.observe(resolve.Event{Kind: resolve.SentToReview, Entity: conflict.Entity, Field: conflict.Field + conflict.Rule, Policy: conflict.Policy, Siblings: n})
	}
}

// untrack settles any open conflict of key, whose new state of n siblings
// was just stored without one.
func (r *Replica[T]) untrack(key string, n int) {
	r.mu.Lock()
	old, had := r.review[key]
	if had {
		delete(r.review, key)
	}
	r.mu.Unlock()
	if had {
		r.observe(resolve.Event{Kind: resolve.Reviewed, Entity: r.res.Entity(), Field: old.Field + old.Rule, Siblings: n})
	}
}

// Conflicts returns the review queue: every open conflict this replica
// knows of, oldest first.
func (r *Replica[T]) Conflicts() []ReviewItem[T] {
	r.mu.Lock()
	items := make([]ReviewItem[T], 0, len(r.review))
	for _, it := range r.review {
		items = append(items, *it)
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
