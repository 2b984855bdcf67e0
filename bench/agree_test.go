package bench

import (
	"context"
	"slices"
	"testing"

	"github.com/DistributedClocks/GoVector/govec/vclock"
	"github.com/aalpar/crdt/awset"
	"github.com/aalpar/crdt/lwwregister"
	"github.com/harborpoint/concord/internal/dvv"
	"github.com/harborpoint/concord/internal/merge"
	"github.com/harborpoint/concord/internal/sixfield"
	"github.com/harborpoint/concord/policy"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
	"github.com/syncthing/syncthing/lib/protocol"
	grove "github.com/xraph/grove/crdt"
	"google.golang.org/protobuf/proto"
)

// The comparison is honest only if every implementation answers the same on
// the shaped inputs. These tests check that, and nothing about time.

func TestCompareAgrees(t *testing.T) {
	for _, c := range Cases {
		for _, n := range Sizes {
			x, y := ComparePair(n, c == "concurrent")
			want := After
			if c == "concurrent" {
				want = Concurrent
			}
			got := map[string]Order{
				implBaseline:  x.AsPairs().Compare(y.AsPairs()),
				implConcord:   fromVersion(concordVector(x).Compare(concordVector(y))),
				implSyncthing: fromSyncthing(syncthingVector(x).Compare(syncthingVector(y))),
				implGoVector:  govecOrder(govecClock(x), govecClock(y)),
			}
			for impl, o := range got {
				if o != want {
					t.Errorf("%s/n=%d: %s says %d, want %d", c, n, impl, o, want)
				}
			}
			// And the other way round.
			rev := map[string]Order{
				implBaseline:  y.AsPairs().Compare(x.AsPairs()),
				implConcord:   fromVersion(concordVector(y).Compare(concordVector(x))),
				implSyncthing: fromSyncthing(syncthingVector(y).Compare(syncthingVector(x))),
				implGoVector:  govecOrder(govecClock(y), govecClock(x)),
			}
			wantRev := Before
			if c == "concurrent" {
				wantRev = Concurrent
			}
			for impl, o := range rev {
				if o != wantRev {
					t.Errorf("%s/n=%d reversed: %s says %d, want %d", c, n, impl, o, wantRev)
				}
			}
		}
	}
}

func TestJoinAgrees(t *testing.T) {
	for _, n := range Sizes {
		x, y := JoinPair(n)
		want := make(Counters, n)
		for i := range want {
			want[i] = max(x[i], y[i])
		}
		wp := want.AsPairs()
		checkPairs(t, implBaseline, x.AsPairs().Join(y.AsPairs()), wp)
		checkPairs(t, implBaseline+" in place", x.AsPairs().JoinInPlace(y.AsPairs()), wp)
		checkPairs(t, implConcord, pairsOfConcord(concordVector(x).Join(concordVector(y))), wp)
		var bl version.Builder
		bl.Join(concordVector(x))
		bl.Join(concordVector(y))
		checkPairs(t, implConcord+" builder", pairsOfConcord(bl.Vector()), wp)
		sx := syncthingVector(x)
		checkPairs(t, implSyncthing, pairsOfSyncthing(sx.Copy().Merge(syncthingVector(y))), wp)
		checkPairs(t, implSyncthing+" input", pairsOfSyncthing(sx), x.AsPairs())
		g := govecClock(x)
		g.Merge(govecClock(y))
		checkPairs(t, implGoVector, pairsOfGoVector(g), wp)
	}
}

func TestDVVDescendsAgrees(t *testing.T) {
	for _, n := range Sizes {
		past, vi, wi, vv, wv := DVVShape(n)
		v, err := dvv.New(version.Dot{ID: concordID(vi), Counter: vv[vi]}, concordVector(past))
		if err != nil {
			t.Fatal(err)
		}
		w, err := dvv.New(version.Dot{ID: concordID(wi), Counter: past[wi]}, version.Vector{})
		if err != nil {
			t.Fatal(err)
		}
		if !v.Descends(w) || w.Descends(v) {
			t.Errorf("n=%d: concord: v.Descends(w) = %v, w.Descends(v) = %v", n, v.Descends(w), w.Descends(v))
		}
		if ctx := aalparContext(vv); !ctx.Has(aalparDot(wi, past[wi])) || ctx.Has(aalparDot(vi, vv[vi]+1)) {
			t.Errorf("n=%d: aalpar disagrees", n)
		}
		if o := syncthingVector(vv).Compare(syncthingVector(wv)); o != protocol.Greater {
			t.Errorf("n=%d: syncthing says %v", n, o)
		}
		if !govecClock(vv).Compare(govecClock(wv), vclock.Ancestor) {
			t.Errorf("n=%d: GoVector disagrees", n)
		}
		if o := vv.AsPairs().Compare(wv.AsPairs()); o != After {
			t.Errorf("n=%d: baseline says %d", n, o)
		}
	}
}

