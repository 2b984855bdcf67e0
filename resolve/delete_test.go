package resolve_test

import (
	"errors"
	"testing"

	"github.com/harborpoint/concord/policy"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

type doc struct{ Text string }

func docResolver(t *testing.T, on resolve.OnDelete) *resolve.Resolver[doc] {
	t.Helper()
	r, err := resolve.New("doc", []resolve.Field[doc]{
		resolve.Bind("text", func(d *doc) *string { return &d.Text }, policy.LWW[string]()),
	}, nil, resolve.Options{OnDelete: on})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestOnDelete: a tombstone meeting a live branch resolves by the declared
// OnDelete, the same whichever branch arrives first; tombstones alone agree.
func TestOnDelete(t *testing.T) {
	a, b := version.MustID("a"), version.MustID("b")
	for _, on := range []resolve.OnDelete{resolve.DeleteConflicts, resolve.DeleteWins, resolve.UpdateWins} {
		r := docResolver(t, on)
		base, _ := r.Write(resolve.Siblings[doc]{}, resolve.Change[doc]{Replica: a, Time: version.Timestamp{Wall: 1},
			Value: func(version.Dot) doc { return doc{"v1"} }})
		ctx := base.State.Join()
		del, _ := r.Write(base.State, resolve.Change[doc]{Context: ctx, Replica: a, Time: version.Timestamp{Wall: 2}, Delete: true})
		upd, _ := r.Write(base.State, resolve.Change[doc]{Context: ctx, Replica: b, Time: version.Timestamp{Wall: 3},
			Value: func(version.Dot) doc { return doc{"v2"} }})
		x, y := r.Apply(del.State, upd.State), r.Apply(upd.State, del.State)
		if !x.State.Equal(y.State) {
			t.Fatalf("%v: order matters", on)
		}
		res, err := r.Resolve(x.State)
		switch on {
		case resolve.DeleteConflicts:
			var c *resolve.ConflictRequiresRetry
			if !errors.As(err, &c) || c.Rule != resolve.DeleteRule || len(c.Stamps) != 2 {
				t.Fatalf("conflict: got %v", err)
			}
		case resolve.DeleteWins:
			if err != nil || !res.Deleted || res.Decisions()[0].Policy != "delete-wins" {
				t.Fatalf("delete-wins: %+v %v", res, err)
			}
		case resolve.UpdateWins:
			if err != nil || res.Deleted || res.Value.Text != "v2" || res.Decisions()[len(res.Decisions())-1].Policy != "update-wins" {
				t.Fatalf("update-wins: %+v %v", res, err)
			}
		}
		del2, _ := r.Write(base.State, resolve.Change[doc]{Context: ctx, Replica: b, Time: version.Timestamp{Wall: 4}, Delete: true})
		both := r.Apply(del.State, del2.State)
		if both.Conflict != nil || both.Resolution == nil || !both.Resolution.Deleted {
			t.Fatalf("%v: concurrent deletes: %+v", on, both)
		}
		for range both.Events() {
			t.Fatalf("%v: concurrent deletes reported an event", on)
		}
	}
	if _, err := resolve.New[doc]("doc", nil, nil, resolve.Options{OnDelete: 9}); !errors.Is(err, resolve.ErrInvalidResolver) {
		t.Fatalf("unknown OnDelete accepted: %v", err)
	}
}
