package main

import (
	"testing"

	"github.com/harborpoint/concord/internal/exampletest"
)

func TestCart(t *testing.T) {
	exampletest.Run(t, run,
		"tent added in Lisbon, replicated:  lisbon    items=[tent]",
		"before the regions reconcile:      lisbon    items=[]",
		"before the regions reconcile:      baltimore items=[stove tent]",
		"after: the concurrent add wins:    lisbon    items=[stove tent]",
		"after: the concurrent add wins:    baltimore items=[stove tent]",
		"stove removed after both saw it:   lisbon    items=[tent]",
		"stove removed after both saw it:   baltimore items=[tent]",
	)
}
