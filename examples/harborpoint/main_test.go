package main

import (
	"strings"
	"testing"

	"github.com/harborpoint/concord/internal/exampletest"
)

// TestStory runs the example and checks the outcomes the lesson demands.
func TestStory(t *testing.T) {
	text := exampletest.Run(t, run,
		// The lesson's timeline: two children of v18, confirmed wins, in both regions.
		"v18 {lisbon:18}: H-8821 C14 active until 14:10",
		"├─ baltimore:1  status=confirmed",
		"└─ lisbon:20    status=active expires_at=14:15",
		"classification: concurrent-conflict",
		"hold.status: lifecycle picked",
		"(confirmed is absorbing)",
		"outcome in lisbon   : H-8821 C14 confirmed B-3107 until 14:10",
		"outcome in baltimore: H-8821 C14 confirmed B-3107 until 14:10",
		// The note edited beside the extend survives the concurrent confirm.
		`note in both regions: "customer asked for a window seat"`,
		// Two extends: the later expiry.
		"outcome in baltimore: H-8822 C15 active until 14:20",
		// Release vs extend: retry, both branches, review, then a covering write.
		"ConflictRequiresRetry: released vs active",
		"review queue in lisbon   : H-8823 field=status branches=2",
		"review queues now: lisbon 0, baltimore 0",
		"outcome in baltimore: H-8823 C16 released",
		// Stale If-Match.
		"-> 412 Precondition Failed; current token",
		"-> confirmed B-4000",
		// Replayed command.
		"expires 14:25, replayed=false",
		"expires 14:25, replayed=true (applied once)",
		"retried in Baltimore after replication -> expires 14:25, replayed=true",
		// Blind notes: LWW, said plainly.
		`note = "call back after 3pm": last writer wins`,
		// Counters.
		"rejected back to clients: 1",
		"sent to review          : 2 (resolved: 2)",
		"hold.status lifecycle: 2",
		// Expiry in both regions, deletion after retention, reaping.
		"-> released, conflict: false",
		"Baltimore reads H-8830 -> deleted: true",
		"lisbon    reaps 1 tombstone(s)",
		"baltimore reaps 1 tombstone(s)",
		"Lisbon reads H-8830 -> not found: true",
	)
	if strings.Count(text, "identical in both regions: yes") != 4 {
		t.Errorf("want 4 scenes identical in both regions:\n%s", text)
	}
}

// TestOneCabinTwoHolds checks the scene the claims add: one confirmation
// of cabin C21 wins, the other is told which hold has it, and a region cut
// from the cabin's home still extends but cannot confirm.
func TestOneCabinTwoHolds(t *testing.T) {
	exampletest.Run(t, run,
		"Baltimore confirms H-9041: claims cabin/C21 at its home, commits B-5001 -> H-9041 C21 confirmed B-5001",
		"Lisbon confirms H-9040 -> 409 Conflict: cabin/C21 is committed by H-9041 with B-5001",
		"extend H-9040 to 14:30 -> ok; note -> ok",
		"confirm H-9040 -> 503 Service Unavailable",
		"outcome in both regions: H-9040 C21 active until 14:30",
		"outcome in both regions: H-9041 C21 confirmed B-5001",
		"confirmed holds on C21: 1",
		"claim outcomes: claimed 1, refused_claimed 1, unavailable 1, committed 1",
	)
}
