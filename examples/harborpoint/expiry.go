package main

import (
	"errors"
	"time"

	"github.com/harborpoint/concord/hold"
	"github.com/harborpoint/concord/replica"
)

// retention is how long a released or expired hold is kept before it is
// deleted.
const retention = time.Hour

// sweep expires key in r if it is due: a conditional write with the token
// read, so a sweep that raced another write is refused and retried later.
func (s *story) sweep(r *replica.Replica[hold.Hold], key string) (bool, error) {
	rec, err := r.Get(s.ctx, key)
	if err != nil || rec.Conflict != nil || !rec.Value.Expire(s.now) {
		return false, err
	}
	_, err = r.Update(s.ctx, key, rec.Token, func(h *hold.Hold, _ replica.Write) error {
		h.Expire(s.now)
		return nil
	})
	return err == nil, err
}

// expiryAndReaping: a hold expires in both regions at once, is deleted after
// its retention, and its tombstone is reaped once both regions have it.
func (s *story) expiryAndReaping() error {
	s.section("H-8830: a hold expires, is deleted after retention, and its tombstone is reaped")
	s.now = at(14, 0, 0)
	if _, err := s.lis.Create(s.ctx, "H-8830", hold.New("H-8830", "C30", "lisbon-desk", at(14, 20, 0))); err != nil {
		return err
	}
	if err := s.reconcile(); err != nil {
		return err
	}
	s.now = at(14, 21, 0)
	for _, r := range []*replica.Replica[hold.Hold]{s.lis, s.iad} {
		done, err := s.sweep(r, "H-8830")
		if err != nil {
			return err
		}
		s.say("14:21 the expiry sweeper in %-9s expires H-8830: %v", r.ID(), done)
	}
	if err := s.reconcile(); err != nil {
		return err
	}
	rec, err := s.iad.Get(s.ctx, "H-8830")
	if err != nil {
		return err
	}
	s.say("both regions expired it at once -> %s, conflict: %v (equal statuses merge silently)", rec.Value.Status, rec.Conflict != nil)

	s.now = at(15, 21, 0)
	if !hold.Deletable(rec.Value, s.now, retention) {
		return errors.New("H-8830 should be deletable after its retention")
	}
	if _, err := s.lis.Delete(s.ctx, "H-8830", rec.Token); err != nil {
		return err
	}
	s.say("15:21 retention (%v) passed: Lisbon deletes H-8830 with its token (a tombstone)", retention)
	if err := s.reconcile(); err != nil {
		return err
	}
	_, err = s.iad.Get(s.ctx, "H-8830")
	var del *replica.Deleted
	s.say("Baltimore reads H-8830 -> deleted: %v (tombstone token %s)", errors.As(err, &del), tokenOf(del))
	for _, r := range []*replica.Replica[hold.Hold]{s.lis, s.iad} {
		n, err := r.Reap(s.ctx)
		if err != nil {
			return err
		}
		s.say("%-9s reaps %d tombstone(s): every region has acknowledged it", r.ID(), n)
	}
	_, err = s.lis.Get(s.ctx, "H-8830")
	s.say("Lisbon reads H-8830 -> not found: %v, gone from the store", errors.Is(err, replica.ErrNotFound) && !errors.Is(err, replica.ErrDeleted))
	return nil
}

func tokenOf(d *replica.Deleted) string {
	if d == nil {
		return "-"
	}
	return d.Token
}
