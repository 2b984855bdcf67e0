package sim

import (
	"fmt"
	"strings"
)

// Check is one of the properties every history must keep. The zero Check
// is invalid.
type Check int8

// The checks, in the order of the issue that asked for them.
const (
	_ Check = iota
	// Convergence: after the network heals and anti-entropy completes,
	// every replica holds identical records — siblings, versions, values,
	// tokens, open conflicts and review queues.
	Convergence
	// NoLoss: every acknowledged write ends visible (a sibling holding the
	// value the client was acknowledged with), overwritten by a later
	// acknowledged write whose client-supplied token covered it, merged
	// into a later command or blind write whose acknowledged context
	// covered it, or settled by a Resolve decision naming it. Each verdict
	// comes from the clients' ledger, never from the replica's state.
	NoLoss
	// Invariant: Workload.Invariant holds for every record after every
	// step (for holds: confirmed never reverts, no booking is lost, two
	// bookings go to review, extends never shorten).
	Invariant
	// Bounds: at most one sibling per writing replica incarnation, and
	// version vectors name only incarnations that wrote the key.
	Bounds
	// Model: the naive set-of-dots model (internal/dotmodel), fed the same
	// writes, deliveries and anti-entropy, issues the same dots and holds
	// the same siblings and causal context.
	Model
	// DotReuse: no dot is acknowledged twice — a replica that restarts
	// without its state never reissues one (Riak's KV679).
	DotReuse
	// Errors: an operation failed in a way the protocol does not allow,
	// such as replicated bytes that do not decode.
	Errors
	// CrossRecord: the invariant across records of hold/holdsim.RunCabins — at no
	// step, in no region, and not after the final heal, are two holds on
	// one cabin confirmed; every confirmed hold's booking is the one its
	// cabin's claim committed; every refused confirmation was told why and
	// none that succeeded is lost; no claim is left pending, or committed
	// to a hold that is not confirmed, after the final heal and sweep.
	CrossRecord
	// Review: a conflict settled with exactly the token the review queue
	// handed out is accepted (a 412 there means the queue's token cannot
	// settle what it describes).
	Review
	// AtMostOnce: a command retried with its idempotency key at a replica
	// that already holds the first application is replayed, not applied
	// again — while the record still knows the key: within its command
	// horizon (Workload.CommandHorizon, less twice the clock skew, and
	// fewer than its count of commands on the key since), and unless an
	// acknowledged delete covered the first application (the record, and
	// its command keys, were deleted; a re-created record is a new one).
	AtMostOnce
	// Clock: a replica stamps every write after every stamp it has
	// applied from others (within the HLC's drift bound) and after its own
	// earlier writes.
	Clock
	// Values: after the final heal, every field Workload.Project shows
	// equals what a plain model computes from the clients' ledger:
	// last-writer-wins by per-field stamp (internal/fieldmodel) over the
	// writes the record's context covers, the union of their sets, and
	// Workload.Join of the joined fields the causally latest of them wrote.
	Values
	// Resurrection: no deleted record comes back, judged from the
	// clients' ledger. A write that an acknowledged delete's client-sent
	// token covered is never again a live branch at a replica that has
	// held the delete (nor at any replica after the final heal); no write
	// is acknowledged over a delete that its own context (its client's
	// token) did not cover; and a delete concurrent with an update reads
	// as the workload's declared resolve.OnDelete says — a conflict, the
	// delete, or the update.
	Resurrection
	// Reaped: after the final heal, when every replica has restarted,
	// synced with every other and acknowledged what it holds, no replica
	// keeps a tombstone: every deleted record is reaped everywhere
	// (Replica.Reaped lists it and a read finds nothing).
	Reaped
	// Storage: after the final heal, each replica's store holds exactly
	// its live records (a value or an open conflict) and the tombstones
	// not yet causally stable — none, once every replica acknowledged —
	// and never more than Keys records of at most MaxRecordBytes each.
	Storage
	numChecks
)

var checkNames = [...]string{
	Convergence: "convergence", NoLoss: "no-loss", Invariant: "invariants", Bounds: "bounds",
	Model: "model", DotReuse: "dot-reuse", Errors: "errors", CrossRecord: "cross-record",
	Review: "review-token", AtMostOnce: "at-most-once", Clock: "clock", Values: "values",
	Resurrection: "no-resurrection", Reaped: "tombstones-reaped", Storage: "storage-bounded",
}

// Checks lists every Check, in order.
func Checks() []Check {
	out := make([]Check, 0, numChecks-1)
	for c := Convergence; c < numChecks; c++ {
		out = append(out, c)
	}
	return out
}

// String returns the check's name, such as "no-loss".
func (c Check) String() string {
	if c > 0 && c < numChecks {
		return checkNames[c]
	}
	return fmt.Sprintf("Check(%d)", int8(c))
}

