package nats_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/harborpoint/concord/hold"
	"github.com/harborpoint/concord/replica"
)

// TestDeleteAcrossRegions: a hold deleted in Lisbon with its token is read
// as deleted in Baltimore once the tombstone has replicated; a stale delete
// is refused.
func TestDeleteAcrossRegions(t *testing.T) {
	c, lis, bal, _ := lisbonAndBaltimore(t)
	ctx := c.ctx()
	rec, err := lis.Create(ctx, "H-1", hold.New("H-1", "C1", "desk", at(14, 10, 0)))
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, func() error {
		_, err := bal.Get(ctx, "H-1")
		return err
	})
	moved, err := lis.Update(ctx, "H-1", rec.Token, func(h *hold.Hold, _ replica.Write) error { return h.Extend(at(14, 20, 0)) })
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lis.Delete(ctx, "H-1", rec.Token); !errors.Is(err, replica.ErrPreconditionFailed) {
		t.Fatalf("stale delete: %v", err)
	}
	if _, err := lis.Delete(ctx, "H-1", moved.Token); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, func() error {
		if _, err := bal.Get(ctx, "H-1"); !errors.Is(err, replica.ErrDeleted) {
			return fmt.Errorf("baltimore reads %v", err)
		}
		return nil
	})
}
