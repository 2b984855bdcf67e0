package sim

import (
	"errors"
	"slices"

	"github.com/harborpoint/concord/replica"
)

// refusedApply accounts for a replicated state n refused. A merge over the
// record limit is allowed — and must keep n's record as it was and put the
// key in n's review queue under replica.RecordLimitRule; anything else is a
// violation of Errors.
func (h *history[T]) refusedApply(n *node[T], key string, err error, before []byte, rev uint64) {
	var tl *replica.TooLargeError
	if !errors.As(err, &tl) || !tl.Merge {
		h.violate(Errors, "apply at %v %s: %v", n.id, key, err)
		return
	}
	h.rep.Oversize.Merges++
	h.oversized[key] = true
	h.atLimit(key)
	h.logf("  %v %s: merge over the record limit (%d of %d %s), local record kept, to review", n.id, key, tl.Size, tl.Limit, tl.What)
	after, rev2, _ := n.store.Get(h.ctx, key)
	if rev != rev2 || !slices.Equal(before, after) {
		h.violate(Errors, "%v %s: a merge refused as too large changed the store", n.id, key)
	}
	if !slices.ContainsFunc(n.rep.Conflicts(), func(it replica.ReviewItem[T]) bool {
		return it.Key == key && it.Rule == replica.RecordLimitRule
	}) {
		h.violate(Errors, "%v %s: a merge refused as too large is not in the review queue as %s", n.id, key, replica.RecordLimitRule)
	}
}

// refusedTooLarge checks a client write refused as too large, and returns
// its error (nil if err is not one): the store is as it was (unless a
// second Replica value wrote meanwhile).
func (h *history[T]) refusedTooLarge(n *node[T], key, what string, err error, before []byte, rev uint64, contended bool) *replica.TooLargeError {
	var tl *replica.TooLargeError
	if !errors.As(err, &tl) {
		return nil
	}
	h.rep.Oversize.Writes++
	h.atLimit(key)
	h.logf("%s → refused as too large: %d %s, limit %d", what, tl.Size, tl.What, tl.Limit)
	if tl.Merge {
		h.violate(Errors, "%s: a client write refused as a merge over the limit: %v", what, err)
	}
	if after, rev2, _ := n.store.Get(h.ctx, key); !contended && (rev != rev2 || !slices.Equal(before, after)) {
		h.violate(Errors, "%s: refused as too large, but the store changed", what)
	}
	return tl
}

// atLimit counts key among the records that reached the record limit.
func (h *history[T]) atLimit(key string) {
	if !h.limited[key] {
		h.limited[key] = true
		h.rep.Oversize.Records++
	}
}

// settleOversize settles, as the operator during the final heal, every
// merge the record limit refused that is still in a review queue, with
// exactly the token the queue hands out: with the workload's Resolve, or
// else with any branch, so that the replicas can converge (each holds
// branches the other cannot merge). A settlement is itself refused as too
// large when the value chosen, with the command keys of every branch it
// replaces and the context that covers them, is over the limit — a branch
// that fit alone may not —; the operator then makes the value smaller
// (Workload.Shrink) and settles again, as a 413 asks. It settles each key
// at one replica per round — settling it at every replica at once would
// make concurrent settlements that again cannot merge. It reports whether
// it settled any.
func (h *history[T]) settleOversize() bool {
	settled := map[string]bool{}
	for _, n := range h.nodes {
		for _, it := range n.rep.Conflicts() {
			if it.Rule != replica.RecordLimitRule || settled[it.Key] {
				continue
			}
			if _, err := n.rep.State(h.ctx, it.Key); err != nil {
				continue
			}
			settled[it.Key] = true
			h.operatorSettles(n, it)
		}
	}
	return len(settled) > 0
}

// maxShrinks bounds the settlements the operator retries smaller after a
// 413; each retry drops at least what the refusal said was over.
const maxShrinks = 8

// operatorSettles settles review item it at n with its token, making the
// value smaller while the settlement is refused as too large.
func (h *history[T]) operatorSettles(n *node[T], it replica.ReviewItem[T]) {
	v := it.Branches[0].Value
	if h.w.Resolve != nil {
		v = h.w.Resolve(h.rng, it)
	}
	h.logf("operator: settles the refused merge of %v %s", n.id, it.Key)
	for try := 0; ; try++ {
		acked := len(h.acks[it.Key])
		op := Op[T]{Style: Resolve, Label: "settle " + it.Reason, Value: v}
		tl := h.write(h.clients[0], n, it.Key, op, it.Token, it.Context, "", it.Branches)
		if len(h.acks[it.Key]) > acked {
			h.rep.Oversize.AtHeal++
		}
		if tl == nil || h.w.Shrink == nil || try == maxShrinks || !h.w.Shrink(&v, tl.Size-tl.Limit) {
			return
		}
		h.rep.Oversize.Shrunk++
		h.logf("operator: makes the settlement of %v %s %d bytes smaller", n.id, it.Key, tl.Size-tl.Limit)
	}
}

