package replica_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/harborpoint/concord/hold"
	"github.com/harborpoint/concord/policy"
	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

// packages are the prefixes a message may carry, each once.
var packages = map[string]bool{"replica": true, "resolve": true, "version": true, "policy": true, "hold": true}

// requireOnePrefix fails if a line of msg (errors.Join puts each error on
// its own line) names a package prefix twice: a part of the line — text
// between ": " separators — that is a package name, alone or followed by
// one word ("replica lisbon"), is a prefix.
func requireOnePrefix(t *testing.T, name, msg string) {
	t.Helper()
	for line := range strings.Lines(msg) {
		seen := map[string]bool{}
		for part := range strings.SplitSeq(strings.TrimSpace(line), ": ") {
			words := strings.Fields(part)
			if len(words) == 0 || len(words) > 2 || !packages[words[0]] {
				continue
			}
			assert.False(t, seen[words[0]], "%s: prefix %q twice in %q", name, words[0], line)
			seen[words[0]] = true
		}
		assert.NotEmpty(t, seen, "%s: no package prefix in %q", name, line)
	}
}

// TestErrorMessagesHaveOnePrefix walks the errors a caller of replica meets
// — from its own checks, its resolver and the version package — and checks
// that each message names its package once.
func TestErrorMessagesHaveOnePrefix(t *testing.T) {
	ctx := context.Background()
	res := hold.Resolver(resolve.Options{})
	store := replica.NewMemoryStore()
	mk := func(name string, s replica.Store, opts replica.Options[hold.Hold]) *replica.Replica[hold.Hold] {
		opts.CommandKeys = hold.CommandKeys
		r, err := replica.New(version.MustID(name), s, res, opts)
		require.NoError(t, err)
		return r
	}
	lis := mk("lisbon", store, replica.Options[hold.Hold]{})
	iad := mk("baltimore", replica.NewMemoryStore(), replica.Options[hold.Hold]{})
	small := mk("small", replica.NewMemoryStore(), replica.Options[hold.Hold]{MaxRecordBytes: 256})
	h := hold.New("H-1", "C1", "", time.Unix(1e9, 0))
	created, err := lis.Create(ctx, "H-1", h)
	require.NoError(t, err)
	state, err := lis.Export(ctx, "H-1")
	require.NoError(t, err)
	_, err = iad.Apply(ctx, "H-1", state)
	require.NoError(t, err)
	fn := func(v *hold.Hold, _ replica.Write) error { return v.Release() }

	errs := map[string]error{}
	add := func(name string, err error) {
		t.Helper()
		require.Error(t, err, name)
		errs[name] = err
	}
	_, err = replica.New(version.ID{}, store, res, replica.Options[hold.Hold]{})
	add("zero ID", err)
	_, err = replica.New[hold.Hold](version.MustID("x"), nil, res, replica.Options[hold.Hold]{})
	add("nil store", err)
	_, err = lis.Get(ctx, "absent")
	add("not found", err)
	_, err = lis.Export(ctx, "absent")
	add("export absent", err)
	_, err = lis.Create(ctx, "H-1", h)
	add("exists", err)
	_, err = lis.Create(ctx, strings.Repeat("k", replica.MaxKeyLen+1), h)
	add("key too long", err)
	_, err = lis.Update(ctx, "H-1", "", fn)
	add("precondition required", err)
	_, err = lis.Update(ctx, "H-1", "!!", fn)
	add("malformed token", err)
	_, err = lis.Update(ctx, "absent", created.Token, fn)
	add("update absent", err)
	_, err = lis.Blind(ctx, "H-1", "status", h)
	add("not blind-writable", err)
	_, err = lis.Blind(ctx, "absent", "note", hold.NoteEdit("x"))
	add("blind absent", err)
	_, _, err = lis.Command(ctx, "H-1", "", fn)
	add("idempotency key required", err)
	_, _, err = lis.Command(ctx, "absent", "k1", fn)
	add("command absent", err)
	_, err = lis.Apply(ctx, "H-2", []byte("not a state"))
	add("malformed state", err)
	_, err = lis.Apply(ctx, "H-2", state[:len(state)-1])
	add("corrupt state", err)
	_, err = small.Create(ctx, "H-3", hold.New("H-3", "C1", strings.Repeat("n", 512), time.Unix(1e9, 0)))
	add("too large", err)
	_, err = mk("lisbon", replica.NewMemoryStore(), replica.Options[hold.Hold]{}).Apply(ctx, "H-1", state)
	add("unissued dot", err)

	// Concurrent release and extend: a conflict no policy merges.
	_, err = lis.Update(ctx, "H-1", created.Token, fn)
	require.NoError(t, err)
	_, err = iad.Update(ctx, "H-1", created.Token, func(v *hold.Hold, _ replica.Write) error { return v.Extend(time.Unix(2e9, 0)) })
	require.NoError(t, err)
	require.NoError(t, replica.AntiEntropy(ctx, lis, iad))
	cur, err := lis.Get(ctx, "H-1")
	require.NoError(t, err)
	require.NotNil(t, cur.Conflict)
	_, err = lis.Update(ctx, "H-1", cur.Token, fn)
	add("conflict", err)
	_, err = lis.Update(ctx, "H-1", created.Token, fn)
	add("precondition failed", err)

	del, err := iad.Create(ctx, "H-4", h)
	require.NoError(t, err)
	_, err = iad.Delete(ctx, "H-4", del.Token)
	require.NoError(t, err)
	_, err = iad.Get(ctx, "H-4")
	add("deleted", err)
	_, err = iad.Create(ctx, "H-4", h)
	add("create over tombstone", err)

	// A stored state damaged in place: quarantined on read, skipped by a rescan.
	data, rev, err := store.Get(ctx, "H-1")
	require.NoError(t, err)
	_, err = store.CompareAndSet(ctx, "H-1", bytes.Repeat([]byte{0xff}, len(data)), rev)
	require.NoError(t, err)
	_, err = lis.Get(ctx, "H-1")
	add("quarantined", err)
	add("rescan", lis.Rescan(ctx))

	_, err = resolve.New("bad", []resolve.Field[hold.Hold]{
		resolve.Bind("note", func(h *hold.Hold) *string { return &h.Note }, policy.LWW[string]()),
		resolve.Bind("note", func(h *hold.Hold) *string { return &h.Note }, policy.LWW[string]()),
	}, nil, resolve.Options{})
	add("invalid resolver", err)

	for name, err := range errs {
		requireOnePrefix(t, name, err.Error())
	}
}
