package version

import (
	"fmt"
	"math"
)

// MaxCounter is the largest counter a dot or vector entry may hold. An
// increment past it fails with [ErrCounterOverflow] rather than wrapping.
const MaxCounter = math.MaxInt64

// Dot names one write event: the Counter-th write issued by replica ID.
// Dots are unique: no two writes share one, which is why a replica that lost
// its state must take a new [ID].
//
// Dot is a comparable value; the zero Dot is invalid.
type Dot struct {
	ID      ID
	Counter uint64
}

// Valid reports whether d has a non-zero ID and a counter in 1..[MaxCounter].
func (d Dot) Valid() bool {
	return !d.ID.IsZero() && d.Counter >= 1 && d.Counter <= MaxCounter
}

// Compare orders dots by ID, then counter.
func (d Dot) Compare(o Dot) int {
	if c := d.ID.Compare(o.ID); c != 0 {
		return c
	}
	return cmpU64(d.Counter, o.Counter)
}

// String returns "id:counter".
func (d Dot) String() string { return fmt.Sprintf("%v:%d", d.ID, d.Counter) }

// Order is the result of comparing two versions in the causal partial order.
// The zero Order is invalid, so an unset result is never mistaken for one.
type Order int8

// The four outcomes of a causal comparison of a with b.
const (
	_          Order = iota
	Before           // a happened before b: b descends from a
	After            // a happened after b: a descends from b
	Equal            // a and b are the same version
	Concurrent       // neither descends from the other
)

// String returns the name of the order.
func (o Order) String() string {
	switch o {
	case Before:
		return "before"
	case After:
		return "after"
	case Equal:
		return "equal"
	case Concurrent:
		return "concurrent"
	default:
		return fmt.Sprintf("Order(%d)", int8(o))
	}
}

// Descends reports whether o says a descends from (or equals) b.
func (o Order) Descends() bool { return o == After || o == Equal }
