package replica_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/harborpoint/concord/hold"
	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

// clockedPair is two hold regions whose clocks read one fake wall time.
type clockedPair struct {
	pair
	now time.Time
}

func newClockedPair(t *testing.T) *clockedPair {
	t.Helper()
	return newClockedPairLimited(t, 0)
}

// newClockedPairLimited is newClockedPair with a record limit of maxBytes
// (0: the default).
func newClockedPairLimited(t *testing.T, maxBytes int) *clockedPair {
	t.Helper()
	p := &clockedPair{now: day}
	p.counters = &resolve.Counters{}
	res := hold.Resolver(resolve.Options{})
	mk := func(name string) *replica.Replica[hold.Hold] {
		clock := version.NewHLC(version.HLCOptions{Now: func() time.Time { return p.now }}, version.Timestamp{})
		r, err := replica.New(version.MustID(name), replica.NewMemoryStore(), res, replica.Options[hold.Hold]{
			Clock: clock, CommandKeys: hold.CommandKeys, Observer: p.counters, MaxRecordBytes: maxBytes,
		})
		require.NoError(t, err)
		return r
	}
	p.lis, p.iad = mk("lisbon"), mk("baltimore")
	return p
}

// at sets the shared wall clock to 14:mm:ss.
func (p *clockedPair) at(m, s int) {
	p.now = day.Add(time.Duration(m)*time.Minute + time.Duration(s)*time.Second)
}

// v18 creates H-8821 in Lisbon, edits its note seventeen times (the last
// "draft 18"), replicates it, and returns Baltimore's read of v18.
func (p *clockedPair) v18(t *testing.T) replica.Record[hold.Hold] {
	t.Helper()
	p.at(0, 0)
	_, err := p.lis.Create(bg, "H-8821", hold.New("H-8821", "C14", "lisbon-desk", minutes(10)))
	require.NoError(t, err)
	for i := 2; i <= 18; i++ {
		p.now = p.now.Add(10 * time.Second)
		_, err := p.lis.Blind(bg, "H-8821", "note", hold.NoteEdit(fmt.Sprintf("draft %d", i)))
		require.NoError(t, err)
	}
	p.sync(t)
	v18, err := p.iad.Get(bg, "H-8821")
	require.NoError(t, err)
	require.Equal(t, "draft 18", v18.Value.Note)
	require.Equal(t, "{lisbon:18}", v18.Context.String())
	return v18
}

// TestNoteSurvivesAConcurrentConfirm is issue 11's scenario: Baltimore
// blind-edits the note of H-8821 at 14:04:52; Lisbon confirms B-3107 from
// v18 at 14:04:53, a write that never touches the note. The confirm's
// branch carries the note's stamp from v18, not its own later stamp, so the
// real edit wins the note: after replication both regions hold the new
// note and the confirmation.
func TestNoteSurvivesAConcurrentConfirm(t *testing.T) {
	p := newClockedPair(t)
	v18 := p.v18(t)
	p.at(4, 52)
	_, err := p.iad.Blind(bg, "H-8821", "note", hold.NoteEdit("customer asked for a window seat"))
	require.NoError(t, err)
	p.at(4, 53)
	_, err = p.lis.Update(bg, "H-8821", v18.Token, func(h *hold.Hold, _ replica.Write) error {
		return h.Confirm("B-3107", p.now)
	})
	require.NoError(t, err)

	p.sync(t)
	for _, r := range []*replica.Replica[hold.Hold]{p.lis, p.iad} {
		rec, err := r.Get(bg, "H-8821")
		require.NoError(t, err)
		require.Len(t, rec.Branches, 2, "%v", r.ID())
		require.Equal(t, "customer asked for a window seat", rec.Value.Note, "%v", r.ID())
		require.Equal(t, hold.Confirmed, rec.Value.Status, "%v", r.ID())
		require.Equal(t, "B-3107", rec.Value.BookingID, "%v", r.ID())
	}
}

