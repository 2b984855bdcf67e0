package sim

import (
	"errors"
	"fmt"
	"time"
)

// Config says how many histories to run and how hostile their world is.
// The zero Config is valid: one history of [DefaultSteps] steps over 2 to 5
// replicas with [DefaultFaults].
type Config struct {
	// Seed is the seed of the first history; history i runs with Seed+i,
	// so a failing history reruns alone with Config{Seed: its seed,
	// Histories: 1} (and the same Replicas, Clients, Keys and Faults).
	Seed uint64
	// Histories is the number of histories to run. Zero means 1.
	Histories int
	// Replicas is the number of replicas, 2 to 5. Zero means a number
	// drawn from each history's seed.
	Replicas int
	// Clients is the number of clients. Zero means 6.
	Clients int
	// Keys is the number of records the clients share. Zero means 3.
	Keys int
	// Steps is the number of steps of each history before the network is
	// healed and checked. Zero means [DefaultSteps].
	Steps int
	// AntiEntropyEvery is the number of steps between periodic
	// anti-entropy rounds between two random connected replicas. Zero
	// means 16. Anti-entropy also runs after every heal.
	AntiEntropyEvery int
	// Faults are the fault rates. Nil means [DefaultFaults]; &Faults{}
	// means a perfect network with no crashes and synchronized clocks.
	Faults *Faults
	// Workers runs histories on this many goroutines. Zero means 1. The
	// report does not depend on it.
	Workers int
	// KeepGoing keeps running histories after one fails. By default Run
	// stops at the first failing history and shrinks it.
	KeepGoing bool
	// Durable gives every replica a durable store: a crash never loses it
	// (Faults.StateLoss is ignored), so a crashed replica restarts with
	// every write it acknowledged. The in-memory store surviving the crash
	// stands in for it: it models a store whose compare-and-set returns
	// only once the write is on stable storage, and no torn or lost
	// writes. A replica still loses its state when its disk is damaged
	// (fault Rot). Without Durable each crash loses the replica's state
	// with probability Faults.StateLoss, as a memory-only replica would.
	Durable bool
	// Skip lists steps to leave out of every history: only time passes
	// during them, and every other step makes the same draws. A shrunk
	// [Failure] replays with its Skipped steps.
	Skip []int
	// Shrink is the most histories replayed to leave steps out of a
	// failing history once it is cut to its shortest failing prefix. Zero
	// means 300; [ShrinkPrefix] cuts the prefix only, [ShrinkNone] reports
	// the failing history as it ran.
	Shrink int
	// Restarts, if positive, also crashes the first replica every
	// Restarts steps and restarts it Restarts steps later, so that one
	// replica restarts many times in every history.
	Restarts int
}

// Settings of Config.Shrink that do less than the default.
const (
	// ShrinkPrefix cuts a failing history to its shortest failing prefix
	// and leaves no step out of it.
	ShrinkPrefix = -1
	// ShrinkNone reports a failing history as it ran, unshrunk and not
	// replayed (Failure.History is empty): for callers that only ask
	// whether a history fails.
	ShrinkNone = -2
)

// DefaultSteps is the number of steps of a history when Config.Steps is 0.
const DefaultSteps = 100

