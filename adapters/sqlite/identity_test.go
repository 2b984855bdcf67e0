package sqlite_test

import (
	"path/filepath"
	"testing"

	concordsqlite "github.com/harborpoint/concord/adapters/sqlite"
)

// TestReplicaID: a name's ID is kept in the file — the same after a
// reopen, one per name — and a new file gives a new incarnation.
func TestReplicaID(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "id.db")
	s := open(t, path, concordsqlite.Options{})
	lisbon, err := s.ReplicaID(t.Context(), "lisbon")
	if err != nil {
		t.Fatal(err)
	}
	if lisbon.Name() != "lisbon" || lisbon.Incarnation() == 0 {
		t.Fatalf("a first ID %v: want a new incarnation of lisbon", lisbon)
	}
	baltimore, err := s.ReplicaID(t.Context(), "baltimore")
	if err != nil || baltimore.Name() != "baltimore" {
		t.Fatalf("baltimore: %v, %v", baltimore, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := open(t, path, concordsqlite.Options{}).ReplicaID(t.Context(), "lisbon")
	if err != nil || again != lisbon {
		t.Fatalf("reopened: %v, %v; want %v", again, err, lisbon)
	}
	other, err := open(t, filepath.Join(dir, "other.db"), concordsqlite.Options{}).ReplicaID(t.Context(), "lisbon")
	if err != nil || other == lisbon || other.Name() != "lisbon" {
		t.Fatalf("a new file: %v, %v; want another incarnation than %v", other, err, lisbon)
	}
	if _, err := s.ReplicaID(t.Context(), "not a name!"); err == nil {
		t.Error("an invalid replica name was accepted")
	}
}
