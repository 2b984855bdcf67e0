package rangesync

import "slices"

// The index is a B+ tree ordered by key whose nodes carry the number of
// items below them and the sum of their hashes. Updates change one leaf and
// the counts and sums on its path; the sum (and count) of the items below a
// key, or of the first r items, is the sum of whole siblings to the left
// along one root-to-leaf path. Every operation therefore costs O(B·log_B n)
// with B the node size, and nothing is recomputed by scanning.
const (
	maxLeaf  = 64
	maxInner = 64
	minLeaf  = maxLeaf / 4
	minInner = maxInner / 4
)

type item struct {
	key string
	h   sum
}

// node is a leaf (kids == nil) or an inner node.
type node struct {
	items []item   // a leaf's items, sorted by key
	kids  []*node  // an inner node's children, in key order
	seps  []string // seps[i] (i ≥ 1): kids[i-1] holds keys < seps[i] ≤ the keys of kids[i]; seps[0] is unused
	n     int      // items below
	s     sum      // sum of the hashes of the items below
}

// tree is the B+ tree. The zero tree is empty.
type tree struct{ root *node }

// search returns the position of k among a leaf's items, and whether an
// item has key k. (Written out, as child is: the generic searches call
// their compare through a function value, once a step, on every write.)
func (x *node) search(k string) (int, bool) {
	lo, hi := 0, len(x.items)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if x.items[m].key < k {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo, lo < len(x.items) && x.items[lo].key == k
}

// child returns the index of the kid whose keys may include k: the first j
// with k < seps[j+1], or the last kid.
func (x *node) child(k string) int {
	lo, hi := 0, len(x.seps)-1
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if k < x.seps[m+1] {
			hi = m
		} else {
			lo = m + 1
		}
	}
	return lo
}

func (x *node) recompute() {
	x.n, x.s = 0, sum{}
	if x.kids == nil {
		x.n = len(x.items)
		for i := range x.items {
			x.s.add(&x.items[i].h)
		}
		return
	}
	for _, c := range x.kids {
		x.n += c.n
		x.s.add(&c.s)
	}
}

// put inserts it, or replaces the hash of the item with its key. It
// reports whether the item is new.
func (t *tree) put(it item) bool {
	if t.root == nil {
		t.root = &node{items: newLeafItems()}
	}
	_, replaced, right, sep := t.root.put(it)
	if right != nil {
		l := t.root
		t.root = &node{kids: []*node{l, right}, seps: []string{"", sep}}
		t.root.recompute()
	}
	return !replaced
}

// put inserts it below x. It returns the hash it replaced, if any, and the
// new right sibling of x (with its separator) if x had to split.
func (x *node) put(it item) (old sum, replaced bool, right *node, sep string) {
	if x.kids == nil {
		i, found := x.search(it.key)
		if found {
			old = x.items[i].h
			x.items[i].h = it.h
			x.s.sub(&old)
			x.s.add(&it.h)
			return old, true, nil, ""
		}
		x.items = slices.Insert(x.items, i, it)
		x.n++
		x.s.add(&it.h)
		if len(x.items) > maxLeaf {
			right, sep = x.splitLeaf()
		}
		return sum{}, false, right, sep
	}
	i := x.child(it.key)
	old, replaced, r, rsep := x.kids[i].put(it)
	if replaced {
		x.s.sub(&old)
	} else {
		x.n++
	}
	x.s.add(&it.h)
	if r != nil {
		x.kids = slices.Insert(x.kids, i+1, r)
		x.seps = slices.Insert(x.seps, i+1, rsep)
		if len(x.kids) > maxInner {
			right, sep = x.splitInner()
		}
	}
	return old, replaced, right, sep
}

func (x *node) splitLeaf() (*node, string) {
	mid := len(x.items) / 2
	right := &node{items: append(newLeafItems(), x.items[mid:]...)}
	clear(x.items[mid:])
	x.items = x.items[:mid]
	x.recompute()
	right.recompute()
	return right, right.items[0].key
}

// newLeafItems returns room for a full leaf and the item that splits it:
// a leaf grows one item at a time, and growing its slice by doubling
// would copy it up to seven times before it splits.
func newLeafItems() []item { return make([]item, 0, maxLeaf+1) }

func (x *node) splitInner() (*node, string) {
	mid := len(x.kids) / 2
	right := &node{kids: slices.Clone(x.kids[mid:]), seps: slices.Clone(x.seps[mid:])}
	sep := right.seps[0]
	right.seps[0] = ""
	clear(x.kids[mid:])
	x.kids, x.seps = x.kids[:mid], x.seps[:mid]
	x.recompute()
	right.recompute()
	return right, sep
}

// remove deletes the item with key k and reports whether there was one.
func (t *tree) remove(k string) bool {
	if t.root == nil {
		return false
	}
	_, ok := t.root.remove(k)
	for len(t.root.kids) == 1 {
		t.root = t.root.kids[0]
	}
	return ok
}

