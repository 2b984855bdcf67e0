package sqlite_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	concordsqlite "github.com/harborpoint/concord/adapters/sqlite"
	"github.com/harborpoint/concord/hold"
	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

// A replica over a SQLite file keeps its holds across a restart.
func Example() {
	dir, _ := os.MkdirTemp("", "concord-example-")
	defer func() { _ = os.RemoveAll(dir) }()
	path := filepath.Join(dir, "holds.db")
	ctx := context.Background()
	expires := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

	store, err := concordsqlite.Open(path, concordsqlite.Options{Table: "holds"})
	if err != nil {
		panic(err)
	}
	holds, _ := replica.New(version.MustID("edge"), store, hold.Resolver(resolve.Options{}), replica.Options[hold.Hold]{})
	if _, err := holds.Create(ctx, "H-8821", hold.New("H-8821", "C-14", "sunline", expires)); err != nil {
		panic(err)
	}
	_ = store.Close() // the process stops; its store kept its state, so it comes back as the same replica

	store, _ = concordsqlite.Open(path, concordsqlite.Options{Table: "holds"})
	defer func() { _ = store.Close() }()
	holds, _ = replica.New(version.MustID("edge"), store, hold.Resolver(resolve.Options{}), replica.Options[hold.Hold]{})
	rec, err := holds.Get(ctx, "H-8821")
	fmt.Println(rec.Value.ID, rec.Value.Cabin, rec.Value.Status, err)
	// Output: H-8821 C-14 active <nil>
}
