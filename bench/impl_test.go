package bench

import (
	"cmp"
	"encoding/binary"
	"slices"
	"testing"

	"github.com/DistributedClocks/GoVector/govec/vclock"
	"github.com/aalpar/crdt/dotcontext"
	"github.com/harborpoint/concord/version"
	"github.com/syncthing/syncthing/lib/protocol"
)

// Conversions from the shared shapes to each implementation's types, and of
// each implementation's answers to the baseline's Order, so that benchmarks
// and tests hand every implementation the same input.

func concordID(i int) version.ID { return version.MustID(ReplicaName(i)) }

func concordVector(c Counters) version.Vector {
	var dots []version.Dot
	for i, n := range c {
		if n > 0 {
			dots = append(dots, version.Dot{ID: concordID(i), Counter: n})
		}
	}
	v, err := version.NewVector(dots...)
	if err != nil {
		panic(err)
	}
	return v
}

func syncthingVector(c Counters) protocol.Vector {
	var v protocol.Vector
	for i, n := range c {
		if n > 0 {
			v.Counters = append(v.Counters, protocol.Counter{ID: protocol.ShortID(ReplicaNumber(i)), Value: n})
		}
	}
	return v
}

func govecClock(c Counters) vclock.VClock {
	v := vclock.New()
	for i, n := range c {
		if n > 0 {
			v.Set(ReplicaName(i), n)
		}
	}
	return v
}

// aalparContext returns the causal context holding every dot c covers. It
// issues each dot with Next, since the context offers no other way to set a
// counter, so it suits only small counters.
func aalparContext(c Counters) *dotcontext.CausalContext {
	ctx := dotcontext.New()
	for i, n := range c {
		for range n {
			ctx.Next(ReplicaName(i))
		}
	}
	return ctx
}

func fromVersion(o version.Order) Order {
	switch o {
	case version.Before:
		return Before
	case version.After:
		return After
	case version.Equal:
		return Equal
	case version.Concurrent:
		return Concurrent
	}
	return 0
}

func fromSyncthing(o protocol.Ordering) Order {
	switch o {
	case protocol.Equal:
		return Equal
	case protocol.Greater:
		return After
	case protocol.Lesser:
		return Before
	case protocol.ConcurrentGreater, protocol.ConcurrentLesser:
		return Concurrent
	}
	return 0
}

// govecOrder asks GoVector's yes/no Compare until it has the order of a
// relative to b. Compare(b, Ancestor) holds when b is an ancestor of a.
func govecOrder(a, b vclock.VClock) Order {
	switch {
	case a.Compare(b, vclock.Equal):
		return Equal
	case a.Compare(b, vclock.Ancestor):
		return After
	case a.Compare(b, vclock.Descendant):
		return Before
	case a.Compare(b, vclock.Concurrent):
		return Concurrent
	}
	return 0
}

// govecCondition is the one question a GoVector user asks to confirm the
// order want: the benchmarks ask only it, which favours GoVector.
func govecCondition(want Order) vclock.Condition {
	switch want {
	case After:
		return vclock.Ancestor
	case Before:
		return vclock.Descendant
	case Equal:
		return vclock.Equal
	}
	return vclock.Concurrent
}

// newOf returns a new T for a *T whose type cannot be named here (such as
// syncthing's internal wire types).
func newOf[T any](*T) *T { return new(T) }

// numberOfName is ReplicaNumber for a replica's name.
func numberOfName(name string) uint64 {
	var b [8]byte
	copy(b[:], name)
	return binary.BigEndian.Uint64(b[:])
}

func pairsOfConcord(v version.Vector) Pairs {
	var p Pairs
	for id, n := range v.All() {
		p = append(p, Pair{numberOfName(id.String()), n})
	}
	return p
}

func pairsOfSyncthing(v protocol.Vector) Pairs {
	var p Pairs
	for _, c := range v.Counters {
		p = append(p, Pair{uint64(c.ID), c.Value})
	}
	return p
}

func pairsOfGoVector(v vclock.VClock) Pairs {
	var p Pairs
	for name, n := range v.GetMap() {
		p = append(p, Pair{numberOfName(name), n})
	}
	slices.SortFunc(p, func(a, b Pair) int { return cmp.Compare(a.ID, b.ID) })
	return p
}

func aalparDot(i int, n uint64) dotcontext.Dot {
	return dotcontext.Dot{ID: ReplicaName(i), Seq: n}
}

func checkPairs(tb testing.TB, impl string, got, want Pairs) {
	tb.Helper()
	if !slices.Equal(got, want) {
		tb.Fatalf("%s: got %v, want %v", impl, got, want)
	}
}