// Faults are the rates of the faults the simulation injects. Probabilities
// are per message sent (Drop, Duplicate, Delay, Corrupt), per delivery (Reorder), per
// command reply (LostReply), per crash (StateLoss) or per step (the rest, Rot
// included).
// The zero Faults injects nothing.
type Faults struct {
	Drop      float64 // a replication message is lost (a state, or a message of an anti-entropy session or its answer)
	Duplicate float64 // a replication message is delivered twice (a session's message is answered twice)
	Delay     float64 // a replication message is held back up to 5 s
	Reorder   float64 // a delivery takes a random due message, not the oldest
	Partition float64 // a random link is cut (messages on it wait)
	Heal      float64 // one cut link, chosen at random, heals; anti-entropy follows
	Crash     float64 // a random live replica crashes
	StateLoss float64 // a crash loses the replica's state: it restarts empty as a new incarnation
	Restart   float64 // a random crashed replica restarts
	Skew      float64 // a replica's clock jumps by up to MaxSkew either way
	LostReply float64 // a command's reply is lost, so its client retries it with the same idempotency key
	Corrupt   float64 // a replication message has one bit flipped in flight (the receiver must refuse it)
	Rot       float64 // a stored record of a random live replica has one bit flipped on disk (see below)
	// MaxSkew bounds each replica's clock offset from true time. Clocks
	// also drift by up to 200 ppm.
	//
	// A rotten record is quarantined by its replica at its next read: the
	// replica refuses it to clients (who fail over) and to replication,
	// and goes on with every other record. The operator's remedy is the
	// only safe one — the replica lost the record of its own writes of that
	// key — : at its next restart (or when the network heals at the end)
	// the replica restarts empty as a new incarnation, like a crash that
	// loses state.
	MaxSkew time.Duration
}

// DefaultFaults returns the fault rates used when Config.Faults is nil:
// enough of every fault that a history of [DefaultSteps] steps usually sees
// several of each kind.
func DefaultFaults() Faults {
	return Faults{
		Drop: 0.05, Duplicate: 0.05, Delay: 0.1, Reorder: 0.3,
		Partition: 0.03, Heal: 0.05, Crash: 0.015, StateLoss: 0.4, Restart: 0.08,
		Skew: 0.03, LostReply: 0.1, Corrupt: 0.02, Rot: 0.005, MaxSkew: 2 * time.Second,
	}
}

// ErrInvalidConfig is wrapped by the error Run returns for a Config or
// Workload it cannot run.
var ErrInvalidConfig = errors.New("sim: invalid configuration")

// settings is a Config with its defaults filled in.
type settings struct {
	Config
	faults Faults
}

func (c Config) settle() (settings, error) {
	var problems []error
	if c.Histories < 0 || c.Clients < 0 || c.Keys < 0 || c.Steps < 0 || c.Workers < 0 || c.AntiEntropyEvery < 0 || c.Restarts < 0 {
		problems = append(problems, errors.New("negative count"))
	}
	if c.Replicas != 0 && (c.Replicas < 2 || c.Replicas > len(replicaNames)) {
		problems = append(problems, fmt.Errorf("replicas %d, want 2 to %d", c.Replicas, len(replicaNames)))
	}
	s := settings{Config: c, faults: DefaultFaults()}
	if c.Faults != nil {
		s.faults = *c.Faults
		for _, p := range []float64{s.faults.Drop, s.faults.Duplicate, s.faults.Delay, s.faults.Reorder, s.faults.Partition,
			s.faults.Heal, s.faults.Crash, s.faults.StateLoss, s.faults.Restart, s.faults.Skew, s.faults.LostReply, s.faults.Corrupt, s.faults.Rot} {
			if p < 0 || p > 1 {
				problems = append(problems, fmt.Errorf("fault rate %v outside 0..1", p))
			}
		}
		if s.faults.MaxSkew < 0 {
			problems = append(problems, errors.New("negative MaxSkew"))
		}
	}
	if len(problems) > 0 {
		return s, fmt.Errorf("%w: %w", ErrInvalidConfig, errors.Join(problems...))
	}
	def := func(p *int, v int) {
		if *p == 0 {
			*p = v
		}
	}
	def(&s.Histories, 1)
	def(&s.Clients, 6)
	def(&s.Keys, 3)
	def(&s.Steps, DefaultSteps)
	def(&s.AntiEntropyEvery, 16)
	def(&s.Workers, 1)
	return s, nil
}

// replicaNames name the simulated regions.
var replicaNames = []string{"lisbon", "baltimore", "tokyo", "sydney", "oslo"}