func TestEncodingsRoundTrip(t *testing.T) {
	for _, n := range Sizes {
		c := RandomCounters(n)
		want := c.AsPairs()

		data, err := concordVector(c).MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		var v version.Vector
		err = v.UnmarshalBinary(data)
		if err != nil {
			t.Fatal(err)
		}
		checkPairs(t, implConcord, pairsOfConcord(v), want)

		sv := syncthingVector(c)
		w := sv.ToWire()
		data, err = proto.Marshal(w)
		if err != nil {
			t.Fatal(err)
		}
		w2 := newOf(w)
		if err := proto.Unmarshal(data, w2); err != nil {
			t.Fatal(err)
		}
		checkPairs(t, implSyncthing, pairsOfSyncthing(protocol.VectorFromWire(w2)), want)

		g, err := vclock.FromBytes(govecClock(c).Bytes())
		if err != nil {
			t.Fatal(err)
		}
		checkPairs(t, implGoVector, pairsOfGoVector(g), want)

		p, err := DecodePairs(want.AppendBinary(nil))
		if err != nil {
			t.Fatal(err)
		}
		checkPairs(t, implBaseline, p, want)
	}
}

func sortedStrings(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

func groveElements(t *testing.T, s *grove.ORSetState) []string {
	t.Helper()
	var out []string
	for _, raw := range s.Elements() {
		var e string
		if err := jsonString(raw, &e); err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	return sortedStrings(out)
}

func TestAWSetsAgree(t *testing.T) {
	shape := NewSetShape()
	want := sortedStrings(slices.Concat(shape.Shared, shape.Left, shape.Right))

	cx, cy := concordSets(shape)
	m, _, err := policy.Merge(policy.AddWins[string](), policy.Branch[policy.AWSet[string]]{Value: cx}, policy.Branch[policy.AWSet[string]]{Value: cy})
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Value.Elements(); !slices.Equal(got, want) {
		t.Errorf("concord: %d elements, want %d", len(got), len(want))
	}

	ax, ay := aalparSets(shape)
	am := *ax
	am.Merge(ay)
	if got := sortedStrings(am.Elements()); !slices.Equal(got, want) {
		t.Errorf("aalpar: %d elements, want %d", len(got), len(want))
	}
	if ax.Len() != 1000 || ay.Len() != 1000 {
		t.Errorf("aalpar: merging into a copy changed the inputs (%d, %d elements)", ax.Len(), ay.Len())
	}

	gx, gy := groveSets(shape)
	if got := groveElements(t, grove.MergeSet(gx, gy)); !slices.Equal(got, want) {
		t.Errorf("grove: %d elements, want %d", len(got), len(want))
	}

	// A remove on one side concurrent with nothing on the other stays
	// removed in the add-wins sets (grove's has no per-merge context for it).
	rx := cx.Remove(shape.Shared[0])
	m, _, _ = policy.Merge(policy.AddWins[string](), policy.Branch[policy.AWSet[string]]{Value: rx}, policy.Branch[policy.AWSet[string]]{Value: cy})
	ax.Remove(shape.Shared[0])
	am = *ax
	am.Merge(ay)
	if m.Value.Has(shape.Shared[0]) || am.Has(shape.Shared[0]) {
		t.Errorf("observed remove lost: concord has it %v, aalpar has it %v", m.Value.Has(shape.Shared[0]), am.Has(shape.Shared[0]))
	}

	// The add benchmark's sets hold the same elements.
	elems := AddElements()
	var cs policy.AWSet[string]
	as := awset.New[string](Lisbon)
	gs := grove.NewORSetState()
	for i, e := range elems {
		cs = cs.Add(e, version.Dot{ID: lisbonID, Counter: uint64(i + 1)})
		as.Add(e)
		mustGrove(gs.Add(e, Lisbon, groveHLC(Lisbon, i+1)))
	}
	want = sortedStrings(elems)
	var cb policy.AWSetBuilder[string]
	for i, e := range elems {
		cb.Add(e, version.Dot{ID: lisbonID, Counter: uint64(i + 1)})
	}
	if built := cb.AWSet(); !built.Equal(cs) {
		t.Errorf("concord: the builder's set %v differs from the adds' %v", built, cs)
	}
	if !slices.Equal(cs.Elements(), want) || !slices.Equal(sortedStrings(as.Elements()), want) || !slices.Equal(groveElements(t, gs), want) {
		t.Error("the add benchmark's sets differ")
	}
}

func TestLWWAgrees(t *testing.T) {
	p := policy.LWW[string]()
	x := policy.Branch[string]{Value: "a", Stamp: version.Stamp{Time: version.Timestamp{Wall: 1}, Dot: version.Dot{ID: lisbonID, Counter: 1}}}
	y := policy.Branch[string]{Value: "b", Stamp: version.Stamp{Time: version.Timestamp{Wall: 2}, Dot: version.Dot{ID: baltimoreID, Counter: 1}}}
	for _, pair := range [][2]policy.Branch[string]{{x, y}, {y, x}} {
		if m, _, err := policy.Merge(p, pair[0], pair[1]); err != nil || m.Value != "b" {
			t.Errorf("concord: %q, %v", m.Value, err)
		}
	}
	ax, ay := lwwregister.New[string](Lisbon), lwwregister.New[string](Baltimore)
	ax.Set("a", 1)
	ay.Set("b", 2)
	am := *ax
	am.Merge(ay)
	if v, _, _ := am.Value(); v != "b" {
		t.Errorf("aalpar: %q", v)
	}
	gx, _ := grove.NewLWWRegister("a", grove.HLC{Timestamp: 1, NodeID: Lisbon}, Lisbon)
	gy, _ := grove.NewLWWRegister("b", grove.HLC{Timestamp: 2, NodeID: Baltimore}, Baltimore)
	for _, m := range []*grove.LWWRegister{grove.MergeLWW(gx, gy), grove.MergeLWW(gy, gx)} {
		var v string
		if err := m.Decode(&v); err != nil || v != "b" {
			t.Errorf("grove: %q, %v", v, err)
		}
	}
	if m := (lwwValue{"a", 1, 1}).merge(lwwValue{"b", 2, 2}); m.Value != "b" {
		t.Errorf("baseline: %q", m.Value)
	}
}

func TestRecordMergeAgrees(t *testing.T) {
	tb := ticketBranches()
	for _, order := range [][2]int{{0, 1}, {1, 0}} {
		a, b := tb[order[0]], tb[order[1]]
		res, err := merge.Branches(ticketResolver(), []resolve.Branch[ticket]{a.concord(), b.concord()})
		if err != nil {
			t.Fatal(err)
		}
		if !res.Value.Equal(mergedTicket) {
			t.Errorf("concord: %+v", res.Value)
		}
		if len(res.Decisions()) != 6 {
			t.Errorf("concord: %d decisions, want one per field", len(res.Decisions()))
		}
		gm, err := grove.NewMergeEngine().MergeState(a.grove(), b.grove())
		if err != nil {
			t.Fatal(err)
		}
		got, err := ticketOfGrove(gm)
		if err != nil {
			t.Fatal(err)
		}
		if !got.Equal(mergedTicket) {
			t.Errorf("grove: %+v", got)
		}
		if h, ok := sixfield.MergeByHand(a.concord(), b.concord()); !ok || !h.Equal(mergedTicket) {
			t.Errorf("baseline: %+v", h)
		}
		var d sixfield.Dispatch
		if h, ok := d.Merge(a.concord(), b.concord()); !ok || !h.Equal(mergedTicket) {
			t.Errorf("dispatch: %+v", h)
		}
	}
}

func TestReplicaApplyStores(t *testing.T) {
	for codec := range replicaCodecs {
		testReplicaApplyStores(t, codec)
	}
}

func testReplicaApplyStores(t *testing.T, codec string) {
	keys, data := holdExports(t, codec)
	ctx := context.Background()
	dst := holdReplica(t, Baltimore, codec)
	for round := range 2 {
		for k := range keys {
			if _, err := dst.Apply(ctx, keys[k], data[k]); err != nil {
				t.Fatal(err)
			}
		}
		for _, k := range []int{0, len(keys) - 1} {
			rec, err := dst.Get(ctx, keys[k])
			if err != nil {
				t.Fatal(err)
			}
			if rec.Value.Note != "call back" || rec.Value.ID != keys[k] {
				t.Errorf("%s, round %d: %s holds %+v", codec, round, keys[k], rec.Value)
			}
		}
	}
}
