package bench

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"slices"
	"sync"
	"syscall"
	"testing"

	"github.com/harborpoint/concord/internal/merge"
	"github.com/harborpoint/concord/internal/sixfield"
	"github.com/harborpoint/concord/policy"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
	"github.com/syncthing/syncthing/lib/protocol"
	grove "github.com/xraph/grove/crdt"
)

// TestCPUTime is a measuring tool, not a check: with CONCORD_CPU=1 it
// prints, for the rows of issue 17, the process CPU time per operation of
// concord and its reference, interleaved in short rounds (median and
// minimum of the rounds). On a machine shared by several engineers the
// benchmarks' wall times include the time the process waited for a core;
// CPU time does not, so these figures are the ones to hold against
// absolute goals (such as "≤ 20 ns"). CPU time includes the garbage
// collector's work, which runs on other threads.
//
//	CONCORD_CPU=1 go test -run CPUTime -v .
//
// A value other than 1 is a regular expression that picks the rows by name
// (CONCORD_CPU='RecordMerge|ReplicaApply fresh'). The rows "ReplicaApply
// floor-binary" put the replica beside the parts of a fresh apply it cannot
// skip (see BenchmarkReplicaApplyFloor).
func TestCPUTime(t *testing.T) {
	only := os.Getenv("CONCORD_CPU")
	if only == "" {
		t.Skip("a measuring tool: set CONCORD_CPU=1")
	}
	pick := regexp.MustCompile(only)
	if only == "1" {
		pick = regexp.MustCompile("")
	}
	for _, row := range cpuRows(t) {
		if !pick.MatchString(row.name) {
			continue
		}
		res := make([][]float64, len(row.cases))
		for range 15 {
			for i, c := range row.cases {
				if c.setup != nil {
					c.setup()
				}
				start := cpuNow()
				for k := range row.ops {
					c.op(k)
				}
				res[i] = append(res[i], float64(cpuNow()-start)/float64(row.ops))
			}
		}
		for i, c := range row.cases {
			slices.Sort(res[i])
			fmt.Printf("%-28s %-10s median %9.1f  min %9.1f CPU-ns/op\n", row.name, c.impl, res[i][len(res[i])/2], res[i][0])
		}
	}
}

func cpuNow() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		panic(err)
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

type cpuRow struct {
	name  string
	ops   int // per round and implementation
	cases []cpuCase
}

type cpuCase struct {
	impl  string
	setup func() // before each round, not measured
	op    func(k int)
}

// Typed sinks: storing a result in an interface would allocate.
var (
	cpuSinkVector   version.Vector
	cpuSinkSync     protocol.Vector
	cpuSinkGrove    *grove.LWWRegister
	cpuSinkLWW      lwwValue
	cpuSinkRes      resolve.Resolution[ticket]
	cpuSinkTicket   ticket
	cpuSinkElements int
)

