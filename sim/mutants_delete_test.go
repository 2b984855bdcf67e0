package sim_test

import (
	"context"
	"errors"
	"time"

	"github.com/harborpoint/concord/hold"
	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/sim"
	"github.com/harborpoint/concord/version"
)

// deleteMutants break deletes, acknowledgements and reaping, each in one
// way the checks of issue 13 must catch.
func deleteMutants() []mutant {
	return []mutant{
		{"reap before every member acknowledged", sim.Resurrection, func(w *sim.Workload[hold.Hold]) {
			sim.SetDeleteHooks(w, sim.DeleteHooks[hold.Hold]{Ack: ackOwnDigestForAll})
		}},
		{"horizon not consulted when a late version arrives", sim.Resurrection, func(w *sim.Workload[hold.Hold]) {
			sim.SetHooks(w, sim.Hooks[hold.Hold]{Apply: applyPastHorizon})
		}},
		{"delete written with an empty context", sim.Resurrection, func(w *sim.Workload[hold.Hold]) {
			sim.SetDeleteHooks(w, sim.DeleteHooks[hold.Hold]{Delete: emptyContextDelete})
		}},
		{"update-wins ignoring the delete's context", sim.Resurrection, func(w *sim.Workload[hold.Hold]) {
			w.NewResolver = func() *resolve.Resolver[hold.Hold] {
				return hold.Resolver(resolve.Options{SkewWindow: time.Second, OnDelete: resolve.UpdateWins})
			}
			sim.SetDeleteHooks(w, sim.DeleteHooks[hold.Hold]{Delete: emptyContextDelete})
		}},
		{"delete concurrent with an update settled update-wins, declared a conflict", sim.Resurrection, func(w *sim.Workload[hold.Hold]) {
			sim.SetHooks(w, sim.Hooks[hold.Hold]{Resolver: func(int) *resolve.Resolver[hold.Hold] {
				return hold.Resolver(resolve.Options{SkewWindow: time.Second, OnDelete: resolve.UpdateWins})
			}})
		}},
		{"a stale delete is not refused", sim.NoLoss, func(w *sim.Workload[hold.Hold]) {
			sim.SetDeleteHooks(w, sim.DeleteHooks[hold.Hold]{Delete: currentTokenDelete})
		}},
		{"acknowledgements never sent", sim.Reaped, func(w *sim.Workload[hold.Hold]) {
			sim.SetDeleteHooks(w, sim.DeleteHooks[hold.Hold]{Ack: func(_, _ sim.Node[hold.Hold]) {}})
		}},
		{"a store whose delete frees nothing", sim.Storage, func(w *sim.Workload[hold.Hold]) {
			sim.SetHooks(w, sim.Hooks[hold.Hold]{Store: func(_ int, s replica.Store) replica.Store { return keepingStore{s} }})
		}},
	}
}

// ackOwnDigestForAll has a replica take its own digest for what every
// member holds: it reaps a tombstone as soon as it holds it, before the
// other members have it.
func ackOwnDigestForAll(_, to sim.Node[hold.Hold]) {
	d, err := to.Rep.Digest(context.Background())
	if err != nil {
		return
	}
	for _, m := range to.Rep.Members() {
		to.Rep.Ack(m, d)
	}
}

// applyPastHorizon stores a replicated state of a key the replica reaped
// as it comes, without merging it against the reaped horizon.
func applyPastHorizon(n sim.Node[hold.Hold], key string, data []byte) error {
	ctx := context.Background()
	if _, rev, err := n.Store.Get(ctx, key); err != nil || rev != 0 || !contains(n.Rep.Reaped(), key) {
		_, err := n.Rep.Apply(ctx, key, data)
		return err
	}
	if _, err := n.Store.CompareAndSet(ctx, key, data, 0); err != nil {
		return err
	}
	return n.Rep.Rescan(ctx)
}

func contains(keys []string, key string) bool {
	for _, k := range keys {
		if k == key {
			return true
		}
	}
	return false
}

// emptyContextDelete checks the token like Delete but writes the tombstone
// with an empty context: it supersedes nothing, so the writes the client
// deleted stay as siblings beside it.
func emptyContextDelete(n sim.Node[hold.Hold], key, token string) (replica.Record[hold.Hold], error) {
	ctx := context.Background()
	cur, err := n.Rep.Get(ctx, key)
	if err != nil || cur.Token != token {
		return n.Rep.Delete(ctx, key, token) // the real code refuses
	}
	st, err := n.Rep.State(ctx, key)
	if err != nil {
		return replica.Record[hold.Hold]{}, err
	}
	out, err := n.NewResolver().Write(st, resolve.Change[hold.Hold]{Context: version.Vector{}, Replica: n.ID, Time: n.HLC.Now(), Delete: true})
	if err != nil {
		return replica.Record[hold.Hold]{}, err
	}
	if err := storeState(n, key, out.State); err != nil {
		return replica.Record[hold.Hold]{}, err
	}
	rec, err := n.Rep.Get(ctx, key)
	if errors.Is(err, replica.ErrDeleted) {
		err = nil
	}
	return rec, err
}

// currentTokenDelete deletes with the record's current token instead of
// the client's: a client with a stale token deletes writes it never saw.
func currentTokenDelete(n sim.Node[hold.Hold], key, token string) (replica.Record[hold.Hold], error) {
	ctx := context.Background()
	if cur, err := n.Rep.Get(ctx, key); err == nil {
		token = cur.Token
	}
	return n.Rep.Delete(ctx, key, token)
}

// storeState stores state next of key at n in the replica's stored form
// (what a replica with another ID stores for it) and has n take it in.
func storeState(n sim.Node[hold.Hold], key string, next resolve.Siblings[hold.Hold]) error {
	ctx := context.Background()
	scratch, err := replica.New(version.MustID("encoder"), replica.NewMemoryStore(), n.NewResolver(), replica.Options[hold.Hold]{})
	if err != nil {
		return err
	}
	if _, err := scratch.ApplyState(ctx, key, next); err != nil {
		return err
	}
	data, err := scratch.Export(ctx, key)
	if err != nil {
		return err
	}
	_, rev, err := n.Store.Get(ctx, key)
	if err == nil {
		_, err = n.Store.CompareAndSet(ctx, key, data, rev)
	}
	if err == nil {
		err = n.Rep.Rescan(ctx)
	}
	return err
}

// keepingStore acknowledges every delete and keeps the record: a soft
// delete that frees no storage.
type keepingStore struct{ replica.Store }

func (keepingStore) Delete(context.Context, string, uint64) error { return nil }
