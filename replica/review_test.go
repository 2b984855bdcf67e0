package replica_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/harborpoint/concord/hold"
	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

// reviewLimit is the record limit of the review tests: two notes of two
// thirds of it each fit alone and not together.
const reviewLimit = 4 << 10

// sharedReview is lisbon run by two Replica values over one store — a and
// alt, two processes — and a peer, baltimore, with its own store, all
// under the record limit reviewLimit and counting into one observer.
type sharedReview struct {
	counters *resolve.Counters
	store    *replica.MemoryStore
	hook     *casHook // a's store: alt may write in the middle of a's write
	a, alt   *replica.Replica[hold.Hold]
	p        *replica.Replica[hold.Hold]
}

func newSharedReview(t tb) *sharedReview {
	t.Helper()
	s := &sharedReview{counters: &resolve.Counters{}, store: replica.NewMemoryStore()}
	s.hook = &casHook{Store: s.store}
	res := hold.Resolver(resolve.Options{})
	opts := func(clock *version.HLC) replica.Options[hold.Hold] {
		return replica.Options[hold.Hold]{CommandKeys: hold.CommandKeys, Observer: s.counters, Clock: clock, MaxRecordBytes: reviewLimit}
	}
	lis := version.MustID("lisbon")
	clock := version.NewHLC(version.HLCOptions{}, version.Timestamp{})
	var err error
	if s.a, err = replica.New(lis, s.hook, res, opts(clock)); err != nil {
		t.Fatalf("New: %v", err)
	}
	if s.alt, err = replica.New(lis, s.store, res, opts(clock)); err != nil {
		t.Fatalf("New: %v", err)
	}
	if s.p, err = replica.New(version.MustID("baltimore"), replica.NewMemoryStore(), res, opts(nil)); err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

// longNote is a note of two thirds of the record limit.
var longNote = strings.Repeat("n", reviewLimit*2/3)

// refusedMerge makes a's merge of H-1 with baltimore's copy over the limit:
// both noted a long note apart, each with a command. It returns a's review
// item.
func (s *sharedReview) refusedMerge(t *testing.T) replica.ReviewItem[hold.Hold] {
	t.Helper()
	_, err := s.a.Create(bg, "H-1", hold.New("H-1", "C1", "desk", minutes(10)))
	require.NoError(t, err)
	require.NoError(t, replica.AntiEntropy(bg, s.a, s.p))
	for _, w := range []struct {
		r   *replica.Replica[hold.Hold]
		key string
	}{{s.a, "x-lis"}, {s.p, "x-bal"}} {
		_, _, err = w.r.Command(bg, "H-1", w.key, func(h *hold.Hold, _ replica.Write) error {
			h.Note = w.key + " " + longNote
			return nil
		})
		require.NoError(t, err)
	}
	_, err = s.a.Apply(bg, "H-1", export(t, s.p, "H-1"))
	var tl *replica.TooLargeError
	require.ErrorAs(t, err, &tl)
	require.True(t, tl.Merge)
	return s.item(t, s.a, replica.RecordLimitRule)
}

// item returns r's review item of H-1, which must have the given rule
// ("" for any).
func (s *sharedReview) item(t *testing.T, r *replica.Replica[hold.Hold], rule string) replica.ReviewItem[hold.Hold] {
	t.Helper()
	q := r.Conflicts()
	require.Len(t, q, 1)
	require.Equal(t, "H-1", q[0].Key)
	if rule != "" {
		require.Equal(t, rule, q[0].Rule)
	}
	return q[0]
}

// altCommand runs a command on H-1 through alt: another process of lisbon
// writes the key.
func (s *sharedReview) altCommand(t *testing.T, key string) {
	t.Helper()
	_, _, err := s.alt.Command(bg, "H-1", key, func(h *hold.Hold, _ replica.Write) error { h.Touch(key); return nil })
	require.NoError(t, err)
}

// settle settles H-1 at r with the token of item it and a short note, and
// checks that the settlement keeps every command of keys and that the
// replicas then converge with empty queues.
func (s *sharedReview) settle(t *testing.T, r *replica.Replica[hold.Hold], it replica.ReviewItem[hold.Hold], keys ...string) {
	t.Helper()
	v := it.Branches[0].Value
	v.Note = "settled"
	rec, err := r.ResolveConflict(bg, "H-1", it.Token, v)
	require.NoError(t, err, "the token the queue hands out settles the conflict")
	require.Len(t, rec.Branches, 1)
	for _, k := range keys {
		require.True(t, rec.Value.Commands.Has(k), "command %s stays applied: %v", k, rec.Value.Commands)
	}
	require.NoError(t, replica.AntiEntropy(bg, s.a, s.p))
	for _, r := range []*replica.Replica[hold.Hold]{s.a, s.alt, s.p} {
		got, err := r.Get(bg, "H-1")
		require.NoError(t, err)
		require.Equal(t, "settled", got.Value.Note)
		require.Empty(t, r.Conflicts())
	}
	require.Equal(t, s.counters.Total(resolve.SentToReview), s.counters.Total(resolve.Reviewed), "every item queued left the queue")
}

// TestRecordLimitItemFollowsAnotherWriter is the simulator's find (growth
// campaign, seed 165 at thirty times the default size): a merge refused for
// size is in a's review queue; alt, another process of the same replica on
// the same store, writes the key. The merge is still over the limit, but
// a's item kept the token of the state before alt's write, and
// ResolveConflict refused it with a 412 for ever. Any read of the key by a
// now makes the item current — its token covers alt's write, its branches
// include it — and that token settles the conflict.
func TestRecordLimitItemFollowsAnotherWriter(t *testing.T) {
	reads := map[string]func(s *sharedReview) error{
		"Get":   func(s *sharedReview) error { _, err := s.a.Get(bg, "H-1"); return err },
		"State": func(s *sharedReview) error { _, err := s.a.State(bg, "H-1"); return err },
		"refused write": func(s *sharedReview) error { // a's own command, refused for size
			_, _, err := s.a.Command(bg, "H-1", "x-big", func(h *hold.Hold, _ replica.Write) error {
				h.Note = strings.Repeat("b", reviewLimit)
				return nil
			})
			return tooLarge(err)
		},
		"Apply": func(s *sharedReview) error { // the peer's copy again, refused again
			data, err := s.p.Export(bg, "H-1")
			if err == nil {
				_, err = s.a.Apply(bg, "H-1", data)
			}
			return tooLarge(err)
		},
		"Rescan": func(s *sharedReview) error { return s.a.Rescan(bg) },
	}
	followsAnotherWriter(t, reads)
}

// followsAnotherWriter runs each read in a subtest of its name: a's merge
// is refused for size, alt writes the key, a reads it, and a's item must
// then follow the stored state — a new token, the same conflict first seen
// as it was, two branches — and settle it.
func followsAnotherWriter(t *testing.T, reads map[string]func(s *sharedReview) error) {
	for name, read := range reads {
		t.Run(name, func(t *testing.T) {
			s := newSharedReview(t)
			stale := s.refusedMerge(t)
			s.altCommand(t, "x-alt")
			require.NoError(t, read(s))
			it := s.item(t, s.a, replica.RecordLimitRule)
			require.NotEqual(t, stale.Token, it.Token, "the item follows the stored state")
			require.Equal(t, stale.FirstSeen, it.FirstSeen, "the same conflict, first seen as it was")
			require.Len(t, it.Branches, 2)
			s.settle(t, s.a, it, "x-lis", "x-bal", "x-alt")
		})
	}
}

// tooLarge returns err unless it is a refusal for size.
func tooLarge(err error) error {
	if errors.Is(err, replica.ErrTooLarge) {
		return nil
	}
	return err
}

// TestRecordLimitItemRefreshedBy412: a holds the item made before alt's
// write and has not read the key since. ResolveConflict with that token is
// refused (a write a never saw is not covered), but the refusal makes the
// item current: the next token a's queue hands out settles it.
func TestRecordLimitItemRefreshedBy412(t *testing.T) {
	s := newSharedReview(t)
	stale := s.refusedMerge(t)
	s.altCommand(t, "x-alt")
	v := stale.Branches[0].Value
	v.Note = "settled"
	_, err := s.a.ResolveConflict(bg, "H-1", stale.Token, v)
	var pf *replica.PreconditionFailed
	require.ErrorAs(t, err, &pf)
	it := s.item(t, s.a, replica.RecordLimitRule)
	require.NotEqual(t, stale.Token, it.Token)
	s.settle(t, s.a, it, "x-lis", "x-bal", "x-alt")
}

// TestRecordLimitItemInTheRetryPath: alt writes the key in the middle of
// a's settlement (a's compare-and-set fails and its retry reads alt's
// state). The settlement is refused — it did not see alt's write — and a's
// queue then hands out a token that covers it.
func TestRecordLimitItemInTheRetryPath(t *testing.T) {
	s := newSharedReview(t)
	first := s.refusedMerge(t)
	s.hook.arm("H-1", func() { s.altCommand(t, "x-alt") })
	v := first.Branches[0].Value
	v.Note = "settled"
	_, err := s.a.ResolveConflict(bg, "H-1", first.Token, v)
	require.ErrorIs(t, err, replica.ErrPreconditionFailed)
	s.settle(t, s.a, s.item(t, s.a, replica.RecordLimitRule), "x-lis", "x-bal", "x-alt")
}

// TestRecordLimitItemStaysAfterOwnWrite: a's own write of the key does not
// make the refused merge fit: the item stays, made current with a's write.
// (It used to be dropped, and baltimore's branch with it until the next
// session.)
func TestRecordLimitItemStaysAfterOwnWrite(t *testing.T) {
	s := newSharedReview(t)
	stale := s.refusedMerge(t)
	_, _, err := s.a.Command(bg, "H-1", "x-lis-2", func(h *hold.Hold, _ replica.Write) error { h.Touch("x-lis-2"); return nil })
	require.NoError(t, err)
	it := s.item(t, s.a, replica.RecordLimitRule)
	require.NotEqual(t, stale.Token, it.Token)
	s.settle(t, s.a, it, "x-lis", "x-bal", "x-lis-2")
}

// TestRecordLimitItemDroppedOnceTheMergeFits: alt shortens lisbon's note,
// so the merge with baltimore's branch is within the limit now. a's next
// read of the key drops the item (there is nothing left to settle), and
// the next session merges the two.
func TestRecordLimitItemDroppedOnceTheMergeFits(t *testing.T) {
	s := newSharedReview(t)
	s.refusedMerge(t)
	_, err := s.alt.Blind(bg, "H-1", "note", hold.NoteEdit("short"))
	require.NoError(t, err)
	_, err = s.a.Get(bg, "H-1")
	require.NoError(t, err)
	require.Empty(t, s.a.Conflicts())
	require.Equal(t, s.counters.Total(resolve.SentToReview), s.counters.Total(resolve.Reviewed))
	require.NoError(t, replica.AntiEntropy(bg, s.a, s.p))
	require.Equal(t, export(t, s.a, "H-1"), export(t, s.p, "H-1"))
	got, err := s.a.Get(bg, "H-1")
	require.NoError(t, err)
	require.True(t, got.Value.Commands.Has("x-lis") && got.Value.Commands.Has("x-bal"), "%v", got.Value.Commands)
}

// TestRecordLimitItemDroppedWhenAnotherWriterSettles: alt settles the
// refused merge itself (it took baltimore's copy and an operator's value
// through its own queue); a's next read drops a's item.
func TestRecordLimitItemDroppedWhenAnotherWriterSettles(t *testing.T) {
	s := newSharedReview(t)
	s.refusedMerge(t)
	_, err := s.alt.Apply(bg, "H-1", export(t, s.p, "H-1"))
	require.ErrorIs(t, err, replica.ErrTooLarge)
	s.settle(t, s.alt, s.item(t, s.alt, replica.RecordLimitRule), "x-lis", "x-bal")
}

// confirmedApart makes H-1 a conflict no policy merges at a: lisbon and
// baltimore confirm it with different bookings, apart, and a takes
// baltimore's copy. It returns a's review item.
func (s *sharedReview) confirmedApart(t *testing.T) replica.ReviewItem[hold.Hold] {
	t.Helper()
	rec, err := s.a.Create(bg, "H-1", hold.New("H-1", "C1", "desk", minutes(10)))
	require.NoError(t, err)
	require.NoError(t, replica.AntiEntropy(bg, s.a, s.p))
	for i, r := range []*replica.Replica[hold.Hold]{s.a, s.p} {
		_, err = r.Update(bg, "H-1", rec.Token, func(h *hold.Hold, _ replica.Write) error {
			return h.Confirm([]string{"B-lis", "B-bal"}[i], minutes(4))
		})
		require.NoError(t, err)
	}
	_, err = s.a.Apply(bg, "H-1", export(t, s.p, "H-1"))
	require.NoError(t, err)
	it := s.item(t, s.a, "")
	require.NotEqual(t, replica.RecordLimitRule, it.Rule)
	return it
}

// TestSettledConflictNotRequeuedByRead: a settles H-1's conflict while
// its own Get of H-1 is between reading the conflicted state and queueing
// it. The read must not bring the settled conflict back: the queue is
// empty, and every SentToReview has its Reviewed. (Get used to queue the
// state it read without the key's lock: the item had been dropped, so
// nothing kept it from being queued again, with a token that got 412.)
func TestSettledConflictNotRequeuedByRead(t *testing.T) {
	s := newSharedReview(t)
	it := s.confirmedApart(t)
	s.hook.armGet("H-1", func() { // after a's Get read the conflicted bytes
		v := it.Branches[0].Value
		v.Note = "settled"
		_, err := s.a.ResolveConflict(bg, "H-1", it.Token, v)
		require.NoError(t, err)
	})
	rec, err := s.a.Get(bg, "H-1")
	require.NoError(t, err)
	require.NotNil(t, rec.Conflict, "the read returns the state it read")
	require.Empty(t, s.a.Conflicts(), "the store holds no conflict")
	require.Equal(t, s.counters.Total(resolve.SentToReview), s.counters.Total(resolve.Reviewed))
	got, err := s.a.Get(bg, "H-1")
	require.NoError(t, err)
	require.Nil(t, got.Conflict)
	require.Equal(t, "settled", got.Value.Note)
}

// TestConflictItemsAgreeAcrossWriters: a stored conflict is in the queue of
// every Replica value of the store that read the key, with the same token;
// when one settles it, the other's next read drops its item.
func TestConflictItemsAgreeAcrossWriters(t *testing.T) {
	s := newSharedReview(t)
	mine := s.confirmedApart(t)
	_, err := s.alt.Get(bg, "H-1")
	require.NoError(t, err)
	theirs := s.item(t, s.alt, "")
	require.Equal(t, mine.Token, theirs.Token)
	require.Equal(t, mine.Branches, theirs.Branches)
	s.settle(t, s.alt, theirs)
}

// TestConflictItemFollowsAnotherWritersMerge: alt merges a third confirmed
// branch (tokyo's) into the stored conflict; a's next read makes its item
// cover it, and that token settles all three.
func TestConflictItemFollowsAnotherWritersMerge(t *testing.T) {
	s := newSharedReview(t)
	stale := s.confirmedApart(t)
	tok, err := replica.New(version.MustID("tokyo"), replica.NewMemoryStore(), hold.Resolver(resolve.Options{}),
		replica.Options[hold.Hold]{CommandKeys: hold.CommandKeys})
	require.NoError(t, err)
	_, err = tok.Create(bg, "H-1", hold.New("H-1", "C1", "desk", minutes(10)))
	require.NoError(t, err)
	_, err = s.alt.Apply(bg, "H-1", export(t, tok, "H-1"))
	require.NoError(t, err)
	_, err = s.a.Get(bg, "H-1")
	require.NoError(t, err)
	it := s.item(t, s.a, "")
	require.NotEqual(t, stale.Token, it.Token)
	require.Len(t, it.Branches, 3)
	s.settle(t, s.a, it)
}

// TestReviewTokensSettle: two Replica values on one store (a and alt) and
// a peer with its own, under a small record limit, in any interleaving of
// commands with long and short notes, confirmations with different
// bookings (conflicts no policy merges), replication both ways — refused
// for size or not — and alt's writes in the middle of a's (a's retry
// path). Whenever a value's queue hands out a token:
//
//   - right after the value read the key, with no write since, the token
//     settles the conflict (a refusal for size of the settlement itself
//     aside): ResolveConflict never answers 412;
//   - otherwise a 412 means another writer changed the record since the
//     value last read it, and the token the queue hands out next settles it.
//
// After both values read the key, they agree on its stored conflict (the
// same token); and every item sent to review is in a queue or was
// reviewed.
func TestReviewTokensSettle(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := newSharedReview(t)
		if _, err := s.a.Create(bg, "H-1", hold.New("H-1", "C1", "desk", minutes(10))); err != nil {
			t.Fatalf("Create: %v", err)
		}
		if err := replica.AntiEntropy(bg, s.a, s.p); err != nil {
			t.Fatalf("AntiEntropy: %v", err)
		}
		n := 0
		all := []*replica.Replica[hold.Hold]{s.a, s.alt, s.p}
		values := map[*replica.Replica[hold.Hold]]string{s.a: "a", s.alt: "alt", s.p: "p"}
		pick := func(t *rapid.T, rs ...*replica.Replica[hold.Hold]) *replica.Replica[hold.Hold] {
			return rapid.SampledFrom(rs).Draw(t, "replica")
		}
		command := func(t *rapid.T, r *replica.Replica[hold.Hold]) {
			n++
			key := fmt.Sprintf("k%d", n)
			size := rapid.SampledFrom([]int{0, 40, len(longNote)}).Draw(t, "note")
			_, _, _ = r.Command(bg, "H-1", key, func(h *hold.Hold, _ replica.Write) error {
				h.Touch(key)
				if size > 0 {
					h.Note = key + strings.Repeat("n", size)
				}
				return nil
			})
		}
		ship := func(from, to *replica.Replica[hold.Hold]) {
			if data, err := from.Export(bg, "H-1"); err == nil {
				_, _ = to.Apply(bg, "H-1", data)
			}
		}
		settle := func(t *rapid.T, r *replica.Replica[hold.Hold], fresh bool) {
			items := r.Conflicts()
			if len(items) == 0 {
				return
			}
			it := items[0]
			v := it.Branches[0].Value
			v.Note = ""
			_, err := r.ResolveConflict(bg, "H-1", it.Token, v)
			if !errors.Is(err, replica.ErrPreconditionFailed) {
				if err != nil && !errors.Is(err, replica.ErrTooLarge) {
					t.Fatalf("%s: settling with the queue's token: %v", values[r], err)
				}
				return
			}
			if fresh {
				t.Fatalf("%s: the queue's token %s, handed out right after a read, is refused: %v", values[r], it.Token, err)
			}
			for _, next := range r.Conflicts() {
				if _, err := r.ResolveConflict(bg, "H-1", next.Token, v); errors.Is(err, replica.ErrPreconditionFailed) {
					t.Fatalf("%s: the queue's token after a 412 (%s, then %s) is refused again: %v", values[r], it.Token, next.Token, err)
				}
			}
		}
		t.Repeat(map[string]func(*rapid.T){
			"command":       func(t *rapid.T) { command(t, pick(t, all...)) },
			"alt writes":    func(t *rapid.T) { command(t, s.alt) },
			"another write": func(t *rapid.T) { command(t, pick(t, all...)) },
			"confirm": func(t *rapid.T) {
				r := pick(t, all...)
				n++
				if rec, err := r.Get(bg, "H-1"); err == nil {
					_, _ = r.Update(bg, "H-1", rec.Token, func(h *hold.Hold, _ replica.Write) error {
						return h.Confirm(fmt.Sprint("B-", n), minutes(4))
					})
				}
			},
			"alt writes in the middle of a's write": func(t *rapid.T) {
				s.hook.arm("H-1", func() { command(t, s.alt) })
				command(t, s.a)
				s.hook.disarm()
			},
			"peer to lisbon": func(t *rapid.T) { ship(s.p, pick(t, s.a, s.alt)) },
			"lisbon to peer": func(t *rapid.T) { ship(pick(t, s.a, s.alt), s.p) },
			"settle": func(t *rapid.T) {
				r := pick(t, all...)
				fresh := rapid.Bool().Draw(t, "read first")
				if fresh {
					_, _ = r.Get(bg, "H-1")
				}
				settle(t, r, fresh)
			},
			"both read and agree": func(t *rapid.T) {
				_, _ = s.a.Get(bg, "H-1")
				_, _ = s.alt.Get(bg, "H-1")
				mine, theirs := conflictOf(s.a), conflictOf(s.alt)
				if mine != nil && theirs != nil && mine.Token != theirs.Token || (mine == nil) != (theirs == nil) && !refusedMerge(s.a) && !refusedMerge(s.alt) {
					t.Fatalf("a and alt read the same state and disagree on its conflict: %v, %v", mine, theirs)
				}
			},
			"": func(t *rapid.T) {
				queued := 0
				for _, r := range all {
					queued += len(r.Conflicts())
				}
				if sent, reviewed := s.counters.Total(resolve.SentToReview), s.counters.Total(resolve.Reviewed); sent != reviewed+uint64(queued) {
					t.Fatalf("%d items sent to review, %d reviewed, %d queued", sent, reviewed, queued)
				}
			},
		})
	})
}

