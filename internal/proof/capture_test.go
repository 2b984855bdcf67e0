package proof_test

import (
	"flag"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/harborpoint/concord/internal/proof"
)

func TestCaptureRecordsAFailureAndRestoresFlags(t *testing.T) {
	before := flag.Lookup("rapid.nofailfile").Value.String()
	failed, out := proof.Capture(t, func(tb rapid.TB) {
		rapid.Check(tb, func(rt *rapid.T) {
			if n := rapid.IntRange(0, 100).Draw(rt, "n"); n > 10 {
				rt.Fatalf("n is %d", n)
			}
		})
	})
	if !failed || !strings.Contains(out, "n is ") {
		t.Fatalf("failed %v, out:\n%s", failed, out)
	}
	if after := flag.Lookup("rapid.nofailfile").Value.String(); after != before {
		t.Fatalf("rapid.nofailfile is %s after Capture, was %s", after, before)
	}
	failed, out = proof.Capture(t, func(tb rapid.TB) { tb.Log("fine") })
	if failed || out != "fine\n" {
		t.Fatalf("a passing check: failed %v, out %q", failed, out)
	}
	failed, out = proof.Capture(t, func(tb rapid.TB) { tb.SkipNow(); tb.Log("not reached") })
	if !failed || strings.Contains(out, "not reached") {
		t.Fatalf("a skip: failed %v, out %q", failed, out)
	}
}

func TestShrinkBrieflyRestoresTheFlag(t *testing.T) {
	before := flag.Lookup("rapid.shrinktime").Value.String()
	t.Run("brief", func(t *testing.T) {
		proof.ShrinkBriefly(t)
		if got := flag.Lookup("rapid.shrinktime").Value.String(); got != "100ms" {
			t.Fatalf("rapid.shrinktime is %s", got)
		}
	})
	if after := flag.Lookup("rapid.shrinktime").Value.String(); after != before {
		t.Fatalf("rapid.shrinktime is %s after the test, was %s", after, before)
	}
}
