package nats_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/harborpoint/concord/hold"
	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/version"
)

// ack is an acknowledged write: its dot and the agency it added.
type ack struct {
	key    string
	dot    version.Dot
	agency string
}

// TestPartitionHeal cuts Singapore off and lets all three regions write
// the same holds on both sides of the cut, in every write style: merge-aware
// commands everywhere; then, on each side, conditional writes with the
// token that side read — a release in Lisbon against a confirmation in
// Singapore (H-1), two confirmations with different bookings (H-2) — and
// blind note edits of one hold from every region (H-3). After the heal every
// region converges without losing an acknowledged write: each one's dot is
// covered by the final context and its agency is in the hold (or, for H-2,
// in one of its branches); the confirmation beats the concurrent release;
// the two bookings are surfaced as a conflict in every region's review
// queue, never merged; and the note is the acknowledged edit with the
// latest stamp.
func TestPartitionHeal(t *testing.T) {
	names := []string{"lisbon", "baltimore", "singapore"}
	c := newCluster(t, names...)
	var regions []*regionOf
	for _, name := range names {
		regions = append(regions, c.openRegion(c.nodes[name], nil))
	}
	lis, sgp := regions[0], regions[2]
	ctx := c.ctx()
	keys := []string{"H-1", "H-2", "H-3"}
	expires := time.Now().Add(time.Hour).UTC()
	for _, k := range keys {
		_, err := regions[0].Create(ctx, k, hold.New(k, "C"+k[2:], "lisbon-desk", expires))
		must(t, err)
	}
	for _, k := range keys {
		converged(t, 10*time.Second, k, regions...)
	}

	c.cut("singapore", true)
	var (
		mu    sync.Mutex
		acked []ack
		notes []noteAck
		wg    sync.WaitGroup
	)
	const writes = 6
	for _, r := range regions {
		wg.Go(func() {
			for i := range writes {
				for _, k := range keys {
					agency := fmt.Sprintf("%s-%d", r.name, i)
					var dot version.Dot
					_, _, err := r.Command(ctx, k, agency, func(h *hold.Hold, w replica.Write) error {
						dot = w.Dot
						h.Touch(agency)
						return h.Extend(h.ExpiresAt.Add(time.Minute))
					})
					if err != nil {
						t.Errorf("%s: %s: %v", r.name, k, err)
						return
					}
					mu.Lock()
					acked = append(acked, ack{key: k, dot: dot, agency: agency})
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	for _, k := range keys { // Lisbon's writes below cover Baltimore's, on its side of the cut
		converged(t, 30*time.Second, k, lis, regions[1]) // a stalled source restarts within seconds
	}
	// Conditional writes, each with the token its side reads: concurrent
	// lifecycle changes the two sides cannot see.
	conditional := func(r *regionOf, k, agency string, change func(*hold.Hold) error) {
		t.Helper()
		cur, err := r.Get(ctx, k)
		must(t, err)
		var dot version.Dot
		_, err = r.Update(ctx, k, cur.Token, func(h *hold.Hold, w replica.Write) error {
			dot = w.Dot
			h.Touch(agency)
			return change(h)
		})
		must(t, err)
		acked = append(acked, ack{key: k, dot: dot, agency: agency})
	}
	now := time.Now()
	conditional(lis, "H-1", "lisbon-release", (*hold.Hold).Release)
	conditional(sgp, "H-1", "singapore-confirm", func(h *hold.Hold) error { return h.Confirm("B-SGP", now) })
	conditional(lis, "H-2", "lisbon-confirm", func(h *hold.Hold) error { return h.Confirm("B-LIS", now) })
	conditional(sgp, "H-2", "singapore-confirm", func(h *hold.Hold) error { return h.Confirm("B-SGP", now) })
	// Blind edits of one note from every region, both sides of the cut.
	for i := range 3 {
		for _, r := range regions {
			text := fmt.Sprintf("%s draft %d", r.name, i)
			rec, err := r.Blind(ctx, "H-3", "note", hold.NoteEdit(text))
			must(t, err)
			notes = append(notes, noteAck{text: text, stamp: ownStamp(t, r, rec)})
		}
	}

	healed := time.Now()
	c.cut("singapore", false)
	final := map[string]replica.Record[hold.Hold]{}
	for _, k := range keys {
		final[k] = converged(t, 30*time.Second, k, regions...)[0]
	}
	t.Logf("%d acknowledged commands and conditional writes and %d blind writes in 3 regions (one cut off) converged %v after the heal",
		len(acked), len(notes), time.Since(healed))

	for _, a := range acked {
		rec := final[a.key]
		if !rec.Context.Contains(a.dot) {
			t.Errorf("%s: acknowledged write %v lost: final context %v", a.key, a.dot, rec.Context)
		}
		if !hasAgency(rec, a.agency) {
			t.Errorf("%s: agency %s of write %v missing from every branch", a.key, a.agency, a.dot)
		}
	}
	if h1 := final["H-1"]; h1.Conflict != nil || h1.Value.Status != hold.Confirmed || h1.Value.BookingID != "B-SGP" {
		t.Errorf("H-1: the confirmation did not beat the concurrent release: %v", h1.Value)
	}
	h2 := final["H-2"]
	var bookings []string
	for _, b := range h2.Branches {
		bookings = append(bookings, b.Value.BookingID)
	}
	if h2.Conflict == nil || !slices.Contains(bookings, "B-LIS") || !slices.Contains(bookings, "B-SGP") {
		t.Errorf("H-2: two bookings were not surfaced as a conflict: %v, branches %v", h2.Value, bookings)
	}
	for _, r := range regions {
		eventually(t, 10*time.Second, func() error {
			for _, it := range r.Conflicts() {
				if it.Key == "H-2" {
					return nil
				}
			}
			return fmt.Errorf("%s: H-2 not in the review queue", r.name)
		})
	}
	latest := notes[0]
	for _, n := range notes[1:] {
		if n.stamp.Compare(latest.stamp) > 0 {
			latest = n
		}
	}
	if got := final["H-3"].Value.Note; got != latest.text {
		t.Errorf("H-3: note %q, want the latest acknowledged edit %q", got, latest.text)
	}
	if got, want := final["H-3"].Value.Commands.Len(), len(names)*writes; got != want {
		t.Errorf("H-3: %d commands applied, want %d", got, want)
	}
}

// noteAck is an acknowledged blind edit of a note and its write's stamp.
type noteAck struct {
	text  string
	stamp version.Stamp
}

// ownStamp returns the stamp of the write r just made, from the record it
// returned: the branch whose dot is r's latest.
func ownStamp(t *testing.T, r *regionOf, rec replica.Record[hold.Hold]) version.Stamp {
	t.Helper()
	id := r.ID()
	for _, b := range rec.Branches {
		if b.Stamp.Dot.ID == id && b.Stamp.Dot.Counter == rec.Context.Get(id) {
			return b.Stamp
		}
	}
	t.Fatalf("%s: no branch of its own write in %v", r.name, rec.Context)
	return version.Stamp{}
}

// hasAgency reports whether agency is in the record's value, or in one of
// its branches when it holds a conflict.
func hasAgency(rec replica.Record[hold.Hold], agency string) bool {
	if rec.Conflict == nil {
		return rec.Value.Agencies.Has(agency)
	}
	for _, b := range rec.Branches {
		if b.Value.Agencies.Has(agency) {
			return true
		}
	}
	return false
}

// TestRestartCatchesUp stops Baltimore's server in the middle of a stream
// of Lisbon writes and restarts it from its store directory: its bucket
// receives every Lisbon write exactly once (the sourced history equals
// Lisbon's own), and its watcher merges them all into Baltimore's copy.
func TestRestartCatchesUp(t *testing.T) {
	c := newClusterWith(t, bucketHistory(64), "lisbon", "baltimore")
	lis := c.openRegion(c.nodes["lisbon"], nil)
	bal := c.openRegion(c.nodes["baltimore"], nil)
	ctx := c.ctx()
	keys := []string{"H-1", "H-2"}
	for _, k := range keys {
		_, err := lis.Create(ctx, k, hold.New(k, "C1", "web", time.Now().Add(time.Hour)))
		must(t, err)
	}
	write := func(i int) {
		t.Helper()
		for _, k := range keys {
			_, _, err := lis.Command(ctx, k, fmt.Sprintf("extend-%d", i), func(h *hold.Hold, _ replica.Write) error {
				return h.Extend(h.ExpiresAt.Add(time.Minute))
			})
			must(t, err)
		}
	}
	for i := range 8 {
		write(i)
	}
	c.stop(c.nodes["baltimore"])
	for i := 8; i < 16; i++ {
		write(i)
	}
	c.start(c.nodes["baltimore"])
	restarted := time.Now()
	for i := 16; i < 24; i++ {
		write(i)
	}
	written := time.Now()

	// Baltimore's watcher (not a read) brings its own copy up to Lisbon's.
	// It restarts its watch when its connection reconnects, so it usually
	// does not wait the ~10 s the watch's heartbeats would take to notice.
	for _, k := range keys {
		want, err := lis.Get(ctx, k)
		must(t, err)
		eventually(t, 20*time.Second, func() error {
			cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			defer cancel()
			got, err := bal.region.Contexts(cctx, k)
			if err != nil {
				return err
			}
			if !got["baltimore"].Descends(want.Context) {
				return fmt.Errorf("baltimore's copy %v, lisbon's %v", got["baltimore"], want.Context)
			}
			return nil
		})
	}
	st := bal.region.WatchStats()
	t.Logf("baltimore caught up %v after its restart (%v after the last write); watch started %d times, %d versions applied, %d already covered",
		time.Since(restarted).Round(time.Millisecond), time.Since(written).Round(time.Millisecond), st.Watches, st.Applied, st.Covered)
	// Usually the reconnect restarts the watch within a fraction of a second;
	// when the reconnect status is missed, the watch's own heartbeats recover
	// it within about ten seconds. Either way it must catch up, checked above.
	if st.Watches < 2 {
		t.Logf("the watch did not restart on reconnect this time; its heartbeats recovered it")
	}

	subject := func(n *node, k string) uint64 {
		s, err := n.js.Stream(ctx, "KV_"+bucket)
		must(t, err)
		subj := "$KV." + bucket + ".lisbon." + k
		info, err := s.Info(ctx, jetstreamSubjects(subj))
		must(t, err)
		return info.State.Subjects[subj]
	}
	for _, k := range keys {
		own := subject(c.nodes["lisbon"], k)
		sourced := subject(c.nodes["baltimore"], k)
		if own != 1+24 || sourced != own {
			t.Errorf("%s: lisbon stored %d versions (want 25), baltimore received %d", k, own, sourced)
		}
		rec, err := bal.Get(ctx, k)
		must(t, err)
		if n := rec.Value.Commands.Len(); n != 24 {
			t.Errorf("%s: %d commands applied in baltimore, want 24", k, n)
		}
	}
}

// TestConditionalWritesRace races conditional writes made with the same
// token from goroutines of two Region values in one region (two processes
// over the same bucket): exactly one wins per token; the others get a
// PreconditionFailed carrying the winner's token.
func TestConditionalWritesRace(t *testing.T) {
	c := newCluster(t, "lisbon")
	n := c.nodes["lisbon"]
	a := c.region(n, nil, version.MustID("lisbon"))
	b := c.region(n, nil, version.MustID("lisbon"))
	ctx := c.ctx()
	rec, err := a.Create(ctx, "H-1", hold.New("H-1", "C1", "web", time.Now().Add(time.Hour)))
	must(t, err)
	for round := range 5 {
		token := rec.Token
		var (
			mu      sync.Mutex
			winners []replica.Record[hold.Hold]
			wg      sync.WaitGroup
		)
		for g := range 8 {
			r := a
			if g%2 == 1 {
				r = b
			}
			wg.Go(func() {
				got, err := r.Update(ctx, "H-1", token, func(h *hold.Hold, _ replica.Write) error {
					h.Touch(fmt.Sprintf("agent-%d-%d", round, g))
					return nil
				})
				var pf *replica.PreconditionFailed
				switch {
				case err == nil:
					mu.Lock()
					winners = append(winners, got)
					mu.Unlock()
				case errors.As(err, &pf):
					if pf.Current == token {
						t.Errorf("round %d: refused with the same token %s", round, token)
					}
				default:
					t.Errorf("round %d: %v", round, err)
				}
			})
		}
		wg.Wait()
		if len(winners) != 1 {
			t.Fatalf("round %d: %d winners for token %s, want 1", round, len(winners), token)
		}
		rec = winners[0]
	}
	final, err := b.Get(ctx, "H-1")
	must(t, err)
	if final.Token != rec.Token || final.Value.Agencies.Len() != 1+5 {
		t.Errorf("final %v token %s, last winner's token %s", final.Value.Agencies, final.Token, rec.Token)
	}
}
