package replica

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/harborpoint/concord/hold"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

// Apply recognises versions it already holds from their framing alone
// (held); these tests check that this shortcut answers, stores and reports
// exactly what the full path (decode, then ApplyState) does.

var bg = context.Background()

type recorder struct{ events []string }

func (r *recorder) Observe(e resolve.Event) {
	r.events = append(r.events, fmt.Sprintf("%v %s %s %s %d", e.Kind, e.Entity, e.Field, e.Policy, e.Siblings))
}

func holdReplicaFor(t *testing.T, name string, codec Codec[hold.Hold], obs resolve.Observer) *Replica[hold.Hold] {
	t.Helper()
	r, err := New(version.MustID(name), NewMemoryStore(), hold.Resolver(resolve.Options{}),
		Options[hold.Hold]{CommandKeys: hold.CommandKeys, Codec: codec, Observer: obs})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// holdHistory makes three replicas write key without talking, and now and
// then pass versions along, keeping every export: versions that descend
// from, duplicate, cover and conflict with each other.
func holdHistory(t *testing.T, codec Codec[hold.Hold], key string, seed uint64) [][]byte {
	t.Helper()
	return holdHistoryDeleting(t, codec, key, seed, false)
}

// holdHistoryDeleting is holdHistory in which, with deletes, replicas also
// delete the record now and then (and write it again).
func holdHistoryDeleting(t *testing.T, codec Codec[hold.Hold], key string, seed uint64, deletes bool) [][]byte {
	t.Helper()
	return holdHistoryAmong(t, codec, key, seed, deletes, []string{"lisbon", "baltimore", "sydney"}, 24)
}

// holdHistoryAmong is holdHistoryDeleting among replicas with the given
// names, in the given number of steps.
func holdHistoryAmong(t *testing.T, codec Codec[hold.Hold], key string, seed uint64, deletes bool, names []string, steps int) [][]byte {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 7))
	var rs []*Replica[hold.Hold]
	for _, name := range names {
		rs = append(rs, holdReplicaFor(t, name, codec, nil))
	}
	expires := time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC)
	if _, err := rs[0].Create(bg, key, hold.New(key, "C1", "desk", expires)); err != nil {
		t.Fatal(err)
	}
	var exports [][]byte
	export := func(r *Replica[hold.Hold]) {
		data, err := r.Export(bg, key)
		if err != nil {
			t.Fatal(err)
		}
		exports = append(exports, data)
	}
	export(rs[0])
	for step := range steps {
		i := rng.IntN(len(rs))
		r := rs[i]
		var err error
		ops := 4
		if deletes {
			ops = 6
		}
		switch rng.IntN(ops) {
		case 4: // errors (a conflict, nothing to delete) are part of the history
			if rec, err := r.Get(bg, key); err == nil {
				_, _ = r.Delete(bg, key, rec.Token)
			}
		case 5:
			_, _ = r.Create(bg, key, hold.New(key, "C2", "desk", expires))
		case 0:
			if len(exports) > 0 {
				_, err = r.Apply(bg, key, exports[rng.IntN(len(exports))])
			}
		case 1:
			_, err = r.Blind(bg, key, "note", hold.NoteEdit(fmt.Sprintf("note %d", step)))
		default:
			_, _, err = r.Command(bg, key, fmt.Sprintf("k%d", step), func(h *hold.Hold, _ Write) error {
				h.Touch(fmt.Sprintf("agency-%d", step))
				return nil
			})
		}
		var conflict *resolve.ConflictRequiresRetry
		if err != nil && !errors.Is(err, ErrNotFound) && !(deletes && errors.As(err, &conflict)) {
			t.Fatal(err)
		}
		if _, _, err := r.store.Get(bg, key); err == nil {
			if data, err := r.Export(bg, key); err == nil {
				exports = append(exports, data)
			}
		}
	}
	return exports
}

