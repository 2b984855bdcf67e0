package sim

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/harborpoint/concord/internal/dotmodel"
	"github.com/harborpoint/concord/internal/splitmix"
	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

// epoch is the simulated time at which every history starts.
var epoch = time.Date(2026, 11, 26, 14, 0, 0, 0, time.UTC)

// model is the plain model of one key at one replica: explicit sets of
// dots, each a write or a tombstone.
type model = dotmodel.Clock[dotmodel.Entry[struct{}]]

// node is one simulated replica: its store survives a crash unless the
// crash loses state.
type node[T any] struct {
	h      *history[T]
	idx    int
	id     version.ID
	store  *replica.MemoryStore
	rep    *replica.Replica[T]
	hlc    *version.HLC
	up     bool
	lose   bool                // the crash lost the state; the restart is a new incarnation
	last   version.Timestamp   // the HLC reading persisted at the crash
	offset time.Duration       // clock skew
	drift  float64             // clock drift, as a fraction of elapsed time
	model  map[string]model    // the plain model of every key
	alt    *replica.Replica[T] // a second Replica value over the same store
	// stamped is the greatest stamp n's clock must have passed: its own
	// writes' and those it applied within the HLC's drift bound.
	stamped version.Timestamp
	// rotten holds the keys whose stored value was damaged on disk, with
	// the state before the damage; the replica quarantines them.
	rotten map[string]resolve.Siblings[T]
	del    nodeDeletes // deletes this incarnation held, keys it reaped
	// floor is the model of the counter floor its store keeps: the
	// greatest counter of n's own ID in a tombstone it reaped. Every write
	// of n is numbered above it (replica.FloorStore).
	floor uint64
	// diskLost says the state was lost because its disk was damaged
	// (rot), not because the replica kept it in memory only.
	diskLost bool
	// kept is the state of every key at a crash that keeps the state: the
	// restart must find it all (see durability.go).
	kept map[string]resolve.Siblings[T]
	// booted is the store the replica was last booted over (a test hook
	// may wrap the MemoryStore): whether it is a replica.HorizonStore
	// decides whether reaped horizons outlive the Replica value.
	booted replica.Store
}

// now is the replica's physical clock: true time, skewed and drifting.
func (n *node[T]) now() time.Time {
	el := n.h.now.Sub(epoch)
	return n.h.now.Add(n.offset + time.Duration(float64(el)*n.drift))
}

// message is a replication message: a record's encoded state, and the
// plain model's state sent along for check Model.
type message[T any] struct {
	seq      int
	from, to int
	key      string
	data     []byte
	model    model
	due      time.Time
	corrupt  bool // data has a flipped bit: the receiver must refuse it
}

type client[T any] struct {
	idx   int
	home  int
	cache map[string]*replica.Record[T]
	retry []pending[T]
}

// pending is a command whose reply was lost: the client will retry it with
// the same idempotency key.
type pending[T any] struct {
	key, idem string
	op        Op[T]
}

type dotKey struct {
	key string
	dot version.Dot
}

// history is one simulated run.
type history[T any] struct {
	s       *settings
	w       *Workload[T]
	seed    uint64
	steps   int
	rng     *rand.Rand
	pcg     *rand.PCG    // rng's source, seeded again at every step (see shrink.go)
	skip    map[int]bool // steps left out of the history (see shrink.go)
	ctx     context.Context
	now     time.Time
	step    int
	nodes   []*node[T]
	cut     [][]bool
	flight  []*message[T]
	seq     int
	clients []*client[T]
	keys    []string
	idem    int

	counters   resolve.Counters
	acks       map[string][]*Ack[T]
	byDot      map[dotKey]*Ack[T]
	atRisk     map[dotKey]lossCause
	contending bool                // a second Replica value is writing inside another write
	commands   map[string]*Ack[T]  // the first acknowledged application of each idempotency key
	firstRuns  map[string]firstRun // when it was applied, and how many commands the key had before
	runs       map[string]int      // commands applied to each key
	attempts   map[string]int      // attempts made with each idempotency key
	oversized  map[string]bool     // keys whose merge some replica refused as over the record limit
	limited    map[string]bool     // keys a write or a merge of which was refused as over the record limit
	writers    map[string]map[version.ID]bool
	del        historyDeletes[T] // the ledger of deletes

	rep     Report
	viol    []Violation
	seen    map[string]bool // violation messages already reported
	logging bool
	log     []string
}

