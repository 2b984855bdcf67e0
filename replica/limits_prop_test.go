package replica_test

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/harborpoint/concord/hold"
	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

// sizeMachine drives hold replicas with a small record limit and entry
// limit through writes of random sizes up to the limit, replication in any
// order, conflict settlements and restarts as new incarnations (which add
// replicas to contexts), and checks after every step that every stored
// state is one the decoder accepts.
type sizeMachine struct {
	res      *resolve.Resolver[hold.Hold]
	names    []string
	ids      []version.ID
	stores   []*replica.MemoryStore
	rs       []*replica.Replica[hold.Hold]
	keys     []string
	maxBytes int
	maxEntry int
	refused  map[string]int
}

func (m *sizeMachine) boot(t *rapid.T, i int) {
	r, err := replica.New(m.ids[i], m.stores[i], m.res, replica.Options[hold.Hold]{
		CommandKeys: hold.CommandKeys, MaxRecordBytes: m.maxBytes, Limits: version.Limits{MaxEntries: m.maxEntry},
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	m.rs[i] = r
}

// unchanged runs op on replica i and, if it fails, checks that key's stored
// bytes and revision did not move.
func (m *sizeMachine) unchanged(t *rapid.T, i int, key string, op func() error) error {
	before, rev, _ := m.stores[i].Get(bg, key)
	err := op()
	if err != nil {
		after, rev2, _ := m.stores[i].Get(bg, key)
		if rev != rev2 || !bytes.Equal(before, after) {
			t.Fatalf("a refused operation changed %v %s: %v", m.ids[i], key, err)
		}
	}
	return err
}

// allowed fails the test unless err is nil or one of the refusals a legal
// operation may meet.
func (m *sizeMachine) allowed(t *rapid.T, what string, err error, ok ...error) {
	if err == nil {
		return
	}
	var conflict *resolve.ConflictRequiresRetry
	if errors.As(err, &conflict) {
		m.refused["conflict"]++
		return
	}
	for _, o := range ok {
		if errors.Is(err, o) {
			m.refused[o.Error()]++
			return
		}
	}
	t.Fatalf("%s: unexpected error %v", what, err)
}

func (m *sizeMachine) note(t *rapid.T) string {
	return strings.Repeat("n", rapid.IntRange(0, m.maxBytes).Draw(t, "note bytes"))
}

func (m *sizeMachine) actions() map[string]func(*rapid.T) {
	pick := func(t *rapid.T) (int, string) {
		return rapid.IntRange(0, len(m.rs)-1).Draw(t, "replica"), rapid.SampledFrom(m.keys).Draw(t, "key")
	}
	return map[string]func(*rapid.T){
		"create": func(t *rapid.T) {
			i, k := pick(t)
			h := hold.New(k, "C1", m.names[i], minutes(10))
			h.Note = m.note(t)
			err := m.unchanged(t, i, k, func() error { _, err := m.rs[i].Create(bg, k, h); return err })
			m.allowed(t, "create", err, replica.ErrTooLarge, replica.ErrExists)
		},
		"note": func(t *rapid.T) {
			i, k := pick(t)
			n := m.note(t)
			err := m.unchanged(t, i, k, func() error { _, err := m.rs[i].Blind(bg, k, "note", hold.NoteEdit(n)); return err })
			m.allowed(t, "blind", err, replica.ErrTooLarge, replica.ErrNotFound)
		},
		"settle": func(t *rapid.T) {
			i, k := pick(t)
			rec, err := m.rs[i].Get(bg, k)
			if err != nil {
				return
			}
			v := rec.Branches[rapid.IntRange(0, len(rec.Branches)-1).Draw(t, "branch")].Value
			v.Note = m.note(t)
			err = m.unchanged(t, i, k, func() error { _, err := m.rs[i].ResolveConflict(bg, k, rec.Token, v); return err })
			m.allowed(t, "settle", err, replica.ErrTooLarge)
		},
		"replicate": func(t *rapid.T) {
			i, k := pick(t)
			j := rapid.IntRange(0, len(m.rs)-1).Draw(t, "from")
			data, err := m.rs[j].Export(bg, k)
			if err != nil || i == j {
				return
			}
			err = m.unchanged(t, i, k, func() error { _, err := m.rs[i].Apply(bg, k, data); return err })
			var tl *replica.TooLargeError
			if errors.As(err, &tl) && !tl.Merge {
				t.Fatalf("a state within the limit was refused as too large: %v", err)
			}
			m.allowed(t, "apply", err, replica.ErrTooLarge)
		},
		"new incarnation": func(t *rapid.T) {
			i := rapid.IntRange(0, len(m.rs)-1).Draw(t, "replica")
			next, err := m.ids[i].Next()
			if err != nil {
				t.Fatal(err)
			}
			m.ids[i], m.stores[i] = next, replica.NewMemoryStore()
			m.boot(t, i)
		},
		"": m.check,
	}
}

// check: every stored state decodes at its replica and at a fresh replica
// with the same limits, and is within the limits.
func (m *sizeMachine) check(t *rapid.T) {
	for i, r := range m.rs {
		for _, k := range m.keys {
			data, rev, _ := m.stores[i].Get(bg, k)
			if rev == 0 {
				continue
			}
			if len(data) > m.maxBytes {
				t.Fatalf("%v %s: stored %d bytes, limit %d", m.ids[i], k, len(data), m.maxBytes)
			}
			s, err := r.State(bg, k)
			if err != nil {
				t.Fatalf("%v %s: stored state does not decode: %v", m.ids[i], k, err)
			}
			if s.Len() > m.maxEntry || len(s.IDs()) > m.maxEntry {
				t.Fatalf("%v %s: %d siblings, %d replicas, limit %d", m.ids[i], k, s.Len(), len(s.IDs()), m.maxEntry)
			}
			if _, err := r.Get(bg, k); err != nil {
				t.Fatalf("%v %s: Get: %v", m.ids[i], k, err)
			}
			fresh, err := replica.New(version.MustID("checker"), replica.NewMemoryStore(), m.res, replica.Options[hold.Hold]{
				MaxRecordBytes: m.maxBytes, Limits: version.Limits{MaxEntries: m.maxEntry},
			})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := fresh.Apply(bg, k, data); err != nil {
				t.Fatalf("%v %s: a fresh replica refuses the stored state: %v", m.ids[i], k, err)
			}
		}
	}
}

// TestNoLegalSequenceExceedsTheDecoder is the size property of the issue:
// writes and merges of random sizes up to the record limit never store a
// state that this replica, or any replica with the same limits, cannot
// decode. Operations over a limit are refused and change nothing.
func TestNoLegalSequenceExceedsTheDecoder(t *testing.T) {
	refused := map[string]int{}
	rapid.Check(t, func(t *rapid.T) {
		m := &sizeMachine{
			res: hold.Resolver(resolve.Options{}), names: []string{"lisbon", "baltimore", "tokyo", "sydney"},
			keys: []string{"H-1", "H-2"}, maxBytes: rapid.IntRange(512, 4096).Draw(t, "record limit"),
			maxEntry: rapid.IntRange(2, 5).Draw(t, "entry limit"), refused: refused,
		}
		for i, n := range m.names {
			m.ids = append(m.ids, version.MustID(n))
			m.stores = append(m.stores, replica.NewMemoryStore())
			m.rs = append(m.rs, nil)
			m.boot(t, i)
		}
		t.Repeat(m.actions())
	})
	t.Logf("refusals met: %v", fmt.Sprint(refused))
	if refused[replica.ErrTooLarge.Error()] == 0 {
		t.Errorf("no operation reached a limit: the property proved nothing")
	}
}
