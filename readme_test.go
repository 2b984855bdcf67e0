package concord_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// block is one fenced code block of a Markdown file.
type block struct {
	line   int    // of the opening fence, 1-based
	lang   string // the info string, such as "go"
	file   string // the path named by a "<!-- file: PATH -->" line just above, if any
	text   string // the content, each line ending in "\n"
	closed bool
}

// fencedBlocks returns the fenced code blocks of md in order.
func fencedBlocks(md []byte) []block {
	var (
		out    []block
		cur    *block
		marker string
	)
	sc := bufio.NewScanner(bytes.NewReader(md))
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case cur != nil && line == "```":
			cur.closed = true
			out = append(out, *cur)
			cur = nil
		case cur != nil:
			cur.text += line + "\n"
		case strings.HasPrefix(line, "```"):
			cur = &block{line: n, lang: strings.TrimPrefix(line, "```"), file: marker}
			marker = ""
		case strings.HasPrefix(line, "<!-- file: ") && strings.HasSuffix(line, " -->"):
			marker = strings.TrimSuffix(strings.TrimPrefix(line, "<!-- file: "), " -->")
		case strings.TrimSpace(line) != "":
			marker = ""
		}
	}
	if cur != nil {
		out = append(out, *cur)
	}
	return out
}

// TestReadmeCode keeps the README's code honest: every Go block (and every
// block marked with a file) is a copy, byte for byte, of a file in the
// repository that builds and is tested, so the Quickstart compiles and runs
// as shown and can never drift from it.
func TestReadmeCode(t *testing.T) {
	md, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	var copies int
	for _, b := range fencedBlocks(md) {
		where := fmt.Sprintf("README.md:%d", b.line)
		if !b.closed {
			t.Errorf("%s: the code block is never closed", where)
			continue
		}
		if b.file == "" {
			if b.lang == "go" {
				t.Errorf("%s: a Go block must be a copy of a file that is built and tested: put <!-- file: PATH --> above it", where)
			}
			continue
		}
		want, err := os.ReadFile(filepath.FromSlash(b.file))
		if err != nil {
			t.Errorf("%s: %v", where, err)
			continue
		}
		if b.text != string(want) {
			t.Errorf("%s differs from %s; copy the file into the README again:\n%s", where, b.file, firstDifference(b.text, string(want)))
		}
		copies++
	}
	if copies < 3 {
		t.Errorf("README.md has %d file copies; want the quickstart, its output and its test", copies)
	}
}

// firstDifference describes where a and b first differ, by line.
func firstDifference(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range min(len(al), len(bl)) {
		if al[i] != bl[i] {
			return fmt.Sprintf("line %d: README %q, file %q", i+1, al[i], bl[i])
		}
	}
	return fmt.Sprintf("README has %d lines, the file %d", len(al), len(bl))
}

// TestReadmePackageMap: every package of the core module (but internal
// ones) is named in the README, so the package map cannot fall behind.
func TestReadmePackageMap(t *testing.T) {
	md, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	err = filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() || path == "." {
			return err
		}
		name := d.Name()
		if strings.HasPrefix(name, ".") || name == "internal" || name == "testdata" {
			return filepath.SkipDir
		}
		if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil {
			return filepath.SkipDir // a module of its own (adapters/*, bench)
		}
		if !hasPackage(t, path) {
			return nil
		}
		if pkg := filepath.ToSlash(path); !bytes.Contains(md, []byte("`"+pkg+"`")) {
			t.Errorf("README.md does not name package `%s`", pkg)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// hasPackage reports whether dir holds non-test Go files.
func hasPackage(t *testing.T, dir string) bool {
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if n := e.Name(); strings.HasSuffix(n, ".go") && !strings.HasSuffix(n, "_test.go") {
			return true
		}
	}
	return false
}
