package sim

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/harborpoint/concord/internal/dotmodel"
	"github.com/harborpoint/concord/policy"
	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

// clientOp lets one random client make one operation on one random key, at
// its home replica or (one time in five) another.
func (h *history[T]) clientOp() {
	c := h.clients[h.rng.IntN(len(h.clients))]
	key := h.keys[h.rng.IntN(len(h.keys))]
	n := h.nodes[c.home]
	if h.rng.IntN(5) == 0 {
		n = h.nodes[h.rng.IntN(len(h.nodes))]
	}
	if !n.up {
		h.rep.Clients.Unavailable++
		c.home = h.rng.IntN(len(h.nodes))
		h.logf("c%d → %v: unavailable (down); fails over to %v", c.idx, n.id, h.nodes[c.home].id)
		return
	}

	switch r := h.rng.Float64(); {
	case len(c.retry) > 0 && r < 0.3:
		p := c.retry[0]
		c.retry = c.retry[1:]
		h.rep.Clients.Retries++
		h.write(c, n, p.key, p.op, "", version.Vector{}, p.idem, nil)
	case r < 0.4 && h.w.Resolve != nil:
		items := n.rep.Conflicts()
		if h.w.hooks.conflicts != nil {
			items = h.w.hooks.conflicts(items)
		}
		if len(items) == 0 {
			h.read(c, n, key)
			return
		}
		it := items[h.rng.IntN(len(items))]
		v := h.w.Resolve(h.rng, it)
		acked := len(h.acks[it.Key])
		h.write(c, n, it.Key, Op[T]{Style: Resolve, Label: "settle " + it.Reason, Value: v}, it.Token, it.Context, "", it.Branches)
		if it.Rule == replica.RecordLimitRule && len(h.acks[it.Key]) > acked {
			h.rep.Oversize.Settled++
		}
	case r < 0.5:
		h.read(c, n, key)
	default:
		chosen := c.cache[key]
		op := h.w.Next(Turn[T]{Rand: h.rng, Now: h.now, Client: c.idx, Key: key, Last: chosen})
		switch op.Style {
		case Update:
			last := chosen
			if last == nil || h.rng.IntN(2) == 0 {
				if last = h.read(c, n, key); last == nil {
					return
				}
				if !sameView(chosen, last) {
					h.logf("c%d does not %s %s: it finds the record deleted or re-created", c.idx, op.Label, key)
					return // an operation chosen for a live record is not a re-creation, nor the reverse
				}
			} else {
				h.rep.Clients.StaleUpdates++
			}
			h.write(c, n, key, op, last.Token, last.Context, "", nil)
		case Delete:
			h.deleteOp(c, n, key, op, chosen)
		case Command:
			h.idem++
			h.write(c, n, key, op, "", version.Vector{}, fmt.Sprintf("c%d-%d", c.idx, h.idem), nil)
		case Create, Blind:
			h.write(c, n, key, op, "", version.Vector{}, "", nil)
		default:
			h.violate(Errors, "workload returned an operation of style %v", op.Style)
		}
	}
}

// read reads key at n into the client's cache and returns it (nil if absent).
func (h *history[T]) read(c *client[T], n *node[T], key string) *replica.Record[T] {
	if h.quarantined(c, n, key) {
		return nil
	}
	h.rep.Clients.Reads++
	rec, err := n.rep.Get(h.ctx, key)
	if d, ok := deletedRecord(rec, err); ok {
		c.cache[key] = d
		h.logf("c%d @%v read %s: deleted, token %v", c.idx, n.id, key, d.Context)
		return d
	}
	switch {
	case errors.Is(err, replica.ErrNotFound):
		delete(c.cache, key)
		h.logf("c%d @%v read %s: not found", c.idx, n.id, key)
		return nil
	case err != nil:
		h.violate(Errors, "read %v %s: %v", n.id, key, err)
		return nil
	}
	c.cache[key] = &rec
	h.logf("c%d @%v read %s: %s", c.idx, n.id, key, h.show(rec))
	return &rec
}

// quarantined reports whether key is quarantined at n after rot: the
// replica refuses it (the service answers 500), so the client fails over to
// another replica and tries later. Every other key is served.
func (h *history[T]) quarantined(c *client[T], n *node[T], key string) bool {
	if _, ok := n.rotten[key]; !ok {
		return false
	}
	if _, err := n.rep.Get(h.ctx, key); !errors.Is(err, replica.ErrQuarantined) {
		h.violate(Errors, "the rotten %v %s is not refused as quarantined: %v", n.id, key, err)
	}
	h.rep.Clients.Unavailable++
	c.home = h.rng.IntN(len(h.nodes))
	h.logf("c%d → %v %s: record quarantined; fails over to %v", c.idx, n.id, key, h.nodes[c.home].id)
	return true
}