// maxKept bounds the violations kept per history (all are counted).
const maxKept = 20

func newHistory[T any](s *settings, w *Workload[T], seed uint64, steps int, logging bool) *history[T] {
	h := &history[T]{
		s: s, w: w, seed: seed, steps: steps, logging: logging,
		pcg:      rand.NewPCG(splitmix.Mix(seed), splitmix.Mix(seed^0xda3e39cb94b95bdb)),
		ctx:      context.Background(),
		now:      epoch,
		acks:     map[string][]*Ack[T]{},
		byDot:    map[dotKey]*Ack[T]{},
		atRisk:   map[dotKey]lossCause{},
		commands: map[string]*Ack[T]{}, firstRuns: map[string]firstRun{}, runs: map[string]int{}, attempts: map[string]int{}, oversized: map[string]bool{}, limited: map[string]bool{},
		writers: map[string]map[version.ID]bool{},
		seen:    map[string]bool{},
		del:     newHistoryDeletes(w),
	}
	h.rng = rand.New(h.pcg)
	h.rep.Violations = map[Check]int{}
	h.rep.FirstSeed, h.rep.LastSeed, h.rep.Histories = seed, seed, 1
	replicas := s.Replicas
	if replicas == 0 {
		replicas = 2 + h.rng.IntN(len(replicaNames)-1)
	}
	prefix := w.KeyPrefix
	if prefix == "" {
		prefix = "k"
	}
	for i := range s.Keys {
		k := fmt.Sprintf("%s%d", prefix, i+1)
		h.keys = append(h.keys, k)
		h.writers[k] = map[version.ID]bool{}
	}
	h.cut = make([][]bool, replicas)
	for i := range replicas {
		h.cut[i] = make([]bool, replicas)
		n := &node[T]{h: h, idx: i, id: version.MustID(replicaNames[i]), store: replica.NewMemoryStore(), model: map[string]model{}, del: newNodeDeletes()}
		if s.faults.MaxSkew > 0 {
			n.offset = time.Duration((h.rng.Float64() - 0.5) * float64(s.faults.MaxSkew))
			n.drift = (h.rng.Float64()*2 - 1) * 200e-6
		}
		h.nodes = append(h.nodes, n)
	}
	for _, n := range h.nodes {
		h.boot(n) // with every replica a member
	}
	for i := range s.Clients {
		h.clients = append(h.clients, &client[T]{idx: i, home: i % replicas, cache: map[string]*replica.Record[T]{}})
	}
	h.logf("start: seed %d, %d replicas, %d clients, keys %s", seed, replicas, s.Clients, strings.Join(h.keys, " "))
	return h
}

// boot starts the replica of n over its store.
func (h *history[T]) boot(n *node[T]) {
	var res *resolve.Resolver[T]
	if h.w.hooks.resolver != nil {
		res = h.w.hooks.resolver(n.idx)
	} else {
		res = h.w.NewResolver()
	}
	n.hlc = version.NewHLC(version.HLCOptions{Now: n.now}, n.last)
	var store replica.Store = n.store
	if h.w.hooks.store != nil {
		store = h.w.hooks.store(n.idx, store)
	}
	rep, err := replica.New(n.id, store, res, replica.Options[T]{
		Codec: h.w.Codec, Clock: n.hlc, Observer: &h.counters, CommandKeys: h.w.CommandKeys, Now: n.now,
		Members: h.members(), MaxRecordBytes: h.w.MaxRecordBytes,
	})
	if err != nil {
		h.violate(Errors, "boot %v: %v", n.id, err)
		return
	}
	n.rep, n.up, n.booted = rep, true, store
	n.alt = h.second(n, store)
	if _, durable := store.(replica.HorizonStore); !durable {
		n.del.horizon = map[string]version.Vector{} // the Replica value's memory
	}
}

func (h *history[T]) logf(format string, args ...any) {
	if !h.logging {
		return
	}
	h.log = append(h.log, fmt.Sprintf("%4d t+%06.3fs  ", h.step, h.now.Sub(epoch).Seconds())+fmt.Sprintf(format, args...))
}

