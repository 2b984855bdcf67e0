package replica_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/harborpoint/concord/hold"
	"github.com/harborpoint/concord/replica"
)

// FuzzApply applies arbitrary bytes to a replica that holds a record under
// the key: Apply never panics, fails only with ErrMalformed, and changes
// nothing when it fails. Input it accepts leaves a record that reads, and
// applying it again is a no-op.
func FuzzApply(f *testing.F) {
	c := newCluster(f, "lisbon", "baltimore")
	a, b := c.rs[0], c.rs[1]
	_, err := a.Create(bg, "H-1", hold.New("H-1", "C1", "desk", minutes(10)))
	if err != nil {
		f.Fatal(err)
	}
	single, _ := a.Export(bg, "H-1")
	c.heal(f)
	if _, err := b.Blind(bg, "H-1", "note", hold.NoteEdit("b")); err != nil {
		f.Fatal(err)
	}
	if _, _, err := a.Command(bg, "H-1", "k", func(h *hold.Hold, _ replica.Write) error { return h.Extend(minutes(20)) }); err != nil {
		f.Fatal(err)
	}
	c.heal(f)
	siblings, _ := a.Export(bg, "H-1")
	// A tombstone concurrent with a live branch: the delete's encoding.
	cur, _ := b.Get(bg, "H-1")
	if _, err := b.Delete(bg, "H-1", cur.Token); err != nil {
		f.Fatal(err)
	}
	if _, err := a.Blind(bg, "H-1", "note", hold.NoteEdit("a")); err != nil {
		f.Fatal(err)
	}
	c.heal(f)
	deleted, _ := a.Export(bg, "H-1")
	for _, seed := range [][]byte{single, siblings, deleted} {
		f.Add(seed)
		f.Add(seed[:len(seed)/2])
		f.Add(append(bytes.Clone(seed), 0))
		for _, i := range []int{0, 1, 2, 3, 8, len(seed) / 2, len(seed) - 2} {
			m := bytes.Clone(seed)
			m[i] ^= 0xff
			f.Add(m)
			m = bytes.Clone(seed)
			m[i]++
			f.Add(m)
		}
	}
	f.Add([]byte{})
	f.Add([]byte{2, 0})

	f.Fuzz(func(t *testing.T, data []byte) {
		store := replica.NewMemoryStore()
		r, err := replica.New(c.ids[1], store, c.res, replica.Options[hold.Hold]{CommandKeys: hold.CommandKeys})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.Apply(bg, "H-1", single); err != nil {
			t.Fatal(err)
		}
		before, rev, _ := store.Get(bg, "H-1")
		_, err = r.Apply(bg, "H-1", data)
		after, rev2, _ := store.Get(bg, "H-1")
		if err != nil {
			if !errors.Is(err, replica.ErrMalformed) {
				t.Fatalf("Apply failed with %v, not ErrMalformed", err)
			}
			if !bytes.Equal(before, after) || rev != rev2 {
				t.Fatalf("a failed Apply changed the store")
			}
			return
		}
		// Accepted: the record reads (or is a conflict), and re-applying
		// the same bytes changes nothing.
		if _, err := r.Get(bg, "H-1"); err != nil && !errors.Is(err, replica.ErrNotFound) {
			t.Fatalf("Get after an accepted Apply: %v", err)
		}
		if _, err := r.Apply(bg, "H-1", data); err != nil {
			t.Fatalf("re-Apply of accepted input: %v", err)
		}
		again, _, _ := store.Get(bg, "H-1")
		if !bytes.Equal(after, again) {
			t.Fatalf("re-Apply of accepted input changed the store")
		}
		if err := r.Rescan(bg); err != nil {
			t.Fatalf("Rescan after an accepted Apply: %v", err)
		}
	})
}
