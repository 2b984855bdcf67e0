package bench

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/harborpoint/concord/internal/merge"
	"github.com/harborpoint/concord/internal/sixfield"
	"github.com/harborpoint/concord/policy"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
	grove "github.com/xraph/grove/crdt"
)

// The six-field record merge: concord's resolver beside grove's per-field
// merge engine and a merge written by hand for this one type.

// ticket is the six-field record. concord binds each field to the policy
// its meaning calls for; grove offers LWW, counter, OR-set, list and
// document types only, so its equivalent record is LWW everywhere but the
// tags, which are an OR-set.
type ticket = sixfield.Ticket

func ticketResolver() *resolve.Resolver[ticket] { return sixfield.Resolver(resolve.Options{}) }

// ticketBranch is one write of a ticket: its value, replica and time.
type ticketBranch struct {
	Value   ticket
	Node    string
	Counter uint64
	Wall    time.Duration // since the epoch
}

// ticketBranches are the two concurrent writes merged: lisbon's, the later,
// holds the greater priority, the owner, the urgent flag and the smaller
// estimate, so every field's policy agrees with grove's last-writer-wins and
// both engines produce the same record (the tests check it); the tags differ
// on each side and merge by union.
func ticketBranches() [2]ticketBranch {
	return [2]ticketBranch{
		{Value: ticket{Title: "lisbon", Tags: policy.NewSet("desk", "phone"), Priority: 2, Owner: "ana", Urgent: true, Estimate: 5},
			Node: Lisbon, Counter: 19, Wall: 3 * time.Second},
		{Value: ticket{Title: "baltimore", Tags: policy.NewSet("desk", "web"), Priority: 1, Estimate: 8},
			Node: Baltimore, Counter: 1, Wall: 2 * time.Second},
	}
}

// mergedTicket is the record both engines produce from ticketBranches.
var mergedTicket = ticket{Title: "lisbon", Tags: policy.NewSet("desk", "phone", "web"), Priority: 2, Owner: "ana", Urgent: true, Estimate: 5}

func (t ticketBranch) concord() resolve.Branch[ticket] {
	return resolve.Branch[ticket]{Value: t.Value, Stamp: version.Stamp{
		Time: version.Timestamp{Wall: int64(t.Wall)},
		Dot:  version.Dot{ID: version.MustID(t.Node), Counter: t.Counter},
	}}
}

// grove returns the branch as grove's record state: one field state per
// field, values JSON-encoded, the tags an OR-set tagged by the write.
func (t ticketBranch) grove() *grove.State {
	clock := grove.HLC{Timestamp: int64(t.Wall), NodeID: t.Node}
	s := grove.NewState("tickets", "T-1")
	lww := func(name string, v any) {
		r, err := grove.NewLWWRegister(v, clock, t.Node)
		mustGrove(err)
		s.Fields[name] = r.ToFieldState()
	}
	lww("title", t.Value.Title)
	lww("priority", t.Value.Priority)
	lww("owner", t.Value.Owner)
	lww("urgent", t.Value.Urgent)
	lww("estimate", t.Value.Estimate)
	tags := grove.NewORSetState()
	for e := range t.Value.Tags.All() {
		mustGrove(tags.Add(e, t.Node, clock))
	}
	s.Fields["tags"] = tags.ToFieldState(clock, t.Node)
	return s
}

// ticketOfGrove decodes grove's merged state into a ticket.
func ticketOfGrove(s *grove.State) (ticket, error) {
	var t ticket
	for name, dst := range map[string]any{"title": &t.Title, "priority": &t.Priority, "owner": &t.Owner, "urgent": &t.Urgent, "estimate": &t.Estimate} {
		if err := json.Unmarshal(s.Fields[name].Value, dst); err != nil {
			return t, err
		}
	}
	var tags []string
	for _, raw := range s.Fields["tags"].SetState.Elements() {
		var e string
		if err := json.Unmarshal(raw, &e); err != nil {
			return t, err
		}
		tags = append(tags, e)
	}
	t.Tags = policy.NewSet(tags...)
	return t, nil
}

// BenchmarkRecordMerge merges the two concurrent branches of the six-field
// record. concord's merge also records a decision for every field that
// decided something (six here); it is reached through internal/merge.Into,
// into one resolution the loop keeps, as the hand-written merge's loop
// keeps one record (the by-value hook copied the resolution, a few hundred
// bytes, through three frames: a user's Resolve returns it once). grove's
// MergeState merges its field states (and re-encodes the merged OR-set's
// elements as JSON). The baseline is the merge written by hand for this one
// type; dispatch is the same rules reached through function values and
// interfaces, as a generic engine must reach them, with no decisions and no
// per-field stamps (the floor of dispatch, between the two).
func BenchmarkRecordMerge(b *testing.B) {
	tb := ticketBranches()
	matrix(b, []string{implConcord, implGrove, implBaseline, implDispatch}, nil, nil, func(b *testing.B, impl, _ string, _ int) {
		var got ticket
		switch impl {
		case implConcord:
			r := ticketResolver()
			bs := []resolve.Branch[ticket]{tb[0].concord(), tb[1].concord()}
			var res resolve.Resolution[ticket]
			for b.Loop() {
				if err := merge.Into(r, bs, &res); err != nil {
					b.Fatal(err)
				}
			}
			got = res.Value
		case implGrove:
			e := grove.NewMergeEngine()
			x, y := tb[0].grove(), tb[1].grove()
			var m *grove.State
			for b.Loop() {
				var err error
				if m, err = e.MergeState(x, y); err != nil {
					b.Fatal(err)
				}
			}
			var err error
			if got, err = ticketOfGrove(m); err != nil {
				b.Fatal(err)
			}
		case implBaseline:
			x, y := tb[0].concord(), tb[1].concord()
			for b.Loop() {
				var ok bool
				if got, ok = sixfield.MergeByHand(x, y); !ok {
					b.Fatal("conflict")
				}
			}
		case implDispatch:
			x, y := tb[0].concord(), tb[1].concord()
			var d sixfield.Dispatch
			for b.Loop() {
				var ok bool
				if got, ok = d.Merge(x, y); !ok {
					b.Fatal("conflict")
				}
			}
		}
		if !got.Equal(mergedTicket) {
			b.Fatalf("%s: merged %+v, want %+v", impl, got, mergedTicket)
		}
	})
}

func jsonString(raw []byte, s *string) error { return json.Unmarshal(raw, s) }
