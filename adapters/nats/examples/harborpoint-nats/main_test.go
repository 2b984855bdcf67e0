package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestStory runs the example and checks the lesson's outcome in both regions.
func TestStory(t *testing.T) {
	var out bytes.Buffer
	if err := run(&out); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	text := out.String()
	for _, want := range []string{
		"Baltimore reads v18 {lisbon:18}",
		"hold.status: lifecycle picked",
		"outcome in lisbon   : H-8821 C14 confirmed B-3107 until 14:10",
		"outcome in baltimore: H-8821 C14 confirmed B-3107 until 14:10",
		"identical in both regions: yes",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("output:\n%s", text)
	}
}