func cpuRows(t *testing.T) []cpuRow {
	var rows []cpuRow
	// LWWMerge.
	{
		p := policy.LWW[string]()
		x := policy.Branch[string]{Value: "a", Stamp: version.Stamp{Time: version.Timestamp{Wall: 1}, Dot: version.Dot{ID: lisbonID, Counter: 1}}}
		y := policy.Branch[string]{Value: "b", Stamp: version.Stamp{Time: version.Timestamp{Wall: 2}, Dot: version.Dot{ID: baltimoreID, Counter: 1}}}
		var m policy.Branch[string]
		var d policy.Decision
		gx, _ := grove.NewLWWRegister("a", grove.HLC{Timestamp: 1, NodeID: Lisbon}, Lisbon)
		gy, _ := grove.NewLWWRegister("b", grove.HLC{Timestamp: 2, NodeID: Baltimore}, Baltimore)
		bx, by := lwwValue{"a", 1, 1}, lwwValue{"b", 2, 2}
		rows = append(rows, cpuRow{"LWWMerge", 1_000_000, []cpuCase{
			{impl: implConcord, op: func(int) { _ = p.MergeInto(&m, &d, &x, &y) }},
			{impl: implGrove, op: func(int) { cpuSinkGrove = grove.MergeLWW(gx, gy) }},
			{impl: implBaseline, op: func(int) { cpuSinkLWW = bx.merge(by) }},
		}})
	}
	// RecordMerge.
	{
		tb := ticketBranches()
		r := ticketResolver()
		bs := []resolve.Branch[ticket]{tb[0].concord(), tb[1].concord()}
		x, y := tb[0].concord(), tb[1].concord()
		var floor sixfield.Dispatch
		rows = append(rows, cpuRow{"RecordMerge", 100_000, []cpuCase{
			{impl: implConcord, op: func(int) { _ = merge.Into(r, bs, &cpuSinkRes) }},
			{impl: implBaseline, op: func(int) { cpuSinkTicket, _ = sixfield.MergeByHand(x, y) }},
			{impl: implDispatch, op: func(int) { cpuSinkTicket, _ = floor.Merge(x, y) }},
		}})
	}
	// Join (fresh).
	for _, n := range Sizes {
		ca, cb := JoinPair(n)
		x, y := concordVector(ca), concordVector(cb)
		sx, sy := syncthingVector(ca), syncthingVector(cb)
		rows = append(rows, cpuRow{fmt.Sprintf("Join n=%d", n), 200_000 / n, []cpuCase{
			{impl: implConcord, op: func(int) { cpuSinkVector = x.Join(y) }},
			{impl: implSyncthing, op: func(int) { cpuSinkSync = sx.Copy().Merge(sy) }},
		}})
	}
	// AWSetAdd.
	{
		elems := AddElements()
		rows = append(rows, cpuRow{"AWSetAdd", 100, []cpuCase{
			{impl: implConcord, op: func(int) {
				var bl policy.AWSetBuilder[string]
				for i, e := range elems {
					bl.Add(e, version.Dot{ID: lisbonID, Counter: uint64(i + 1)})
				}
				cpuSinkElements = bl.AWSet().Len()
			}},
			{impl: implGrove, op: func(int) {
				s := grove.NewORSetState()
				for i, e := range elems {
					mustGrove(s.Add(e, Lisbon, groveHLC(Lisbon, i+1)))
				}
				cpuSinkElements = len(s.Entries)
			}},
		}})
	}
	// ReplicaApply: one round applies every key once, into a new replica
	// (fresh), one whose index is built (fresh+index), or into one that
	// holds them all (duplicate).
	ctx := context.Background()
	for _, codec := range []string{"binary", "json"} {
		keys, data := holdExports(t, codec)
		for _, kind := range []string{"fresh", "fresh+index", "duplicate"} {
			newReplica := holdReplica
			if kind == "fresh+index" {
				newReplica = indexedReplica
			}
			var dst = newReplica(t, Baltimore, codec)
			var mu sync.Mutex
			m := map[string][]byte{}
			apply := func(k int) {
				if _, err := dst.Apply(ctx, keys[k], data[k]); err != nil {
					t.Fatal(err)
				}
			}
			store := func(k int) {
				mu.Lock()
				m[keys[k]] = append(m[keys[k]][:0], data[k]...)
				mu.Unlock()
			}
			concord, baseline := cpuCase{impl: implConcord, op: apply}, cpuCase{impl: implBaseline, op: store}
			if kind != "duplicate" {
				concord.setup = func() { dst = newReplica(t, Baltimore, codec) }
				baseline.setup = func() { m = map[string][]byte{} }
			} else {
				for k := range keys {
					apply(k)
					store(k)
				}
			}
			rows = append(rows, cpuRow{"ReplicaApply " + kind + "-" + codec, len(keys), []cpuCase{concord, baseline}})
		}
	}
	// ReplicaApply floor: the steps of BenchmarkReplicaApplyFloor, each
	// applying every key once per round into a new store (fresh).
	{
		keys, data := holdExports(t, "binary")
		joins := floorJoins(t, data)
		var cases []cpuCase
		for _, step := range floorSteps {
			f := newFloorApply(t, step)
			cases = append(cases, cpuCase{impl: step, setup: f.reset, op: func(k int) {
				if err := f.apply(ctx, keys[k], data[k], joins[k]); err != nil {
					t.Fatal(err)
				}
			}})
		}
		rows = append(rows, cpuRow{"ReplicaApply floor-binary", len(keys), cases})
	}
	return rows
}
