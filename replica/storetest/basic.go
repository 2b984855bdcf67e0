package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/harborpoint/concord/replica"
)

func checkAbsent(c *checker) {
	c.expect("never written", "absent", nil, 0)
	if page, err := c.s.Scan(c.ctx, "", 10); err != nil || len(page) != 0 {
		c.errorf("Scan of an empty store = %d entries, %v; want none", len(page), err)
	}
}

func checkCompareAndSet(c *checker) {
	if _, err := c.s.CompareAndSet(c.ctx, "k", []byte("v"), 7); err == nil {
		c.errorf("CompareAndSet of an absent key at revision 7 succeeded")
	} else {
		c.mismatch("CompareAndSet of an absent key at revision 7", err)
	}
	c.expect("after a refused create", "k", nil, 0)

	r1 := c.create("k", []byte("one"))
	c.expect("after create", "k", []byte("one"), r1)
	for _, wrong := range []uint64{0, r1 + 1, r1 - 1, r1 ^ 1<<40, ^uint64(0)} {
		if wrong == r1 {
			continue
		}
		_, err := c.s.CompareAndSet(c.ctx, "k", []byte("wrong"), wrong)
		c.mismatch(fmt.Sprintf("CompareAndSet at revision %d while the key is at %d", wrong, r1), err)
		c.expect(fmt.Sprintf("after a refused CompareAndSet at revision %d", wrong), "k", []byte("one"), r1)
	}
	r2 := c.set("k", []byte("two"), r1)
	c.expect("after update", "k", []byte("two"), r2)
	_, err := c.s.CompareAndSet(c.ctx, "k", []byte("stale"), r1)
	c.mismatch("CompareAndSet at the previous revision", err)
	c.expect("after a refused stale update", "k", []byte("two"), r2)
	c.expect("another key", "k2", nil, 0)
}

func checkRevisions(c *checker) {
	seen := map[uint64]bool{}
	rev := uint64(0)
	for i := range 50 {
		v := []byte(fmt.Sprintf("v%d", i%3)) // the same values again: the revision must still change
		n := c.set("k", v, rev)
		if seen[n] {
			c.errorf("write %d got revision %d, which the key already had", i, n)
		}
		seen[n] = true
		c.expect(fmt.Sprintf("after write %d", i), "k", v, n)
		rev = n
		if i%10 == 0 { // writes to other keys must not disturb this one
			c.create(fmt.Sprintf("other%d", i), v)
		}
	}
}

func checkNoABA(c *checker) {
	seen := map[uint64]bool{}
	var old []uint64
	for i := range 10 {
		rev := c.create("k", []byte("v")) // the same value every time
		if seen[rev] {
			c.errorf("round %d: the re-created key got revision %d, which it had before a delete", i, rev)
		}
		seen[rev] = true
		for _, o := range old {
			_, err := c.s.CompareAndSet(c.ctx, "k", []byte("stale"), o)
			c.mismatch(fmt.Sprintf("round %d: CompareAndSet with revision %d from before a delete", i, o), err)
			c.mismatch(fmt.Sprintf("round %d: Delete with revision %d from before a delete", i, o), c.s.Delete(c.ctx, "k", o))
		}
		c.expect(fmt.Sprintf("round %d, after stale writes", i), "k", []byte("v"), rev)
		if err := c.s.Delete(c.ctx, "k", rev); err != nil {
			c.fatalf("round %d: Delete at the current revision: %v", i, err)
		}
		old = append(old, rev)
	}
}

func checkDelete(c *checker) {
	c.mismatch("Delete of an absent key", c.s.Delete(c.ctx, "k", 1))
	rev := c.create("k", []byte("v"))
	keep := c.create("kept", []byte("other"))
	for _, wrong := range []uint64{0, rev + 1, rev - 1, ^uint64(0)} {
		if wrong == rev {
			continue
		}
		c.mismatch(fmt.Sprintf("Delete at revision %d while the key is at %d", wrong, rev), c.s.Delete(c.ctx, "k", wrong))
		c.expect(fmt.Sprintf("after a refused Delete at revision %d", wrong), "k", []byte("v"), rev)
	}
	rev2 := c.set("k", []byte("w"), rev)
	c.mismatch("Delete at the revision before the last write", c.s.Delete(c.ctx, "k", rev))
	if err := c.s.Delete(c.ctx, "k", rev2); err != nil {
		c.fatalf("Delete at the current revision: %v", err)
	}
	c.expect("after Delete", "k", nil, 0)
	c.mismatch("a second Delete at the same revision", c.s.Delete(c.ctx, "k", rev2))
	c.expect("the other key, after Delete", "kept", []byte("other"), keep)
	page := c.scanAll(10)
	if len(page) != 1 || page[0].Key != "kept" {
		c.errorf("Scan after Delete = %v, want only \"kept\"", keysOf(page))
	}
	c.create("k", []byte("again")) // a deleted key can be created again
}