// show describes a record in one line.
func (h *history[T]) show(rec replica.Record[T]) string {
	if rec.Conflict != nil {
		return fmt.Sprintf("CONFLICT %d branches (%s) ctx %v", len(rec.Branches), rec.Conflict.Reason, rec.Context)
	}
	return fmt.Sprintf("%v ctx %v", rec.Value, rec.Context)
}

// write makes one write of op at n and records its acknowledgement. token
// and seen are what the client read, for Update and Resolve; idem is a
// command's idempotency key; replaced are the branches a Resolve settles.
// It returns the error of a write refused as too large, which the operator
// settling a merge refused for size answers with a smaller value (see
// settleOversize), and nil otherwise.
func (h *history[T]) write(c *client[T], n *node[T], key string, op Op[T], token string, seen version.Vector, idem string, replaced []resolve.Branch[T]) *replica.TooLargeError {
	if h.quarantined(c, n, key) {
		if idem != "" {
			c.retry = append(c.retry, pending[T]{key: key, idem: idem, op: op})
		}
		return nil
	}
	if idem != "" {
		h.attempts[idem]++
	}
	pre, err := n.rep.State(h.ctx, key)
	if err != nil {
		h.violate(Errors, "state %v %s: %v", n.id, key, err)
		return nil
	}
	raw, rev, _ := n.store.Get(h.ctx, key)
	contended := h.rep.Clients.Contended
	horizon, reaped := n.horizonOf(key)
	var (
		rec      replica.Record[T]
		dot      version.Dot
		applyErr error
		replayed bool
		wctx     = pre.Join() // Create, Blind, Command: the replica's context
	)
	var wrote T                 // what the client wrote, as its ledger records it
	var wtime version.Timestamp // the write's time, which a command's key carries
	contend := (op.Style == Update || op.Style == Command) && h.rng.Float64() < contendRate
	fn := func(v *T, w replica.Write) error {
		if contend { // first attempt: another process writes the key meanwhile
			contend = false
			if h.contend(c, n, key) {
				if p, err := n.rep.State(h.ctx, key); err == nil {
					pre = p // what the next attempt reads
					if op.Style == Command {
						wctx = pre.Join()
					}
				}
			}
		}
		dot, wtime = w.Dot, w.Time
		applyErr = op.Apply(v, w)
		wrote = *v
		return applyErr
	}
	what := fmt.Sprintf("c%d @%v %s %s %q", c.idx, n.id, op.Style, key, op.Label)
	switch op.Style {
	case Create:
		wrote = op.Value
		if pre.Len() == 0 && reaped {
			wctx = horizon // the replica writes over the tombstone it reaped
		}
		rec, err = n.rep.Create(h.ctx, key, op.Value)
	case Blind:
		rec, err = n.rep.Blind(h.ctx, key, op.Field, op.Value)
	case Update:
		wctx = seen
		what += " token " + seen.String()
		if h.w.hooks.update != nil {
			rec, err = h.w.hooks.update(n, key, token, fn)
		} else {
			rec, err = n.rep.Update(h.ctx, key, token, fn)
		}
	case Command:
		what += " key " + idem
		rec, replayed, err = n.rep.Command(h.ctx, key, idem, fn)
	case Resolve:
		wctx = seen
		what += " token " + seen.String()
		wrote = op.Value
		rec, err = n.rep.ResolveConflict(h.ctx, key, token, op.Value)
	case Delete:
		wctx = seen
		what += " token " + seen.String()
		if h.w.hooks.del != nil {
			rec, err = h.w.hooks.del(n, key, token)
		} else {
			rec, err = n.rep.Delete(h.ctx, key, token)
		}
	}
	if tl := h.refusedTooLarge(n, key, what, err, raw, rev, h.rep.Clients.Contended != contended); tl != nil {
		return tl
	}
	if err != nil {
		var pf *replica.PreconditionFailed
		if op.Style == Resolve && errors.As(err, &pf) {
			h.violate(Review, "%s: the review queue's token is refused (412): current context %v", what, pf.Context)
		}
		h.refused(c, n, key, what, err, applyErr)
		if op.Style == Command && errors.Is(err, resolve.ErrConflict) {
			c.retry = append(c.retry, pending[T]{key, idem, op}) // try again once the conflict is settled
		}
		return nil
	}
	if op.Style == Delete && rec.Context.Equal(seen) {
		h.rep.Deletes.Repeated++
		c.cache[key] = &rec
		h.logf("%s → already deleted: nothing written", what)
		return nil
	}
	if replayed {
		h.rep.Clients.Replayed++
		c.cache[key] = &rec
		h.logf("%s → replayed, not applied again: %s", what, h.show(rec))
		return nil
	}
	got := version.Dot{ID: n.id, Counter: rec.Context.Get(n.id)}
	if !dot.ID.IsZero() && dot != got {
		h.violate(Errors, "%s: the write was told dot %v, the record says %v", what, dot, got)
	}
	h.documentedKeys(&wrote, op.Style, idem, wtime, replaced)
	// The replica writes above its counter floor: the write claims n's
	// earlier writes of the key, which were all reaped (or are in pre).
	// The floor is the model's (node.floor), except through a second
	// Replica value, which reads the store's floor only when it writes a
	// state without a write of its own (replica.FloorStore).
	floor := n.rep.Reaping().CounterFloor
	if !h.contending && floor != n.floor {
		h.violate(Model, "%s: the replica's counter floor is %d, the model's %d", what, floor, n.floor)
	}
	wctx = aboveFloor(n.id, floor, wctx)
	ack := &Ack[T]{Step: h.step, Client: c.idx, Replica: n.id, Key: key, Style: op.Style, Label: op.Label, Dot: got,
		Context: wctx, Acked: rec.Context, Idem: idem, Attempt: h.attempts[idem], Replaced: replaced, Value: wrote}
	if !h.ledger(n, ack, rec, pre, what) {
		return nil
	}
	dk := dotKey{key, got}
	if prev := h.byDot[dk]; prev != nil {
		h.violate(DotReuse, "%s: dot %v acknowledged again; first by c%d at step %d (%s %q)", what, got, prev.Client, prev.Step, prev.Style, prev.Label)
	} else {
		h.byDot[dk] = ack
	}
	h.acks[key] = append(h.acks[key], ack)
	h.writers[key][n.id] = true
	switch op.Style {
	case Create:
		h.rep.Writes.Create++
	case Blind:
		h.rep.Writes.Blind++
	case Update:
		h.rep.Writes.Update++
	case Command:
		h.rep.Writes.Command++
	case Resolve:
		h.rep.Writes.Resolve++
	case Delete:
		h.rep.Writes.Delete++
	}
	if h.rep.Labels == nil {
		h.rep.Labels = map[string]int{}
	}
	h.rep.Labels[strings.SplitN(op.Label, " ", 2)[0]]++
	h.deleteAcked(n, ack, pre, reaped, what)
	m, mdot := n.model[key].Update(historyOf(wctx), dotmodel.Entry[struct{}]{Deleted: op.Style == Delete}, n.id)
	n.model[key] = m
	if mdot != got {
		h.violate(Model, "%s: the model issues dot %v, the replica %v", what, mdot, got)
	}
	h.logf("%s → ack %v stamp %v: %s", what, got, ack.Stamp.Time, h.show(rec))
	if op.Style == Command && h.rng.Float64() < h.s.faults.LostReply {
		h.rep.Faults.LostReplies++
		c.retry = append(c.retry, pending[T]{key, idem, op})
		h.logf("  the reply to c%d is lost; it will retry with key %s", c.idx, idem)
	} else {
		c.cache[key] = &rec
	}
	h.broadcast(n, key)
	h.observe(n, key)
	return nil
}

