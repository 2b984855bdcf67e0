package replica_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/harborpoint/concord/hold"
	"github.com/harborpoint/concord/policy"
	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

// tally is a small record that is not a hold: a name set once and a
// maximum. Two creates with different names conflict and stay siblings.
type tally struct {
	Name string
	Max  int64
}

func tallyResolver(t testing.TB) *resolve.Resolver[tally] {
	t.Helper()
	r, err := resolve.New("tally", []resolve.Field[tally]{
		resolve.Bind("name", func(x *tally) *string { return &x.Name }, policy.Once[string]()),
		resolve.Bind("max", func(x *tally) *int64 { return &x.Max }, policy.Max[int64]()),
	}, nil, resolve.Options{})
	require.NoError(t, err)
	return r
}

// stateCase is a valid encoded state and an earlier state of the same key:
// a replica holding before must take state as a change.
type stateCase struct {
	name          string
	before, state []byte
}

// holdCases returns states of hold H-1 with one sibling and with two.
func holdCases(t *testing.T) []stateCase {
	t.Helper()
	c := newCluster(t, "lisbon", "baltimore")
	a, b := c.rs[0], c.rs[1]
	_, err := a.Create(bg, "H-1", hold.New("H-1", "C1", "desk", minutes(10)))
	require.NoError(t, err)
	created := export(t, a, "H-1")
	_, err = a.Blind(bg, "H-1", "note", hold.NoteEdit("window seat, late check-in"))
	require.NoError(t, err)
	_, _, err = a.Command(bg, "H-1", "x1", func(h *hold.Hold, _ replica.Write) error { return h.Extend(minutes(20)) })
	require.NoError(t, err)
	single := export(t, a, "H-1")
	c.heal(t)
	base, err := b.Get(bg, "H-1")
	require.NoError(t, err)
	_, _, err = a.Command(bg, "H-1", "x2", func(h *hold.Hold, _ replica.Write) error { return h.Extend(minutes(30)) })
	require.NoError(t, err)
	_, err = b.Update(bg, "H-1", base.Token, func(h *hold.Hold, _ replica.Write) error { return h.Release() })
	require.NoError(t, err)
	c.heal(t)
	two := export(t, a, "H-1")
	s, err := a.State(bg, "H-1")
	require.NoError(t, err)
	require.Equal(t, 2, s.Len())
	return []stateCase{
		{"hold, one sibling", created, single},
		{"hold, two siblings", single, two},
	}
}

// tallyCases returns states of a tally with one sibling and with two.
func tallyCases(t *testing.T) []stateCase {
	t.Helper()
	res := tallyResolver(t)
	a := newTallyReplica(t, "lisbon", res, nil)
	b := newTallyReplica(t, "baltimore", res, nil)
	_, err := a.Create(bg, "t", tally{Name: "rooms", Max: 3})
	require.NoError(t, err)
	one := export(t, a, "t")
	_, err = b.Create(bg, "t", tally{Name: "cabins", Max: 9})
	require.NoError(t, err)
	_, err = a.Apply(bg, "t", export(t, b, "t"))
	require.NoError(t, err)
	two := export(t, a, "t")
	s, err := a.State(bg, "t")
	require.NoError(t, err)
	require.Equal(t, 2, s.Len())
	return []stateCase{
		{"tally, one sibling", nil, one},
		{"tally, two siblings", one, two},
	}
}

func newTallyReplica(t testing.TB, id string, res *resolve.Resolver[tally], obs resolve.Observer) *replica.Replica[tally] {
	t.Helper()
	r, err := replica.New(version.MustID(id), replica.NewMemoryStore(), res, replica.Options[tally]{Observer: obs})
	require.NoError(t, err)
	return r
}

func export[T any](t testing.TB, r *replica.Replica[T], key string) []byte {
	t.Helper()
	data, err := r.Export(bg, key)
	require.NoError(t, err)
	return data
}

