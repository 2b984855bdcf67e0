package nats_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/harborpoint/concord/hold"
	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

// BenchmarkAdapter measures, in one two-region cluster, concord's writes and
// merges through the adapter beside bare KV writes of a value of the same
// size under the local region's prefix (so that they are sourced to the
// other region like concord's). The hold is stored in its binary codec,
// hold.Codec, and the bare values have the size of its encoded state:
//
//   - kv-put: KeyValue.Put, no condition;
//   - kv-cas: KeyValue.Get then KeyValue.Update at the read revision — the
//     bare read-modify-compare-and-set a conditional write needs;
//   - update: replica.Update with the token of the previous write (a
//     conditional write: read, precondition, resolve, encode, CAS);
//   - command: replica.Command (a merge-aware write with an idempotency key);
//   - merge: the watcher's work for one concurrent version from the other
//     region — replica.Apply of a new branch: read, classify, resolve the
//     two branches with the hold's policies, CAS;
//   - get: replica.Get, which reads both regions' copies first.
func BenchmarkAdapter(b *testing.B) {
	c := newCluster(b, "lisbon", "baltimore")
	n := c.nodes["lisbon"]
	lis := c.regionWith(n, nil, version.MustID("lisbon"), replica.Options[hold.Hold]{Codec: hold.Codec{}}, nil)
	ctx := context.Background()
	h := hold.New("H-1", "C1", "web", time.Now().Add(time.Hour))
	_, err := lis.Create(ctx, "H-1", h)
	must(b, err)
	size := len(mustGetRaw(b, n, "lisbon.H-1"))
	value := make([]byte, size)

	runs := 0
	b.Run("kv-put", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := n.kv.Put(ctx, "lisbon.bare-put", value); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("kv-cas", func(b *testing.B) {
		b.ReportAllocs()
		if _, err := n.kv.Put(ctx, "lisbon.bare-cas", value); err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			e, err := n.kv.Get(ctx, "lisbon.bare-cas")
			if err != nil {
				b.Fatal(err)
			}
			if _, err := n.kv.Update(ctx, "lisbon.bare-cas", value, e.Revision()); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("update", func(b *testing.B) {
		b.ReportAllocs()
		cur, err := lis.Get(ctx, "H-1")
		must(b, err)
		token := cur.Token
		i := 0
		for b.Loop() {
			i++
			r, err := lis.Update(ctx, "H-1", token, func(h *hold.Hold, _ replica.Write) error {
				h.Note = strconv.Itoa(i)
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
			token = r.Token
		}
	})
	b.Run("get", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := lis.Get(ctx, "H-1"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("command", func(b *testing.B) {
		b.ReportAllocs()
		// Each command adds its idempotency key to the hold's command set,
		// so a new hold is started every 50 commands (untimed) to keep the
		// record the size of a real one.
		key := ""
		i := 0
		for b.Loop() {
			if i%50 == 0 {
				b.StopTimer()
				runs++
				key = "C-" + strconv.Itoa(runs)
				_, err := lis.Create(ctx, key, h)
				must(b, err)
				b.StartTimer()
			}
			i++
			_, _, err := lis.Command(ctx, key, "k"+strconv.Itoa(i), func(h *hold.Hold, _ replica.Write) error {
				h.Note = strconv.Itoa(i)
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("merge", func(b *testing.B) {
		b.ReportAllocs()
		runs++
		key := "M-" + strconv.Itoa(runs)
		// Baltimore, in memory, writes branches concurrent with Lisbon's.
		bal, err := replica.New(version.MustID("baltimore"), replica.NewMemoryStore(), hold.Resolver(resolve.Options{}), replica.Options[hold.Hold]{Codec: hold.Codec{}})
		must(b, err)
		_, err = bal.Create(ctx, key, h)
		must(b, err)
		_, err = lis.Create(ctx, key, h)
		must(b, err)
		var versions [][]byte
		for i := range b.N + 1 {
			_, err := bal.Blind(ctx, key, "note", hold.NoteEdit(strconv.Itoa(i)))
			must(b, err)
			data, err := bal.Export(ctx, key)
			must(b, err)
			versions = append(versions, data)
		}
		b.ResetTimer()
		for i := range b.N {
			class, err := lis.Apply(ctx, key, versions[i])
			if err != nil || (i > 0 && class != resolve.IncomingWins && class != resolve.ConcurrentConflict) {
				b.Fatalf("apply %d: %v %v", i, class, err)
			}
		}
	})
}

func mustGetRaw(b *testing.B, n *node, key string) []byte {
	e, err := n.kv.Get(context.Background(), key)
	must(b, err)
	return e.Value()
}