// firstRun is when a command was first applied, and how many commands its
// key had had before.
type firstRun struct {
	at  time.Time
	run int
}

// withinHorizon reports whether a retry of the command first applied as
// first must still find its key in the record: less than the horizon's
// age later (less twice the clock skew, which the keys' times carry) and
// fewer than the horizon's count of commands on the key since.
func (h *history[T]) withinHorizon(key string, first firstRun) bool {
	hz := h.w.CommandHorizon
	if hz.Age <= 0 {
		hz.Age = policy.DefaultHorizon.Age
	}
	if hz.Keys <= 0 {
		hz.Keys = policy.DefaultHorizon.Keys
	}
	return h.now.Sub(first.at) < hz.Age-2*h.s.faults.MaxSkew && h.runs[key]-first.run < hz.Keys
}

// refused accounts for a write the replica refused.
func (h *history[T]) refused(c *client[T], n *node[T], key, what string, err, applyErr error) {
	var pf *replica.PreconditionFailed
	switch {
	case errors.As(err, &pf):
		h.rep.Clients.Refused412++
		h.logf("%s → 412: current token %v", what, pf.Context)
		h.read(c, n, key)
	case errors.Is(err, resolve.ErrConflict):
		h.rep.Clients.RefusedOpen++
		h.logf("%s → refused: open conflict", what)
		h.read(c, n, key)
	case applyErr != nil && errors.Is(err, applyErr):
		h.rep.Clients.RefusedRule++
		h.logf("%s → refused by the record: %v", what, err)
		h.read(c, n, key)
	case errors.Is(err, replica.ErrDeleted):
		h.logf("%s → deleted", what)
		h.read(c, n, key)
	case errors.Is(err, replica.ErrNotFound):
		delete(c.cache, key)
		h.logf("%s → not found", what)
	case errors.Is(err, replica.ErrExists):
		h.logf("%s → exists", what)
		h.read(c, n, key)
	default:
		h.violate(Errors, "%s: %v", what, err)
	}
}

