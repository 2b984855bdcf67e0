package resolve

import (
	"math"

	"github.com/harborpoint/concord/policy"
	"github.com/harborpoint/concord/version"
)

// decided is one decision of a merge as the fold records it: an index into
// the resolver's fields or rules instead of names, and indexes into the
// resolution's stampTable instead of the winner's and loser's stamps, so
// that recording a decision copies 32 bytes rather than a 200-byte
// Decision. The stamps of a merge's decisions repeat (a merge of two
// branches without per-field stamps names two stamps, whatever the number
// of fields), and a decision that copied them was most of what a merge
// allocated, and so most of the collector's work.
type decided struct {
	reason        string
	at            int32  // the field's index; ^index for a record rule; atDelete
	winner, loser uint32 // 1 + index into the stampTable; 0 for the zero stamp
	outcome       policy.Verdict
	skew          bool
}

// trail is what a resolution keeps of its decisions: the first few inline,
// so that a merge that decides on a few fields allocates nothing for them
// (a slice of them was, after the record itself, what a merge allocated
// most, and what the collector then paid for in every write barrier of the
// merges that followed), the rest in more; and the stamps they name.
type trail struct {
	n      int
	inline [inlineDecisions]decided
	more   []decided
	stamps stampTable
}

// inlineDecisions is the number of decisions a resolution holds without
// allocating: a merge decides on the fields its branches changed apart, a
// handful in a record of any size.
const inlineDecisions = 8

// at returns the i-th decision.
func (t *trail) at(i int) *decided {
	if i < len(t.inline) {
		return &t.inline[i]
	}
	return &t.more[i-len(t.inline)]
}

// truncate drops the decisions after the first n.
func (t *trail) truncate(n int) {
	if n < len(t.inline) {
		clear(t.inline[n:min(t.n, len(t.inline))])
		t.more = nil
	} else {
		clear(t.more[n-len(t.inline):])
		t.more = t.more[:n-len(t.inline)]
	}
	t.n = n
}

// add appends d to the trail. Only the code that builds a resolution adds
// to its trail: copies of a Resolution share more.
func (t *trail) add(d decided) {
	if t.n < len(t.inline) {
		t.inline[t.n] = d
	} else {
		t.more = append(t.more, d)
	}
	t.n++
}

// atDelete marks the decision of the resolver's OnDelete.
const atDelete = math.MinInt32

// stampTable holds the stamps a resolution's decisions name, by index: the
// first two inline (the two branches of a merge of two branches without
// per-field stamps, the common case, so that it allocates nothing), the
// rest in more.
type stampTable struct {
	inline [2]version.Stamp
	more   []version.Stamp
	n      uint32
}

// at returns the stamp of index i.
func (t *stampTable) at(i uint32) version.Stamp {
	if i < uint32(len(t.inline)) {
		return t.inline[i]
	}
	return t.more[i-uint32(len(t.inline))]
}

// set makes the table hold the stamps of tab, in order.
func (t *stampTable) set(tab []version.Stamp) {
	if len(tab) == 0 {
		return
	}
	n := copy(t.inline[:], tab)
	if len(tab) > n {
		t.more = append([]version.Stamp(nil), tab[n:]...)
	}
	t.n = uint32(len(tab))
}

// ref returns the reference of a decided to s: 0 for the zero stamp, else
// 1 + its index in the table, where it is added when it is not there.
func (t *stampTable) ref(s version.Stamp) uint32 {
	if s == (version.Stamp{}) {
		return 0
	}
	for i := range t.n {
		if t.at(i) == s {
			return i + 1
		}
	}
	if t.n < uint32(len(t.inline)) {
		t.inline[t.n] = s
	} else {
		t.more = append(t.more, s)
	}
	t.n++
	return t.n
}

// decision returns d with its names and stamps.
func (r *Resolver[T]) decision(d *decided, stamps *stampTable) Decision {
	out := Decision{Entity: r.entity, Decision: policy.Decision{Outcome: d.outcome, Reason: d.reason,
		InSkewWindow: d.skew}}
	if d.winner != 0 {
		out.Winner = stamps.at(d.winner - 1)
	}
	if d.loser != 0 {
		out.Loser = stamps.at(d.loser - 1)
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