// TestNoteSurvivesAConcurrentExtend is the same with a merge-aware command
// (an extend) instead of a confirmation.
func TestNoteSurvivesAConcurrentExtend(t *testing.T) {
	p := newClockedPair(t)
	p.v18(t)
	p.at(4, 52)
	_, err := p.iad.Blind(bg, "H-8821", "note", hold.NoteEdit("customer asked for a window seat"))
	require.NoError(t, err)
	p.at(4, 53)
	_, _, err = p.lis.Command(bg, "H-8821", "extend-1", func(h *hold.Hold, _ replica.Write) error {
		return h.Extend(minutes(15))
	})
	require.NoError(t, err)

	p.sync(t)
	for _, r := range []*replica.Replica[hold.Hold]{p.lis, p.iad} {
		rec, err := r.Get(bg, "H-8821")
		require.NoError(t, err)
		require.Equal(t, "customer asked for a window seat", rec.Value.Note, "%v", r.ID())
		require.True(t, rec.Value.ExpiresAt.Equal(minutes(15)), "%v", r.ID())
	}
}

// TestFieldStampsSurviveStorageAndReplication: a write that changes one
// field stores the older stamps of the others, and the stamps come back
// unchanged from the store and from another region.
func TestFieldStampsSurviveStorageAndReplication(t *testing.T) {
	p := newClockedPair(t)
	p.v18(t)
	state, err := p.lis.State(bg, "H-8821")
	require.NoError(t, err)
	b := state.Values()[0]
	note := fieldIndex(t, p.lis.Resolver(), "note")
	require.NotNil(t, b.Fields, "a note edit leaves every other field's stamp older")
	for i := range p.lis.Resolver().Fields() {
		if i == note {
			require.Equal(t, b.Stamp, b.FieldStamp(i), "the note: the edit's own stamp")
			continue
		}
		require.Equal(t, version.Dot{ID: version.MustID("lisbon"), Counter: 1}, b.FieldStamp(i).Dot, "field %d: the create's stamp", i)
	}
	other, err := p.iad.State(bg, "H-8821")
	require.NoError(t, err)
	require.Equal(t, state.Values(), other.Values(), "Baltimore holds the same branch, field stamps included")
}

// TestSettlingAConflictKeepsWhatTheBranchesAgreeOn: a write that settles a
// conflict changes only the fields on which not every branch it replaces
// holds its value; a field they all agree on keeps its stamp, so a
// concurrent edit of it still wins.
func TestSettlingAConflictKeepsWhatTheBranchesAgreeOn(t *testing.T) {
	p := newClockedPair(t)
	v18 := p.v18(t)
	p.at(5, 0)
	_, _, err := p.lis.Command(bg, "H-8821", "extend-1", func(h *hold.Hold, _ replica.Write) error { return h.Extend(minutes(15)) })
	require.NoError(t, err)
	_, err = p.iad.Update(bg, "H-8821", v18.Token, func(h *hold.Hold, _ replica.Write) error { return h.Release() })
	require.NoError(t, err)
	// Lisbon receives the release and sees the conflict.
	data, err := p.iad.Export(bg, "H-8821")
	require.NoError(t, err)
	_, err = p.lis.Apply(bg, "H-8821", data)
	require.NoError(t, err)
	rec, err := p.lis.Get(bg, "H-8821")
	require.NoError(t, err)
	require.NotNil(t, rec.Conflict, "released vs active")

	// Baltimore, which has not seen the extend, edits the note; Lisbon
	// settles a second later, keeping the released branch and its note.
	p.at(5, 10)
	_, err = p.iad.Blind(bg, "H-8821", "note", hold.NoteEdit("customer left"))
	require.NoError(t, err)
	p.at(5, 11)
	var released hold.Hold
	for _, b := range rec.Branches {
		if b.Value.Status == hold.Released {
			released = b.Value
		}
	}
	_, err = p.lis.ResolveConflict(bg, "H-8821", rec.Token, released)
	require.NoError(t, err)
	p.sync(t)
	got, err := p.iad.Get(bg, "H-8821")
	require.NoError(t, err)
	require.Nil(t, got.Conflict)
	require.Equal(t, hold.Released, got.Value.Status)
	require.Equal(t, "customer left", got.Value.Note, "both branches held draft 18: the settle did not change the note")
}

func fieldIndex[T any](t *testing.T, r *resolve.Resolver[T], name string) int {
	t.Helper()
	for i, f := range r.Fields() {
		if f.Name() == name {
			return i
		}
	}
	t.Fatalf("no field %q", name)
	return -1
}

