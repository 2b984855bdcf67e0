package storetest

import (
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"

	"github.com/harborpoint/concord/replica"
)

func checkScan(c *checker) {
	rng := rand.New(rand.NewPCG(3, 4))
	model := map[string]replica.Entry{}
	for len(model) < 60 {
		k := randomKey(rng)
		if _, ok := model[k]; ok {
			continue
		}
		model[k] = replica.Entry{Key: k, Value: valueOf(k), Rev: c.create(k, valueOf(k))}
	}
	c.scanMatches("after creates", model)
	i := 0
	for _, k := range slices.Sorted(maps.Keys(model)) { // change some, delete some
		e := model[k]
		switch i++; i % 5 {
		case 0:
			if err := c.s.Delete(c.ctx, k, e.Rev); err != nil {
				c.fatalf("Delete(%q, %d): %v", k, e.Rev, err)
			}
			delete(model, k)
		case 1, 3:
			e.Value = append(e.Value, '+')
			e.Rev = c.set(k, e.Value, e.Rev)
			model[k] = e
		}
	}
	c.scanMatches("after updates and deletes", model)
	for _, limit := range []int{0, -1} {
		if page, err := c.s.Scan(c.ctx, "", limit); err == nil {
			c.errorf("Scan(\"\", %d) = %d entries and no error, want an error", limit, len(page))
		}
	}
}

// scanMatches pages through the store with several limits and from several
// cursors and checks every result against model.
func (c *checker) scanMatches(what string, model map[string]replica.Entry) {
	keys := slices.Sorted(maps.Keys(model))
	for _, limit := range []int{1, 2, 3, 7, len(keys) - 1, len(keys), len(keys) + 1, 1000} {
		if limit < 1 {
			continue
		}
		got := c.scanAll(limit)
		if !slices.Equal(keysOf(got), keys) {
			c.fatalf("%s: paging with limit %d returned keys %q, want %q", what, limit, keysOf(got), keys)
		}
		for _, e := range got {
			if want := model[e.Key]; e.Rev != want.Rev || string(e.Value) != string(want.Value) {
				c.errorf("%s: Scan entry %q = %s at revision %d, want %s at %d", what, e.Key, show(e.Value), e.Rev, show(want.Value), want.Rev)
			}
		}
	}
	var cursors []string
	for _, k := range keys {
		cursors = append(cursors, k, k+"-", k[:len(k)-1])
	}
	cursors = append(cursors, "zzzzzzzz", "0")
	for _, after := range cursors {
		i, found := slices.BinarySearch(keys, after)
		if found {
			i++
		}
		want := keys[i:min(i+5, len(keys))]
		got, err := c.s.Scan(c.ctx, after, 5)
		if err != nil || !slices.Equal(keysOf(got), want) {
			c.errorf("%s: Scan(%q, 5) = %q, %v; want %q", what, after, keysOf(got), err, want)
		}
	}
}

// randomKey returns a key of 1 to 4 bytes from an alphabet whose byte order
// differs from every case-insensitive or locale order.
func randomKey(rng *rand.Rand) string {
	const alphabet = "-019AZ_az"
	b := make([]byte, 1+rng.IntN(4))
	for i := range b {
		b[i] = alphabet[rng.IntN(len(alphabet))]
	}
	return string(b)
}

