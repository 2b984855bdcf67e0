package version_test

import (
	"errors"
	"fmt"

	"github.com/harborpoint/concord/version"
)

// Two writes that started from the same version are concurrent; a write that
// saw another descends from it.
func ExampleVector_Compare() {
	v18 := version.MustVector("{lisbon:9 baltimore:9}")
	lisbon := version.MustVector("{lisbon:10 baltimore:9}")
	baltimore := version.MustVector("{lisbon:9 baltimore:10}")

	fmt.Println(lisbon.Compare(v18))
	fmt.Println(v18.Compare(lisbon))
	fmt.Println(lisbon.Compare(baltimore))
	fmt.Println(lisbon.Join(baltimore))
	// Output:
	// after
	// before
	// concurrent
	// {baltimore:10 lisbon:10}
}

// A write made with a context that is older than the stored value is stale:
// it neither replaces the newer value nor disappears — it becomes a sibling,
// and only the values its context covered are superseded.
func ExampleClock_Update() {
	lis := version.MustID("lisbon")
	var c version.Clock[string]
	c, _, _ = c.Update(version.Vector{}, "active until 14:10", lis)
	seen18 := c.Join() // what both clients read

	c, _, _ = c.Update(seen18, "active until 14:15", lis)
	fmt.Println(c.Values())

	// A client still holding seen18 writes again: its write is concurrent
	// with the extension, so both stay.
	c, d, _ := c.Update(seen18, "released", lis)
	fmt.Println(d, c.Values())

	// A client that read both supersedes both.
	c, _, _ = c.Update(c.Join(), "active until 14:20", lis)
	fmt.Println(c.Values())
	// Output:
	// [active until 14:15]
	// lisbon:3 [released active until 14:15]
	// [active until 14:20]
}

// Concurrent writes in two regions meet as siblings after sync; a reader
// reconciles them and writes the result back with the join as context.
func ExampleClock_Reconcile() {
	lis, iad := version.MustID("lisbon"), version.MustID("baltimore")
	base, _, _ := version.NewClock(version.Vector{}, "agencies: lisbon-desk", lis)
	seen := base.Join()

	atLis, _, _ := base.Update(seen, "agencies: lisbon-desk, phone", lis)
	atIad, _, _ := base.Update(seen, "agencies: lisbon-desk, web", iad)
	merged := atLis.Sync(atIad)
	fmt.Println(merged.Len(), "siblings:", merged.Values())

	v, join := merged.Reconcile(func(vs []string) string {
		return "agencies: lisbon-desk, phone, web"
	})
	fmt.Println(join)
	resolved, _, _ := merged.Update(join, v, iad)
	fmt.Println(resolved.Values())
	// Output:
	// 2 siblings: [agencies: lisbon-desk, web agencies: lisbon-desk, phone]
	// {baltimore:1 lisbon:2}
	// [agencies: lisbon-desk, phone, web]
}

// Tokens round-trip through a URL-safe text form fit for an ETag.
func ExampleVector_MarshalText() {
	seen := version.MustVector("{lisbon:19 baltimore:4 bristol:1}")
	tok, _ := seen.MarshalText()
	fmt.Println(string(tok), len(tok))

	// A token from outside the process is read within limits.
	back, err := version.ParseToken(string(tok), version.Limits{MaxEntries: 16})
	fmt.Println(back, err, back.Equal(seen))

	// A damaged token is refused with a typed error.
	_, err = version.ParseToken(string(tok[:len(tok)-4]), version.Limits{})
	fmt.Println(errors.Is(err, version.ErrMalformedToken), err)
	// Output:
	// AQMJYmFsdGltb3JlAAQHYnJpc3RvbAABBmxpc2JvbgAT 44
	// {baltimore:4 bristol:1 lisbon:19} <nil> true
	// true version: malformed token at byte 25: truncated: in name
}

// A clock encodes with the caller's value encoding, for storage or for
// replication between regions.
func ExampleDecodeClock() {
	lis, iad := version.MustID("lisbon"), version.MustID("baltimore")
	c, _, _ := version.NewClock(version.Vector{}, "extend to 14:15", lis)
	c, _, _ = c.Update(version.Vector{}, "confirm B-3107", iad)

	data, _ := c.AppendBinary(nil, func(dst []byte, v string) ([]byte, error) {
		return append(dst, v...), nil
	})
	back, err := version.DecodeClock(data, version.Limits{}, func(d version.Dot, b []byte) (string, error) {
		return d.String() + " " + string(b), nil
	})
	fmt.Println(err, back.Equal(c))
	for s := range back.Siblings() {
		fmt.Println(s.Value)
	}
	// Output:
	// <nil> true
	// baltimore:1 confirm B-3107
	// lisbon:1 extend to 14:15
}