func (h *history[T]) violate(c Check, format string, args ...any) {
	if h.w.hooks.mute != nil && h.w.hooks.mute(c) {
		return
	}
	msg := fmt.Sprintf(format, args...)
	if h.seen[msg] {
		return // the same finding again, at a later step: counted once
	}
	h.seen[msg] = true
	h.rep.Violations[c]++
	if len(h.viol) < maxKept {
		h.viol = append(h.viol, Violation{Check: c, Step: h.step, Message: msg})
	}
	h.logf("VIOLATION %s: %s", c, msg)
}

// run runs the steps, then heals everything and runs the final checks.
func (h *history[T]) run() {
	for range h.steps {
		h.runStep()
	}
	h.finish()
	h.rep.Steps = h.steps
	h.rep.Conflicts = Conflicts{
		AutoResolved: int(h.counters.Total(resolve.AutoResolved)),
		Rejected:     int(h.counters.Total(resolve.Rejected)),
		SentToReview: int(h.counters.Total(resolve.SentToReview)),
		Reviewed:     int(h.counters.Total(resolve.Reviewed)),
		SkewWindow:   int(h.counters.Total(resolve.SkewWindow)),
	}
}

func (h *history[T]) runStep() {
	h.step++
	h.reseed()
	h.now = h.now.Add(time.Duration(1+h.rng.IntN(300)) * time.Millisecond)
	if h.skip[h.step] {
		return // left out by shrinking: only time passes
	}
	f := &h.s.faults
	// Draw every fault's coin every step, so that the draws do not depend
	// on which faults fired.
	partition, heal, crash, restart, skew, rot := h.rng.Float64(), h.rng.Float64(), h.rng.Float64(), h.rng.Float64(), h.rng.Float64(), h.rng.Float64()
	if partition < f.Partition {
		h.partition()
	}
	if heal < f.Heal {
		h.healOne()
	}
	if crash < f.Crash {
		h.crash()
	}
	h.cycle()
	if restart < f.Restart {
		h.restartOne()
	}
	if skew < f.Skew {
		h.skew()
	}
	if rot < f.Rot {
		h.rot()
	}
	for range h.rng.IntN(4) {
		h.deliverOne(true)
	}
	h.clientOp()
	if h.step%h.s.AntiEntropyEvery == 0 {
		i := h.rng.IntN(len(h.nodes))
		j := (i + 1 + h.rng.IntN(len(h.nodes)-1)) % len(h.nodes)
		h.antiEntropy(h.nodes[i], h.nodes[j], "periodic")
	}
	h.sampleStorage()
}

// --- faults ---

func (h *history[T]) partition() {
	var links [][2]int
	for i := range h.nodes {
		for j := i + 1; j < len(h.nodes); j++ {
			if !h.cut[i][j] {
				links = append(links, [2]int{i, j})
			}
		}
	}
	if len(links) == 0 {
		return
	}
	l := links[h.rng.IntN(len(links))]
	h.cut[l[0]][l[1]], h.cut[l[1]][l[0]] = true, true
	h.rep.Faults.Partitions++
	h.logf("partition %v | %v", h.nodes[l[0]].id, h.nodes[l[1]].id)
}

func (h *history[T]) cutLinks() [][2]int {
	var links [][2]int
	for i := range h.nodes {
		for j := i + 1; j < len(h.nodes); j++ {
			if h.cut[i][j] {
				links = append(links, [2]int{i, j})
			}
		}
	}
	return links
}

func (h *history[T]) healOne() {
	links := h.cutLinks()
	if len(links) == 0 {
		return
	}
	h.heal(links[h.rng.IntN(len(links))])
}

func (h *history[T]) heal(l [2]int) {
	h.cut[l[0]][l[1]], h.cut[l[1]][l[0]] = false, false
	h.rep.Faults.Heals++
	h.logf("heal %v | %v", h.nodes[l[0]].id, h.nodes[l[1]].id)
	h.antiEntropy(h.nodes[l[0]], h.nodes[l[1]], "after heal")
}

func (h *history[T]) crash() {
	var up []*node[T]
	for _, n := range h.nodes {
		if n.up {
			up = append(up, n)
		}
	}
	if len(up) == 0 {
		return
	}
	n := up[h.rng.IntN(len(up))]
	h.down(n)
}

