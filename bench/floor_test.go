package bench

import (
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"sync"
	"testing"
	"time"

	"github.com/harborpoint/concord/hold"
	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/replica/rangesync"
	"github.com/harborpoint/concord/version"
)

// The floor of a fresh replicated write: the parts of replica.Apply that a
// replica storing a received state cannot skip, composed by hand on the
// same bytes, without the replica — the memory store's compare-and-set of
// the bytes, the reconciliation index's put of the context (once the
// replica reconciles: until its first session it keeps no index), and the
// checks of bytes from another process (checksum, framing, branch header
// and field stamps, the value by hold's codec). Against them, the map under
// a mutex of BenchmarkReplicaApply's baseline and the replica itself: how
// much of the gap between the two is the design's floor, and how much is
// the replica's own work. Two steps add the two things a replica does that
// a store of bytes does not, and cannot skip: it reads the stored state
// first (a map overwrites; a replica must tell a fresh state from a
// duplicate, a stale one or a conflict, and must not lose the stored write
// in the last two cases), and it moves its hybrid logical clock past the
// write's stamp (so that its own later writes are stamped after it).
//
// Each replica is set beside its own floor: "concord" (a replica that has
// not reconciled) beside store+checks+read+clock, "concord+index" (one
// whose index is built) beside store+index+checks+read+clock.

// The floor's steps, as they appear after "impl=" in benchmark names (so
// that run.sh's table puts them beside concord, replica.Apply) and in
// TestCPUTime's "ReplicaApply floor" rows.
var floorSteps = []string{
	"map", "store", "store+index", "checks", "store+index+checks",
	"store+checks+read+clock", implConcord,
	"store+index+checks+read+clock", implConcord + "+index",
}

// floorFields is the number of fields hold's resolver binds: what a field
// stamp's index is checked against.
const floorFields = 8

// statePayloadFormat is the format of the payload of the states replica
// writes (replica's payloadFormat, not exported): the floor checks only the
// current one, as the replica's fast path does.
const statePayloadFormat = 6

var castagnoliTable = crc32.MakeTable(crc32.Castagnoli)

var errFloor = errors.New("bench: a state the floor's checks refuse")

// floorApply is one step of the floor applying fresh states: a new one is
// made for each round of the keys (reset), as the fresh case makes a new
// replica.
type floorApply struct {
	step  string
	mu    sync.Mutex
	m     map[string][]byte
	store *replica.MemoryStore
	index *rangesync.Index
	hlc   *version.HLC
	r     *replica.Replica[hold.Hold]
	tb    testing.TB
}

func newFloorApply(tb testing.TB, step string) *floorApply {
	f := &floorApply{step: step, tb: tb}
	f.reset()
	return f
}

func (f *floorApply) reset() {
	f.m = map[string][]byte{}
	f.store = replica.NewMemoryStore()
	f.index = &rangesync.Index{}
	f.hlc = version.NewHLC(version.HLCOptions{}, version.Timestamp{})
	switch f.step {
	case implConcord:
		f.r = holdReplica(f.tb, Baltimore, "binary")
	case implConcord + "+index":
		f.r = indexedReplica(f.tb, Baltimore, "binary")
	}
}

// apply stores data, the exported state of key whose context's binary form
// is join, as the step does.
func (f *floorApply) apply(ctx context.Context, key string, data, join []byte) error {
	switch f.step {
	case "map":
		f.mu.Lock()
		f.m[key] = append(f.m[key][:0], data...)
		f.mu.Unlock()
		return nil
	case "store":
		_, err := f.store.CompareAndSet(ctx, key, data, 0)
		return err
	case "store+index":
		if _, err := f.store.CompareAndSet(ctx, key, data, 0); err != nil {
			return err
		}
		return f.index.Put(key, join)
	case "checks":
		var jbuf [64]byte
		var cbuf [8]uint64
		_, _, err := checkFresh(data, jbuf[:0], cbuf[:0])
		return err
	case "store+index+checks":
		var jbuf [64]byte
		var cbuf [8]uint64
		join, _, err := checkFresh(data, jbuf[:0], cbuf[:0])
		if err != nil {
			return err
		}
		if _, err := f.store.CompareAndSet(ctx, key, data, 0); err != nil {
			return err
		}
		return f.index.Put(key, join)
	case "store+checks+read+clock", "store+index+checks+read+clock":
		var jbuf [64]byte
		var cbuf [8]uint64
		join, ts, err := checkFresh(data, jbuf[:0], cbuf[:0])
		if err != nil {
			return err
		}
		_, rev, err := f.store.Get(ctx, key)
		if err != nil {
			return err
		}
		if err := f.hlc.Observe(ts); err != nil {
			return err
		}
		if _, err := f.store.CompareAndSet(ctx, key, data, rev); err != nil {
			return err
		}
		if f.step == "store+checks+read+clock" {
			return nil
		}
		return f.index.Put(key, join)
	case implConcord, implConcord + "+index":
		_, err := f.r.Apply(ctx, key, data)
		return err
	}
	panic("bench: unknown floor step " + f.step)
}