// Violation is one failed check.
type Violation struct {
	Check   Check
	Step    int // the step at which it was found; Steps+1 for the final checks
	Message string
}

// String returns "step N: check: message".
func (v Violation) String() string { return fmt.Sprintf("step %d: %s: %s", v.Step, v.Check, v.Message) }

// Failure is a failing history, shrunk to its shortest failing prefix.
type Failure struct {
	// Seed reproduces the history: Config{Seed: Seed, Histories: 1,
	// Steps: Steps} with the campaign's other settings.
	Seed uint64
	// Steps is the length of the shortest failing prefix; OrigSteps the
	// length of the history as first run.
	Steps, OrigSteps int
	// Skipped are the steps of the prefix left out, in order: the history
	// still fails without them (Config.Skip replays it).
	Skipped []int
	// Replicas is the number of replicas of the history.
	Replicas int
	// Violations are those of the shrunk history.
	Violations []Violation
	// History is the shrunk history, one event per line.
	History string
}

// String returns the seed, the command that reruns the history, its
// violations and the history itself.
func (f Failure) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "FAILED history seed %d (%#x), %d replicas, shrunk from %d to %d steps, %d of them left out\n",
		f.Seed, f.Seed, f.Replicas, f.OrigSteps, f.Steps, len(f.Skipped))
	skip := ""
	if len(f.Skipped) > 0 {
		skip = fmt.Sprintf(", Skip: %#v", f.Skipped)
	}
	fmt.Fprintf(&b, "rerun: sim.Config{Seed: %d, Histories: 1, Steps: %d%s} with the campaign's other settings (sim.Reproduce prints every event)\n",
		f.Seed, f.Steps, skip)
	for _, v := range f.Violations {
		fmt.Fprintf(&b, "violation %s\n", v)
	}
	b.WriteString("history:\n")
	b.WriteString(f.History)
	return b.String()
}

// Writes counts acknowledged writes by style.
type Writes struct {
	Create, Blind, Update, Command, Resolve, Delete int
}

// Total returns the number of acknowledged writes.
func (w Writes) Total() int { return w.Create + w.Blind + w.Update + w.Command + w.Resolve + w.Delete }

// Clients counts what clients saw besides acknowledged writes.
type Clients struct {
	Reads        int // reads (Replica.Get), fresh ones before conditional writes included
	StaleUpdates int // conditional writes made with a token read earlier (possibly stale)
	Refused412   int // conditional writes refused: stale token (PreconditionFailed)
	RefusedOpen  int // writes refused because the record had an open conflict
	RefusedRule  int // writes the record's own rules refused (Op.Apply errors)
	Retries      int // commands retried with the same idempotency key
	Replayed     int // retries the replica recognised and did not apply again
	// Reapplied counts retries applied again: at a replica that did not
	// hold the command's first application (or no longer knew its key).
	Reapplied   int
	Unavailable int // operations sent to a crashed replica
	// Contended counts writes during whose first attempt another Replica
	// value over the same store wrote the key (the compare-and-set retry
	// path).
	Contended int
}

// FaultCounts counts the faults injected.
type FaultCounts struct {
	Reorders, Duplicates, Drops, Delays int
	Partitions, Heals                   int
	Crashes, StateLosses, Restarts      int
	Skews                               int
	LostReplies                         int // command replies lost (the client retried)
	LostToCrash                         int // messages that reached a crashed replica
	Corruptions                         int // messages delivered with a flipped bit (each must be refused)
	Rots                                int // stored records damaged on disk (each must be quarantined)
}

// Conflicts counts what the replicas' observers were told, summed over
// replicas (a merge made at three replicas counts three times).
type Conflicts struct {
	AutoResolved int // concurrent branches merged by policy
	Rejected     int // conditional writes refused back to clients
	SentToReview int // conflicts that entered a review queue
	Reviewed     int // conflicts that left it, settled by a covering write
	SkewWindow   int // last-writer-wins decisions inside the clock-skew window
}

