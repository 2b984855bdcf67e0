package sqlite

import (
	"context"
	"fmt"

	"github.com/harborpoint/concord/version"
)

// ReplicaID returns the ID of the replica called name that writes this
// store, kept in the database beside the records (table TABLE_replica, one
// row per name): the first call for a name on a database takes a new
// incarnation ([version.NewIncarnation]) and stores it; every later call,
// in this process or after a restart, returns that one.
//
// That is the identity a replica over a durable store needs (see
// version.ID): it keeps its ID as long as its records, so a restart adds
// no entry to their contexts; and since the ID lives and dies with the
// file, a replica whose file was lost or replaced starts over as a new
// incarnation and never reissues the dots of the old one. A replica that
// reaped tombstones (replica.Replica.Reap) keeps its ID too: the Store is a
// replica.FloorStore, so the counter floor above its writes of the reaped
// keys is in the file with the records ([Store.CounterFloor]).
func (s *Store) ReplicaID(ctx context.Context, name string) (version.ID, error) {
	fresh, err := version.NewIncarnation(name)
	if err != nil {
		return version.ID{}, fmt.Errorf("sqlite: replica ID: %w", err)
	}
	t := `"` + s.table + `_replica"`
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return version.ID{}, fmt.Errorf("sqlite: replica ID of %s: %w", name, err)
	}
	defer func() { _ = tx.Rollback() }()
	var text string
	_, err = tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS `+t+` (name TEXT NOT NULL PRIMARY KEY, id TEXT NOT NULL)`)
	if err == nil {
		_, err = tx.ExecContext(ctx, `INSERT INTO `+t+` (name, id) VALUES (?, ?) ON CONFLICT (name) DO NOTHING`, name, fresh.String())
	}
	if err == nil {
		err = tx.QueryRowContext(ctx, `SELECT id FROM `+t+` WHERE name = ?`, name).Scan(&text)
	}
	if err == nil {
		err = tx.Commit()
	}
	if err != nil {
		return version.ID{}, fmt.Errorf("sqlite: replica ID of %s: %w", name, err)
	}
	id, err := version.ParseID(text)
	if err == nil && id.Name() != name {
		err = fmt.Errorf("it names %s", id.Name())
	}
	if err != nil {
		return version.ID{}, fmt.Errorf("sqlite: replica ID of %s stored in %s: %w", name, t, err)
	}
	return id, nil
}
