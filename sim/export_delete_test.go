package sim

import "github.com/harborpoint/concord/replica"

// DeleteHooks replace the simulated system's deletes and acknowledgements
// with broken variants; nil fields leave the system as it is.
type DeleteHooks[T any] struct {
	// Delete makes a conditional delete instead of Replica.Delete.
	Delete func(n Node[T], key, token string) (replica.Record[T], error)
	// Ack tells to what from holds, after a completed anti-entropy
	// session, instead of to.Rep.Ack(from.ID, from.Rep.Digest()).
	Ack func(from, to Node[T])
}

// SetDeleteHooks wires the non-nil hooks of d into w.
func SetDeleteHooks[T any](w *Workload[T], d DeleteHooks[T]) {
	if d.Delete != nil {
		w.hooks.del = func(n *node[T], key, token string) (replica.Record[T], error) { return d.Delete(n.view(), key, token) }
	}
	if d.Ack != nil {
		w.hooks.ack = func(_ *history[T], from, to *node[T]) { d.Ack(from.view(), to.view()) }
	}
}
