package replica

import (
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/harborpoint/concord/hold"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

// Apply stores a replicated state of one live sibling that supersedes the
// stored one as it came (adopt); this test checks that this fast path
// accepts, refuses, stores and reports exactly what the full path (decode,
// then ApplyState) does, on honest versions and on damaged ones that pass
// the checksum.

// decodeOnly is hold's codec without its Validator, so that adopt decodes
// the value to check it.
type decodeOnly struct{ hold.Codec }

func (c decodeOnly) Decode(data []byte) (hold.Hold, error) { return c.Codec.Decode(data) }

var _ Codec[hold.Hold] = decodeOnly{}

// openFrame opens an exported state: its payload, and the frame of its
// siblings (each sibling's bytes alias payload's).
func openFrame(t *testing.T, data []byte) ([]byte, version.ClockFrame) {
	t.Helper()
	payload, err := open(data, DefaultMaxRecordBytes)
	if err != nil {
		t.Fatal(err)
	}
	f, err := stateFrame(payload, version.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return payload, f
}

// damage returns variants of an exported state whose payload has one to
// three random bytes changed, sealed with a valid checksum again: what a
// buggy or hostile peer could send. Half of the changes fall in the first
// bytes of a sibling (its stamp, header and field stamps).
func damage(t *testing.T, rng *rand.Rand, data []byte, n int) [][]byte {
	t.Helper()
	payload, f := openFrame(t, data)
	var heads []int // offsets of the siblings' bytes in payload
	for _, b := range f.Siblings() {
		heads = append(heads, cap(payload)-cap(b))
	}
	var out [][]byte
	for range n {
		p := slices.Clone(payload)
		for range 1 + rng.IntN(3) {
			i := rng.IntN(len(p))
			if rng.IntN(2) == 0 {
				i = min(heads[rng.IntN(len(heads))]+rng.IntN(12), len(p)-1)
			}
			switch rng.IntN(4) {
			case 0:
				p[i] ^= 1 << rng.IntN(8)
			case 1:
				p[i]++
			case 2:
				p[i]--
			default:
				p[i] = byte(rng.IntN(256))
			}
		}
		out = append(out, seal(p))
	}
	return out
}

// canonical returns the state data holds as r would encode it, or the
// decoding error.
func canonical(t *testing.T, r *Replica[hold.Hold], data []byte) string {
	t.Helper()
	s, err := r.decode("H-1", data)
	if err != nil {
		return "error: " + err.Error()
	}
	enc, err := encodeState(s, r.codec)
	if err != nil {
		t.Fatal(err)
	}
	return string(enc)
}

// sameError reports whether two errors agree on what a caller branches on.
func sameError(a, b error) bool {
	for _, target := range []error{ErrMalformed, ErrCorrupt, ErrUnissuedDot, ErrTooLarge, ErrContention} {
		if errors.Is(a, target) != errors.Is(b, target) {
			return false
		}
	}
	return (a == nil) == (b == nil)
}

// manyWriters are the replicas of the histories of half the trials of
// TestAdoptMatchesFullApply: more than adopt reads into its array of
// context counters, and last among them "a", the receiving replica, whose
// dots in a received state it never issued (ErrUnissuedDot on the full
// path). The first sorts last, so that the fields it wrote and no other
// writer changed carry stamps of the last replica of the widest contexts.
var manyWriters = []string{"zurich", "baltimore", "sydney", "oslo", "lima", "quito", "cairo", "perth", "dakar", "tunis", "a"}

// holdChain returns the exports of a chain of writes of key: the first
// replica creates it, and each of the others in turn applies the state
// before and edits the note, so that each state descends the one before
// and its context names one replica more.
func holdChain(t *testing.T, codec Codec[hold.Hold], key string, names []string) [][]byte {
	t.Helper()
	var out [][]byte
	for i, name := range names {
		r := holdReplicaFor(t, name, codec, nil)
		var err error
		if i == 0 {
			_, err = r.Create(bg, key, hold.New(key, "C1", "desk", time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC)))
		} else if _, err = r.Apply(bg, key, out[i-1]); err == nil {
			_, err = r.Blind(bg, key, "note", hold.NoteEdit("from "+name))
		}
		if err != nil {
			t.Fatal(err)
		}
		data, err := r.Export(bg, key)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, data)
	}
	return out
}