// variants calls f with every single-bit flip of data and every byte of
// data set to 0x00, to 0xFF and to itself plus one, each distinct variant
// once.
func variants(data []byte, f func(v []byte)) {
	seen := map[string]bool{string(data): true}
	try := func(v []byte) {
		if !seen[string(v)] {
			seen[string(v)] = true
			f(v)
		}
	}
	for i := range data {
		for bit := range 8 {
			v := bytes.Clone(data)
			v[i] ^= 1 << bit
			try(v)
		}
		for _, x := range []byte{0x00, 0xFF, data[i] + 1} {
			v := bytes.Clone(data)
			v[i] = x
			try(v)
		}
	}
}

// holder is a replica over its own store that holds one key's state.
type holder[T any] struct {
	store *replica.MemoryStore
	rep   *replica.Replica[T]
}

func newHolder[T any](t testing.TB, id string, res *resolve.Resolver[T], opts replica.Options[T], key string, state []byte) holder[T] {
	t.Helper()
	h := holder[T]{store: replica.NewMemoryStore()}
	if state != nil {
		_, err := h.store.CompareAndSet(bg, key, state, 0)
		require.NoError(t, err)
	}
	var err error
	h.rep, err = replica.New(version.MustID(id), h.store, res, opts)
	require.NoError(t, err)
	return h
}

// changed reports whether applying data to h changed h's stored key, and
// the error of the apply.
func (h holder[T]) changed(t testing.TB, key string, data []byte) (bool, error) {
	t.Helper()
	before, rev, err := h.store.Get(bg, key)
	require.NoError(t, err)
	_, applyErr := h.rep.Apply(bg, key, data)
	after, rev2, err := h.store.Get(bg, key)
	require.NoError(t, err)
	return rev != rev2 || !bytes.Equal(before, after), applyErr
}

// TestEveryDamagedStateIsRefused flips every bit, and sets every byte to
// 0x00, 0xFF and itself + 1, of valid states of two record types with one
// and with two siblings, and applies each variant to a replica that holds an
// earlier state of the record (so that the undamaged state would change
// it). Every variant must be refused with ErrCorrupt, leave the store as it
// was, and be counted as a Corrupt event. This is the experiment
// (896 of 1,528 single-bit variants of a hold state decoded, 44 changed the
// store) with the checksum in place.
func TestEveryDamagedStateIsRefused(t *testing.T) {
	var tried, refused, changedStore int
	check := func(name string, run func(v []byte) (bool, error), count func() uint64, state []byte) {
		n0 := count()
		var here int
		variants(state, func(v []byte) {
			here++
			changed, err := run(v)
			if changed {
				changedStore++
				t.Errorf("%s: variant changed the store (error %v)", name, err)
			}
			if errors.Is(err, replica.ErrCorrupt) && errors.Is(err, replica.ErrMalformed) {
				refused++
			} else {
				t.Errorf("%s: variant applied with error %v, want ErrCorrupt", name, err)
			}
		})
		tried += here
		require.EqualValues(t, here, count()-n0, "%s: one Corrupt event per variant", name)
		t.Logf("%s: %d bytes, %d variants", name, len(state), here)
	}

	counters := &resolve.Counters{}
	holdRes := hold.Resolver(resolve.Options{})
	opts := replica.Options[hold.Hold]{CommandKeys: hold.CommandKeys, Observer: counters}
	for _, sc := range holdCases(t) {
		h := newHolder(t, "tokyo", holdRes, opts, "H-1", sc.before)
		changed, err := h.changed(t, "H-1", sc.state)
		require.NoError(t, err)
		require.True(t, changed, "%s: the undamaged state changes the store", sc.name)
		h = newHolder(t, "tokyo", holdRes, opts, "H-1", sc.before)
		check(sc.name, func(v []byte) (bool, error) { return h.changed(t, "H-1", v) },
			func() uint64 { return counters.Total(resolve.Corrupt) }, sc.state)
	}
	tallyRes := tallyResolver(t)
	topts := replica.Options[tally]{Observer: counters}
	for _, sc := range tallyCases(t) {
		h := newHolder(t, "tokyo", tallyRes, topts, "t", sc.before)
		changed, err := h.changed(t, "t", sc.state)
		require.NoError(t, err)
		require.True(t, changed, "%s: the undamaged state changes the store", sc.name)
		h = newHolder(t, "tokyo", tallyRes, topts, "t", sc.before)
		check(sc.name, func(v []byte) (bool, error) { return h.changed(t, "t", v) },
			func() uint64 { return counters.Total(resolve.Corrupt) }, sc.state)
	}
	t.Logf("variants tried %d, refused %d, changed the store %d", tried, refused, changedStore)
	require.Equal(t, tried, refused)
	require.Zero(t, changedStore)
}

