// Command holdservice is examples/holdservice with its records in SQLite:
// the same program, routes and flags (-region -addr -peer -token -sync),
// plus -store sqlite:PATH, so that a region restarts with every hold it
// acknowledged. It lives in the SQLite adapter's module because the core
// module, where the service is, does not depend on a database driver.
//
//	cd adapters/sqlite
//	export HOLDSERVICE_TOKEN=$(openssl rand -hex 16)   # in both
//	go run ./cmd/holdservice -store sqlite:lisbon.db -region lisbon -addr :8081 -peer http://127.0.0.1:8082
//	go run ./cmd/holdservice -store sqlite:baltimore.db -region baltimore -addr :8082 -peer http://127.0.0.1:8081
//
// The file is opened in WAL mode with synchronous=FULL: a hold is stored,
// fsynced, before the service answers 201, so it survives a crash of the
// process or of the machine. The region's replica ID is kept in the same
// file (Store.ReplicaID): a restart on the file goes on as the same
// replica (safe because the service never reaps tombstones); a new file is
// a new incarnation, which anti-entropy refills from the peers. -store memory runs in memory, as examples/holdservice
// does. Package examples/holdservice/service documents the routes.
package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	concordsqlite "github.com/harborpoint/concord/adapters/sqlite"
	"github.com/harborpoint/concord/examples/holdservice/service"
)

func main() { command.Main() }

// command is the hold service with SQLite as a store.
var command = service.Command{Stores: "sqlite:PATH", Open: open}

// open opens -store sqlite:PATH, creating the file if need be, and the
// region's replica ID kept in it.
func open(ctx context.Context, spec, region string) (service.Storage, error) {
	path, ok := strings.CutPrefix(spec, "sqlite:")
	if !ok || path == "" {
		return service.Storage{}, fmt.Errorf("holdservice: unknown -store %q: want memory or sqlite:PATH", spec)
	}
	store, err := concordsqlite.Open(path, concordsqlite.Options{Table: "holds", Synchronous: concordsqlite.SyncFull})
	if err != nil {
		return service.Storage{}, err
	}
	id, err := store.ReplicaID(ctx, region)
	if err != nil {
		return service.Storage{}, errors.Join(err, store.Close())
	}
	return service.Storage{Store: store, ID: id, Close: store.Close}, nil
}
