package nats_test

import (
	"context"
	"testing"

	concordnats "github.com/harborpoint/concord/adapters/nats"
	"github.com/nats-io/nats.go/jetstream"
)

// TestDeleteHorizonLeavesNoSubject: a deleted horizon leaves no subject in
// the bucket's stream — no purge marker either — so the horizon keys a
// region lists stay those it reaped. (The Restart check of storetest, in
// TestStoreConformance, shows that a re-creation deletes the horizon.)
func TestDeleteHorizonLeavesNoSubject(t *testing.T) {
	c := newCluster(t, "lisbon")
	ctx := context.Background()
	n := c.nodes["lisbon"]
	s, err := concordnats.NewStore(n.kv, "lisbon")
	must(t, err)
	must(t, s.PutHorizon(ctx, "H-1", []byte("horizon")))
	must(t, s.DeleteHorizon(ctx, "H-1"))
	info, err := n.js.Stream(ctx, "KV_"+n.kv.Bucket())
	must(t, err)
	state, err := info.Info(ctx, jetstream.WithSubjectFilter("$KV."+n.kv.Bucket()+".=horizon.>"))
	must(t, err)
	if len(state.State.Subjects) != 0 {
		t.Fatalf("horizon subjects left after DeleteHorizon: %v; want none (no purge marker either)", state.State.Subjects)
	}
}