// TestAdoptMatchesFullApply applies honest and damaged versions of random
// histories, in random orders, to two replicas: one through Apply, which
// adopts what it can, the other by decoding each version and calling
// ApplyState. After every step both return the same class and the same
// kind of error, hold the same state, index it the same way for
// anti-entropy (or, in a fifth of the trials, not at all until the first
// session builds the index at the end) and have told their observers the
// same events. Honest
// versions and damaged ones that still decode must have been adopted, and
// damaged ones refused. A quarter of the trials apply, in order, a chain of
// writes by these eleven writers (see holdChain), each of which must be
// adopted but the receiver's own (never issued by it), and damaged
// variants of its last; another quarter a random history among them.
func TestAdoptMatchesFullApply(t *testing.T) {
	if payloadFormat != checkedFormat {
		t.Fatalf("states are written in format %d, checkBranch reads format %d: bring it up to date", payloadFormat, checkedFormat)
	}
	const key = "H-1"
	codecs := []Codec[hold.Hold]{hold.Codec{}, decodeOnly{}, JSON[hold.Hold]{}}
	var adopted, adoptedDamaged, refused, wide, unissued int
	for trial := range 24 {
		codec := codecs[trial%len(codecs)]
		rng := rand.New(rand.NewPCG(uint64(trial), 13))
		// Half the trials apply the versions in the order they were made,
		// each followed by its damaged variants; the others shuffle them.
		var exports [][]byte
		honest := map[string]bool{}
		history := holdHistoryDeleting(t, codec, key, uint64(trial), true)
		switch trial % 4 {
		case 2:
			history = holdChain(t, codec, key, manyWriters)
		case 3:
			history = holdHistoryAmong(t, codec, key, uint64(trial), true, manyWriters, 48)
		}
		for i, data := range history {
			honest[string(data)] = true
			exports = append(exports, data)
			switch {
			case trial%4 != 2:
				exports = append(exports, damage(t, rng, data, 6)...)
			case i == len(history)-1:
				// A damaged state adopted would fork the chain: damage
				// only its last state.
				exports = append(exports, damage(t, rng, data, 12)...)
			}
		}
		if trial%2 == 1 {
			rng.Shuffle(len(exports), func(i, j int) { exports[i], exports[j] = exports[j], exports[i] })
		}
		var fastObs, fullObs recorder
		fast, full := holdReplicaFor(t, "a", codec, &fastObs), holdReplicaFor(t, "a", codec, &fullObs)
		// Most trials reconcile from the start, so that every state stored
		// is indexed as it is stored; the others never do until the end,
		// when the first session's build must find what the writes left.
		live := trial%5 != 4
		if live {
			for _, r := range []*Replica[hold.Hold]{fast, full} {
				if _, _, err := r.index(bg); err != nil { // as the first session does
					t.Fatal(err)
				}
			}
		}
		for step, data := range exports {
			// A version already held is not decoded on either side, by
			// design (TestHeldSkipsValues): both replicas take that path.
			held := isHeld(full, key, data)
			gotClass, gotErr, took := applyCounting(fast, key, data)
			var wantClass resolve.Class
			var wantErr error
			if held {
				wantClass, wantErr = full.Apply(bg, key, data)
			} else if s, err := full.decode(key, data); err != nil {
				wantErr = err
			} else {
				wantClass, wantErr = full.ApplyState(bg, key, s)
			}
			if gotClass != wantClass || !sameError(gotErr, wantErr) {
				t.Fatalf("trial %d step %d: Apply says %v, %v; the full path %v, %v", trial, step, gotClass, gotErr, wantClass, wantErr)
			}
			gotData, _, _ := fast.store.Get(bg, key)
			wantData, _, _ := full.store.Get(bg, key)
			if canonical(t, fast, gotData) != canonical(t, full, wantData) {
				gs, _ := fast.decode(key, gotData)
				ws, _ := full.decode(key, wantData)
				in, _ := fast.decode(key, data)
				t.Fatalf("trial %d step %d: stored states differ (adopted %v, class %v, honest %v):\nincoming %+v\ngot  %+v\nwant %+v", trial, step, took, gotClass, honest[string(data)], in.Values(), gs.Values(), ws.Values())
			}
			if got, want := fast.ix.x.Fingerprint(), full.ix.x.Fingerprint(); got != want || live && !indexesStored(t, fast, key) {
				t.Fatalf("trial %d step %d: the reconciliation index differs from the full path's, or does not hold the stored state", trial, step)
			}
			if !live && fast.ix.x.Len()+full.ix.x.Len() > 0 {
				t.Fatalf("trial %d step %d: a replica that never reconciled indexed a state", trial, step)
			}
			if !slices.Equal(fastObs.events, fullObs.events) {
				t.Fatalf("trial %d step %d: events %q, want %q", trial, step, fastObs.events, fullObs.events)
			}
			if f, err := full.openStateFrame(data); took && err == nil && f.Join().Len() > shortContext {
				wide++
			}
			if errors.Is(wantErr, ErrUnissuedDot) {
				unissued++
			}
			if trial%4 == 2 && honest[string(data)] && !took && !errors.Is(wantErr, ErrUnissuedDot) {
				t.Fatalf("trial %d step %d: a state of the chain was not adopted", trial, step)
			}
			switch {
			case took && honest[string(data)]:
				adopted++
			case took:
				adoptedDamaged++
			case wantErr != nil:
				refused++
			}
		}
		if !live { // the first session builds the index from the store
			for _, r := range []*Replica[hold.Hold]{fast, full} {
				if _, _, err := r.index(bg); err != nil {
					t.Fatal(err)
				}
			}
			if got, want := fast.ix.x.Fingerprint(), full.ix.x.Fingerprint(); got != want || !indexesStored(t, fast, key) {
				t.Fatalf("trial %d: the index built differs from the full path's, or does not hold the stored state", trial)
			}
		}
	}
	t.Logf("adopted %d honest and %d damaged versions (%d of more than %d replicas); %d damaged versions refused, %d claiming dots the receiver never issued",
		adopted, adoptedDamaged, wide, shortContext, refused, unissued)
	if adopted == 0 || adoptedDamaged == 0 || refused == 0 || wide == 0 || unissued == 0 {
		t.Fatal("the fast path was not exercised on honest versions, damaged ones that decode, and damaged ones that do not, on wide contexts and on claims of the receiver's dots")
	}
}

