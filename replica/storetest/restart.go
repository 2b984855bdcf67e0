package storetest

import (
	"time"

	"github.com/harborpoint/concord/hold"
	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

// checkRestart checks, when Options.Reopen is set and the store is both a
// replica.FloorStore and a replica.HorizonStore (any other store passes),
// that what a replica keeps to reap a tombstone outlives a restart. A
// replica over the store creates a hold, copies it to a peer, keeps a copy
// from before the delete, deletes it, and both reap the tombstone; then a
// new Replica value with the same ID runs over the reopened store. The late
// copy is refused as stale and leaves no record (the store kept the key's
// horizon, and that horizon is no record), the counter floor counts the
// create and the delete, and a re-creation is numbered above it, drops the
// horizon and supersedes the delete at the peer.
func checkRestart(c *checker) {
	if c.opts.Reopen == nil || !reaping(c.s) {
		return
	}
	lisbon, baltimore := version.MustID("lisbon"), version.MustID("baltimore")
	newReplica := func(id version.ID, s replica.Store) *replica.Replica[hold.Hold] {
		r, err := replica.New(id, s, hold.Resolver(resolve.Options{}), replica.Options[hold.Hold]{
			CommandKeys: hold.CommandKeys, Members: []version.ID{lisbon, baltimore}})
		if err != nil {
			c.fatalf("replica.New(%v): %v", id, err)
		}
		return r
	}
	lis, iad := newReplica(lisbon, c.s), newReplica(baltimore, replica.NewMemoryStore())
	late := c.reapOnBoth(lis, iad)

	s, err := c.opts.Reopen(c.s)
	if err != nil || s == nil || !reaping(s) {
		c.fatalf("Reopen = %T, %v; want a FloorStore and HorizonStore as newStore's", s, err)
	}
	lis = newReplica(lisbon, s)
	c.refuseLateCopy(lis, s, late)
	if f, err := lis.CounterFloor(c.ctx); err != nil || f != 2 {
		c.errorf("counter floor after the restart = %d, %v; want 2 (the create and the delete)", f, err)
	}
	created, err := lis.Create(c.ctx, "H-1", hold.New("H-1", "C2", "desk", expires))
	c.must("re-create H-1 after the restart", err)
	if n := created.Context.Get(lisbon); n != 3 {
		c.errorf("the re-creation is lisbon's write %d, want 3: above the floor", n)
	}
	if got := c.horizons(s.(replica.HorizonStore), 10); len(got) != 0 {
		c.errorf("horizons after the re-creation = %v, want none", got)
	}
	c.must("anti-entropy after the re-creation", replica.AntiEntropy(c.ctx, lis, iad))
	got, err := iad.Get(c.ctx, "H-1")
	if err != nil || got.Conflict != nil || got.Value.Cabin != "C2" {
		c.errorf("baltimore holds %+v, %v; want the re-created hold in C2", got, err)
	}
}

// expires is when the holds of checkRestart expire.
var expires = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

// reaping reports whether s keeps a counter floor and horizons.
func reaping(s replica.Store) bool {
	_, floor := s.(replica.FloorStore)
	_, horizons := s.(replica.HorizonStore)
	return floor && horizons
}

// reapOnBoth creates H-1 at lis, copies it to iad, deletes it, and has
// both reap its tombstone; it returns the record as exported before the
// delete.
func (c *checker) reapOnBoth(lis, iad *replica.Replica[hold.Hold]) []byte {
	rec, err := lis.Create(c.ctx, "H-1", hold.New("H-1", "C1", "desk", expires))
	c.must("create H-1", err)
	c.must("anti-entropy after the create", replica.AntiEntropy(c.ctx, lis, iad))
	late, err := lis.Export(c.ctx, "H-1")
	c.must("export H-1", err)
	_, err = lis.Delete(c.ctx, "H-1", rec.Token)
	c.must("delete H-1", err)
	c.must("anti-entropy after the delete", replica.AntiEntropy(c.ctx, lis, iad))
	for _, r := range []*replica.Replica[hold.Hold]{lis, iad} {
		if n, err := r.Reap(c.ctx); err != nil || n != 1 {
			c.fatalf("%v reaped %d, %v; want 1", r.ID(), n, err)
		}
	}
	return late
}

// refuseLateCopy applies late at lis, a replica just restarted over s: it
// must be refused as stale and leave s without a record, the reaped key
// still listed.
func (c *checker) refuseLateCopy(lis *replica.Replica[hold.Hold], s replica.Store, late []byte) {
	class, err := lis.Apply(c.ctx, "H-1", late)
	if err != nil || class != resolve.StaleWrite {
		c.errorf("the late copy applied as %v, %v; want stale", class, err)
	}
	if _, rev, err := s.Get(c.ctx, "H-1"); err != nil || rev != 0 {
		c.errorf("H-1 is stored at revision %d (%v): the late copy resurrected it", rev, err)
	}
	if page, err := s.Scan(c.ctx, "", 10); err != nil || len(page) != 0 {
		c.errorf("records after the late copy: %v, %v; want none (the floor and the horizon are no records)", keysOf(page), err)
	}
	if got := lis.Reaped(); len(got) != 1 || got[0] != "H-1" {
		c.errorf("Reaped after the restart = %v, want [H-1]", got)
	}
}

// must stops the check if err is not nil.
func (c *checker) must(what string, err error) {
	if err != nil {
		c.fatalf("%s: %v", what, err)
	}
}