// checkScanWhileWriting pages through the store while writers change it.
// The scanned keys are "k000" to "k099" and "z000" to "z049" (every pass
// starts after "b"); writers keep the even "k" keys (the stable ones) and
// update them, and create, update and delete the odd "k" keys, the "z" keys
// and the "a" keys before the scanned range. Each pass must return every
// stable key exactly once, keys in strictly ascending order, nothing before
// the cursor, and entries whose value is the one written at their revision.
func checkScanWhileWriting(c *checker) {
	w := &writes{byRev: map[string]string{}}
	var stable []string
	for i := 0; i < 100; i += 2 {
		k := fmt.Sprintf("k%03d", i)
		stable = append(stable, k)
		w.note(k, c.create(k, []byte(k+"=0")), k+"=0")
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	stop := sync.OnceFunc(func() { close(done); wg.Wait() })
	defer stop()
	for g := range max(2, c.opts.Concurrency/4) {
		wg.Go(func() { c.churn(g, w, done) })
	}
	var unknown []replica.Entry // entries whose write may not be noted yet
	for pass, limit := range []int{1, 3, 7, 16, 64, 100} {
		for _, e := range c.scanPass(pass, limit, stable, w) {
			v, ok := w.lookup(e.Key, e.Rev)
			switch {
			case !ok:
				unknown = append(unknown, e)
			case v != string(e.Value):
				c.errorf("pass %d: Scan entry %q = %q at revision %d, but the write at that revision stored %q", pass, e.Key, e.Value, e.Rev, v)
			}
		}
		if c.failed() {
			return
		}
	}
	stop() // every successful write is noted now
	for _, e := range unknown {
		if v, ok := w.lookup(e.Key, e.Rev); !ok || v != string(e.Value) {
			c.errorf("Scan entry %q = %q at revision %d, but no write stored that value at that revision", e.Key, e.Value, e.Rev)
		}
	}
}

// writes remembers the value written at each revision of each key.
type writes struct {
	mu    sync.Mutex
	byRev map[string]string // key + "@" + revision → value
}

func (w *writes) note(key string, rev uint64, value string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.byRev[fmt.Sprintf("%s@%d", key, rev)] = value
}

func (w *writes) lookup(key string, rev uint64) (string, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	v, ok := w.byRev[fmt.Sprintf("%s@%d", key, rev)]
	return v, ok
}

// churn writes random keys until done.
func (c *checker) churn(g int, w *writes, done chan struct{}) {
	rng := rand.New(rand.NewPCG(uint64(g), 5))
	for n := 1; ; n++ {
		select {
		case <-done:
			return
		default:
		}
		var key string
		switch r := rng.IntN(10); {
		case r < 4:
			key = fmt.Sprintf("k%03d", 2*rng.IntN(50)+1)
		case r < 6:
			key = fmt.Sprintf("k%03d", 2*rng.IntN(50))
		case r < 8:
			key = fmt.Sprintf("z%03d", rng.IntN(50))
		default:
			key = fmt.Sprintf("a%03d", rng.IntN(50))
		}
		stable := key[0] == 'k' && (key[3]-'0')%2 == 0
		c.churnOne(w, key, fmt.Sprintf("%s=%d.%d", key, g, n), stable || rng.IntN(2) == 0)
	}
}

// churnOne creates key, or updates it if update is set, or deletes it. A
// lost race is not an error: another writer changed the key first.
func (c *checker) churnOne(w *writes, key, value string, update bool) {
	_, rev, err := c.s.Get(c.ctx, key)
	if err != nil {
		c.errorf("writer: Get(%q): %v", key, err)
		return
	}
	if rev != 0 && !update {
		if err := c.s.Delete(c.ctx, key, rev); err != nil && !isMismatch(err) {
			c.errorf("writer: Delete(%q, %d): %v", key, rev, err)
		}
		return
	}
	n, err := c.s.CompareAndSet(c.ctx, key, []byte(value), rev)
	switch {
	case err == nil:
		w.note(key, n, value)
	case !isMismatch(err):
		c.errorf("writer: CompareAndSet(%q, %d): %v", key, rev, err)
	}
}

// scanPass pages through the keys after "b" once and returns the entries.
func (c *checker) scanPass(pass, limit int, stable []string, w *writes) []replica.Entry {
	var all []replica.Entry
	seen := map[string]int{}
	after := "b"
	for {
		page, err := c.s.Scan(c.ctx, after, limit)
		if err != nil {
			c.errorf("pass %d: Scan(%q, %d): %v", pass, after, limit, err)
			return nil
		}
		if len(page) > limit {
			c.errorf("pass %d: Scan(%q, %d) returned %d entries", pass, after, limit, len(page))
			return nil
		}
		for _, e := range page {
			if e.Key <= after {
				c.errorf("pass %d: Scan(%q, %d) returned %q, which is not after the cursor (or repeats a key)", pass, after, limit, e.Key)
				return nil
			}
			after = e.Key
			seen[e.Key]++
		}
		all = append(all, page...)
		if len(page) < limit {
			break
		}
		if !strings.Contains(after, "-") { // a key just after the cursor, created between pages
			c.churnOne(w, after+"-", after+"-="+fmt.Sprint(pass), true)
		}
	}
	var missing []string
	for _, k := range stable {
		if seen[k] != 1 {
			missing = append(missing, fmt.Sprintf("%s×%d", k, seen[k]))
		}
	}
	if len(missing) > 10 {
		missing = append(missing[:10], fmt.Sprintf("and %d more", len(missing)-10))
	}
	if len(missing) > 0 {
		c.errorf("pass %d with limit %d: keys that existed throughout were returned other than once: %s", pass, limit, strings.Join(missing, " "))
	}
	return all
}

func isMismatch(err error) bool { return errors.Is(err, replica.ErrRevisionMismatch) }
