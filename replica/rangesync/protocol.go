package rangesync

import (
	"encoding/binary"
	"fmt"
)

// Limits of [Options].
const (
	// DefaultFrameLimit is the frame limit when Options.FrameLimit is 0.
	DefaultFrameLimit = 512 << 10
	// MinFrameLimit is the smallest frame limit: room for the largest
	// answer to one range (a diff of 32 keys of MaxKeyLen bytes) and the
	// fingerprint that defers the rest of the key space to the next round.
	MinFrameLimit = 32 << 10
	// DefaultMaxRounds is the round limit when Options.MaxRounds is 0. A
	// replica that starts empty beside one of n keys needs about
	// log16(n) + 12·n/FrameLimit rounds (keys of ten bytes): 30 for a
	// million keys at the default frame limit.
	DefaultMaxRounds = 1000
)

// reserve is the room every message keeps for the range written when the
// next answer would not fit: a skip up to a bound of MaxKeyLen bytes, then
// the fingerprint of everything after it.
const reserve = 2*binary.MaxVarintLen16 + MaxKeyLen + 1 + 1 + 1 + FingerprintLen

// Options configures one side of a reconciliation. The zero Options is
// valid: [DefaultFrameLimit] and [DefaultMaxRounds].
type Options struct {
	// FrameLimit bounds the size in bytes of every message this side
	// writes and of every message it accepts; a larger message is
	// malformed. Both sides must use the same limit. When an answer would
	// exceed it, the side defers the rest of the key space to the next
	// round, so a limit costs rounds, never correctness. Zero means
	// DefaultFrameLimit; below MinFrameLimit is invalid.
	FrameLimit int
	// MaxRounds bounds the rounds an [Initiator] runs, against a peer that
	// never agrees. Zero means DefaultMaxRounds.
	MaxRounds int
}

func (o Options) settle() (Options, error) {
	switch {
	case o.FrameLimit == 0:
		o.FrameLimit = DefaultFrameLimit
	case o.FrameLimit < MinFrameLimit:
		return o, fmt.Errorf("%w: frame limit %d below %d", ErrInvalidOptions, o.FrameLimit, MinFrameLimit)
	}
	switch {
	case o.MaxRounds == 0:
		o.MaxRounds = DefaultMaxRounds
	case o.MaxRounds < 0:
		return o, fmt.Errorf("%w: negative round limit %d", ErrInvalidOptions, o.MaxRounds)
	}
	return o, nil
}

// Initiator runs the side of a reconciliation that starts it and learns the
// differences: the keys it holds that the peer lacks or holds at another
// version (have, to send), and the keys the peer holds that it lacks or
// holds at another version (need, to fetch). A key whose versions differ is
// in both: the protocol compares version hashes, not causality, and the
// caller's merge settles which version wins.
//
// An Initiator serves one reconciliation and is not safe for concurrent use;
// its Index may change meanwhile.
type Initiator struct {
	x      *Index
	opts   Options
	rounds int
}

// NewInitiator returns an Initiator over x.
func NewInitiator(x *Index, opts Options) (*Initiator, error) {
	opts, err := opts.settle()
	if err != nil {
		return nil, err
	}
	return &Initiator{x: x, opts: opts}, nil
}

// Initiate returns the first message: the fingerprint of the whole index. If
// the peer's index is the same, its answer settles everything in one round
// trip.
func (s *Initiator) Initiate() []byte {
	s.x.mu.RLock()
	defer s.x.mu.RUnlock()
	w := newWriter(2 + FingerprintLen + 1)
	n, sm := 0, sum{}
	if r := s.x.t.root; r != nil {
		n, sm = r.n, r.s
	}
	w.fingerprint(bound{}, infinity, fingerprintOf(sm, n))
	return w.bytes()
}

// Reconcile takes the peer's answer and returns the next message to send,
// or nil when the two sides agree, with the keys this round found: have,
// the keys to send to the peer, and need, the keys to fetch from it. Each
// key is reported once by the round that settles its range. A message that
// does not decode fails with an error wrapping [ErrMalformed] or
// [ErrVersion] and reports nothing; the reconciliation may not continue.
// Past Options.MaxRounds, Reconcile fails with [ErrTooManyRounds].
func (s *Initiator) Reconcile(msg []byte) (next []byte, have, need []string, err error) {
	if s.rounds >= s.opts.MaxRounds {
		return nil, nil, nil, fmt.Errorf("%w: %d", ErrTooManyRounds, s.opts.MaxRounds)
	}
	s.rounds++
	p := &pass{initiator: true, limit: s.opts.FrameLimit}
	if err := p.run(s.x, msg); err != nil {
		return nil, nil, nil, err
	}
	if !p.w.payload() {
		return nil, p.have, p.need, nil
	}
	return p.w.bytes(), p.have, p.need, nil
}

// Rounds returns the number of answers Reconcile has taken.
func (s *Initiator) Rounds() int { return s.rounds }

// Respond answers one message of an initiator with the responder's side of
// the protocol. It keeps no state between messages, so a server can answer
// each request alone. A message that does not decode fails with an error
// wrapping [ErrMalformed] or [ErrVersion]; the answer is never larger than
// opts.FrameLimit.
func Respond(x *Index, msg []byte, opts Options) ([]byte, error) {
	opts, err := opts.settle()
	if err != nil {
		return nil, err
	}
	p := &pass{limit: opts.FrameLimit}
	if err := p.run(x, msg); err != nil {
		return nil, err
	}
	return p.w.bytes(), nil
}