// ledger checks an acknowledgement against what the client wrote and was
// told, before the client records it: the acknowledged branch holds the
// client's value, its stamp is after every stamp the replica's clock has
// passed, and a command retried where its first application is held was
// not applied again. It reports whether the acknowledgement is usable.
func (h *history[T]) ledger(n *node[T], a *Ack[T], rec replica.Record[T], pre resolve.Siblings[T], what string) bool {
	var branch *resolve.Branch[T]
	for i := range rec.Branches {
		if rec.Branches[i].Stamp.Dot == a.Dot {
			branch = &rec.Branches[i]
		}
	}
	if branch == nil {
		h.violate(Errors, "%s: acknowledged dot %v is not a branch of the record", what, a.Dot)
		return false
	}
	a.Stamp = branch.Stamp
	if a.Style == Blind {
		a.Value = branch.Value // the client wrote one field of it
	} else if !h.equal(a.Value, branch.Value) {
		h.violate(NoLoss, "%s: acknowledged as %v holding %v, but the client wrote %v", what, a.Dot, branch.Value, a.Value)
	}
	if ts := branch.Stamp.Time; ts.Compare(n.stamped) <= 0 {
		h.violate(Clock, "%s: stamped %v, not after %v, which %v's clock had already passed", what, ts, n.stamped, n.id)
	} else {
		n.stamped = ts
	}
	if a.Style == Command {
		defer func() { h.runs[a.Key]++ }()
		if first := h.commands[a.Idem]; first == nil {
			h.commands[a.Idem] = a
			h.firstRuns[a.Idem] = firstRun{at: h.now, run: h.runs[a.Key]}
		} else if h.rep.Clients.Reapplied++; pre.Covers(first.Dot) && h.withinHorizon(a.Key, h.firstRuns[a.Idem]) && !h.deletedAway(first) {
			h.violate(AtMostOnce, "%s: command %s applied again as %v, though %v already holds its first application %v (step %d)",
				what, a.Idem, a.Dot, n.id, first.Dot, first.Step)
		}
	}
	return true
}

// applied moves the clock bound of n past the stamps an Apply of key just
// brought in — the siblings it did not hold before — that the HLC had to
// adopt: those within its drift bound at the time of the Apply.
func (h *history[T]) applied(n *node[T], key string, before resolve.Siblings[T]) {
	st, err := n.rep.State(h.ctx, key)
	if err != nil {
		return // observe reports it
	}
	now := n.now().UnixNano()
	for s := range st.Siblings() {
		ts := s.Value.Stamp.Time
		if _, held := before.Get(s.Dot); !held && ts.Wall-now <= int64(version.DefaultMaxDrift) && ts.Compare(n.stamped) > 0 {
			n.stamped = ts
		}
	}
}

// documentedKeys adds to what a client wrote the idempotency keys the
// replica adds by contract (Options.CommandKeys): a command's own key (with
// the write's time), and for a Resolve those of every branch it settles —
// all within the command horizon, as the keys' policy keeps every written
// value.
func (h *history[T]) documentedKeys(v *T, style Style, idem string, at version.Timestamp, replaced []resolve.Branch[T]) {
	if h.w.CommandKeys == nil {
		return
	}
	ks := h.w.CommandKeys(v)
	if ks == nil {
		return
	}
	switch style {
	case Command:
		*ks = ks.Add(idem, at)
	case Resolve:
		for i := range replaced {
			if bk := h.w.CommandKeys(&replaced[i].Value); bk != nil {
				*ks = ks.Union(*bk)
			}
		}
	}
	*ks = ks.Prune(h.w.CommandHorizon)
}