func checkEmptyValue(c *checker) {
	for _, v := range [][]byte{{}, nil} {
		rev := c.create("empty", v)
		got, r := c.get("empty")
		if r != rev || len(got) != 0 {
			c.errorf("Get of an empty value = %d bytes at revision %d, want 0 bytes at %d", len(got), r, rev)
		}
		page := c.scanAll(10)
		if len(page) != 1 || page[0].Key != "empty" || page[0].Rev != rev || len(page[0].Value) != 0 {
			c.errorf("Scan of one empty value = %v, want [empty] at revision %d", page, rev)
		}
		rev = c.set("empty", []byte("x"), rev)
		rev = c.set("empty", v, rev)
		c.expect("after setting back to empty", "empty", []byte{}, rev)
		if err := c.s.Delete(c.ctx, "empty", rev); err != nil {
			c.fatalf("Delete of an empty value: %v", err)
		}
	}
}

func checkMaxValue(c *checker) {
	rng := rand.New(rand.NewPCG(1, 2))
	big := func() []byte {
		v := make([]byte, c.opts.MaxValueSize)
		for i := range v {
			v[i] = byte(rng.Uint32())
		}
		return v
	}
	v1, v2 := big(), big()
	rev := c.create("big", v1)
	c.expect("a value of the maximum size", "big", v1, rev)
	rev = c.set("big", v2, rev)
	c.expect("another value of the maximum size", "big", v2, rev)
	page := c.scanAll(2)
	if len(page) != 1 || !bytes.Equal(page[0].Value, v2) || page[0].Rev != rev {
		c.errorf("Scan of one value of the maximum size: %d entries or a different value", len(page))
	}
}

func checkOwnership(c *checker) {
	v := []byte("value")
	rev := c.create("k", v)
	v[0] = 'X'
	c.expect("after the caller changed the slice it stored", "k", []byte("value"), rev)
	got, _ := c.get("k")
	if len(got) > 0 {
		got[0] = 'Y'
	}
	c.expect("after the caller changed a slice Get returned", "k", []byte("value"), rev)
	page := c.scanAll(4)
	if len(page) == 1 && len(page[0].Value) > 0 {
		page[0].Value[0] = 'Z'
	}
	c.expect("after the caller changed a slice Scan returned", "k", []byte("value"), rev)
}

func checkCanceled(c *checker) {
	rev := c.create("k", []byte("v"))
	canceled, cancel := context.WithCancel(c.ctx)
	cancel()
	expired, cancel2 := context.WithDeadline(c.ctx, time.Now().Add(-time.Second))
	defer cancel2()
	for _, ctx := range []context.Context{canceled, expired} {
		want := ctx.Err()
		is := func(what string, err error) {
			if !errors.Is(err, want) {
				c.errorf("%s with a done context: err = %v, want one wrapping %v", what, err, want)
			}
		}
		_, _, err := c.s.Get(ctx, "k")
		is("Get", err)
		_, err = c.s.CompareAndSet(ctx, "k", []byte("w"), rev)
		is("CompareAndSet", err)
		_, err = c.s.CompareAndSet(ctx, "new", []byte("w"), 0)
		is("CompareAndSet (create)", err)
		is("Delete", c.s.Delete(ctx, "k", rev))
		_, err = c.s.Scan(ctx, "", 10)
		is("Scan", err)
		c.expect("after writes with a done context", "k", []byte("v"), rev)
		c.expect("after a create with a done context", "new", nil, 0)
	}
}

func keysOf(page []replica.Entry) []string {
	keys := make([]string, len(page))
	for i, e := range page {
		keys[i] = e.Key
	}
	return keys
}
