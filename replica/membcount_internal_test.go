package replica

import (
	"testing"
	"time"

	"github.com/harborpoint/concord/hold"
)

// TestTombstoneForgottenWhenWrittenAgain deletes a key at one replica,
// recreates it, and applies each state at another: once the live state is
// stored there, the key must no longer count among its tombstones (which
// writes check without the replica's lock while there are none).
func TestTombstoneForgottenWhenWrittenAgain(t *testing.T) {
	const key = "H-1"
	src := holdReplicaFor(t, "lisbon", hold.Codec{}, nil)
	dst := holdReplicaFor(t, "baltimore", hold.Codec{}, nil)
	pass := func() { t.Helper(); shipKey(t, src, dst, key) }
	expires := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	rec, err := src.Create(bg, key, hold.New(key, "C1", "desk", expires))
	if err != nil {
		t.Fatal(err)
	}
	pass()
	del, err := src.Delete(bg, key, rec.Token)
	if err != nil {
		t.Fatal(err)
	}
	pass()
	if _, ok := dst.memb.tombs[key]; !ok || dst.nTombs.Load() != 1 {
		t.Fatalf("the tombstone applied is not counted: %v, %d", ok, dst.nTombs.Load())
	}
	if _, err := src.Update(bg, key, del.Token, func(v *hold.Hold, _ Write) error {
		*v = hold.New(key, "C2", "desk", expires)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	pass()
	if _, ok := dst.memb.tombs[key]; ok || dst.nTombs.Load() != 0 {
		t.Fatalf("the key written again is still a tombstone: %v, %d", ok, dst.nTombs.Load())
	}
}