// indexesStored reports whether r's reconciliation index holds key at the
// context of the state r stores, or nothing if r stores none.
func indexesStored(t *testing.T, r *Replica[hold.Hold], key string) bool {
	t.Helper()
	data, rev, err := r.store.Get(bg, key)
	if err != nil {
		t.Fatal(err)
	}
	if rev == 0 {
		return r.ix.x.Len() == 0
	}
	f, err := r.openStateFrame(data)
	if err != nil {
		return true // not read, so not indexed: the full path reports it
	}
	return r.ix.x.Has(key, f.AppendJoin(nil))
}

// isHeld reports whether r's Apply would recognise data as held.
func isHeld(r *Replica[hold.Hold], key string, data []byte) bool {
	in, err := r.openStateFrame(data)
	if err != nil || in.Len() == 0 {
		return false
	}
	_, held := r.heldFrame(bg, key, in)
	return held
}

// applyCounting is r.Apply(bg, key, data), and reports whether Apply's
// fast path stored data: it takes the steps Apply takes, calling adopt
// itself (adopt does nothing when it reports false, so Apply then does
// what it would have done).
func applyCounting(r *Replica[hold.Hold], key string, data []byte) (resolve.Class, error, bool) {
	if payload, in, err := r.openState(data); err == nil && in.Len() > 0 {
		cur, rev, err := r.store.Get(bg, key)
		if _, held := r.heldFrame(bg, key, in); !held && err == nil {
			if class, ok, err := r.adopt(bg, key, data, payload, in, cur, rev); ok {
				return class, err, true
			}
		}
	}
	class, err := r.Apply(bg, key, data)
	return class, err, false
}

