package policy_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/harborpoint/concord/policy"
	"github.com/harborpoint/concord/version"
)

// benchAWSets returns two add-wins sets of 1,000 elements each, 500 of them
// shared (the same adds, seen by both), 500 added concurrently on each side.
func benchAWSets() (policy.AWSet[string], policy.AWSet[string]) {
	a, b := version.MustID("lisbon"), version.MustID("baltimore")
	var base policy.AWSet[string]
	for i := 1; i <= 500; i++ {
		base = base.Add(fmt.Sprintf("shared-%04d", i), version.Dot{ID: a, Counter: uint64(i)})
	}
	x, y := base, base
	for i := 1; i <= 500; i++ {
		x = x.Add(fmt.Sprintf("lisbon-%04d", i), version.Dot{ID: a, Counter: uint64(500 + i)})
		y = y.Add(fmt.Sprintf("baltimore-%04d", i), version.Dot{ID: b, Counter: uint64(i)})
	}
	return x, y
}

func BenchmarkAddWinsMerge1000(b *testing.B) {
	x, y := benchAWSets()
	p := policy.AddWins[string]()
	bx := policy.Branch[policy.AWSet[string]]{Value: x, Stamp: version.Stamp{Dot: version.Dot{ID: version.MustID("lisbon"), Counter: 1000}}}
	by := policy.Branch[policy.AWSet[string]]{Value: y, Stamp: version.Stamp{Dot: version.Dot{ID: version.MustID("baltimore"), Counter: 500}}}
	var (
		m policy.Branch[policy.AWSet[string]]
		d policy.Decision
	)
	b.ReportAllocs()
	for b.Loop() {
		if err := p.MergeInto(&m, &d, &bx, &by); err != nil || m.Value.Len() != 1500 {
			b.Fatal(err, m.Value.Len())
		}
	}
}

// BenchmarkAddWinsBuild builds a set of n elements from empty, one add per
// write at one replica: through AWSet.Add (a copy per add, quadratic; only
// up to 1,000) and through an AWSetBuilder (linear), with the elements in
// ascending or shuffled order. ns/elem shows the growth: flat for the
// builder (the shuffled sort adds a log factor), proportional to n for Add.
func BenchmarkAddWinsBuild(b *testing.B) {
	id := version.MustID("lisbon")
	for _, order := range []string{"sorted", "shuffled"} {
		for _, n := range []int{100, 1000, 10000} {
			elems := make([]string, n)
			for i := range elems {
				elems[i] = fmt.Sprintf("item-%05d", i)
			}
			if order == "shuffled" {
				rand.New(rand.NewPCG(1, 2)).Shuffle(n, func(i, j int) { elems[i], elems[j] = elems[j], elems[i] })
			}
			for _, way := range []string{"add", "builder"} {
				if way == "add" && n > 1000 {
					continue
				}
				b.Run(fmt.Sprintf("way=%s/order=%s/n=%d", way, order, n), func(b *testing.B) {
					b.ReportAllocs()
					var s policy.AWSet[string]
					for b.Loop() {
						s = buildAWSet(way, elems, id)
					}
					if s.Len() != n {
						b.Fatalf("%d elements, want %d", s.Len(), n)
					}
					b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/elem")
				})
			}
		}
	}
}

func buildAWSet(way string, elems []string, id version.ID) policy.AWSet[string] {
	if way == "add" {
		var s policy.AWSet[string]
		for i, e := range elems {
			s = s.Add(e, version.Dot{ID: id, Counter: uint64(i + 1)})
		}
		return s
	}
	var bl policy.AWSetBuilder[string]
	for i, e := range elems {
		bl.Add(e, version.Dot{ID: id, Counter: uint64(i + 1)})
	}
	return bl.AWSet()
}

// BenchmarkUnionMerge1000 is the grow-only set beside it: the same shape
// without dots.
func BenchmarkUnionMerge1000(b *testing.B) {
	var xs, ys []string
	for i := 1; i <= 500; i++ {
		s := fmt.Sprintf("shared-%04d", i)
		xs, ys = append(xs, s), append(ys, s)
		xs = append(xs, fmt.Sprintf("lisbon-%04d", i))
		ys = append(ys, fmt.Sprintf("baltimore-%04d", i))
	}
	p := policy.Union[string]()
	bx := policy.Branch[policy.Set[string]]{Value: policy.NewSet(xs...)}
	by := policy.Branch[policy.Set[string]]{Value: policy.NewSet(ys...), Stamp: version.Stamp{Time: version.Timestamp{Wall: 1}}}
	var (
		m policy.Branch[policy.Set[string]]
		d policy.Decision
	)
	b.ReportAllocs()
	for b.Loop() {
		if _ = p.MergeInto(&m, &d, &bx, &by); m.Value.Len() != 1500 {
			b.Fatal(m.Value.Len())
		}
	}
}

func BenchmarkLWWMerge(b *testing.B) {
	p := policy.LWW[string]()
	x := policy.Branch[string]{Value: "a", Stamp: version.Stamp{Time: version.Timestamp{Wall: 1}}}
	y := policy.Branch[string]{Value: "b", Stamp: version.Stamp{Time: version.Timestamp{Wall: 2}}}
	var (
		m policy.Branch[string]
		d policy.Decision
	)
	b.ReportAllocs()
	for b.Loop() {
		_ = p.MergeInto(&m, &d, &x, &y)
	}
}
