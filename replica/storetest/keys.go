package storetest

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/harborpoint/concord/replica"
)

// keyCandidates are keys with the bytes stores tend to mishandle: separators
// and wildcards of subject-based stores, bytes SQL text types refuse or
// collate, invalid UTF-8, and prefixes of one another.
var keyCandidates = []string{
	"a", "A", "0", "-", "_", "a-b_c", "k", "k1", "k10",
	"a.b", "a/b", "a=b", "a b", "a*", "a>", "*", ">", ".a", "a.", "a..b", "a:b", "a\\b", "%", "%00",
	"a\x00b", "\x00", "\x01", "\t", "\n", "\x7f",
	"\xc3\xa9", "e\u0301", "日本", "🙂",
	"\xff", "\xfe", "\xc3", "\xed\xa0\x80", "\xff\x00",
	`"'` + "`",
	strings.Repeat("k", 64), strings.Repeat("é", 100),
}

func checkKeys(c *checker) {
	c.refused("")
	var valid []string
	revs := map[string]uint64{}
	for _, k := range keyCandidates {
		if !c.opts.ValidKey(k) {
			c.refused(k)
			continue
		}
		valid = append(valid, k)
		revs[k] = c.create(k, valueOf(k))
		c.expect("a key the store accepts", k, valueOf(k), revs[k])
	}
	slices.Sort(valid)
	page := c.scanAll(3)
	if got := keysOf(page); !slices.Equal(got, valid) {
		c.fatalf("Scan returned keys %q, want exactly the accepted keys in byte order %q", got, valid)
	}
	for _, e := range page {
		if string(e.Value) != string(valueOf(e.Key)) || e.Rev != revs[e.Key] {
			c.errorf("Scan entry %q = %s at revision %d, want %s at %d", e.Key, show(e.Value), e.Rev, valueOf(e.Key), revs[e.Key])
		}
	}
	for i, k := range valid {
		got, err := c.s.Scan(c.ctx, k, 1)
		want := valid[i+1 : min(i+2, len(valid))]
		if err != nil || !slices.Equal(keysOf(got), want) {
			c.errorf("Scan(%q, 1) = %q, %v; want %q", k, keysOf(got), err, want)
		}
	}
	for _, k := range valid {
		if err := c.s.Delete(c.ctx, k, revs[k]); err != nil {
			c.errorf("Delete(%q, %d): %v", k, revs[k], err)
		}
	}
	if rest := c.scanAll(10); len(rest) != 0 {
		c.errorf("Scan after deleting every key = %q, want nothing", keysOf(rest))
	}
}

// refused checks that every method refuses key with ErrInvalidKey and that
// nothing was stored.
func (c *checker) refused(key string) {
	is := func(what string, err error) {
		if !errors.Is(err, replica.ErrInvalidKey) {
			c.errorf("%s(%q), a key the store does not accept: err = %v, want one wrapping replica.ErrInvalidKey", what, key, err)
		}
	}
	_, err := c.s.CompareAndSet(c.ctx, key, valueOf(key), 0)
	is("CompareAndSet", err)
	_, _, err = c.s.Get(c.ctx, key)
	is("Get", err)
	is("Delete", c.s.Delete(c.ctx, key, 1))
	if page := c.scanAll(64); slices.ContainsFunc(page, func(e replica.Entry) bool { return string(e.Value) == string(valueOf(key)) }) {
		c.errorf("CompareAndSet(%q), a key the store does not accept, stored its value anyway", key)
	}
}

func valueOf(key string) []byte { return fmt.Appendf(nil, "value of %q", key) }