// TestAdoptRefusesMalformedBranch damages one byte of the branch header of
// honest single-sibling states, keeping the checksum valid, in each way
// the decoder refuses — a tombstone with a value, a field stamp beyond the
// fields, of a replica outside the context, of a write the context does
// not cover or numbered 0 — and a value that is not a hold, and applies each to an empty replica, where the fast path
// would otherwise store it: each must fail as malformed and store nothing.
func TestAdoptRefusesMalformedBranch(t *testing.T) {
	const key = "H-1"
	tried := 0
	for seed := range uint64(4) {
		for _, data := range holdHistoryDeleting(t, hold.Codec{}, key, seed, true) {
			payload, f := openFrame(t, data)
			if f.Len() != 1 || f.Join().Get(version.MustID("a")) != 0 {
				continue
			}
			for _, b := range f.Siblings() {
				at := headerOffsets(b)
				if at.fieldStamp < 0 {
					continue // no field stamps to damage
				}
				base := cap(payload) - cap(b)
				for name, edit := range map[string]func(p []byte){
					"tombstone with a value":    func(p []byte) { p[base+at.header] |= 1 },
					"field beyond the fields":   func(p []byte) { p[base+at.fieldStamp] = 0x7f },
					"replica outside context":   func(p []byte) { p[base+at.replica] = 0x7f },
					"write outside the context": func(p []byte) { p[base+at.replica+1] = 0x7f },
					"write numbered 0":          func(p []byte) { p[base+at.replica+1] = 0 },
					"value not a hold":          func(p []byte) { p[base+at.value] = 0x7f },
				} {
					p := slices.Clone(payload)
					edit(p)
					r := holdReplicaFor(t, "a", hold.Codec{}, nil)
					if _, err := r.Apply(bg, key, seal(p)); !errors.Is(err, ErrMalformed) {
						t.Fatalf("%s: Apply = %v, want ErrMalformed", name, err)
					}
					if _, rev, _ := r.store.Get(bg, key); rev != 0 {
						t.Fatalf("%s: stored", name)
					}
					tried++
				}
				r := holdReplicaFor(t, "a", hold.Codec{}, nil)
				if class, err, took := applyCounting(r, key, data); class != resolve.IncomingWins || err != nil || !took {
					t.Fatalf("honest state: %v, %v, adopted %v", class, err, took)
				}
			}
		}
	}
	if tried == 0 {
		t.Fatal("no state with field stamps to damage")
	}
}

// branchOffsets are where the parts of a sibling's bytes begin; each of
// the single-byte varints the test damages is a byte in honest states of
// small counters. fieldStamp is -1 when there is none.
type branchOffsets struct{ header, fieldStamp, replica, value int }

func headerOffsets(b []byte) branchOffsets {
	r := reader{b: b}
	r.varint()
	r.logical()
	at := branchOffsets{header: r.off, fieldStamp: -1}
	h := r.uvarint()
	n, applied, _ := branchHeader(checkedFormat, h)
	for i := range n {
		if i == 0 {
			at.fieldStamp = r.off
		}
		r.uvarint()
		r.varint()
		r.logical()
		if i == 0 {
			at.replica = r.off
		}
		r.uvarint()
		r.uvarint()
	}
	if applied {
		r.section()
	}
	at.value = r.off
	return at
}