// reseal frames payload as replica does (format byte, payload, CRC-32C of
// both): what a forger, or damage before the checksum was computed, makes.
func reseal(payload []byte) []byte {
	out := append([]byte{replica.StateFormat}, payload...)
	return binary.BigEndian.AppendUint32(out, crc32.Checksum(out, crc32.MakeTable(crc32.Castagnoli)))
}

// payload strips the frame off a valid state.
func payload(frame []byte) []byte { return frame[1 : len(frame)-crc32.Size] }

// TestDamageBehindTheChecksumNeverRaisesOwnCounter is the defence in
// depth: damage that the checksum cannot see (a state damaged before it was
// framed, or forged) reaches the decoder. Every single-bit and byte variant
// of the payload, re-framed with a valid checksum, is applied to the
// replica that wrote the record; none may raise that replica's own counter
// for the key — the change that made its next acknowledged write vanish.
func TestDamageBehindTheChecksumNeverRaisesOwnCounter(t *testing.T) {
	counters := &resolve.Counters{}
	holdRes := hold.Resolver(resolve.Options{})
	opts := replica.Options[hold.Hold]{CommandKeys: hold.CommandKeys, Observer: counters}
	lisbon := version.MustID("lisbon")
	var tried, decoded, changed, unissued int
	for _, sc := range holdCases(t) {
		h := newHolder(t, "lisbon", holdRes, opts, "H-1", sc.state)
		own := func() uint64 {
			s, err := h.rep.State(bg, "H-1")
			require.NoError(t, err)
			return s.Join().Get(lisbon)
		}
		issued := own()
		require.NotZero(t, issued)
		variants(payload(sc.state), func(v []byte) {
			tried++
			ch, err := h.changed(t, "H-1", reseal(v))
			switch {
			case errors.Is(err, replica.ErrUnissuedDot):
				unissued++
			case err == nil:
				decoded++
			default:
				require.ErrorIs(t, err, replica.ErrMalformed)
			}
			require.LessOrEqual(t, own(), issued, "a variant raised lisbon's own counter")
			if ch {
				changed++
				h = newHolder(t, "lisbon", holdRes, opts, "H-1", sc.state)
			}
		})
	}
	require.EqualValues(t, unissued, counters.Total(resolve.UnissuedDot))
	require.NotZero(t, unissued)
	t.Logf("re-framed payload variants: %d tried, %d decoded, %d changed the store, %d refused as unissued dots", tried, decoded, changed, unissued)
}

