package resolve

import (
	"math"

	"github.com/harborpoint/concord/policy"
	"github.com/harborpoint/concord/version"
)

// decided is one decision of a merge as the fold records it: an index into
// the resolver's fields or rules instead of names, indexes into the trail's
// stamps instead of the winner's and loser's stamps, and the number of its
// reason (see reasonTable) instead of the text, so that recording a
// decision copies 20 bytes that hold no pointer rather than a 200-byte
// Decision. The stamps of a merge's decisions repeat (a merge of two
// branches without per-field stamps names two stamps, whatever the number
// of fields), and a decision that copied them was most of what a merge
// allocated, and so most of the collector's work.
type decided struct {
	at            int32  // the field's index; ^index for a record rule; atDelete
	winner, loser uint32 // 1 + index into the trail's stamps; 0 for the zero stamp
	reason        uint32 // see reasonTable; reasonInTrail|k for the trail's k-th text
	outcome       policy.Verdict
	skew          bool
}

// packed is a decided as a trail keeps it: one word, for the fields, rules,
// stamps and reasons of ordinary merges (field and rule indexes of 15 bits,
// the first 255 stamps a merge names, the first 65,536 reasons); a decision
// beyond them is kept whole in the trail's overflow, its index in the
// packed one's winner, loser and reason. Every byte of the trail is a byte
// every resolution carries and copies — its decisions are what a resolution
// must own — so the inline room is kept small.
//
// Its parts, from the low bits: at (16 bits: as decided's, or packedDelete,
// or packedWide for a decision kept whole), winner (8), loser (8), reason
// (16), outcome (8), skew (1). It is a word built in a register rather than
// a struct of narrow fields: the fold writes one per decision and copies the
// trail whole soon after, and a word written as six narrow stores and read
// back whole makes the load wait until the stores reach the cache (the
// processor cannot forward several stores to one load): about 5% of a
// six-field merge's time.
type packed uint64

// packParts returns the packed decision of the given parts.
func packParts(at int16, winner, loser uint8, reason uint16, outcome policy.Verdict, skew bool) packed {
	p := uint64(uint16(at)) | uint64(winner)<<16 | uint64(loser)<<24 | uint64(reason)<<32 | uint64(uint8(outcome))<<48
	if skew {
		p |= 1 << 56
	}
	return packed(p)
}

func (p packed) at() int16               { return int16(p) }
func (p packed) winner() uint8           { return uint8(p >> 16) }
func (p packed) loser() uint8            { return uint8(p >> 24) }
func (p packed) reason() uint16          { return uint16(p >> 32) }
func (p packed) outcome() policy.Verdict { return policy.Verdict(int8(p >> 48)) }
func (p packed) skew() bool              { return p>>56&1 != 0 }

// The packed indexes that mark a decision of OnDelete and one kept whole.
const (
	packedWide   = math.MinInt16
	packedDelete = math.MinInt16 + 1
)

// pack returns d packed, or false when it must be kept whole.
func pack(d decided) (packed, bool) {
	at := int16(d.at)
	switch {
	case d.at == atDelete:
		at = packedDelete
	case d.at > math.MaxInt16 || d.at <= packedDelete:
		return 0, false
	}
	return packParts(at, uint8(d.winner), uint8(d.loser), uint16(d.reason), d.outcome, d.skew),
		d.winner <= math.MaxUint8 && d.loser <= math.MaxUint8 && d.reason <= math.MaxUint16
}

// wide returns the packed marker of the decision kept whole at index k.
func wide(k int) packed {
	return packParts(packedWide, uint8(k), uint8(k>>8), uint16(k>>16), 0, false)
}

// unpack returns the decision p stands for in a trail whose overflow is m.
func (p packed) unpack(m *trailMore) decided {
	d := decided{at: int32(p.at()), winner: uint32(p.winner()), loser: uint32(p.loser()), reason: uint32(p.reason()),
		outcome: p.outcome(), skew: p.skew()}
	switch p.at() {
	case packedWide:
		return m.wide[int(d.winner)|int(d.loser)<<8|int(d.reason)<<16]
	case packedDelete:
		d.at = atDelete
	}
	return d
}

// trail is what a resolution keeps of its decisions: the first few inline,
// so that a merge that decides on a few fields allocates nothing for them,
// the rest in more; and the stamps they name, the first two inline. It
// holds no pointer — what outgrows it is in a trailMore beside it (the
// Resolution's more), nil unless a merge needs it — so that the fold fills
// it without write barriers and copies it into the resolution whole.
type trail struct {
	n       int32
	nstamps uint32
	inline  [inlineDecisions]packed
	stamps  [2]version.Stamp
}

// trailMore is what a trail holds beyond its inline room: decisions,
// stamps, and the text of reasons its resolver's table had no room for.
type trailMore struct {
	decided []packed  // beyond the inline ones
	wide    []decided // the decisions that do not pack
	stamps  []version.Stamp
	reasons []string
}

