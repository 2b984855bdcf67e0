package policy_test

import (
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/harborpoint/concord/policy"
	"github.com/harborpoint/concord/version"
	"pgregory.net/rapid"
)

func awMerge[E string | int](t rapid.TB, a, b policy.AWSet[E]) policy.AWSet[E] {
	t.Helper()
	m, _, err := policy.Merge(policy.AddWins[E](), policy.Branch[policy.AWSet[E]]{Value: a}, policy.Branch[policy.AWSet[E]]{Value: b})
	if err != nil {
		t.Fatal(err)
	}
	return m.Value
}

func dot(id version.ID, n uint64) version.Dot { return version.Dot{ID: id, Counter: n} }

func TestAWSetConcurrentAddRemove(t *testing.T) {
	lis, iad := replicas[0], replicas[1]
	var base policy.AWSet[string]
	base = base.Add("Lisbon-Desk", dot(lis, 1))

	removed := base.Remove("Lisbon-Desk")           // Lisbon removes what it saw
	readded := base.Add("Lisbon-Desk", dot(iad, 1)) // Baltimore adds again, concurrently
	other := base.Remove("Lisbon-Desk").Add("Porto", dot(lis, 2))

	for _, m := range []policy.AWSet[string]{awMerge(t, removed, readded), awMerge(t, readded, removed)} {
		if !m.Has("Lisbon-Desk") {
			t.Fatalf("concurrent add and remove: %v, want Lisbon-Desk present", m)
		}
	}
	// A remove that saw the add wins over it.
	if m := awMerge(t, base, removed); m.Has("Lisbon-Desk") {
		t.Fatalf("remove after add: %v, want Lisbon-Desk gone", m)
	}
	if got := awMerge(t, removed, other).Elements(); !slices.Equal(got, []string{"Porto"}) {
		t.Fatalf("got %v, want [Porto]", got)
	}
	// Inputs are unchanged.
	if !base.Has("Lisbon-Desk") || removed.Has("Lisbon-Desk") || base.Len() != 1 {
		t.Fatalf("merge changed its inputs: base %v removed %v", base, removed)
	}
}

func TestAWSetAddPanicsOnInvalidDot(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("Add with the zero dot did not panic")
		}
	}()
	var s policy.AWSet[int]
	s.Add(1, version.Dot{})
}

// TestAWSetContextCompaction checks that dots that arrive out of order wait
// in the cloud and fold into the vector once contiguous.
func TestAWSetContextCompaction(t *testing.T) {
	lis := replicas[0]
	var s policy.AWSet[string]
	s = s.Add("x", dot(lis, 3))
	s = s.Add("y", dot(lis, 2))
	if got, want := s.String(), "{x y} seen={}+[lisbon:2 lisbon:3]"; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
	s = s.Add("z", dot(lis, 1))
	if got, want := s.String(), "{x y z} seen={lisbon:3}"; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
	s = s.Remove("y").Remove("x").Remove("nothing")
	if got, want := s.String(), "{z} seen={lisbon:3}"; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}

// awModel is a plain model of one replica of an add-wins set: the add and
// remove events it has seen, with each remove's observed adds. An element is
// present iff some add of it has been seen that no seen remove observed.
type awModel struct {
	adds    map[version.Dot]string
	removes map[int]map[version.Dot]bool // remove event -> the adds it observed
}

func (m awModel) elements() []string {
	present := map[string]bool{}
	for d, e := range m.adds {
		observed := false
		for _, obs := range m.removes {
			observed = observed || obs[d]
		}
		if !observed {
			present[e] = true
		}
	}
	return slices.Sorted(maps.Keys(present))
}

// TestAWSetModel drives three replicas through random adds, removes and
// merges and checks each against the model after every step; after a full
// exchange all replicas hold equal states.
func TestAWSetModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		const n = 3
		var sets [n]policy.AWSet[string]
		var models [n]awModel
		for i := range models {
			models[i] = awModel{adds: map[version.Dot]string{}, removes: map[int]map[version.Dot]bool{}}
		}
		var next [n]uint64
		removes := 0
		elems := rapid.SampledFrom([]string{"x", "y", "z"})
		replica := rapid.IntRange(0, n-1)
		t.Repeat(map[string]func(*rapid.T){
			"add": func(t *rapid.T) {
				r, e := replica.Draw(t, "r"), elems.Draw(t, "e")
				next[r] += rapid.Uint64Range(1, 2).Draw(t, "step")
				d := dot(replicas[r], next[r])
				sets[r] = sets[r].Add(e, d)
				models[r].adds[d] = e
			},
			"remove": func(t *rapid.T) {
				r, e := replica.Draw(t, "r"), elems.Draw(t, "e")
				sets[r] = sets[r].Remove(e)
				obs := map[version.Dot]bool{}
				for d, x := range models[r].adds {
					if x == e {
						obs[d] = true
					}
				}
				removes++
				models[r].removes[removes] = obs
			},
			"merge": func(t *rapid.T) {
				r, q := replica.Draw(t, "r"), replica.Draw(t, "from")
				sets[r] = awMerge(t, sets[r], sets[q])
				maps.Copy(models[r].adds, models[q].adds)
				maps.Copy(models[r].removes, models[q].removes)
			},
			"": func(t *rapid.T) {
				for r := range n {
					if got, want := sets[r].Elements(), models[r].elements(); !slices.Equal(got, want) {
						t.Fatalf("replica %d: %v, model says %v", r, sets[r], want)
					}
				}
			},
		})
		// Full exchange: everyone converges to the same state.
		all := sets[0]
		for _, s := range sets[1:] {
			all = awMerge(t, all, s)
		}
		for r := range n {
			if got := awMerge(t, sets[r], all); !got.Equal(all) {
				t.Fatalf("replica %d after exchange: %v, want %v", r, got, all)
			}
		}
	})
}

func TestAWSetNoTombstonesAfterChurn(t *testing.T) {
	// Ten thousand add/remove cycles of distinct elements, made on three
	// replicas and exchanged, leave only the live elements and a context of
	// one entry per replica.
	var sets [3]policy.AWSet[string]
	var next [3]uint64
	exchange := func() {
		all := awMerge(t, awMerge(t, sets[0], sets[1]), sets[2])
		sets = [3]policy.AWSet[string]{all, all, all}
	}
	for i := range 5 {
		next[0]++
		sets[0] = sets[0].Add(fmt.Sprintf("live-%d", i), dot(replicas[0], next[0]))
	}
	exchange()
	before := sets[0].String()
	for cycle := range 10_000 {
		r := cycle % 3
		e := fmt.Sprintf("tmp-%d", cycle)
		next[r]++
		sets[r] = sets[r].Add(e, dot(replicas[r], next[r]))
		q := (r + 1) % 3
		sets[q] = awMerge(t, sets[q], sets[r]).Remove(e) // another replica removes it
		if cycle%7 == 0 {
			exchange()
		}
	}
	exchange()
	s := sets[0]
	if s.Len() != 5 {
		t.Fatalf("after churn: %d elements, want 5: %v ...", s.Len(), s.Elements()[:min(8, s.Len())])
	}
	want := fmt.Sprintf("{live-0 live-1 live-2 live-3 live-4} seen={baltimore:%d faro:%d lisbon:%d}", next[1], next[2], next[0])
	if got := s.String(); got != want {
		t.Fatalf("after churn:\n got %s\nwant %s\n(before churn: %s)", got, want, before)
	}
}
