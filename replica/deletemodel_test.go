package replica_test

import (
	"errors"
	"testing"

	"pgregory.net/rapid"

	"github.com/harborpoint/concord/hold"
	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/resolve"
)

// TestDeletesConvergeInAnyDeliveryOrder: three replicas create, update,
// delete, re-create and settle one record while exchanging states at
// random; every state any of them ever held, delivered to fresh replicas in
// any order with repeats, leaves them identical — for each OnDelete.
func TestDeletesConvergeInAnyDeliveryOrder(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		on := rapid.SampledFrom([]resolve.OnDelete{resolve.DeleteConflicts, resolve.DeleteWins, resolve.UpdateWins}).Draw(rt, "on")
		c := deleteCluster(t, on, "lisbon", "baltimore", "sydney")
		var sent [][]byte
		steps := rapid.IntRange(1, 25).Draw(rt, "steps")
		for range steps {
			i := rapid.IntRange(0, 2).Draw(rt, "replica")
			r := c.rs[i]
			deleteOp(rt, r, rapid.IntRange(0, 4).Draw(rt, "op"))
			if data, err := r.Export(bg, "H-1"); err == nil {
				sent = append(sent, data)
			}
			if rapid.Bool().Draw(rt, "sync") {
				j := rapid.IntRange(0, 2).Draw(rt, "to")
				if data, err := r.Export(bg, "H-1"); err == nil {
					if _, err := c.rs[j].Apply(bg, "H-1", data); err != nil {
						rt.Fatalf("Apply: %v", err)
					}
				}
			}
		}
		var views []view
		for range 2 {
			fresh := deleteCluster(t, on, "oslo")
			order := rapid.Permutation(append(append([][]byte{}, sent...), sent...)).Draw(rt, "order")
			for _, data := range order {
				if _, err := fresh.rs[0].Apply(bg, "H-1", data); err != nil {
					rt.Fatalf("Apply: %v", err)
				}
			}
			views = append(views, viewOf(rt, fresh.rs[0], "H-1"))
		}
		if views[0] != views[1] {
			rt.Fatalf("delivery order changed the record:\n%+v\n%+v", views[0], views[1])
		}
	})
}

// deleteOp runs one client operation on r's H-1 with the token it reads.
func deleteOp(rt *rapid.T, r *replica.Replica[hold.Hold], op int) {
	rec, err := r.Get(bg, "H-1")
	var del *replica.Deleted
	switch {
	case errors.As(err, &del):
		if op%2 == 0 { // re-create on purpose from the delete's token
			_, err = r.Update(bg, "H-1", del.Token, func(h *hold.Hold, _ replica.Write) error {
				*h = hold.New("H-1", "C2", "desk", minutes(10+op))
				return nil
			})
		} else {
			_, err = r.Delete(bg, "H-1", del.Token)
		}
	case errors.Is(err, replica.ErrNotFound):
		_, err = r.Create(bg, "H-1", hold.New("H-1", "C1", "desk", minutes(10)))
	case err != nil:
	case op == 0 || op == 1:
		_, err = r.Delete(bg, "H-1", rec.Token)
	case rec.Conflict != nil:
		_, err = r.Delete(bg, "H-1", rec.Token)
	case op == 2:
		_, err = r.Update(bg, "H-1", rec.Token, func(h *hold.Hold, _ replica.Write) error { return h.Extend(minutes(20 + op)) })
	default:
		_, err = r.Blind(bg, "H-1", "note", hold.NoteEdit(string(rune('a'+op))))
	}
	if err != nil && !errors.Is(err, replica.ErrExists) && !errors.As(err, new(*hold.TransitionError)) {
		rt.Fatalf("op %d: %v", op, err)
	}
}
