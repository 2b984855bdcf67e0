package replica

// results remembers the first result of each command, for replaying a
// retry, bounded by count and by the stored size of the records (see
// maxResults): the oldest are forgotten first. The records live in slots,
// allocated a chunk at a time and never moved, that a forgotten result
// frees for the next, and the index maps a command to its slot: once as
// many commands as the bound have run, remembering one allocates nothing
// (a map whose values are records allocates each record apart, as large
// map values are). The zero results is empty and ready to use; the
// Replica's mutex guards it.
type results[T any] struct {
	idx   map[resultKey]int32 // the slot of each remembered command
	slots [][]result[T]       // slot i is slots[i/resultChunk][i%resultChunk]
	n     int32               // slots allocated
	free  []int32             // slots no command holds
	order []resultKey         // the remembered commands, oldest first
	bytes int                 // the stored sizes of the records kept
}

// result is a remembered command result and the size of the state it was
// decoded from, which bounds the memory it holds.
type result[T any] struct {
	rec  Record[T]
	size int
}

// resultKey names one command: its record's key and its idempotency key. A
// struct, not a joined string, so that no pair of keys can collide.
type resultKey struct{ key, idem string }

// get returns the result remembered for k.
func (rs *results[T]) get(k resultKey) (Record[T], bool) {
	i, ok := rs.idx[k]
	if !ok {
		return Record[T]{}, false
	}
	return rs.slot(i).rec, true
}

// resultChunk is the number of slots allocated at once.
const resultChunk = 64

// slot returns slot i.
func (rs *results[T]) slot(i int32) *result[T] {
	return &rs.slots[i/resultChunk][i%resultChunk]
}

// put remembers rec, of stored size size, as k's result unless k has one,
// and forgets the oldest results beyond the bounds.
func (rs *results[T]) put(k resultKey, rec Record[T], size int) {
	if _, ok := rs.idx[k]; ok {
		return
	}
	if rs.idx == nil {
		rs.idx = map[resultKey]int32{}
	}
	for len(rs.order) >= maxResults { // room first, so that a slot is free
		rs.forgetOldest()
	}
	var i int32
	if n := len(rs.free); n > 0 {
		i, rs.free = rs.free[n-1], rs.free[:n-1]
	} else {
		if rs.n%resultChunk == 0 {
			rs.slots = append(rs.slots, make([]result[T], resultChunk))
		}
		i = rs.n
		rs.n++
	}
	*rs.slot(i) = result[T]{rec, size}
	rs.idx[k] = i
	rs.bytes += size
	rs.order = append(rs.order, k)
	for rs.bytes > maxResultBytes && len(rs.order) > 1 {
		rs.forgetOldest()
	}
}

// forgetOldest drops the oldest result and frees its slot, which keeps
// nothing of it.
func (rs *results[T]) forgetOldest() {
	k := rs.order[0]
	rs.order = rs.order[1:]
	i := rs.idx[k]
	rs.bytes -= rs.slot(i).size
	*rs.slot(i) = result[T]{}
	rs.free = append(rs.free, i)
	delete(rs.idx, k)
}

// len returns the number of results remembered.
func (rs *results[T]) len() int { return len(rs.idx) }