// down crashes n.
func (h *history[T]) down(n *node[T]) {
	n.up = false
	loss := h.rng.Float64() < h.s.faults.StateLoss
	n.diskLost = len(n.rotten) > 0
	n.lose = !h.s.Durable && loss || n.diskLost
	n.last = n.hlc.Last()
	h.loseInFlight(n)
	if !n.lose {
		h.keep(n)
	}
	h.rep.Faults.Crashes++
	if n.lose {
		h.logf("crash %v, losing its state", n.id)
	} else {
		h.logf("crash %v", n.id)
	}
}

func (h *history[T]) restartOne() {
	var down []*node[T]
	for _, n := range h.nodes {
		if !n.up {
			down = append(down, n)
		}
	}
	if len(down) == 0 {
		return
	}
	h.restart(down[h.rng.IntN(len(down))])
}

func (h *history[T]) restart(n *node[T]) {
	h.rep.Faults.Restarts++
	if !n.lose {
		if h.renew(n) {
			return
		}
		h.bootRescanned(n)
		h.logf("restart %v with its state", n.id)
		h.checkKept(n)
		return
	}
	h.markAtRisk(n)
	old := n.id
	id, ok := h.nextID(old)
	if !ok {
		return
	}
	n.id, n.store, n.model, n.last, n.lose, n.rotten, n.floor = id, replica.NewMemoryStore(), map[string]model{}, version.Timestamp{}, false, nil, 0
	n.stamped = version.Timestamp{}
	n.del = newNodeDeletes()
	h.rep.Faults.StateLosses++
	h.boot(n)
	h.rejoin(n, old)
	h.logf("restart %v without its state, as %v", old, id)
}

// nextID is the ID of old's next incarnation: old.Next, or the test
// hook's. A failure is a violation, and ok is false.
func (h *history[T]) nextID(old version.ID) (id version.ID, ok bool) {
	next := old.Next
	if h.w.hooks.restartID != nil {
		next = func() (version.ID, error) { return h.w.hooks.restartID(old) }
	}
	id, err := next()
	if err != nil {
		h.violate(Errors, "next incarnation of %v: %v", old, err)
		return id, false
	}
	return id, true
}

// bootRescanned boots n over its store and has it rescan the store, as a
// replica does after a restart.
func (h *history[T]) bootRescanned(n *node[T]) {
	h.boot(n)
	if n.rep != nil {
		if err := n.rep.Rescan(h.ctx); err != nil {
			h.violate(Errors, "rescan %v: %v", n.id, err)
		}
	}
}

// markAtRisk records the writes that only n holds, as n loses its state:
// if they are never seen again, they died with its disk.
func (h *history[T]) markAtRisk(n *node[T]) {
	for _, k := range h.keys {
		st, err := n.rep.State(h.ctx, k)
		if pre, ok := n.rotten[k]; ok {
			st, err = pre, nil
		}
		if err != nil {
			continue
		}
		for d := range st.Siblings() {
			held := false
			for _, o := range h.nodes {
				if o == n || o.lose && !o.up {
					continue
				}
				if ost, err := o.rep.State(h.ctx, k); err == nil && ost.Covers(d.Dot) {
					held = true
					break
				}
			}
			if !held {
				h.atRisk[dotKey{k, d.Dot}] = h.lossCause(n)
			}
		}
	}
}

// rot flips one bit of a random stored record of a random live replica, as
// a failing disk would.
func (h *history[T]) rot() {
	n := h.nodes[h.rng.IntN(len(h.nodes))]
	key := h.keys[h.rng.IntN(len(h.keys))]
	data, rev, err := n.store.Get(h.ctx, key)
	if _, ok := n.rotten[key]; ok || !n.up || err != nil || rev == 0 {
		return
	}
	st, err := n.rep.State(h.ctx, key)
	if err != nil {
		h.violate(Errors, "state %v %s before rot: %v", n.id, key, err)
		return
	}
	bit := h.rng.IntN(8 * len(data))
	data[bit/8] ^= 1 << (bit % 8)
	if _, err := n.store.CompareAndSet(h.ctx, key, data, rev); err != nil {
		h.violate(Errors, "rot %v %s: %v", n.id, key, err)
		return
	}
	if n.rotten == nil {
		n.rotten = map[string]resolve.Siblings[T]{}
	}
	n.rotten[key] = st
	h.rep.Faults.Rots++
	h.logf("disk: %v %s rots (bit %d)", n.id, key, bit)
	if _, err := n.rep.Get(h.ctx, key); !errors.Is(err, replica.ErrQuarantined) {
		h.violate(Errors, "a rotten record %v %s was not quarantined: %v", n.id, key, err)
	}
}

