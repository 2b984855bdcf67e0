package service

import (
	"fmt"
	"testing"
)

// TestTwoRegionsPartitionAndHeal is the end-to-end check of replication over
// HTTP: two services on loopback servers, partitioned, take writes on both
// sides — new holds in each, extends and notes of shared holds in both —
// then heal. Afterwards both regions serve every hold with the same ETag and
// value, nothing acknowledged is lost (each region's holds are in the
// other, each shared hold has the later of the two extends and both
// agencies), and a further sync changes nothing.
func TestTwoRegionsPartitionAndHeal(t *testing.T) {
	h := newHarness(t)
	const shared, each = 20, 40
	for i := range shared {
		h.create(fmt.Sprintf("S-%02d", i), "C1", "2026-11-26T14:30:00Z")
	}
	h.do("POST", "/admin/sync", "").want(t, 204, "")
	h.do("POST", "/admin/partition", "").want(t, 204, "")

	h.clock.Set(at(14, 5, 0))
	for i := range each {
		for _, region := range regions {
			id := fmt.Sprintf("%s-%02d", region[:3], i)
			h.do("PUT", "/holds/"+id+"?region="+region, `{"cabin":"C`+fmt.Sprint(i)+`","agency":"`+region+`-desk","expires_in":"10m"}`,
				"If-None-Match", "*").want(t, 201, "")
		}
	}
	for i := range shared {
		id := fmt.Sprintf("S-%02d", i)
		h.do("POST", "/holds/"+id+"/extend?region=lisbon", fmt.Sprintf(`{"until":"2026-11-26T14:%02d:00Z","agency":"lisbon-desk"}`, 31+i%7),
			"Idempotency-Key", "lis-"+id).want(t, 200, "")
		h.do("POST", "/holds/"+id+"/extend?region=baltimore", fmt.Sprintf(`{"until":"2026-11-26T14:%02d:00Z","agency":"baltimore-desk"}`, 31+i%5),
			"Idempotency-Key", "iad-"+id).want(t, 200, "")
		h.do("PATCH", "/holds/"+id+"/note?region=baltimore", `{"note":"seen in baltimore"}`).want(t, 200, "")
	}
	if got := h.do("GET", "/holds/lis-00?region=baltimore", ""); got.status != 404 {
		t.Fatalf("replicated across the partition: %d", got.status)
	}

	h.do("DELETE", "/admin/partition", "").want(t, 204, "")
	var ids []string
	for i := range each {
		ids = append(ids, fmt.Sprintf("lis-%02d", i), fmt.Sprintf("bal-%02d", i))
	}
	for i := range shared {
		ids = append(ids, fmt.Sprintf("S-%02d", i))
	}
	for _, id := range ids {
		l := h.do("GET", "/holds/"+id+"?region=lisbon", "").want(t, 200, "")
		b := h.do("GET", "/holds/"+id+"?region=baltimore", "").want(t, 200, "")
		if l.header.Get("ETag") != b.header.Get("ETag") || fmt.Sprint(l.hold()) != fmt.Sprint(b.hold()) {
			t.Fatalf("%s differs:\n%s\n%s", id, l.raw, b.raw)
		}
		if id[0] != 'S' {
			continue
		}
		var i int
		fmt.Sscanf(id, "S-%02d", &i)
		want := fmt.Sprintf("2026-11-26T14:%02d:00Z", 31+max(i%7, i%5))
		agencies := fmt.Sprint(l.hold()["agencies"])
		if l.hold()["expires_at"] != want || agencies != "[baltimore-desk lisbon-desk]" || l.hold()["note"] != "seen in baltimore" {
			t.Errorf("%s lost a write: %s", id, l.raw)
		}
	}
	h.do("POST", "/admin/sync?region=baltimore", "").want(t, 204, "")
	for _, region := range regions {
		st := h.svcs[region].replicator.Status()
		if len(st) != 1 || st[0].LastError != "" || st[0].LastSuccess.IsZero() {
			t.Errorf("%s's replication status: %+v", region, st)
		}
	}
	// Quiet: a session finds nothing to send either way.
	h.do("POST", "/admin/sync", "").want(t, 204, "")
	st := h.svcs["lisbon"].replicator.Status()[0]
	if st.LastSent != 0 || st.LastReceived != 0 || st.LastRounds != 1 {
		t.Errorf("a sync after convergence still moved records: %+v", st)
	}
}
