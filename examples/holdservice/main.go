// Command holdservice serves Harbor Point's cabin holds over HTTP for one
// region and replicates with the services of the other regions over HTTP.
// Two terminals run two regions, Lisbon and Baltimore:
//
//	export HOLDSERVICE_TOKEN=$(openssl rand -hex 16)   # in both
//	go run ./examples/holdservice -region lisbon -addr :8081 -peer http://127.0.0.1:8082
//	go run ./examples/holdservice -region baltimore -addr :8082 -peer http://127.0.0.1:8081
//
// The records live in memory (-store memory, the only store of this build):
// a restarted region starts empty, as a new incarnation, and anti-entropy
// refills it from its peers. To keep a region's holds across restarts, run
// the same program from the SQLite adapter's module, which adds
// -store sqlite:PATH (the core module does not depend on a database driver,
// so it lives there):
//
//	cd adapters/sqlite && go run ./cmd/holdservice -store sqlite:lisbon.db -region lisbon -addr :8081 -peer http://127.0.0.1:8082
//
// Each process runs anti-entropy with its peers every -sync interval (0:
// only on POST /admin/sync): the range-based reconciliation of package
// replica, whose cost grows with the records that differ, not with the
// store, then the states that differ, both ways. Replication and the admin
// routes take the shared bearer token (-token, or HOLDSERVICE_TOKEN): the
// regions trust each other's records, so nobody else may reach them.
// Without a token the service runs alone. Without -addr it listens on
// loopback only. Package service documents the routes.
//
// curl.sh in this folder starts both regions and walks through hold
// H-8821's timeline (extended in Lisbon while Baltimore confirms it, both
// from version 18) with curl, across them: a partition, a region stopped and restarted, and
// the heal.
package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/harborpoint/concord/examples/holdservice/service"
)

func main() { command.Main() }

// command is the program, with memory as its one store: -store sqlite:PATH
// is answered with where to find it.
var command = service.Command{Stores: "sqlite:PATH (in adapters/sqlite's cmd/holdservice)", Open: elsewhere}

func elsewhere(_ context.Context, spec, _ string) (service.Storage, error) {
	if strings.HasPrefix(spec, "sqlite:") {
		return service.Storage{}, fmt.Errorf("holdservice: -store %s needs the SQLite adapter, a module of its own that the core module does not depend on: run (cd adapters/sqlite && go run ./cmd/holdservice -store %s ...)", spec, spec)
	}
	return service.Storage{}, fmt.Errorf("holdservice: unknown -store %q: this build keeps its records in memory only", spec)
}
