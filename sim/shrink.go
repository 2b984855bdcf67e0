package sim

import (
	"maps"
	"slices"

	"github.com/harborpoint/concord/internal/splitmix"
)

// reseed seeds the history's random source for the current step from the
// history's seed and the step's number alone, so that a step draws the
// same numbers whichever earlier steps ran: shrinking can leave steps out
// and the others stay the same events.
func (h *history[T]) reseed() {
	x := splitmix.Mix(h.seed ^ splitmix.Mix(uint64(h.step)+0x632be59bd9b4e019))
	h.pcg.Seed(x, splitmix.Mix(x^0xda3e39cb94b95bdb))
}

// defaultShrink is the most histories replayed to leave steps out of a
// failing prefix when Config.Shrink is 0.
const defaultShrink = 300

// failsWithout runs a history of the given length without the steps in
// skip and returns it if it fails with a violation of check c (any check
// if c is 0).
func failsWithout[T any](s *settings, w *Workload[T], seed uint64, steps int, skip map[int]bool, c Check, logging bool) *history[T] {
	h := newHistory(s, w, seed, steps, logging)
	h.skip = skip
	h.run()
	if !slices.ContainsFunc(h.viol, func(v Violation) bool { return c == 0 || v.Check == c }) {
		return nil
	}
	return h
}

// minimize leaves out of a failing history of the given length every step
// it can while it still fails with a violation of check c: runs of steps
// first, halving their length down to single steps (Zeller's ddmin, one
// pass per length), within budget replays. It returns the steps left out,
// in order.
func minimize[T any](s *settings, w *Workload[T], seed uint64, steps int, c Check, budget int) []int {
	skip := map[int]bool{}
	for size := max(steps/2, 1); size >= 1 && budget > 0; size /= 2 {
		for start := 1; start <= steps && budget > 0; start += size {
			try := maps.Clone(skip)
			added := false
			for i := start; i < start+size && i <= steps; i++ {
				if !try[i] {
					try[i], added = true, true
				}
			}
			if !added {
				continue
			}
			budget--
			if failsWithout(s, w, seed, steps, try, c, false) != nil {
				skip = try
			}
		}
	}
	return slices.Sorted(maps.Keys(skip))
}

func skipSet(steps []int) map[int]bool {
	m := make(map[int]bool, len(steps))
	for _, i := range steps {
		m[i] = true
	}
	return m
}