// inlineDecisions is the number of decisions a resolution holds inline: a
// merge decides on the fields its branches changed apart, a handful in a
// record of any size.
const inlineDecisions = 8

// ext returns *more, allocating it on first use.
func ext(more **trailMore) *trailMore {
	if *more == nil {
		*more = new(trailMore)
	}
	return *more
}

// at returns the i-th decision of t and its overflow m.
func (t *trail) at(i int, m *trailMore) decided {
	if i < len(t.inline) {
		return t.inline[i].unpack(m)
	}
	return m.decided[i-len(t.inline)].unpack(m)
}

// truncate drops the decisions after the first n.
func (t *trail) truncate(n int, m *trailMore) {
	if n < len(t.inline) {
		clear(t.inline[n:min(int(t.n), len(t.inline))])
	}
	if m != nil { // nil while the decisions fit inline
		m.decided = m.decided[:max(0, n-len(t.inline))]
	}
	t.n = int32(n)
}

// add appends d to the trail, its overflow in *more. Only the code that
// builds a resolution adds to its trail.
func (t *trail) add(d decided, more **trailMore) {
	p, ok := pack(d)
	if !ok {
		m := ext(more)
		p = wide(len(m.wide))
		m.wide = append(m.wide, d)
	}
	if int(t.n) < len(t.inline) {
		t.inline[t.n] = p
	} else {
		m := ext(more)
		m.decided = append(m.decided, p)
	}
	t.n++
}

// addField adds the decision of field at, given by its parts (see
// decided): the common decision, packed in place when it fits inline (a
// decided built and then packed costs its stores and loads).
func (t *trail) addField(at int32, winner, loser, reason uint32, outcome policy.Verdict, skew bool, more **trailMore) {
	if int(t.n) < len(t.inline) && at >= 0 && at <= math.MaxInt16 && winner <= math.MaxUint8 && loser <= math.MaxUint8 && reason <= math.MaxUint16 {
		t.inline[t.n] = packParts(int16(at), uint8(winner), uint8(loser), uint16(reason), outcome, skew)
		t.n++
		return
	}
	t.add(decided{at: at, winner: winner, loser: loser, reason: reason, outcome: outcome, skew: skew}, more)
}

// keep keeps text s in the overflow *more and returns its reason number.
func keep(s string, more **trailMore) uint32 {
	m := ext(more)
	m.reasons = append(m.reasons, s)
	return reasonInTrail | uint32(len(m.reasons)-1)
}

// atDelete marks the decision of the resolver's OnDelete.
const atDelete = math.MinInt32

// stamp returns the stamp of index i.
func (t *trail) stamp(i uint32, m *trailMore) version.Stamp {
	if i < uint32(len(t.stamps)) {
		return t.stamps[i]
	}
	return m.stamps[i-uint32(len(t.stamps))]
}

// setStamps makes the trail hold the stamps of tab, in order.
func (t *trail) setStamps(tab []version.Stamp, more **trailMore) {
	if len(tab) == 0 {
		return
	}
	n := copy(t.stamps[:], tab)
	if len(tab) > n {
		ext(more).stamps = append([]version.Stamp(nil), tab[n:]...)
	}
	t.nstamps = uint32(len(tab))
}

// ref returns the reference of a decided to s: 0 for the zero stamp, else
// 1 + its index in the trail's stamps, where it is added when it is not
// there.
func (t *trail) ref(s version.Stamp, more **trailMore) uint32 {
	if s == (version.Stamp{}) {
		return 0
	}
	for i := range t.nstamps {
		if t.stamp(i, *more) == s {
			return i + 1
		}
	}
	if t.nstamps < uint32(len(t.stamps)) {
		t.stamps[t.nstamps] = s
	} else {
		m := ext(more)
		m.stamps = append(m.stamps, s)
	}
	t.nstamps++
	return t.nstamps
}

// decision returns d, of trail t with overflow m, with its names, stamps
// and reason.
func (r *Resolver[T]) decision(d decided, t *trail, m *trailMore) Decision {
	out := Decision{Entity: r.entity, Decision: policy.Decision{Outcome: d.outcome, Reason: r.reasons.text(d.reason, m),
		InSkewWindow: d.skew}}
	if d.winner != 0 {
		out.Winner = t.stamp(d.winner-1, m)
	}
	if d.loser != 0 {
		out.Loser = t.stamp(d.loser-1, m)
	}
	switch {
	case d.at == atDelete:
		out.Rule, out.Policy = DeleteRule, r.onDelete.String()
	case d.at < 0:
		out.Rule, out.Policy = r.rules[^d.at].Name, "rule"
	default:
		out.Field, out.Policy = r.fields[d.at].name, r.fields[d.at].policy
	}
	return out
}
