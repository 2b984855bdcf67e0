package nats_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	concordnats "github.com/harborpoint/concord/adapters/nats"
	"github.com/harborpoint/concord/claim/claimtest"
	"github.com/harborpoint/concord/hold"
	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/version"
)

// TestRecordLimitFromBucket: with a bucket that takes messages of 4 KiB,
// MaxRecordBytes leaves room for JetStream's framing (a state of exactly
// the limit is stored, updated and sourced into the other region), and a
// replica configured with it refuses a larger write itself, with a
// *replica.TooLargeError, storing nothing; a replica on the default limit
// passes the same write to the bucket, which refuses it untyped.
func TestRecordLimitFromBucket(t *testing.T) {
	const max = 4096
	c := newClusterWith(t, concordnats.BucketOptions{MaxValueSize: max}, "lisbon", "baltimore")
	ctx := c.ctx()
	lisNode, balNode := c.nodes["lisbon"], c.nodes["baltimore"]
	limit, err := lisNode.kv.MaxRecordBytes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := max - concordnats.Framing - 4*len(bucket); limit != want {
		t.Fatalf("limit %d, want %d", limit, want)
	}

	// A state of exactly the limit fits, created and then updated (the
	// compare-and-set header is longer), and reaches the other region.
	store, err := concordnats.NewStore(lisNode.kv, "lisbon")
	if err != nil {
		t.Fatal(err)
	}
	rev, err := store.CompareAndSet(ctx, "edge", bytes.Repeat([]byte{'a'}, limit), 0)
	if err != nil {
		t.Fatalf("create at the limit: %v", err)
	}
	last := bytes.Repeat([]byte{'b'}, limit)
	if _, err := store.CompareAndSet(ctx, "edge", last, rev); err != nil {
		t.Fatalf("update at the limit: %v", err)
	}
	eventually(t, 10*time.Second, func() error {
		e, err := balNode.kv.Get(ctx, "lisbon.edge")
		if err != nil {
			return err
		}
		if !bytes.Equal(e.Value(), last) {
			return errors.New("baltimore has an older copy")
		}
		return nil
	})
	// The bucket's bound is real: a value of its size is refused.
	if _, err := store.CompareAndSet(ctx, "over", make([]byte, max), 0); err == nil {
		t.Fatal("the bucket took a value of its MaxValueSize with headers")
	}

	clock := claimtest.NewClock(at(14, 0, 0))
	lis := c.regionWith(lisNode, clock, version.MustID("lisbon"), replica.Options[hold.Hold]{MaxRecordBytes: limit}, nil)
	rec, err := lis.Create(ctx, "H-1", hold.New("H-1", "C1", "desk", at(14, 10, 0)))
	if err != nil {
		t.Fatal(err)
	}
	_, before, err := store.Get(ctx, "H-1")
	if err != nil {
		t.Fatal(err)
	}
	big := hold.NoteEdit(strings.Repeat("n", max)) // over the bucket whatever the codec
	_, err = lis.Blind(ctx, "H-1", "note", big)
	var tl *replica.TooLargeError
	if !errors.As(err, &tl) || tl.Limit != limit || tl.Key != "H-1" {
		t.Fatalf("write over the bucket's limit: %v", err)
	}
	if _, after, err := store.Get(ctx, "H-1"); err != nil || after != before {
		t.Fatalf("the store changed: revision %d, then %d (%v)", before, after, err)
	}
	got, err := lis.Get(ctx, "H-1")
	if err != nil || got.Token != rec.Token || !got.Value.Equal(rec.Value) {
		t.Fatalf("read %v %v, want the record as created", got, err)
	}

	// The default limit lets the write through to the bucket, which refuses
	// it with an error that is not replica's.
	dflt := c.regionWith(lisNode, clock, version.MustID("lisbon2"), replica.Options[hold.Hold]{}, nil)
	_, err = dflt.Blind(ctx, "H-1", "note", big)
	if err == nil || errors.Is(err, replica.ErrTooLarge) {
		t.Fatalf("default limit: %v, want the bucket's refusal", err)
	}
}
