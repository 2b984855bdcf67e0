package main

import (
	"testing"

	"github.com/harborpoint/concord/internal/exampletest"
)

// TestStory runs the example and checks the lesson's outcome in both regions.
func TestStory(t *testing.T) {
	exampletest.Run(t, run,
		"Baltimore reads v18 {lisbon:18}",
		"hold.status: lifecycle picked",
		"outcome in lisbon   : H-8821 C14 confirmed B-3107 until 14:10",
		"outcome in baltimore: H-8821 C14 confirmed B-3107 until 14:10",
		"identical in both regions: yes",
	)
}
