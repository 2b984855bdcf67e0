package replica_test

import (
	"errors"
	"testing"

	"pgregory.net/rapid"

	"github.com/harborpoint/concord/internal/dotmodel"
	"github.com/harborpoint/concord/policy"
	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

type note struct{ Text string }

func noteResolver(on resolve.OnDelete) *resolve.Resolver[note] {
	r, err := resolve.New("note", []resolve.Field[note]{
		resolve.Bind("text", func(n *note) *string { return &n.Text }, policy.LWW[string]()),
	}, nil, resolve.Options{OnDelete: on})
	if err != nil {
		panic(err)
	}
	return r
}

// TestDeletesAgainstTheModel: writes, deletes and re-creations at three
// replicas, with states delivered between them at random, keep each
// replica's siblings exactly the model's (internal/dotmodel: same dots, same
// tombstones), and what a reader sees is the model's state under the
// resolver's OnDelete: deleted when every sibling is a tombstone, a
// conflict of rule "delete" when tombstones and values are concurrent
// (DeleteConflicts), the value when UpdateWins.
func TestDeletesAgainstTheModel(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		on := rapid.SampledFrom([]resolve.OnDelete{resolve.DeleteConflicts, resolve.DeleteWins, resolve.UpdateWins}).Draw(rt, "on")
		res := noteResolver(on)
		ids := []version.ID{version.MustID("a"), version.MustID("b"), version.MustID("c")}
		rs := make([]*replica.Replica[note], len(ids))
		models := make([]dotmodel.Clock[dotmodel.Entry[note]], len(ids))
		for i, id := range ids {
			r, err := replica.New(id, replica.NewMemoryStore(), res, replica.Options[note]{})
			if err != nil {
				rt.Fatal(err)
			}
			rs[i] = r
		}
		for range rapid.IntRange(1, 40).Draw(rt, "steps") {
			i := rapid.IntRange(0, 2).Draw(rt, "at")
			r, m := rs[i], models[i]
			if rapid.IntRange(0, 2).Draw(rt, "kind") == 0 {
				j := rapid.IntRange(0, 2).Draw(rt, "to")
				if data, err := r.Export(bg, "k"); err == nil {
					if _, err := rs[j].Apply(bg, "k", data); err != nil {
						rt.Fatalf("Apply: %v", err)
					}
					models[j] = models[j].Sync(m)
				}
			} else {
				del := rapid.Bool().Draw(rt, "delete")
				text := rapid.SampledFrom([]string{"x", "y"}).Draw(rt, "text")
				modelWrite(rt, r, "k", del, text)
				// A delete of an absent key fails, and a retried delete of
				// one tombstone writes nothing.
				st := dotmodel.State(m)
				if !(del && (st == dotmodel.Absent || st == dotmodel.Deleted && len(m.Siblings) == 1)) {
					models[i], _ = m.Update(m.Join(), dotmodel.Entry[note]{Value: note{text}, Deleted: del}, ids[i])
				}
			}
			for k := range rs {
				checkAgainstModel(rt, rs[k], models[k], on)
			}
		}
	})
}

// modelWrite deletes or writes k at r with the current token, as the
// model's Update with the replica's whole history does.
func modelWrite(rt *rapid.T, r *replica.Replica[note], k string, del bool, text string) {
	rec, err := r.Get(bg, k)
	var d *replica.Deleted
	switch {
	case errors.As(err, &d):
		rec.Token = d.Token
	case errors.Is(err, replica.ErrNotFound):
		if del {
			return
		}
		_, err = r.Create(bg, k, note{text})
		if err != nil {
			rt.Fatalf("Create: %v", err)
		}
		return
	case err != nil:
		rt.Fatalf("Get: %v", err)
	}
	if del {
		_, err = r.Delete(bg, k, rec.Token)
	} else {
		_, err = r.ResolveConflict(bg, k, rec.Token, note{text})
	}
	if err != nil {
		rt.Fatalf("write: %v", err)
	}
}

func checkAgainstModel(rt *rapid.T, r *replica.Replica[note], m dotmodel.Clock[dotmodel.Entry[note]], on resolve.OnDelete) {
	s, err := r.State(bg, "k")
	if err != nil {
		rt.Fatal(err)
	}
	if s.Len() != len(m.Siblings) {
		rt.Fatalf("%v: %d siblings, the model %d", r.ID(), s.Len(), len(m.Siblings))
	}
	for b := range s.Siblings() {
		ms, ok := m.Siblings[b.Dot]
		if !ok || ms.Value.Deleted != b.Value.Deleted {
			rt.Fatalf("%v: sibling %v (deleted %v) is not the model's", r.ID(), b.Dot, b.Value.Deleted)
		}
	}
	rec, err := r.Get(bg, "k")
	state := dotmodel.State(m)
	if state == dotmodel.Mixed {
		switch on {
		case resolve.DeleteWins:
			state = dotmodel.Deleted
		case resolve.UpdateWins:
			state = dotmodel.Live
		}
	}
	switch state {
	case dotmodel.Absent:
		if !errors.Is(err, replica.ErrNotFound) || errors.Is(err, replica.ErrDeleted) {
			rt.Fatalf("%v: absent key reads %v", r.ID(), err)
		}
	case dotmodel.Deleted:
		if !errors.Is(err, replica.ErrDeleted) {
			rt.Fatalf("%v: deleted key reads %v", r.ID(), err)
		}
	case dotmodel.Live:
		if err != nil || rec.Conflict != nil || rec.Deleted {
			rt.Fatalf("%v: live key reads %+v, %v", r.ID(), rec, err)
		}
	case dotmodel.Mixed:
		if err != nil || rec.Conflict == nil || rec.Conflict.Rule != resolve.DeleteRule {
			rt.Fatalf("%v: delete concurrent with a write reads %+v, %v", r.ID(), rec, err)
		}
	}
}
