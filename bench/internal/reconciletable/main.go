// Command reconciletable turns the output of the core module's anti-entropy
// benchmarks (replica/rangesync's BenchmarkReconcile, BenchmarkIndexBuild,
// BenchmarkIndexPut and replica's BenchmarkRescan, run several times) into
// the markdown tables of RESULTS.md's anti-entropy section: the median of
// each figure, the ratios of the digest exchange to the protocol, and the
// issue's targets checked.
//
//	go test -bench ... | go run ./internal/reconciletable
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// samples maps a benchmark name (without -GOMAXPROCS) to unit to values.
type samples map[string]map[string][]float64

var line = regexp.MustCompile(`^(Benchmark\S+?)(-\d+)?\s+\d+\s+(.*)$`)

func parse(r io.Reader) (samples, error) {
	s := samples{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		m := line.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		f := strings.Fields(m[3])
		for i := 0; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			if s[m[1]] == nil {
				s[m[1]] = map[string][]float64{}
			}
			s[m[1]][f[i+1]] = append(s[m[1]][f[i+1]], v)
		}
	}
	return s, sc.Err()
}

func (s samples) median(name, unit string) (float64, bool) {
	vs := slices.Clone(s[name][unit])
	if len(vs) == 0 {
		return 0, false
	}
	slices.Sort(vs)
	return vs[len(vs)/2], true
}

func bytes(v float64) string {
	switch {
	case v >= 1<<20:
		return fmt.Sprintf("%.1f MiB", v/(1<<20))
	case v >= 1<<10:
		return fmt.Sprintf("%.1f KiB", v/(1<<10))
	}
	return fmt.Sprintf("%.0f B", v)
}

func duration(ns float64) string {
	switch {
	case ns >= 1e9:
		return fmt.Sprintf("%.2f s", ns/1e9)
	case ns >= 1e6:
		return fmt.Sprintf("%.1f ms", ns/1e6)
	case ns >= 1e3:
		return fmt.Sprintf("%.0f µs", ns/1e3)
	}
	return fmt.Sprintf("%.0f ns", ns)
}

func main() {
	s, err := parse(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "reconciletable:", err)
		os.Exit(1)
	}
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	reconcile(w, s)
	index(w, s)
}

func reconcile(w io.Writer, s samples) {
	fmt.Fprintln(w, "| n | d | concord bytes | round trips | time | digest bytes | time | bytes digest ÷ concord | time digest ÷ concord |")
	fmt.Fprintln(w, "|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
	var goals []string
	for _, n := range []int{10_000, 100_000, 1_000_000} {
		for _, d := range []int{0, 1, 10, 1000} {
			c := fmt.Sprintf("BenchmarkReconcile/n=%d/d=%d/impl=concord", n, d)
			g := fmt.Sprintf("BenchmarkReconcile/n=%d/d=%d/impl=digest", n, d)
			cb, ok1 := s.median(c, "wire-B/op")
			gb, ok2 := s.median(g, "wire-B/op")
			if !ok1 || !ok2 {
				continue
			}
			rt, _ := s.median(c, "round-trips/op")
			ct, _ := s.median(c, "ns/op")
			gt, _ := s.median(g, "ns/op")
			fmt.Fprintf(w, "| %d | %d | %s | %.0f | %s | %s | %s | %.0f× | %.0f× |\n",
				n, d, bytes(cb), rt, duration(ct), bytes(gb), duration(gt), gb/cb, gt/ct)
			switch {
			case n == 1_000_000 && d == 10:
				goals = append(goals, fmt.Sprintf("- n = 10^6, d = 10: %s in total (goal ≤ 64 KiB: %s), 1/%.0f of the digest's bytes (goal ≤ 1/100: %s).",
					bytes(cb), met(cb <= 64<<10), gb/cb, met(gb/cb >= 100)))
			case n == 1_000_000 && d == 0:
				goals = append(goals, fmt.Sprintf("- n = 10^6, d = 0: %.0f round trip of %.0f bytes (goal: one round trip of a few dozen bytes: %s).",
					rt, cb, met(rt == 1 && cb <= 64)))
			}
		}
	}
	if len(goals) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Targets of issue 15, checked on the medians above:")
		fmt.Fprintln(w)
		for _, g := range goals {
			fmt.Fprintln(w, g)
		}
	}
}

func met(ok bool) string {
	if ok {
		return "met"
	}
	return "NOT met"
}

func index(w io.Writer, s samples) {
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| index operation | n | time | per key |")
	fmt.Fprintln(w, "|---|--:|--:|--:|")
	for _, n := range []int{10_000, 100_000, 1_000_000} {
		if t, ok := s.median(fmt.Sprintf("BenchmarkIndexBuild/n=%d", n), "ns/op"); ok {
			k, _ := s.median(fmt.Sprintf("BenchmarkIndexBuild/n=%d", n), "ns/key")
			fmt.Fprintf(w, "| build from scratch (rangesync) | %d | %s | %s |\n", n, duration(t), duration(k))
		}
	}
	for _, n := range []int{10_000, 100_000, 1_000_000} {
		if t, ok := s.median(fmt.Sprintf("BenchmarkIndexPut/n=%d", n), "ns/op"); ok {
			fmt.Fprintf(w, "| update one key (every stored write) | %d | %s | |\n", n, duration(t))
		}
	}
	if t, ok := s.median("BenchmarkRescan", "ns/op"); ok {
		k, _ := s.median("BenchmarkRescan", "ns/record")
		fmt.Fprintf(w, "| replica.Rescan: read, decode and index every stored hold | 100000 | %s | %s |\n", duration(t), duration(k))
	}
}