// TestRecordLimitSettlementTakesItsOwnStamps is the simulator's history
// 1778 (issue 19), made small. Baltimore created H-1 at 14:00 with an
// empty note and touched it at 14:01; apart, Lisbon wrote a note at 14:02
// so long that baltimore's merge of the two branches is over the record
// limit: baltimore keeps its own record and queues both branches for
// review (rule record-limit). Lisbon then edits its note to "draft" at
// 14:03, a write that does not reach baltimore; at 14:04 baltimore's
// reviewer settles the item with baltimore's branch, empty note included.
//
// The settlement changed the note — one of the branches it replaced held
// the long note — so the note takes the settlement's stamp, 14:04, and
// beats Lisbon's 14:03 draft at both replicas: ResolveConflict's rule, a
// field keeps its stamp only where every replaced branch holds v's value.
// The defect: the base of the settlement was the branches this replica
// stored (baltimore's alone), not the branches the queue's token covers,
// so the note kept its 14:00 stamp from the create, a value Lisbon's draft
// had replaced, and the draft won. The same settlement over branches the
// replica did store (no limit) was already right: both runs must agree.
func TestRecordLimitSettlementTakesItsOwnStamps(t *testing.T) {
	const limit = 4 << 10
	for _, maxBytes := range []int{limit, 0} {
		t.Run(fmt.Sprintf("limit=%d", maxBytes), func(t *testing.T) {
			p := newClockedPairLimited(t, maxBytes)
			p.at(0, 0)
			_, err := p.iad.Create(bg, "H-1", hold.New("H-1", "C1", "baltimore-desk", minutes(10)))
			require.NoError(t, err)
			p.sync(t)
			p.at(1, 0)
			_, _, err = p.iad.Command(bg, "H-1", "touch-1", func(h *hold.Hold, _ replica.Write) error { h.Touch("airline"); return nil })
			require.NoError(t, err)
			p.at(2, 0)
			long := strings.Repeat("n", limit-len(export(t, p.lis, "H-1"))-100)
			_, err = p.lis.Blind(bg, "H-1", "note", hold.NoteEdit(long))
			require.NoError(t, err)

			token := settleToken(t, p, maxBytes > 0)
			p.at(3, 0)
			_, err = p.lis.Blind(bg, "H-1", "note", hold.NoteEdit("draft"))
			require.NoError(t, err)
			p.at(4, 0)
			v := hold.New("H-1", "C1", "baltimore-desk", minutes(10))
			v.Agencies = v.Agencies.Add("airline")
			rec, err := p.iad.ResolveConflict(bg, "H-1", token, v)
			require.NoError(t, err)
			require.Len(t, rec.Branches, 1)
			b := rec.Branches[0]
			require.Equal(t, b.Stamp, b.FieldStamp(noteField(t)), "the settlement changed the note: it takes the settlement's stamp")

			p.sync(t)
			for _, r := range []*replica.Replica[hold.Hold]{p.lis, p.iad} {
				got, err := r.Get(bg, "H-1")
				require.NoError(t, err)
				require.Empty(t, got.Value.Note, "%v: the settlement at 14:04 is the note's latest change, after lisbon's draft at 14:03", r.ID())
			}
		})
	}
}

// settleToken brings lisbon's state to baltimore and returns the token of
// the write that settles it: the review item's, when the merge is over the
// limit, or the merged record's.
func settleToken(t *testing.T, p *clockedPair, overLimit bool) string {
	t.Helper()
	_, err := p.iad.Apply(bg, "H-1", export(t, p.lis, "H-1"))
	if !overLimit {
		require.NoError(t, err)
		rec, err := p.iad.Get(bg, "H-1")
		require.NoError(t, err)
		return rec.Token
	}
	var tl *replica.TooLargeError
	require.ErrorAs(t, err, &tl)
	require.True(t, tl.Merge)
	q := p.iad.Conflicts()
	require.Len(t, q, 1)
	require.Equal(t, replica.RecordLimitRule, q[0].Rule)
	require.Len(t, q[0].Branches, 2)
	return q[0].Token
}

// noteField returns the place of the hold's note among its resolver's
// fields.
func noteField(t *testing.T) int {
	t.Helper()
	for i, f := range hold.Resolver(resolve.Options{}).Fields() {
		if f.Name() == "note" {
			return i
		}
	}
	t.Fatal("the hold's resolver binds no note")
	return -1
}
