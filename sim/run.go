package sim

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
)

// Run runs cfg.Histories histories of workload w and returns their summary.
// History i is seeded with cfg.Seed+i and is deterministic: the same seed
// and settings replay it exactly.
//
// A history that fails a check is shrunk to its shortest failing prefix of
// steps (the heal and the final checks always run), then steps are left
// out of it one run at a time while it still fails the same check
// (Config.Shrink), and it is replayed with its events logged and reported
// in Report.Failures. Unless cfg.KeepGoing is
// set, Run stops after it. The error is for a Config or Workload that cannot
// run ([ErrInvalidConfig]); a failing check is not an error.
func Run[T any](cfg Config, w Workload[T]) (Report, error) {
	s, err := cfg.settle()
	if err != nil {
		return Report{}, err
	}
	if w.NewResolver == nil && w.hooks.resolver == nil || w.Next == nil {
		return Report{}, fmt.Errorf("%w: Workload needs NewResolver and Next", ErrInvalidConfig)
	}
	total := Report{Violations: map[Check]int{}}
	batch := 1
	if s.Workers > 1 {
		batch = 4 * s.Workers
	}
	for i := 0; i < s.Histories; i += batch {
		out := make([]*Report, min(batch, s.Histories-i))
		var wg sync.WaitGroup
		sem := make(chan struct{}, s.Workers)
		for j := range out {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer func() { <-sem; wg.Done() }()
				out[j] = runOne(&s, &w, s.Seed+uint64(i+j))
			}()
		}
		wg.Wait()
		for _, r := range out {
			total.add(r)
			if len(r.Failures) > 0 && !s.KeepGoing {
				return total, nil
			}
		}
	}
	return total, nil
}

// runOne runs one history and, if it fails, shrinks it.
func runOne[T any](s *settings, w *Workload[T], seed uint64) *Report {
	h := newHistory(s, w, seed, s.Steps, false)
	h.skip = skipSet(s.Skip)
	h.run()
	if len(h.viol) == 0 {
		return &h.rep
	}
	if s.Shrink <= ShrinkNone {
		h.rep.Failures = []Failure{{Seed: seed, Steps: s.Steps, OrigSteps: s.Steps, Skipped: s.Skip, Replicas: len(h.nodes), Violations: h.viol}}
		return &h.rep
	}
	f := shrink(s, w, seed, s.Steps)
	h.rep.Failures = []Failure{f}
	return &h.rep
}

// fails runs a history of the given length (without the steps of
// Config.Skip) and returns it if it fails.
func fails[T any](s *settings, w *Workload[T], seed uint64, steps int, logging bool) *history[T] {
	return failsWithout(s, w, seed, steps, skipSet(s.Skip), 0, logging)
}

// shrink finds the shortest failing prefix of a failing history by
// bisection (steps is known to fail), leaves out every step it can while
// the first check that failed still fails, then replays it with logging.
func shrink[T any](s *settings, w *Workload[T], seed uint64, steps int) Failure {
	hi, skip := prefix(s, w, seed, steps), s.Skip
	if budget := s.Shrink; budget >= 0 && len(s.Skip) == 0 {
		h := fails(s, w, seed, hi, false)
		if h == nil { // bisection is a heuristic; the full history fails for sure
			hi = steps
			h = fails(s, w, seed, hi, false)
		}
		if budget == 0 {
			budget = defaultShrink
		}
		skip = minimize(s, w, seed, hi, h.viol[0].Check, budget)
	}
	h := failsWithout(s, w, seed, hi, skipSet(skip), 0, true)
	if h == nil {
		hi, skip = steps, s.Skip
		h = failsWithout(s, w, seed, hi, skipSet(skip), 0, true)
	}
	f := Failure{Seed: seed, Steps: hi, OrigSteps: steps, Skipped: skip, Replicas: len(h.nodes), Violations: h.viol}
	f.History = focus(h.log, h.keys, h.viol)
	return f
}

// prefix returns the length of the shortest failing prefix of a failing
// history of the given length, by bisection.
func prefix[T any](s *settings, w *Workload[T], seed uint64, steps int) int {
	lo, hi := 0, steps
	for lo < hi {
		mid := (lo + hi) / 2
		if fails(s, w, seed, mid, false) != nil {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return hi
}

// focus keeps the events that matter to the violations: those about the
// keys they name, and those about no key at all (faults, anti-entropy). It
// says how many other events it left out.
func focus(log, keys []string, viol []Violation) string {
	var pats []*regexp.Regexp
	var all []*regexp.Regexp
	for _, k := range keys {
		re := regexp.MustCompile(`(^|[^\w-])` + regexp.QuoteMeta(k) + `\b`)
		all = append(all, re)
		for _, v := range viol {
			if re.MatchString(v.Message) {
				pats = append(pats, re)
				break
			}
		}
	}
	if len(pats) == 0 || len(pats) == len(keys) {
		return strings.Join(log, "\n") + "\n"
	}
	var b strings.Builder
	left := 0
	for _, line := range log {
		keep := !slices.ContainsFunc(all, func(re *regexp.Regexp) bool { return re.MatchString(line) }) ||
			slices.ContainsFunc(pats, func(re *regexp.Regexp) bool { return re.MatchString(line) })
		if keep {
			b.WriteString(line)
			b.WriteByte('\n')
		} else {
			left++
		}
	}
	fmt.Fprintf(&b, "(%d events about other keys left out)\n", left)
	return b.String()
}

// Reproduce replays one history of cfg (the first, seeded cfg.Seed) with
// every event logged, and returns its violations and its history — what a
// [Failure] prints, for a seed found elsewhere.
func Reproduce[T any](cfg Config, w Workload[T]) ([]Violation, string, error) {
	s, err := cfg.settle()
	if err != nil {
		return nil, "", err
	}
	if w.NewResolver == nil && w.hooks.resolver == nil || w.Next == nil {
		return nil, "", fmt.Errorf("%w: Workload needs NewResolver and Next", ErrInvalidConfig)
	}
	h := newHistory(&s, &w, s.Seed, s.Steps, true)
	h.skip = skipSet(s.Skip)
	h.run()
	return h.viol, strings.Join(h.log, "\n") + "\n", nil
}