// sampleStorage records the most records, bytes and horizons a replica has
// held at the end of a step.
func (h *history[T]) sampleStorage() {
	d := &h.rep.Deletes
	for _, n := range h.nodes {
		keys, bytes := storeSize(h, n)
		d.MaxStoredKeys = max(d.MaxStoredKeys, keys)
		d.MaxStoredBytes = max(d.MaxStoredBytes, bytes)
		if n.rep != nil {
			d.MaxHorizons = max(d.MaxHorizons, len(n.rep.Reaped()))
		}
	}
}

// storeSize counts the records and bytes of n's store.
func storeSize[T any](h *history[T], n *node[T]) (keys, bytes int) {
	after := ""
	for {
		es, err := n.store.Scan(h.ctx, after, 64)
		if err != nil || len(es) == 0 {
			return keys, bytes
		}
		for _, e := range es {
			keys++
			bytes += len(e.Value)
		}
		after = es[len(es)-1].Key
	}
}

// checkDeletesHealed runs the final checks of deletes, once every replica
// has healed, synced with every other and acknowledged: no replica keeps a
// tombstone (Reaped); each store holds exactly the live records, within
// the limits (Storage); and no write a surviving delete covered is live
// anywhere (Resurrection).
func (h *history[T]) checkDeletesHealed() {
	maxBytes := h.w.MaxRecordBytes
	if maxBytes <= 0 {
		maxBytes = replica.DefaultMaxRecordBytes
	}
	for _, n := range h.nodes {
		reaped := n.rep.Reaped()
		live := 0
		for _, k := range h.keys {
			st, err := n.rep.State(h.ctx, k)
			if err != nil {
				continue
			}
			rec, err := n.rep.Get(h.ctx, k)
			switch {
			case isTombstone(st):
				h.rep.Deletes.FinalTombstones++
				h.violate(Reaped, "%v %s: the tombstone %v is still stored after every replica healed and acknowledged", n.id, k, st.Dots())
			case st.Len() > 0:
				live++
			case slices.Contains(reaped, k) && !errors.Is(err, replica.ErrNotFound):
				h.violate(Reaped, "%v %s: reaped, but a read answers %v", n.id, k, err)
			case slices.Contains(reaped, k) && errors.Is(err, replica.ErrDeleted):
				h.violate(Reaped, "%v %s: reaped, but a read still finds the tombstone (%s)", n.id, k, rec.Token)
			}
		}
		keys, bytes := storeSize(h, n)
		h.rep.Deletes.FinalStored += keys
		if keys != live {
			h.violate(Storage, "%v: its store holds %d records after the final heal, but only %d are live and no tombstone may be left", n.id, keys, live)
		}
		if keys > len(h.keys) || bytes > len(h.keys)*maxBytes {
			h.violate(Storage, "%v: its store holds %d records of %d bytes, over %d records of at most %d bytes", n.id, keys, bytes, len(h.keys), maxBytes)
		}
	}
	h.noResurrectionHealed()
}

// noResurrectionHealed checks, after the final heal, every acknowledged
// delete that survived — some replica holds it or reaped it — against
// every replica: none holds a write it covered live.
func (h *history[T]) noResurrectionHealed() {
	for _, k := range h.keys {
		for _, d := range h.del.deletes[k] {
			if !h.survived(k, d) {
				continue
			}
			for _, n := range h.nodes {
				if st, err := n.rep.State(h.ctx, k); err == nil {
					h.noResurrection(n, k, st, d)
				}
			}
		}
	}
}

// survived reports whether a replica's final record or reaped horizon of
// key holds delete d.
func (h *history[T]) survived(key string, d *Ack[T]) bool {
	for _, n := range h.nodes {
		if hz, ok := n.horizonOf(key); ok && hz.Contains(d.Dot) {
			return true
		}
		if st, err := n.rep.State(h.ctx, key); err == nil && st.Join().Contains(d.Dot) {
			return true
		}
	}
	return false
}
