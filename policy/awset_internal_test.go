package policy

import (
	"testing"

	"github.com/harborpoint/concord/version"
)

// size counts everything an AWSet stores: elements, add dots, cloud dots and
// vector entries.
func (s AWSet[E]) size() (elems, dots, cloud, vector int) {
	for _, x := range s.entries {
		dots += len(x.dots)
	}
	return len(s.entries), dots, len(s.cloud), s.known.Len()
}

// TestAWSetSizeBounded checks, at every step of many add/remove cycles on
// three replicas with concurrent adds and delayed exchanges, that the state
// is bounded by the live elements (at most one add dot per replica each) plus
// the context (one vector entry per replica plus the cloud), and that removed
// elements leave nothing behind.
func TestAWSetSizeBounded(t *testing.T) {
	ids := []version.ID{version.MustID("lisbon"), version.MustID("baltimore"), version.MustID("faro")}
	var sets [3]AWSet[int]
	var next [3]uint64
	merge := func(a, b AWSet[int]) AWSet[int] { return a.merge(b) }
	check := func(step int, s AWSet[int]) {
		t.Helper()
		elems, dots, cloud, vector := s.size()
		if dots > elems*len(ids) || vector > len(ids) || cloud > 2*len(ids) {
			t.Fatalf("step %d: %d elements, %d dots, cloud %d, vector %d: %v", step, elems, dots, cloud, vector, s)
		}
	}
	for step := range 20_000 {
		r := step % 3
		e := step % 11 // a few elements, added and removed over and over
		next[r]++
		d := version.Dot{ID: ids[r], Counter: next[r]}
		sets[r] = sets[r].Add(e, d)
		if step%5 == 4 {
			// A write of this replica to another field of the record:
			// its dot reaches the set only through the record's version.
			next[r]++
			v, err := version.NewVector(version.Dot{ID: ids[r], Counter: next[r]})
			if err != nil {
				t.Fatal(err)
			}
			sets[r] = sets[r].JoinContext(v)
		}
		if step%2 == 0 {
			sets[(r+2)%3] = sets[(r+2)%3].Remove((step / 2) % 11)
		}
		if step%3 == 0 {
			q := (r + 1) % 3
			sets[q] = merge(sets[q], sets[r])
		}
		for i := range sets {
			check(step, sets[i])
		}
	}
	all := merge(merge(sets[0], sets[1]), sets[2])
	// Remove everything at one replica and exchange: nothing remains but
	// the context, however many removals there were.
	for e := range 11 {
		all = all.Remove(e)
	}
	for i := range sets {
		sets[i] = merge(sets[i], all)
	}
	for i, s := range sets {
		elems, dots, _, vector := s.size()
		if elems != 0 || dots != 0 || vector != len(ids) {
			t.Fatalf("replica %d after removing everything: %v", i, s)
		}
	}
}