func (x *node) remove(k string) (old sum, ok bool) {
	if x.kids == nil {
		i, found := x.search(k)
		if !found {
			return sum{}, false
		}
		old = x.items[i].h
		x.items = slices.Delete(x.items, i, i+1)
		x.n--
		x.s.sub(&old)
		return old, true
	}
	i := x.child(k)
	if old, ok = x.kids[i].remove(k); !ok {
		return sum{}, false
	}
	x.n--
	x.s.sub(&old)
	if x.kids[i].underfull() {
		x.rebalance(i)
	}
	return old, true
}

func (x *node) underfull() bool {
	if x.kids == nil {
		return len(x.items) < minLeaf
	}
	return len(x.kids) < minInner
}

// rebalance merges kids[i] with a neighbour, or shares their entries out
// evenly when together they would overflow one node.
func (x *node) rebalance(i int) {
	if len(x.kids) < 2 {
		return
	}
	if i == len(x.kids)-1 {
		i--
	}
	l, r := x.kids[i], x.kids[i+1]
	if l.kids == nil {
		all := slices.Concat(l.items, r.items)
		if len(all) <= maxLeaf {
			l.items = all
			l.recompute()
			x.dropKid(i + 1)
			return
		}
		mid := len(all) / 2
		l.items, r.items = all[:mid:mid], slices.Clone(all[mid:])
		l.recompute()
		r.recompute()
		x.seps[i+1] = r.items[0].key
		return
	}
	kids := slices.Concat(l.kids, r.kids)
	seps := slices.Concat(l.seps, []string{x.seps[i+1]}, r.seps[1:])
	if len(kids) <= maxInner {
		l.kids, l.seps = kids, seps
		l.recompute()
		x.dropKid(i + 1)
		return
	}
	mid := len(kids) / 2
	l.kids, l.seps = kids[:mid:mid], seps[:mid:mid]
	r.kids, r.seps = slices.Clone(kids[mid:]), slices.Clone(seps[mid:])
	x.seps[i+1] = r.seps[0]
	r.seps[0] = ""
	l.recompute()
	r.recompute()
}

func (x *node) dropKid(i int) {
	x.kids = slices.Delete(x.kids, i, i+1)
	x.seps = slices.Delete(x.seps, i, i+1)
}

func (t *tree) len() int {
	if t.root == nil {
		return 0
	}
	return t.root.n
}

// before returns the number of items whose key is below k and the sum of
// their hashes.
func (t *tree) before(k string) (int, sum) {
	var n int
	var s sum
	x := t.root
	if x == nil {
		return 0, s
	}
	for x.kids != nil {
		i := x.child(k)
		n, s = addKids(n, s, x, i)
		x = x.kids[i]
	}
	j, _ := x.search(k)
	if j <= len(x.items)/2 {
		for _, it := range x.items[:j] {
			s.add(&it.h)
		}
		return n + j, s
	}
	s.add(&x.s)
	for _, it := range x.items[j:] {
		s.sub(&it.h)
	}
	return n + j, s
}

// addKids adds the counts and sums of x.kids[:i] to n and s, from whichever
// end of the node is nearer.
func addKids(n int, s sum, x *node, i int) (int, sum) {
	if i <= len(x.kids)/2 {
		for _, c := range x.kids[:i] {
			n += c.n
			s.add(&c.s)
		}
		return n, s
	}
	n += x.n
	s.add(&x.s)
	for _, c := range x.kids[i:] {
		n -= c.n
		s.sub(&c.s)
	}
	return n, s
}

// sumBefore returns the sum of the hashes of the first r items.
func (t *tree) sumBefore(r int) sum {
	var s sum
	x := t.root
	if x == nil || r <= 0 {
		return s
	}
	if r >= x.n {
		return x.s
	}
	for x.kids != nil {
		i := 0
		for r >= x.kids[i].n {
			r -= x.kids[i].n
			i++
		}
		_, s = addKids(0, s, x, i)
		x = x.kids[i]
	}
	for _, it := range x.items[:r] {
		s.add(&it.h)
	}
	return s
}

// at returns the item of rank r (0 ≤ r < len).
func (t *tree) at(r int) *item {
	x := t.root
	for x.kids != nil {
		i := 0
		for r >= x.kids[i].n {
			r -= x.kids[i].n
			i++
		}
		x = x.kids[i]
	}
	return &x.items[r]
}

// each calls fn for the items of rank a to b-1, in order.
func (t *tree) each(a, b int, fn func(*item)) {
	if t.root != nil && a < b {
		t.root.each(a, b, fn)
	}
}

func (x *node) each(a, b int, fn func(*item)) {
	if x.kids == nil {
		for i := max(a, 0); i < min(b, len(x.items)); i++ {
			fn(&x.items[i])
		}
		return
	}
	for _, c := range x.kids {
		if b <= 0 {
			return
		}
		if a < c.n {
			c.each(a, b, fn)
		}
		a -= c.n
		b -= c.n
	}
}
