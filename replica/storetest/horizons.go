package storetest

import (
	"fmt"

	"github.com/harborpoint/concord/replica"
)

// checkHorizons checks a store that is a replica.HorizonStore (any other
// store passes): horizons are put, replaced, deleted and paged through in
// key order, values are not shared, and they are a keyspace apart from the
// records.
func checkHorizons(c *checker) {
	hs, ok := c.s.(replica.HorizonStore)
	if !ok {
		return
	}
	put := func(key, value string) {
		v := []byte(value)
		if err := hs.PutHorizon(c.ctx, key, v); err != nil {
			c.fatalf("PutHorizon(%q): %v", key, err)
		}
		v[0] ^= 0xff // the store must have copied it
	}
	if got := c.horizons(hs, 10); len(got) != 0 {
		c.errorf("ScanHorizons of an empty store = %v, want none", got)
	}
	put("b", "h-b0")
	put("a", "h-a")
	put("c", "h-c")
	put("b", "h-b1") // replaces
	if err := hs.DeleteHorizon(c.ctx, "z"); err != nil {
		c.errorf("DeleteHorizon of an absent horizon: %v, want none", err)
	}
	want := []string{"a=h-a", "b=h-b1", "c=h-c"}
	for _, limit := range []int{1, 2, 3, 10} {
		if got := c.horizons(hs, limit); fmt.Sprint(got) != fmt.Sprint(want) {
			c.errorf("ScanHorizons by pages of %d = %v, want %v", limit, got, want)
		}
	}
	if _, err := hs.ScanHorizons(c.ctx, "", 0); err == nil {
		c.errorf("ScanHorizons with limit 0 succeeded, want an error")
	}
	if page := c.scanAll(10); len(page) != 0 {
		c.errorf("Scan with horizons only = %v, want none: a horizon is no record", keysOf(page))
	}
	c.expect("a key with only a horizon", "a", nil, 0)
	rev := c.create("a", []byte("record"))
	if err := c.s.Delete(c.ctx, "a", rev); err != nil {
		c.fatalf("Delete: %v", err)
	}
	if err := hs.DeleteHorizon(c.ctx, "b"); err != nil {
		c.fatalf("DeleteHorizon(%q): %v", "b", err)
	}
	want = []string{"a=h-a", "c=h-c"}
	if got := c.horizons(hs, 10); fmt.Sprint(got) != fmt.Sprint(want) {
		c.errorf("ScanHorizons after a record of the key came and went and DeleteHorizon(b) = %v, want %v", got, want)
	}
}

// horizons pages through the horizons of hs, limit at a time, and returns
// them as key=value. It then flips a byte of each value returned: the
// store must not share them.
func (c *checker) horizons(hs replica.HorizonStore, limit int) []string {
	var out []string
	for _, e := range c.pages("ScanHorizons", hs.ScanHorizons, limit) {
		out = append(out, e.Key+"="+string(e.Value))
		if len(e.Value) > 0 {
			e.Value[0] ^= 0xff
		}
	}
	return out
}