// TestHeldMatchesFullApply applies the versions of random histories, in
// random orders with re-deliveries, to two replicas: one through Apply,
// the other by decoding each version and calling ApplyState, which never
// takes the shortcut. After every step both return the same class and no
// error, store the same bytes and have told their observers the same
// events. The shortcut must have been taken.
func TestHeldMatchesFullApply(t *testing.T) {
	const key = "H-1"
	shortcuts := 0
	for trial := range 12 {
		codec := Codec[hold.Hold](JSON[hold.Hold]{})
		if trial%2 == 1 {
			codec = hold.Codec{}
		}
		exports := holdHistory(t, codec, key, uint64(trial))
		rng := rand.New(rand.NewPCG(uint64(trial), 11))
		order := slices.Clone(exports)
		for range len(exports) {
			order = append(order, exports[rng.IntN(len(exports))])
		}
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		var fastObs, fullObs recorder
		fast, full := holdReplicaFor(t, "a", codec, &fastObs), holdReplicaFor(t, "a", codec, &fullObs)
		for step, data := range order {
			if _, rev, _ := fast.store.Get(bg, key); rev != 0 {
				if in, err := fast.openStateFrame(data); err == nil {
					if _, ok := fast.heldFrame(bg, key, in); ok {
						shortcuts++
					}
				}
			}
			gotClass, gotErr := fast.Apply(bg, key, data)
			s, err := full.decode(key, data)
			if err != nil {
				t.Fatal(err)
			}
			wantClass, wantErr := full.ApplyState(bg, key, s)
			if gotClass != wantClass || gotErr != nil || wantErr != nil {
				t.Fatalf("trial %d step %d: Apply says %v, %v; ApplyState %v, %v", trial, step, gotClass, gotErr, wantClass, wantErr)
			}
			gotData, _, _ := fast.store.Get(bg, key)
			wantData, _, _ := full.store.Get(bg, key)
			if string(gotData) != string(wantData) {
				t.Fatalf("trial %d step %d: stored states differ", trial, step)
			}
			if !slices.Equal(fastObs.events, fullObs.events) {
				t.Fatalf("trial %d step %d: events %q, want %q", trial, step, fastObs.events, fullObs.events)
			}
		}
	}
	t.Logf("%d versions recognised as held", shortcuts)
	if shortcuts == 0 {
		t.Fatal("no version was recognised as held: the test does not exercise the shortcut")
	}
}

// TestHeldSkipsValues checks what the shortcut does not look at: the values
// of a version already held (they change nothing), while a version whose
// framing is malformed, or a stored record that does not read, still fails
// as the full path fails.
func TestHeldSkipsValues(t *testing.T) {
	const key = "H-1"
	r := holdReplicaFor(t, "a", hold.Codec{}, nil)
	exports := holdHistory(t, hold.Codec{}, key, 1)
	for _, data := range exports {
		if _, err := r.Apply(bg, key, data); err != nil {
			t.Fatal(err)
		}
	}
	held, rev, err := r.store.Get(bg, key)
	if err != nil || rev == 0 {
		t.Fatal(rev, err)
	}
	// The stored state with its value bytes garbled (same lengths) behind
	// a valid checksum, as a peer's codec bug would send it: held, so not
	// examined.
	payload, err := open(held, r.maxRecord)
	if err != nil {
		t.Fatal(err)
	}
	payload = slices.Clone(payload)
	f, err := stateFrame(payload, r.limits)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range f.Siblings() {
		for i := len(b) - 3; i < len(b); i++ {
			b[i] = 0xff
		}
	}
	if _, err := decodeState(payload, r.codec, r.limits, r.fields); err == nil {
		t.Fatal("garbling did not break the value")
	}
	if class, err := r.Apply(bg, key, seal(payload)); err != nil || class != resolve.Duplicate {
		t.Fatalf("held version with garbled values: %v, %v; want duplicate, no error", class, err)
	}
	// Damage the checksum sees is refused, held or not.
	damaged := slices.Clone(held)
	damaged[len(damaged)/2] ^= 1
	if _, err := r.Apply(bg, key, damaged); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("damaged held version: %v, want ErrCorrupt", err)
	}
	// Malformed framing still fails.
	if _, err := r.Apply(bg, key, held[:len(held)-1]); !errors.Is(err, ErrMalformed) {
		t.Fatalf("truncated version: %v, want ErrMalformed", err)
	}
	// A stored record that does not read is reported, shortcut or not.
	if _, err := r.store.CompareAndSet(bg, key, []byte("garbage"), rev); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Apply(bg, key, held); err == nil {
		t.Fatal("Apply over an unreadable stored record succeeded")
	}
}
