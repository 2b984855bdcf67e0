package sim

import (
	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

// This file gives the external tests (package sim_test, which may import
// hold/holdsim) the mutant hooks. It is compiled only into sim's own tests,
// so no caller of Run can reach them.

// Node is what a mutant sees of one simulated replica.
type Node[T any] struct {
	ID    version.ID
	Store *replica.MemoryStore
	Rep   *replica.Replica[T]
	HLC   *version.HLC
	// NewResolver is the workload's resolver constructor.
	NewResolver func() *resolve.Resolver[T]
}

// Hooks replace parts of the simulated system with broken variants; nil
// fields leave the system as it is.
type Hooks[T any] struct {
	// Resolver builds replica i's resolver instead of Workload.NewResolver.
	Resolver func(i int) *resolve.Resolver[T]
	// Apply merges replicated bytes into a replica instead of Replica.Apply.
	Apply func(n Node[T], key string, data []byte) error
	// Skip drops a key from anti-entropy.
	Skip func(key string) bool
	// Update makes a conditional write instead of Replica.Update.
	Update func(n Node[T], key, token string, fn func(*T, replica.Write) error) (replica.Record[T], error)
	// RestartID names a replica that restarts without its state, instead
	// of ID.Next.
	RestartID func(old version.ID) (version.ID, error)
	// Mute ignores the violations of some checks.
	Mute func(Check) bool
	// Store wraps replica i's store.
	Store func(i int, s replica.Store) replica.Store
	// Conflicts rewrites the review queue a client reads.
	Conflicts func(items []replica.ReviewItem[T]) []replica.ReviewItem[T]
}

func (n *node[T]) view() Node[T] {
	return Node[T]{ID: n.id, Store: n.store, Rep: n.rep, HLC: n.hlc, NewResolver: n.h.w.NewResolver}
}

// SetHooks wires the non-nil hooks of h into w.
func SetHooks[T any](w *Workload[T], h Hooks[T]) {
	if h.Resolver != nil {
		w.hooks.resolver = h.Resolver
	}
	if h.Apply != nil {
		w.hooks.apply = func(_ *history[T], n *node[T], key string, data []byte) error { return h.Apply(n.view(), key, data) }
	}
	if h.Skip != nil {
		w.hooks.skip = h.Skip
	}
	if h.Update != nil {
		w.hooks.update = func(n *node[T], key, token string, fn func(*T, replica.Write) error) (replica.Record[T], error) {
			return h.Update(n.view(), key, token, fn)
		}
	}
	if h.RestartID != nil {
		w.hooks.restartID = h.RestartID
	}
	if h.Mute != nil {
		w.hooks.mute = h.Mute
	}
	if h.Store != nil {
		w.hooks.store = h.Store
	}
	if h.Conflicts != nil {
		w.hooks.conflicts = h.Conflicts
	}
}

// RaceEnabled is true under the race detector.
const RaceEnabled = raceEnabled
