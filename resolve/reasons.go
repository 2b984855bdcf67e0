package resolve

import (
	"maps"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/harborpoint/concord/internal/inplace"
)

// The reasons package resolve gives itself.
const (
	// replacedReason is the reason of a field decided by causality, not
	// by stamps: see live.
	replacedReason   = "the other value was replaced by a write that saw it"
	deleteWinsReason = "a delete concurrent with an update wins"
	updateWinsReason = "an update concurrent with a delete wins"
)

// fixedReasons are the reasons every resolver numbers alike: the built-in
// policies' (inplace.Reasons, numbered by package policy), then resolve's
// own. Package policy is initialized before this package, so
// inplace.Reasons is set.
var fixedReasons = slices.Concat(inplace.Reasons, []string{replacedReason, deleteWinsReason, updateWinsReason})

// The numbers of resolve's own reasons.
var (
	reasonReplaced   = uint32(len(inplace.Reasons))
	reasonDeleteWins = reasonReplaced + 1
	reasonUpdateWins = reasonReplaced + 2
)

// fixedIndex numbers the fixed reasons by text.
var fixedIndex = func() map[string]uint32 {
	m := make(map[string]uint32, len(fixedReasons))
	for i, s := range fixedReasons {
		if _, ok := m[s]; !ok {
			m[s] = uint32(i)
		}
	}
	return m
}()

const (
	// maxReasons bounds the reasons a resolver numbers beyond the fixed
	// ones: a policy or rule that formats its reasons (naming values, say)
	// must not grow the table without bound. Reasons beyond it are kept,
	// as text, in the trail of the merge that decided them.
	maxReasons = 256
	// reasonInTrail marks a reason number as an index into the trail's
	// texts.
	reasonInTrail = 1 << 31
)

// reasonTable numbers the reasons of a resolver's decisions, so that a
// decision records its reason in four bytes that hold no pointer (see
// decided). The built-in policies return their reasons by number (see
// package internal/inplace) and resolve's own reasons have fixed numbers,
// so that the merges of built-in policies never look a reason up; any other
// reason — a user's policy's, a record rule's — is numbered the first time
// it is seen, up to maxReasons of them. Readers take a snapshot without a
// lock; a new reason copies the snapshot (at most maxReasons times).
type reasonTable struct {
	mu   sync.Mutex
	snap atomic.Pointer[reasonSnap]
}

// reasonSnap is one state of a reasonTable; it never changes.
type reasonSnap struct {
	texts []string
	index map[string]uint32
}

// init makes the table hold the fixed reasons.
func (rt *reasonTable) init() {
	rt.snap.Store(&reasonSnap{texts: fixedReasons, index: fixedIndex})
}

// code returns the number of reason s, numbering it when it is new and
// there is room, else keeping it in the overflow *more.
func (rt *reasonTable) code(s string, more **trailMore) uint32 {
	if c, ok := rt.snap.Load().index[s]; ok {
		return c
	}
	rt.mu.Lock()
	defer rt.mu.Unlock()
	old := rt.snap.Load()
	if c, ok := old.index[s]; ok {
		return c
	}
	if len(old.texts) >= len(fixedReasons)+maxReasons {
		return keep(s, more)
	}
	c := uint32(len(old.texts))
	index := maps.Clone(old.index)
	index[s] = c
	rt.snap.Store(&reasonSnap{texts: append(slices.Clip(old.texts), s), index: index})
	return c
}

// text returns the text of reason c of a decision whose trail's overflow
// is m.
func (rt *reasonTable) text(c uint32, m *trailMore) string {
	if c&reasonInTrail != 0 {
		return m.reasons[c&^reasonInTrail]
	}
	return rt.snap.Load().texts[c]
}
