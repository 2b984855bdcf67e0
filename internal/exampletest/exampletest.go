// Package exampletest runs the example programs (examples/*, and the
// adapters' examples) in their tests: each program's main is a thin
// wrapper around a run(io.Writer) error, and its test checks what run
// printed.
package exampletest

import (
	"bytes"
	"io"
	"strings"
	"testing"
)

// Run calls run, an example program's body, and fails t if it returns an
// error or if its output lacks any of wants (each a substring), logging the
// whole output once on failure. It returns the output for further checks.
func Run(t testing.TB, run func(io.Writer) error, wants ...string) string {
	t.Helper()
	var out bytes.Buffer
	if err := run(&out); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	text := out.String()
	missing := false
	for _, want := range wants {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q", want)
			missing = true
		}
	}
	if missing {
		t.Logf("output:\n%s", text)
	}
	return text
}
