package version

import (
	"fmt"
	"time"
)

// Stamp orders writes for last-writer-wins: hybrid logical clock time
// first, then the write's dot (replica, then counter) as a tiebreak that
// every replica computes the same way. The fields one write changes all
// carry its stamp, so a record is never torn within a write; a field it
// leaves equal keeps the stamp of the write that last changed it.
//
// Stamp is a comparable value; the zero Stamp orders before every other.
type Stamp struct {
	Time Timestamp // hybrid logical clock time of the write
	Dot  Dot       // the write's dot: unique, so stamps of distinct writes differ
}

// Compare orders stamps by time, then dot.
func (s Stamp) Compare(o Stamp) int {
	if c := s.Time.Compare(o.Time); c != 0 {
		return c
	}
	return s.Dot.Compare(o.Dot)
}

// String returns "time/dot".
func (s Stamp) String() string { return s.Time.String() + "/" + s.Dot.String() }

// Timestamp is a hybrid logical clock reading: wall time in nanoseconds since
// the Unix epoch, and a logical counter that orders events within one wall
// tick. The zero Timestamp orders before every other.
type Timestamp struct {
	Wall    int64
	Logical uint32
}

// Compare orders timestamps by wall time, then logical counter.
func (t Timestamp) Compare(o Timestamp) int {
	switch {
	case t.Wall < o.Wall:
		return -1
	case t.Wall > o.Wall:
		return 1
	case t.Logical < o.Logical:
		return -1
	case t.Logical > o.Logical:
		return 1
	}
	return 0
}

// Time returns the wall part as a time.Time.
func (t Timestamp) Time() time.Time { return time.Unix(0, t.Wall).UTC() }

// String returns the wall time in RFC 3339 with nanoseconds, and the logical
// counter when it is not zero.
func (t Timestamp) String() string {
	s := t.Time().Format(time.RFC3339Nano)
	if t.Logical != 0 {
		s += fmt.Sprintf("+%d", t.Logical)
	}
	return s
}