// TestDamagedCounterDoesNotLoseNextWrite is the lost write: one
// flipped bit raises Lisbon's counter in a replicated hold from 19 to 51.
// Before the checksum, Baltimore adopted {lisbon:51}, dropped Lisbon's next
// acknowledged note edit (lisbon:20) as stale, and anti-entropy overwrote it
// at Lisbon too. Now Baltimore refuses the damaged message, takes the edit,
// and both regions end with it; a forged state with a valid checksum is
// refused by Lisbon itself.
func TestDamagedCounterDoesNotLoseNextWrite(t *testing.T) {
	c := newCluster(t, "lisbon", "baltimore")
	lis, bal := c.rs[0], c.rs[1]
	_, err := lis.Create(bg, "H-1", hold.New("H-1", "C1", "desk", minutes(10)))
	require.NoError(t, err)
	for i := range 18 {
		_, err := lis.Blind(bg, "H-1", "note", hold.NoteEdit(string(rune('a'+i))))
		require.NoError(t, err)
	}
	good := export(t, lis, "H-1")
	lisbon := version.MustID("lisbon")
	s, err := lis.State(bg, "H-1")
	require.NoError(t, err)
	require.EqualValues(t, 19, s.Join().Get(lisbon))

	// Find the bit whose flip turns lisbon:19 into lisbon:51 (0x13 → 0x33).
	var forged, damaged []byte
	body := payload(good)
	for i := range body {
		v := bytes.Clone(body)
		v[i] ^= 0x20
		sc := newHolder(t, "scratch", c.res, replica.Options[hold.Hold]{CommandKeys: hold.CommandKeys}, "H-1", nil)
		if _, err := sc.rep.Apply(bg, "H-1", reseal(v)); err != nil {
			continue
		}
		if st, _ := sc.rep.State(bg, "H-1"); st.Join().Get(lisbon) == 51 {
			forged = reseal(v)
			damaged = bytes.Clone(good)
			damaged[1+i] ^= 0x20
			break
		}
	}
	require.NotNil(t, forged, "a bit flip makes lisbon:51")

	_, err = bal.Apply(bg, "H-1", damaged)
	require.ErrorIs(t, err, replica.ErrCorrupt)
	_, err = lis.Apply(bg, "H-1", forged)
	var ue *replica.UnissuedDotError
	require.ErrorAs(t, err, &ue)
	require.Equal(t, replica.UnissuedDotError{Key: "H-1", Replica: lisbon, Claimed: 51, Issued: 19}, *ue)
	require.EqualValues(t, 1, c.counters.Total(resolve.UnissuedDot))
	require.EqualValues(t, 1, c.counters.Total(resolve.Corrupt))

	_, err = bal.Apply(bg, "H-1", good)
	require.NoError(t, err)
	rec, err := lis.Blind(bg, "H-1", "note", hold.NoteEdit("acknowledged"))
	require.NoError(t, err)
	require.EqualValues(t, 20, rec.Stamp.Dot.Counter)
	_, err = bal.Apply(bg, "H-1", export(t, lis, "H-1"))
	require.NoError(t, err)
	c.heal(t)
	for _, r := range c.rs {
		got, err := r.Get(bg, "H-1")
		require.NoError(t, err)
		require.Equal(t, "acknowledged", got.Value.Note, "%v", r.ID())
		require.Equal(t, "{lisbon:20}", got.Context.String())
	}
}

// TestUnissuedDotIsRefused: a replica refuses a state claiming a write of
// its own ID it never made — beyond the last it stored for the key, or any
// at all for a key it does not hold — with an *UnissuedDotError, and
// nothing changes. Its own state echoed back is taken as usual.
func TestUnissuedDotIsRefused(t *testing.T) {
	c := newCluster(t, "lisbon", "baltimore")
	lis, bal := c.rs[0], c.rs[1]
	_, err := lis.Create(bg, "H-1", hold.New("H-1", "C1", "desk", minutes(10)))
	require.NoError(t, err)
	_, err = lis.Create(bg, "H-2", hold.New("H-2", "C2", "desk", minutes(10)))
	require.NoError(t, err)
	c.heal(t)
	// A second process under Lisbon's ID writes H-1 twice and H-3 once.
	twin := newHolder(t, "lisbon", c.res, replica.Options[hold.Hold]{CommandKeys: hold.CommandKeys}, "H-1", export(t, lis, "H-1"))
	for range 2 {
		_, err := twin.rep.Blind(bg, "H-1", "note", hold.NoteEdit("twin"))
		require.NoError(t, err)
	}
	_, err = twin.rep.Create(bg, "H-3", hold.New("H-3", "C3", "", minutes(1)))
	require.NoError(t, err)

	before := export(t, lis, "H-1")
	_, err = lis.Apply(bg, "H-1", export(t, twin.rep, "H-1"))
	var ue *replica.UnissuedDotError
	require.ErrorAs(t, err, &ue)
	require.ErrorIs(t, err, replica.ErrMalformed)
	require.EqualValues(t, 3, ue.Claimed)
	require.EqualValues(t, 1, ue.Issued)
	require.Equal(t, before, export(t, lis, "H-1"), "nothing changed")

	_, err = lis.Apply(bg, "H-3", export(t, twin.rep, "H-3"))
	require.ErrorAs(t, err, &ue)
	require.Zero(t, ue.Issued)
	_, err = lis.Get(bg, "H-3")
	require.ErrorIs(t, err, replica.ErrNotFound)
	require.EqualValues(t, 2, c.counters.Total(resolve.UnissuedDot))

	// Baltimore cannot tell; Lisbon's own state echoed back is fine.
	_, err = bal.Apply(bg, "H-2", export(t, lis, "H-2"))
	require.NoError(t, err)
	_, err = lis.Apply(bg, "H-2", export(t, bal, "H-2"))
	require.NoError(t, err)
}