// Loss classifies every acknowledged write at the end of its history,
// Jepsen set-full style.
type Loss struct {
	Visible int // still a sibling, holding the acknowledged value
	// Overwritten: covered by the token a client sent with a later
	// acknowledged Update (what that client had read), per the ledger.
	Overwritten int
	// Merged: covered by the context acknowledged to a later command or
	// blind write, which the replica applied to the current value (so
	// the earlier write's other fields live on in it; check Values, where
	// the workload has a model, says whether they do).
	Merged   int
	Resolved int // settled by a Resolve decision that named it (with the queue's token)
	// DiedWithDisk: stored only at a replica whose disk was then damaged
	// (fault Rot: the operator replaced it with an empty one), before any
	// other replica had it. Counted apart.
	DiedWithDisk int
	// Deleted: covered by the token a client sent with a later
	// acknowledged delete.
	Deleted int
	// Reaped: a delete's tombstone, not covered by a later write, that
	// every replica reaped once it was causally stable.
	Reaped int
	Lost   int // none of the above: a violation of NoLoss
	// DiedWithMemory: stored only at a memory-only replica that then
	// crashed and lost its state (fault StateLoss), before any other
	// replica had it — the durability window of asynchronous replication
	// without a durable store, not a protocol loss. Counted apart; never
	// with Config.Durable.
	DiedWithMemory int
	// KeptAcrossRestarts counts the sibling writes that replicas which
	// crashed keeping their state (durable stores, or memory-only ones
	// whose crash happened not to lose it) held at the crash and held
	// again, unchanged, at the restart: check NoLoss compares them all.
	KeptAcrossRestarts int
}

// MutantResult is the outcome of running the checks against a deliberately
// broken variant of the system.
type MutantResult struct {
	Name   string
	Caught bool
	By     []Check // the checks that failed
	Seed   uint64  // the first history that caught it
	Runs   int     // histories run until caught
	// Target is the check meant to catch the mutant; TargetAlone reports
	// whether it did with every other check turned off.
	Target      Check
	TargetAlone bool
}

// Report is the summary of a campaign.
type Report struct {
	// FirstSeed and LastSeed are the seeds of the first and last history run.
	FirstSeed, LastSeed uint64
	// Histories and Steps count the histories run and their steps.
	Histories int
	Steps     int
	// Writes counts acknowledged writes by style.
	Writes Writes
	// Clients counts reads, refusals, retries and unavailability.
	Clients Clients
	// Faults counts the faults injected, by kind.
	Faults FaultCounts
	// Conflicts counts what the replicas' observers were told.
	Conflicts Conflicts
	// Loss classifies every acknowledged write; Loss.Lost must be 0.
	Loss Loss
	// Values counts what check Values saw besides violations.
	Values ValueCounts
	// Violations counts violations by check; every entry must be 0.
	Violations map[Check]int
	// Failures are the failing histories, shrunk, first first.
	Failures []Failure
	// Labels counts acknowledged writes by the first word of their
	// Op.Label, such as "expire".
	Labels map[string]int
	// Deletes counts deletes, re-creations, reaping and storage.
	Deletes Deletes
	// Oversize counts writes and merges over the record limit.
	Oversize Oversize
	// Mutants are filled in by callers that ran broken variants.
	Mutants []MutantResult
}

// OK reports whether no check failed.
func (r *Report) OK() bool {
	for _, n := range r.Violations {
		if n > 0 {
			return false
		}
	}
	return len(r.Failures) == 0
}

func (r *Report) add(o *Report) {
	if r.Histories == 0 {
		r.FirstSeed = o.FirstSeed
	}
	r.LastSeed = o.LastSeed
	r.Histories += o.Histories
	r.Steps += o.Steps
	w := r.Writes
	r.Writes = Writes{w.Create + o.Writes.Create, w.Blind + o.Writes.Blind, w.Update + o.Writes.Update, w.Command + o.Writes.Command, w.Resolve + o.Writes.Resolve, w.Delete + o.Writes.Delete}
	c, oc := r.Clients, o.Clients
	r.Clients = Clients{c.Reads + oc.Reads, c.StaleUpdates + oc.StaleUpdates, c.Refused412 + oc.Refused412, c.RefusedOpen + oc.RefusedOpen,
		c.RefusedRule + oc.RefusedRule, c.Retries + oc.Retries, c.Replayed + oc.Replayed, c.Reapplied + oc.Reapplied, c.Unavailable + oc.Unavailable, c.Contended + oc.Contended}
	f, of := r.Faults, o.Faults
	r.Faults = FaultCounts{f.Reorders + of.Reorders, f.Duplicates + of.Duplicates, f.Drops + of.Drops, f.Delays + of.Delays,
		f.Partitions + of.Partitions, f.Heals + of.Heals, f.Crashes + of.Crashes, f.StateLosses + of.StateLosses, f.Restarts + of.Restarts,
		f.Skews + of.Skews, f.LostReplies + of.LostReplies, f.LostToCrash + of.LostToCrash, f.Corruptions + of.Corruptions, f.Rots + of.Rots}
	k, ok := r.Conflicts, o.Conflicts
	r.Conflicts = Conflicts{k.AutoResolved + ok.AutoResolved, k.Rejected + ok.Rejected, k.SentToReview + ok.SentToReview, k.Reviewed + ok.Reviewed, k.SkewWindow + ok.SkewWindow}
	l, ol := r.Loss, o.Loss
	r.Loss = Loss{l.Visible + ol.Visible, l.Overwritten + ol.Overwritten, l.Merged + ol.Merged, l.Resolved + ol.Resolved, l.DiedWithDisk + ol.DiedWithDisk,
		l.Deleted + ol.Deleted, l.Reaped + ol.Reaped, l.Lost + ol.Lost, l.DiedWithMemory + ol.DiedWithMemory, l.KeptAcrossRestarts + ol.KeptAcrossRestarts}
	r.Deletes.add(o.Deletes)
	r.Oversize.add(o.Oversize)
	r.Values.add(o.Values)
	for k, n := range o.Labels {
		if r.Labels == nil {
			r.Labels = map[string]int{}
		}
		r.Labels[k] += n
	}
	if r.Violations == nil {
		r.Violations = map[Check]int{}
	}
	for _, c := range Checks() {
		r.Violations[c] += o.Violations[c]
	}
	r.Failures = append(r.Failures, o.Failures...)
}

