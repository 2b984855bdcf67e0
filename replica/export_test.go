package replica

import "context"

// BuildIndex builds r's reconciliation index from its store, as r's first
// anti-entropy session does (Rescan rebuilds only an index already built).
func BuildIndex[T any](r *Replica[T]) error {
	_, _, err := r.index(context.Background())
	return err
}
