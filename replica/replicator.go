package replica

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"time"
)

// ReplicatorOptions configures a [Replicator]. The zero value is valid.
type ReplicatorOptions struct {
	// Every is the time between two sessions with a peer that answers.
	// Zero means 5s.
	Every time.Duration
	// MaxBackoff bounds the wait after failed sessions, which doubles from
	// Every with each failure in a row. Zero means one minute.
	MaxBackoff time.Duration
	// Logger receives failed sessions and skipped records. Nil means none.
	Logger *slog.Logger
	// Now reads the clock for the statuses. Nil means time.Now.
	Now func() time.Time
	// OnSession, if set, is called after every session with the peer's
	// status, for metrics. It must return quickly.
	OnSession func(PeerStatus)
}

// PeerStatus is what a [Replicator] knows of one peer.
type PeerStatus struct {
	Peer        string
	LastAttempt time.Time // start of the last session
	LastSuccess time.Time // start of the last session that completed
	LastError   string    // the last failed session's error, "" after a success
	Failures    int       // failed sessions in a row
	Next        time.Time // when Run starts the next session
	// Totals over every session since the Replicator started.
	Sessions, Failed          uint64 // completed and failed sessions
	Sent, Received, Skipped   uint64 // records (see SyncReport)
	Rounds, Bytes             uint64 // protocol round trips and bytes
	Acked                     uint64 // tombstones the peer acknowledged (see Acknowledger)
	LastSent, LastReceived    int    // records of the last completed session
	LastRounds, LastSyncBytes int    // round trips and bytes of the last completed session
}

// Replicator runs anti-entropy sessions ([Replica.Sync]) with a set of
// peers: periodically with each one, backing off while a peer fails, and on
// demand. It keeps each peer's status for operators. It is safe for
// concurrent use; sessions with one peer never overlap.
type Replicator[T any] struct {
	r     *Replica[T]
	opts  ReplicatorOptions
	peers map[string]*peerState
	names []string
}

type peerState struct {
	peer    Peer
	session sync.Mutex // one session with the peer at a time
	mu      sync.Mutex // guards status
	status  PeerStatus
}

// NewReplicator returns a Replicator of r with peers, by name.
func NewReplicator[T any](r *Replica[T], peers map[string]Peer, opts ReplicatorOptions) *Replicator[T] {
	if opts.Every <= 0 {
		opts.Every = 5 * time.Second
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = time.Minute
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	p := &Replicator[T]{r: r, opts: opts, peers: map[string]*peerState{}}
	for name, peer := range peers {
		p.peers[name] = &peerState{peer: peer, status: PeerStatus{Peer: name}}
		p.names = append(p.names, name)
	}
	slices.Sort(p.names)
	return p
}

// Run runs sessions with every peer until ctx is done — each peer on its
// own goroutine, every opts.Every, or after a backoff while it fails — and
// returns ctx's error.
func (p *Replicator[T]) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for _, name := range p.names {
		wg.Go(func() { p.loop(ctx, name) })
	}
	wg.Wait()
	return ctx.Err()
}

func (p *Replicator[T]) loop(ctx context.Context, name string) {
	ps := p.peers[name]
	for {
		err := p.session(ctx, ps)
		if ctx.Err() != nil {
			return
		}
		ps.mu.Lock()
		wait := p.opts.Every
		if err != nil {
			wait = Backoff(p.opts.Every, p.opts.MaxBackoff, ps.status.Failures)
		}
		ps.status.Next = p.opts.Now().Add(wait)
		ps.mu.Unlock()
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// Backoff returns the wait before the next session after failures failed
// sessions in a row: every doubled per failure, at most max, with "equal
// jitter" (between half of that and all of it) so that replicas cut off
// from one peer do not all come back at once. No failure waits every.
func Backoff(every, max time.Duration, failures int) time.Duration {
	if failures <= 0 {
		return every
	}
	d := every
	for range failures {
		if d >= max/2 {
			d = max
			break
		}
		d *= 2
	}
	d = min(d, max)
	return d/2 + rand.N(d/2+1)
}

// SyncNow runs one session with each peer in turn and returns the failures,
// joined.
func (p *Replicator[T]) SyncNow(ctx context.Context) error {
	var errs []error
	for _, name := range p.names {
		if err := p.session(ctx, p.peers[name]); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// session runs one session with a peer and records its outcome.
func (p *Replicator[T]) session(ctx context.Context, ps *peerState) error {
	ps.session.Lock()
	defer ps.session.Unlock()
	start := p.opts.Now()
	rep, err := p.r.Sync(ctx, ps.peer)
	ps.mu.Lock()
	st := &ps.status
	st.LastAttempt = start
	st.Sent += uint64(rep.Sent)
	st.Received += uint64(rep.Received)
	st.Skipped += uint64(rep.Skipped)
	st.Rounds += uint64(rep.Rounds)
	st.Bytes += uint64(rep.Bytes)
	st.Acked += uint64(rep.Acked)
	if err != nil {
		st.Failed++
		st.Failures++
		st.LastError = err.Error()
	} else {
		st.Sessions++
		st.Failures = 0
		st.LastError = ""
		st.LastSuccess = start
		st.LastSent, st.LastReceived, st.LastRounds, st.LastSyncBytes = rep.Sent, rep.Received, rep.Rounds, rep.Bytes
	}
	snapshot := *st
	ps.mu.Unlock()
	if err != nil && ctx.Err() == nil {
		p.opts.Logger.Warn("replica: anti-entropy session failed", "replica", p.r.id.String(), "peer", snapshot.Peer, "failures", snapshot.Failures, "err", err)
	}
	for _, e := range rep.Errors {
		p.opts.Logger.Error("replica: anti-entropy skipped a record", "replica", p.r.id.String(), "peer", snapshot.Peer, "key", e.Key, "err", e.Err)
	}
	if p.opts.OnSession != nil {
		p.opts.OnSession(snapshot)
	}
	if err != nil {
		return fmt.Errorf("peer %s: %w", snapshot.Peer, err)
	}
	return nil
}

// Status returns every peer's status, by name.
func (p *Replicator[T]) Status() []PeerStatus {
	out := make([]PeerStatus, 0, len(p.names))
	for _, name := range p.names {
		ps := p.peers[name]
		ps.mu.Lock()
		out = append(out, ps.status)
		ps.mu.Unlock()
	}
	return out
}