// String returns the summary, one topic a line.
func (r *Report) String() string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	p("concord sim: %d histories, %d steps, seeds %d..%d", r.Histories, r.Steps, r.FirstSeed, r.LastSeed)
	w := r.Writes
	p("acknowledged writes: %d (create %d, blind %d, update %d, command %d, resolve %d, delete %d)", w.Total(), w.Create, w.Blind, w.Update, w.Command, w.Resolve, w.Delete)
	if len(r.Labels) > 0 {
		p("acknowledged writes by label: %s", labels(r.Labels))
	}
	c := r.Clients
	p("clients: reads %d, updates with a stale-able token %d, refused: stale token %d, open conflict %d, by rule %d; command retries %d (replayed %d, applied again where the first application was not held %d); unavailable %d; contended by a second Replica value on the store %d",
		c.Reads, c.StaleUpdates, c.Refused412, c.RefusedOpen, c.RefusedRule, c.Retries, c.Replayed, c.Reapplied, c.Unavailable, c.Contended)
	f := r.Faults
	p("faults: reorders %d, duplicates %d, drops %d, delays %d, partitions %d (heals %d), crashes %d (state losses %d, restarts %d), skews %d, lost replies %d, messages lost to crashes %d, corrupted (refused) %d, records rotten on disk (quarantined) %d",
		f.Reorders, f.Duplicates, f.Drops, f.Delays, f.Partitions, f.Heals, f.Crashes, f.StateLosses, f.Restarts, f.Skews, f.LostReplies, f.LostToCrash, f.Corruptions, f.Rots)
	k := r.Conflicts
	p("conflicts (summed over replicas): auto-resolved %d, rejected %d, sent to review %d, reviewed %d, LWW inside skew window %d",
		k.AutoResolved, k.Rejected, k.SentToReview, k.Reviewed, k.SkewWindow)
	l := r.Loss
	p("no-loss (from the clients' ledger): visible with its value %d, overwritten by a client token %d, merged into a later command/blind write %d, resolved with the queue's token %d, deleted by a client token %d, tombstones reaped %d, died with a memory-only replica's state before replication %d, died with a damaged disk before replication %d, lost %d",
		l.Visible, l.Overwritten, l.Merged, l.Resolved, l.Deleted, l.Reaped, l.DiedWithMemory, l.DiedWithDisk, l.Lost)
	p("durability: sibling writes held across a restart with the replica's state, compared at the restart %d", l.KeptAcrossRestarts)
	r.Deletes.print(p)
	r.Oversize.print(p)
	r.Values.print(p)
	var vs []string
	for _, ch := range Checks() {
		vs = append(vs, fmt.Sprintf("%s %d", ch, r.Violations[ch]))
	}
	p("violations: %s", strings.Join(vs, ", "))
	if len(r.Mutants) > 0 {
		caught := 0
		var ms []string
		for _, m := range r.Mutants {
			by := "NOT CAUGHT"
			if m.Caught {
				caught++
				var names []string
				for _, ch := range m.By {
					names = append(names, ch.String())
				}
				by = fmt.Sprintf("%s (seed %d, %d runs)", strings.Join(names, "+"), m.Seed, m.Runs)
				if m.Target != 0 {
					alone := "also alone"
					if !m.TargetAlone {
						alone = "NOT alone"
					}
					by += fmt.Sprintf("; target %s %s", m.Target, alone)
				}
			}
			ms = append(ms, fmt.Sprintf("  %s: %s", m.Name, by))
		}
		p("mutants caught: %d/%d\n%s", caught, len(r.Mutants), strings.Join(ms, "\n"))
	}
	for i, fl := range r.Failures {
		if i == 3 {
			p("... and %d more failures", len(r.Failures)-3)
			break
		}
		b.WriteString(fl.String())
	}
	return strings.TrimSuffix(b.String(), "\n")
}