func (h *history[T]) skew() {
	n := h.nodes[h.rng.IntN(len(h.nodes))]
	max := h.s.faults.MaxSkew
	if max <= 0 {
		return
	}
	jump := time.Duration((h.rng.Float64()*2 - 1) * float64(max))
	n.offset = min(max, maxDur(-max, n.offset+jump))
	h.rep.Faults.Skews++
	h.logf("clock of %v skews to %+v", n.id, n.offset.Round(time.Millisecond))
}

func maxDur(a, b time.Duration) time.Duration {
	if a > b {
		return a
	}
	return b
}

// --- network ---

// broadcast sends n's state of key to every other replica.
func (h *history[T]) broadcast(n *node[T], key string) {
	data, err := n.rep.Export(h.ctx, key)
	if err != nil {
		h.violate(Errors, "export %v %s: %v", n.id, key, err)
		return
	}
	for _, to := range h.nodes {
		if to != n {
			h.transmit(n, to, key, data, true)
		}
	}
}

// transmit sends n's state of key (data) to one replica: through every
// fault of the network when faulty, or else to arrive next.
func (h *history[T]) transmit(n, to *node[T], key string, data []byte, faulty bool) {
	if !faulty {
		h.send(n.idx, to.idx, key, data, n.model[key], h.now)
		return
	}
	f := &h.s.faults
	drop, dup, delay, corrupt := h.rng.Float64(), h.rng.Float64(), h.rng.Float64(), h.rng.Float64()
	bit := h.rng.IntN(8 * len(data))
	if drop < f.Drop {
		h.rep.Faults.Drops++
		h.logf("net: %v→%v %s dropped", n.id, to.id, key)
		return
	}
	due := h.now.Add(time.Duration(1+h.rng.IntN(150)) * time.Millisecond)
	if delay < f.Delay {
		due = due.Add(time.Duration(500+h.rng.IntN(4500)) * time.Millisecond)
		h.rep.Faults.Delays++
	}
	if corrupt < f.Corrupt {
		h.sendCorrupt(n.idx, to.idx, key, data, bit, due)
	} else {
		h.send(n.idx, to.idx, key, data, n.model[key], due)
	}
	if dup < f.Duplicate {
		h.send(n.idx, to.idx, key, data, n.model[key], due.Add(time.Duration(1+h.rng.IntN(500))*time.Millisecond))
		h.rep.Faults.Duplicates++
	}
}

func (h *history[T]) send(from, to int, key string, data []byte, m model, due time.Time) {
	h.seq++
	h.flight = append(h.flight, &message[T]{seq: h.seq, from: from, to: to, key: key, data: data, model: m, due: due})
}

// sendCorrupt sends data with one bit flipped, as a faulty link or NIC
// would deliver it.
func (h *history[T]) sendCorrupt(from, to int, key string, data []byte, bit int, due time.Time) {
	bad := slices.Clone(data)
	bad[bit/8] ^= 1 << (bit % 8)
	h.send(from, to, key, bad, model{}, due)
	h.flight[len(h.flight)-1].corrupt = true
}

// deliverOne delivers one message whose link is up: during the steps, one
// that is due (the oldest, or a random one when reordering); when healing,
// any one at random. It reports whether there was one.
func (h *history[T]) deliverOne(steps bool) bool {
	var due []int
	for i, m := range h.flight {
		if (!steps || !m.due.After(h.now)) && !h.cut[m.from][m.to] {
			due = append(due, i)
		}
	}
	if len(due) == 0 {
		return false
	}
	pick := due[0]
	if !steps || h.rng.Float64() < h.s.faults.Reorder {
		pick = due[h.rng.IntN(len(due))]
	}
	m := h.flight[pick]
	for _, i := range due {
		if o := h.flight[i]; o.seq < m.seq && o.from == m.from && o.to == m.to {
			h.rep.Faults.Reorders++
			break
		}
	}
	h.flight = slices.Delete(h.flight, pick, pick+1)
	to := h.nodes[m.to]
	if !to.up {
		h.rep.Faults.LostToCrash++
		h.logf("net: %v→%v %s lost: %v is down", h.nodes[m.from].id, to.id, m.key, to.id)
		return true
	}
	if m.corrupt {
		h.deliverCorrupt(to, m)
		return true
	}
	if _, ok := to.rotten[m.key]; ok {
		_, err := to.rep.Apply(h.ctx, m.key, m.data)
		h.logf("net: %v→%v %s refused (#%d): %v", h.nodes[m.from].id, to.id, m.key, m.seq, err)
		if !errors.Is(err, replica.ErrQuarantined) {
			h.violate(Errors, "a message for the quarantined %v %s was not refused: %v", to.id, m.key, err)
		}
		return true
	}
	h.logf("net: %v→%v %s delivered (#%d)", h.nodes[m.from].id, to.id, m.key, m.seq)
	_, reaped := to.horizonOf(m.key)
	if h.apply(to, m.key, m.data) {
		to.model[m.key] = to.model[m.key].Sync(m.model)
		if st := dotmodel.State(m.model); reaped && (st == dotmodel.Live || st == dotmodel.Mixed) {
			if _, rev, _ := to.store.Get(h.ctx, m.key); rev == 0 {
				h.rep.Deletes.Prevented++
				h.logf("  %v drops it: %s was reaped, and its horizon covers every write the message holds", to.id, m.key)
			}
		}
	}
	h.observe(to, m.key)
	return true
}