// TestAdoptSettlesReview checks that a replicated state adopted over a
// record in the review queue settles its conflict as the full path does:
// a delete concurrent with an update is queued at replica a, then the
// state that resolves it at lisbon arrives and is adopted.
func TestAdoptSettlesReview(t *testing.T) {
	const key = "H-1"
	var obs recorder
	a := holdReplicaFor(t, "a", hold.Codec{}, &obs)
	lisbon, baltimore := holdReplicaFor(t, "lisbon", hold.Codec{}, nil), holdReplicaFor(t, "baltimore", hold.Codec{}, nil)
	ship := func(from, to *Replica[hold.Hold]) { shipKey(t, from, to, key) }
	rec, err := lisbon.Create(bg, key, hold.New(key, "C1", "desk", time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC)))
	if err != nil {
		t.Fatal(err)
	}
	ship(lisbon, baltimore)
	if _, err := lisbon.Delete(bg, key, rec.Token); err != nil {
		t.Fatal(err)
	}
	if _, err := baltimore.Blind(bg, key, "note", hold.NoteEdit("call back")); err != nil {
		t.Fatal(err)
	}
	ship(lisbon, a)
	ship(baltimore, a)
	ship(baltimore, lisbon)
	if len(a.Conflicts()) != 1 || len(lisbon.Conflicts()) != 1 {
		t.Fatalf("the delete and the update are not in review: %d, %d", len(a.Conflicts()), len(lisbon.Conflicts()))
	}
	c := lisbon.Conflicts()[0]
	if _, err := lisbon.ResolveConflict(bg, key, c.Token, hold.New(key, "C1", "desk", time.Date(2026, 3, 15, 12, 0, 0, 0, time.UTC))); err != nil {
		t.Fatal(err)
	}
	data, err := lisbon.Export(bg, key)
	if err != nil {
		t.Fatal(err)
	}
	obs.events = nil
	if class, err, took := applyCounting(a, key, data); class != resolve.IncomingWins || err != nil || !took {
		t.Fatalf("resolution: %v, %v, adopted %v", class, err, took)
	}
	if len(a.Conflicts()) != 0 || len(obs.events) != 1 || !strings.HasPrefix(obs.events[0], resolve.Reviewed.String()) {
		t.Fatalf("after the resolution: %d conflicts, events %q", len(a.Conflicts()), obs.events)
	}
}

// TestAdoptKeepsTheStoredCopy: a state whose one sibling the stored state
// already holds — the same dot — with a wider context and another copy of
// the value (a replica that reissued a dot, or a forgery that passes the
// checksum) supersedes the stored state, and the full path keeps the
// stored copy of the sibling; so must Apply.
func TestAdoptKeepsTheStoredCopy(t *testing.T) {
	const key = "H-1"
	baltimore := version.MustID("baltimore")
	state := func(r *Replica[hold.Hold], seen, note string) []byte {
		t.Helper()
		h := hold.New(key, "C1", "desk", time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC))
		h.Note = note
		d := version.Dot{ID: baltimore, Counter: 1}
		b := resolve.Branch[hold.Hold]{Value: h, Stamp: version.Stamp{Time: version.Timestamp{Wall: 1}, Dot: d}}
		c, got, err := version.NewClock(version.MustVector(seen), b, baltimore)
		if err != nil || got != d {
			t.Fatalf("NewClock: %v, dot %v", err, got)
		}
		payload, err := encodeState(c, r.codec)
		if err != nil {
			t.Fatal(err)
		}
		return seal(payload)
	}
	fast, full := holdReplicaFor(t, "a", hold.Codec{}, nil), holdReplicaFor(t, "a", hold.Codec{}, nil)
	stored, wider := state(fast, "lisbon:1", "first copy"), state(fast, "lisbon:2", "second copy")
	for _, r := range []*Replica[hold.Hold]{fast, full} {
		if _, err := r.Apply(bg, key, stored); err != nil {
			t.Fatal(err)
		}
	}
	gotClass, gotErr, _ := applyCounting(fast, key, wider)
	s, err := full.decode(key, wider)
	if err != nil {
		t.Fatal(err)
	}
	wantClass, wantErr := full.ApplyState(bg, key, s)
	gotData, _, _ := fast.store.Get(bg, key)
	wantData, _, _ := full.store.Get(bg, key)
	if gotClass != wantClass || !sameError(gotErr, wantErr) || canonical(t, fast, gotData) != canonical(t, full, wantData) {
		t.Fatalf("Apply: %v, %v, stored %q; the full path %v, %v, stored %q", gotClass, gotErr, canonical(t, fast, gotData), wantClass, wantErr, canonical(t, full, wantData))
	}
	if rec, err := fast.Get(bg, key); err != nil || rec.Value.Note != "first copy" {
		t.Fatalf("Get: %+v, %v; want the stored copy", rec.Value, err)
	}
}

// shipKey exports key's state at from and applies it at to.
func shipKey[T any](t *testing.T, from, to *Replica[T], key string) {
	t.Helper()
	data, err := from.Export(bg, key)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := to.Apply(bg, key, data); err != nil {
		t.Fatal(err)
	}
}
