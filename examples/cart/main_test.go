package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestCart(t *testing.T) {
	var out bytes.Buffer
	if err := run(&out); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	for _, want := range []string{
		"tent added in Lisbon, replicated:  lisbon    items=[tent]",
		"before the regions reconcile:      lisbon    items=[]",
		"before the regions reconcile:      baltimore items=[stove tent]",
		"after: the concurrent add wins:    lisbon    items=[stove tent]",
		"after: the concurrent add wins:    baltimore items=[stove tent]",
		"stove removed after both saw it:   lisbon    items=[tent]",
		"stove removed after both saw it:   baltimore items=[tent]",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q\n%s", want, text)
		}
	}
}