// pass answers one message.
type pass struct {
	t          *tree // read-locked for the pass
	initiator  bool
	limit      int
	w          *writer
	have, need []string
}

// run reads msg range by range and writes the answer to each. When an
// answer would not fit in the frame, it is dropped, the rest of the key
// space gets one fingerprint instead, and the remaining ranges are only
// validated.
func (p *pass) run(x *Index, msg []byte) error {
	d, err := newDecoder(msg, p.limit, p.initiator)
	if err != nil {
		return err
	}
	x.mu.RLock()
	defer x.mu.RUnlock()
	p.t = &x.t
	p.w = newWriter(256)
	lower, cut := bound{}, false
	for d.more() {
		r, err := d.next(lower)
		if err != nil {
			return err
		}
		if !cut {
			m, nh, nn := p.w.mark(), len(p.have), len(p.need)
			p.answer(lower, r)
			if p.w.size()+reserve > p.limit {
				p.w.reset(m)
				p.have, p.need = p.have[:nh], p.need[:nn]
				lo, sl := p.ranks(lower)
				hi, sh := p.ranks(infinity)
				sh.sub(&sl)
				p.w.fingerprint(lower, infinity, fingerprintOf(sh, hi-lo))
				cut = true
			}
		}
		lower = r.upper
	}
	return nil
}

// ranks returns the number of items below b and the sum of their hashes.
func (p *pass) ranks(b bound) (int, sum) {
	if b.inf {
		if p.t.root == nil {
			return 0, sum{}
		}
		return p.t.root.n, p.t.root.s
	}
	return p.t.before(b.key)
}

// answer writes the answer to the range [lower, r.upper).
func (p *pass) answer(lower bound, r span) {
	switch r.mode {
	case modeSkip:
		return
	case modeDiff: // only an initiator reads one
		for _, it := range r.items {
			if it.flag&flagHave != 0 {
				p.have = append(p.have, it.key)
			}
			if it.flag&flagNeed != 0 {
				p.need = append(p.need, it.key)
			}
		}
		return
	}
	ra, sa := p.ranks(lower)
	rb, sb := p.ranks(r.upper)
	switch {
	case r.mode == modeFingerprint:
		sb.sub(&sa)
		if fingerprintOf(sb, rb-ra) != r.fp {
			p.split(lower, r.upper, ra, rb, sa)
		}
	case p.initiator: // a list: the initiator settles the range itself
		p.join(r.items, ra, rb, func(key string, mine, theirs bool) {
			if mine {
				p.have = append(p.have, key)
			}
			if theirs {
				p.need = append(p.need, key)
			}
		})
	case rb-ra <= listMax: // a list to the responder, which holds few items: the diff
		var diff []wireItem
		p.join(r.items, ra, rb, func(key string, mine, theirs bool) {
			var f byte
			if mine {
				f |= flagNeed
			}
			if theirs {
				f |= flagHave
			}
			diff = append(diff, wireItem{key: key, flag: f})
		})
		if len(diff) > 0 {
			p.w.items(lower, r.upper, modeDiff, diff)
		}
	default: // a list to the responder, which holds many items
		p.split(lower, r.upper, ra, rb, sa)
	}
}

// split writes the sender's view of a range that does not match: its items
// if they are few, or else the fingerprints of buckets of equal count.
// [ra, rb) are the ranks of the range's items and sa the sum below ra.
func (p *pass) split(lower, upper bound, ra, rb int, sa sum) {
	c := rb - ra
	if c <= listMax {
		items := make([]wireItem, 0, c)
		p.t.each(ra, rb, func(it *item) { items = append(items, wireItem{key: it.key, tag: it.h.tag()}) })
		p.w.items(lower, upper, modeList, items)
		return
	}
	lo, start, below := lower, ra, sa
	for i := 1; i <= buckets; i++ {
		end := ra + i*c/buckets
		hi := upper
		if i < buckets {
			hi = bound{key: separator(p.t.at(end-1).key, p.t.at(end).key)}
		}
		s := p.t.sumBefore(end)
		bucket := s
		bucket.sub(&below)
		p.w.fingerprint(lo, hi, fingerprintOf(bucket, end-start))
		lo, start, below = hi, end, s
	}
}

// separator returns the shortest prefix of b that sorts after a (a < b), so
// that bounds cost few bytes.
func separator(a, b string) string {
	return b[:sharedPrefix(a, b)+1]
}

// join walks the items of ranks [ra, rb) beside the peer's list of the same
// range and calls fn for every key whose versions differ: mine if this side
// holds a version the peer lacks, theirs if the peer holds one this side
// lacks, both if they hold different versions.
func (p *pass) join(list []wireItem, ra, rb int, fn func(key string, mine, theirs bool)) {
	i := 0
	p.t.each(ra, rb, func(it *item) {
		for i < len(list) && list[i].key < it.key {
			fn(list[i].key, false, true)
			i++
		}
		if i < len(list) && list[i].key == it.key {
			if list[i].tag != it.h.tag() {
				fn(it.key, true, true)
			}
			i++
			return
		}
		fn(it.key, true, false)
	})
	for ; i < len(list); i++ {
		fn(list[i].key, false, true)
	}
}
