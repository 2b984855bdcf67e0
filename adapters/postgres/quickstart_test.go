package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	concordpg "github.com/harborpoint/concord/adapters/postgres"
	"github.com/harborpoint/concord/hold"
	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

// TestQuickstart runs the README's snippet: the pool is the service's own.
func TestQuickstart(t *testing.T) {
	connString := requireServer(t).connString()
	ctx := context.Background()
	expires := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

	cleanup, err := pgxpool.New(ctx, connString) // -count=2 runs the snippet on the same server again
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cleanup.Exec(ctx, `DROP TABLE IF EXISTS holds; DROP SEQUENCE IF EXISTS holds_rev`); err != nil {
		t.Fatal(err)
	}
	cleanup.Close()

	// The README's snippet, from here.
	pool, err := pgxpool.New(ctx, connString) // the service's own pool
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if err := concordpg.CreateSchema(ctx, pool, "holds"); err != nil { // or run concordpg.Schema("holds") in a migration
		t.Fatal(err)
	}
	store, err := concordpg.New(pool, "holds")
	if err != nil {
		t.Fatal(err)
	}
	holds, err := replica.New(version.MustID("lisbon"), store, hold.Resolver(resolve.Options{}), replica.Options[hold.Hold]{})
	if err != nil {
		t.Fatal(err)
	}
	rec, err := holds.Create(ctx, "H-8821", hold.New("H-8821", "C-14", "sunline", expires))
	// To here.

	if err != nil || rec.Value.Cabin != "C-14" {
		t.Fatalf("Create = %+v, %v", rec.Value, err)
	}
	if got, err := holds.Get(ctx, "H-8821"); err != nil || got.Token != rec.Token {
		t.Errorf("Get = %+v, %v", got, err)
	}
}