// checkFresh checks a replicated state of one sibling as a replica must
// before storing it — the frame's checksum and format, the clock framing,
// the branch header and its field stamps, the value by hold's codec — and
// appends to join the binary form of its context, which the index takes
// (counts has room for its counters); it returns that and the branch's
// stamp.
// It is written for the states the benchmarks apply (no applied keys in
// the header, no tombstone), not as a decoder.
func checkFresh(data, join []byte, counts []uint64) ([]byte, version.Timestamp, error) {
	if len(data) < 1+crc32.Size {
		return nil, version.Timestamp{}, errFloor
	}
	body := data[:len(data)-crc32.Size]
	if crc32.Checksum(body, castagnoliTable) != binary.BigEndian.Uint32(data[len(data)-crc32.Size:]) ||
		body[0] != replica.StateFormat || len(body) < 2 || body[1] != statePayloadFormat {
		return nil, version.Timestamp{}, errFloor
	}
	fr, err := version.ReadClockFrame(body[2:], version.Limits{})
	if err != nil || fr.Len() != 1 {
		return nil, version.Timestamp{}, errFloor
	}
	sum, branch := fr.Summarize(version.ID{}, join, counts)
	value, ts, ok := checkHeader(branch, sum.Counts)
	if !ok || (hold.Codec{}).Validate(value) != nil {
		return nil, version.Timestamp{}, errFloor
	}
	return sum.Join, ts, nil
}

// checkHeader walks a branch header — the stamp, then up to floorFields
// field stamps, each of a write the context (counters counts) covers — and
// returns the value's bytes and the stamp's time.
func checkHeader(b []byte, counts []uint64) ([]byte, version.Timestamp, bool) {
	off, ok := 0, true
	next := func() uint64 {
		x, n := binary.Uvarint(b[off:])
		if n <= 0 {
			ok = false
			return 0
		}
		off += n
		return x
	}
	wall := next() // zigzag
	logical := next()
	ts := version.Timestamp{Wall: int64(wall>>1) ^ -int64(wall&1), Logical: uint32(logical)}
	h := next()
	n := h >> 3
	if h&7 != 0 || n > floorFields || logical > 1<<32-1 {
		return nil, ts, false
	}
	field := uint64(0)
	for range n {
		gap := next()
		next() // wall time, relative to the stamp's
		next() // logical time
		k, counter := next(), next()
		if !ok || gap >= floorFields-field || k >= uint64(len(counts)) || counter < 1 || counter > counts[k] {
			return nil, ts, false
		}
		field += gap + 1
	}
	return b[off:], ts, ok
}

// floorJoins returns the binary form of each state's context, for the
// steps that take it as given.
func floorJoins(tb testing.TB, data [][]byte) [][]byte {
	joins := make([][]byte, len(data))
	for i, d := range data {
		j, _, err := checkFresh(d, nil, nil)
		if err != nil {
			tb.Fatalf("state %d: %v", i, err)
		}
		joins[i] = j
	}
	return joins
}

// BenchmarkReplicaApplyFloor applies the fresh states of
// BenchmarkReplicaApply (hold's binary codec) one per op at each step of
// the floor: a map under a mutex, the memory store's compare-and-set, that
// and the index's put, the checks alone, all three, and the two floors with
// the read of the stored state and the clock's observation of the stamp,
// each followed by its replica.Apply: without the index (impl=concord, a
// replica that has not reconciled) and with it (impl=concord+index).
func BenchmarkReplicaApplyFloor(b *testing.B) {
	keys, data := holdExports(b, "binary")
	joins := floorJoins(b, data)
	ctx := context.Background()
	for _, step := range floorSteps {
		b.Run("impl="+step, func(b *testing.B) {
			b.ReportAllocs()
			f := newFloorApply(b, step)
			for i := 0; b.Loop(); i++ {
				k := i % len(keys)
				if k == 0 && i > 0 {
					b.StopTimer()
					f.reset()
					b.StartTimer()
				}
				if err := f.apply(ctx, keys[k], data[k], joins[k]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestFloorChecksRefuseDamage checks that the floor's checks refuse a
// flipped bit anywhere (the checksum) and, among states damaged with a
// valid checksum, whatever a replica refuses (framing, header, value), so
// that the floor measures checks that check. (They refuse more: a state
// the fast path leaves to the full path, which may accept it.)
func TestFloorChecksRefuseDamage(t *testing.T) {
	_, data := holdExports(t, "binary")
	d := data[0]
	_, ts, err := checkFresh(d, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The state was written a moment ago: its stamp, read as the clock step
	// observes it, is within a minute of now.
	if age := time.Since(time.Unix(0, ts.Wall)); age < 0 || age > time.Minute {
		t.Fatalf("stamp %v read as %v old", ts, age)
	}
	for i := range len(d) * 8 {
		bad := append([]byte(nil), d...)
		bad[i/8] ^= 1 << (i % 8)
		if _, _, err := checkFresh(bad, nil, nil); err == nil {
			t.Fatalf("bit %d flipped: accepted", i)
		}
	}
	refused := 0
	for i := 1; i < len(d)-crc32.Size; i++ {
		bad := append([]byte(nil), d...)
		bad[i] ^= 0x40
		body := bad[:len(bad)-crc32.Size]
		binary.BigEndian.PutUint32(bad[len(body):], crc32.Checksum(body, castagnoliTable))
		_, _, err := checkFresh(bad, nil, nil)
		r := holdReplica(t, Baltimore, "binary")
		_, rerr := r.Apply(context.Background(), "H-0000", bad)
		if err == nil && rerr != nil {
			t.Fatalf("byte %d damaged, checksum fixed: the floor accepts what the replica refuses (%v)", i, rerr)
		}
		if err != nil && rerr != nil {
			refused++
		}
	}
	if refused == 0 {
		t.Fatal("no damage with a valid checksum refused")
	}
}