// refusedMerge reports whether r's queue holds a merge refused for size,
// which subsumes the stored conflict, if any.
func refusedMerge(r *replica.Replica[hold.Hold]) bool {
	return slices.ContainsFunc(r.Conflicts(), func(it replica.ReviewItem[hold.Hold]) bool { return it.Rule == replica.RecordLimitRule })
}

// conflictOf returns r's review item of a stored conflict (not a merge
// refused for size, which only the value that refused it knows of).
func conflictOf(r *replica.Replica[hold.Hold]) *replica.ReviewItem[hold.Hold] {
	for _, it := range r.Conflicts() {
		if it.Rule != replica.RecordLimitRule {
			return &it
		}
	}
	return nil
}

// TestRecordLimitItemFollowsRawReads: the reads that do not decode a
// record's values — Export, Apply of a copy already held, the peer side of
// a session (Deltas) — make a queued key's item current too.
func TestRecordLimitItemFollowsRawReads(t *testing.T) {
	reads := map[string]func(s *sharedReview) error{
		"Export": func(s *sharedReview) error { _, err := s.a.Export(bg, "H-1"); return err },
		"Apply of a copy held": func(s *sharedReview) error {
			data, err := s.alt.Export(bg, "H-1")
			if err == nil {
				_, err = s.a.Apply(bg, "H-1", data)
			}
			return err
		},
		"Deltas": func(s *sharedReview) error {
			_, errs := s.a.Deltas(bg, []replica.Want{{Key: "H-1"}})
			return errors.Join(keyErrs(errs)...)
		},
	}
	followsAnotherWriter(t, reads)
}