// deliverCorrupt delivers a damaged message: the replica must refuse it
// with ErrCorrupt and change nothing, so it acts as a dropped message.
func (h *history[T]) deliverCorrupt(to *node[T], m *message[T]) {
	h.rep.Faults.Corruptions++
	before, rev, _ := to.store.Get(h.ctx, m.key)
	_, err := to.rep.Apply(h.ctx, m.key, m.data)
	after, rev2, _ := to.store.Get(h.ctx, m.key)
	h.logf("net: %v→%v %s delivered corrupted (#%d): %v", h.nodes[m.from].id, to.id, m.key, m.seq, err)
	switch {
	case !errors.Is(err, replica.ErrCorrupt):
		h.violate(Errors, "a corrupted message to %v %s was not refused as corrupt: %v", to.id, m.key, err)
	case rev != rev2 || !slices.Equal(before, after):
		h.violate(Errors, "a refused corrupted message changed %v %s", to.id, m.key)
	}
}

// apply merges replicated bytes into n and reports whether n took them
// (a merge over the record limit is refused, see refusedApply).
func (h *history[T]) apply(n *node[T], key string, data []byte) bool {
	before, _ := n.rep.State(h.ctx, key)
	raw, rev, _ := n.store.Get(h.ctx, key)
	var err error
	if h.w.hooks.apply != nil {
		err = h.w.hooks.apply(h, n, key, data)
	} else {
		_, err = n.rep.Apply(h.ctx, key, data)
	}
	if err != nil {
		h.refusedApply(n, key, err, raw, rev)
		return false
	}
	h.applied(n, key, before)
	return true
}

// finish heals everything — crashed replicas restart, cut links heal one at
// a time in random order with anti-entropy after each, messages in flight
// arrive — runs anti-entropy between every pair, and checks the end state.
func (h *history[T]) finish() {
	h.step = h.steps + 1
	h.reseed()
	h.logf("— heal —")
	var down []*node[T]
	for _, n := range h.nodes {
		if !n.up {
			down = append(down, n)
		}
	}
	for _, n := range h.nodes {
		if n.up && len(n.rotten) > 0 {
			h.logf("operator: %v has quarantined records; it is restarted as a new incarnation", n.id)
			h.down(n)
			down = append(down, n)
		}
	}
	h.rng.Shuffle(len(down), func(i, j int) { down[i], down[j] = down[j], down[i] })
	for _, n := range down {
		h.restart(n)
	}
	links := h.cutLinks()
	h.rng.Shuffle(len(links), func(i, j int) { links[i], links[j] = links[j], links[i] })
	for _, l := range links {
		h.heal(l)
	}
	for h.deliverOne(false) {
	}
	// Two rounds, and more while merges refused for size wait in review:
	// the operator settles them after each round (see settleOversize).
	for round := 0; round < 2 || h.settleOversize() && round < 2*len(h.nodes)+2; round++ {
		for i := range h.nodes {
			for j := i + 1; j < len(h.nodes); j++ {
				h.antiEntropy(h.nodes[i], h.nodes[j], "final")
			}
		}
	}
	h.checkConvergence()
	h.checkDeletesHealed()
	h.classify()
	h.checkValues()
}