// TestUnknownFormatIsNotCorrupt: a frame with a valid checksum and a format
// byte this release does not know is malformed (written by a newer release),
// not corrupt.
func TestUnknownFormatIsNotCorrupt(t *testing.T) {
	c := newCluster(t, "lisbon", "baltimore")
	_, err := c.rs[0].Create(bg, "H-1", hold.New("H-1", "C1", "desk", minutes(10)))
	require.NoError(t, err)
	v := reseal(payload(export(t, c.rs[0], "H-1")))
	v[0] = replica.StateFormat + 1
	binary.BigEndian.PutUint32(v[len(v)-4:], crc32.Checksum(v[:len(v)-4], crc32.MakeTable(crc32.Castagnoli)))
	_, err = c.rs[1].Apply(bg, "H-1", v)
	require.ErrorIs(t, err, replica.ErrMalformed)
	require.NotErrorIs(t, err, replica.ErrCorrupt)
	require.ErrorContains(t, err, "unknown state format 2")
}

// TestCommandResultsDoNotCollide: the remembered first result of a command
// is keyed by record key and idempotency key together, so a retry on key
// "a" with idempotency key "b\x00c" gets record "a", not the result of the
// command "c" on record "a\x00b".
func TestCommandResultsDoNotCollide(t *testing.T) {
	c := newCluster(t, "lisbon")
	r := c.rs[0]
	for _, k := range []string{"a", "a\x00b"} {
		_, err := r.Create(bg, k, hold.New(k, "C1", "", minutes(10)))
		require.NoError(t, err)
	}
	extend := func(h *hold.Hold, _ replica.Write) error { return h.Extend(minutes(20)) }
	_, _, err := r.Command(bg, "a\x00b", "c", extend)
	require.NoError(t, err)
	_, replayed, err := r.Command(bg, "a", "b\x00c", extend)
	require.NoError(t, err)
	require.False(t, replayed)
	rec, replayed, err := r.Command(bg, "a", "b\x00c", extend)
	require.NoError(t, err)
	require.True(t, replayed)
	require.Equal(t, "a", rec.Key)
	require.Equal(t, "a", rec.Value.ID)
}

// TestDecodeContext reads a state's context without its values, and refuses
// a damaged state as the replica does.
func TestDecodeContext(t *testing.T) {
	for _, sc := range holdCases(t) {
		c := newCluster(t, "tokyo")
		_, err := c.rs[0].Apply(bg, "H-1", sc.state)
		require.NoError(t, err)
		s, err := c.rs[0].State(bg, "H-1")
		require.NoError(t, err)
		got, err := replica.DecodeContext(sc.state, version.Limits{})
		require.NoError(t, err)
		require.True(t, s.Join().Equal(got), "%s: %v, state has %v", sc.name, got, s.Join())
		bad := bytes.Clone(sc.state)
		bad[3] ^= 0x10
		_, err = replica.DecodeContext(bad, version.Limits{})
		require.ErrorIs(t, err, replica.ErrCorrupt)
		_, err = replica.DecodeContext(reseal([]byte{9, 9}), version.Limits{})
		require.ErrorIs(t, err, replica.ErrMalformed)
		require.NotErrorIs(t, err, replica.ErrCorrupt)
	}
}
