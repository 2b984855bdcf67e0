package policy

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Rule says how a [StateMachine] settles one unordered pair of distinct
// states A and B. Build rules with [PickRule], [MergeRule] and [RejectRule];
// the fields are exported so that rules can be listed and inspected.
type Rule[S comparable] struct {
	A, B S
	// Outcome is Picked (Winner wins), Combined (Merge(A, B) is the
	// result) or Rejected (the pair cannot be merged automatically). For
	// rules returned by [StateMachine.Rule] it may also be Same (A == B).
	Outcome Verdict
	Winner  S              // the winning state when Outcome is Picked
	Merge   func(a, b S) S // the combining function when Outcome is Combined
	Reason  string         // why, in words; carried by decisions and rejections
}

// PickRule returns the rule that a and b merge to winner, which must be a or b.
func PickRule[S comparable](a, b, winner S, reason string) Rule[S] {
	return Rule[S]{A: a, B: b, Outcome: Picked, Winner: winner, Reason: reason}
}

// MergeRule returns the rule that a and b merge to f(a, b). f must be
// commutative and deterministic and return a declared state; [NewStateMachine]
// calls it once, while building, and checks both.
//
// A merged result carries the later of the two stamps, a picked one the
// winner's stamp. So when f(a, b) is a third state c, c must meet a and b by
// merge rules too (c ⊔ a = c by MergeRule, not PickRule), or the result's
// stamp would depend on grouping; NewStateMachine reports such rules as not
// associative in the stamp.
func MergeRule[S comparable](a, b S, f func(a, b S) S, reason string) Rule[S] {
	return Rule[S]{A: a, B: b, Outcome: Combined, Merge: f, Reason: reason}
}

// RejectRule returns the rule that a and b cannot be merged: the merge
// fails with a [*Rejection] carrying reason, and the caller keeps both
// branches for a retry or review.
func RejectRule[S comparable](a, b S, reason string) Rule[S] {
	return Rule[S]{A: a, B: b, Outcome: Rejected, Reason: reason}
}

// StateMachineSpec declares a state machine policy as data: its states, the
// absorbing ones, and one rule for each unordered pair of distinct states
// that absorption does not already settle.
type StateMachineSpec[S comparable] struct {
	// Name is the policy's name in decisions; empty means "state-machine".
	Name string
	// States lists every state, each once.
	States []S
	// Absorbing lists the states that, once reached, are final: an
	// absorbing state beats every non-absorbing state without a rule (a
	// rule for such a pair must agree). Two different absorbing states
	// still need a rule.
	Absorbing []S
	// Rules settles the remaining pairs, at most one rule per pair.
	Rules []Rule[S]
}

// ErrInvalidSpec is matched by errors.Is for every [*SpecError].
var ErrInvalidSpec = errors.New("policy: invalid state machine spec")

// SpecError is the error [NewStateMachine] returns for an invalid spec. It
// lists every problem found, not just the first, so one run shows all the
// missing pairs.
type SpecError struct {
	Name     string   // the spec's name
	Problems []string // one line per problem, in a stable order
}

// Error implements the error interface, one problem per line.
func (e *SpecError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "policy: invalid state machine %q: %d problem", e.Name, len(e.Problems))
	if len(e.Problems) != 1 {
		b.WriteByte('s')
	}
	for _, p := range e.Problems {
		b.WriteString("\n\t")
		b.WriteString(p)
	}
	return b.String()
}

// Unwrap returns [ErrInvalidSpec].
func (e *SpecError) Unwrap() error { return ErrInvalidSpec }

// StateMachine is a field policy over a state type, built from a
// [StateMachineSpec]: equal states merge to themselves ([Same]); an absorbing
// state beats a non-absorbing one ([Picked]); any other pair follows its rule
// ([Picked], [Combined] or [Rejected]), with the rule's reason in the
// decision. A Picked result carries the winner's stamp; a Combined or Same
// result the later stamp.
//
// [NewStateMachine] checks that every pair is covered and that the rules form
// a join: associative wherever both groupings succeed (commutativity and
// idempotence hold by construction). A rejection may still depend on
// grouping: with the hold lifecycle, released and active are rejected, but
// confirmed absorbs both, so released merged with (active merged with
// confirmed) is confirmed. A caller that gets a rejection should keep both
// branches and merge again when more branches arrive, rather than treat the
// rejection as final.
//
// A *StateMachine is immutable and safe for concurrent use. The zero
// StateMachine is not usable; build one with NewStateMachine.
type StateMachine[S comparable] struct {
	name   string
	states []S
	index  map[S]int
	table  []smEntry[S] // n*n; entry i*n+j settles states[i] vs states[j], i != j
}

type smEntry[S comparable] struct {
	rule   Rule[S]
	result S // Winner or the precomputed Merge(A, B)
}

// NewStateMachine validates spec and builds its policy. For an invalid spec
// it returns a [*SpecError] listing every problem: duplicate or undeclared
// states, rules naming undeclared states or equal states, pick winners that
// are neither state, merge functions that are missing, not commutative or
// return an undeclared state, duplicate or contradicting rules for one pair,
// rules that contradict absorption, pairs with no rule, and rules that are not
// associative.
func NewStateMachine[S comparable](spec StateMachineSpec[S]) (*StateMachine[S], error) {
	m := &StateMachine[S]{name: spec.Name, index: make(map[S]int, len(spec.States))}
	if m.name == "" {
		m.name = "state-machine"
	}
	var problems []string
	addf := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	if len(spec.States) == 0 {
		addf("no states")
	}
	for _, s := range spec.States {
		if _, dup := m.index[s]; dup {
			addf("duplicate state %v", s)
			continue
		}
		m.index[s] = len(m.states)
		m.states = append(m.states, s)
	}
	n := len(m.states)
	absorbing := make([]bool, n)
	for _, s := range spec.Absorbing {
		i, ok := m.index[s]
		switch {
		case !ok:
			addf("absorbing state %v is not declared", s)
		case absorbing[i]:
			addf("absorbing state %v listed twice", s)
		default:
			absorbing[i] = true
		}
	}

	m.table = make([]smEntry[S], n*n)
	ruleOf := make([]int, n*n) // 1 + index of the rule that set the entry
	for k, r := range spec.Rules {
		where := fmt.Sprintf("rule %d (%v vs %v)", k+1, r.A, r.B)
		i, okA := m.index[r.A]
		j, okB := m.index[r.B]
		if !okA {
			addf("%s: undeclared state %v", where, r.A)
		}
		if !okB && r.B != r.A {
			addf("%s: undeclared state %v", where, r.B)
		}
		if !okA || !okB {
			continue
		}
		if i == j {
			addf("%s: a rule needs two different states; equal states always merge to themselves", where)
			continue
		}
		e := smEntry[S]{rule: r}
		switch r.Outcome {
		case Picked:
			if r.Winner != r.A && r.Winner != r.B {
				addf("%s: winner %v is neither state", where, r.Winner)
				continue
			}
			e.result = r.Winner
		case Combined:
			if r.Merge == nil {
				addf("%s: merge rule without a merge function", where)
				continue
			}
			ab, ba := r.Merge(r.A, r.B), r.Merge(r.B, r.A)
			if ab != ba {
				addf("%s: merge function is not commutative: f(%v, %v) = %v but f(%v, %v) = %v", where, r.A, r.B, ab, r.B, r.A, ba)
				continue
			}
			if _, ok := m.index[ab]; !ok {
				addf("%s: merge function returns undeclared state %v", where, ab)
				continue
			}
			e.result = ab
		case Rejected:
		default:
			addf("%s: outcome %v; want picked, combined or rejected", where, r.Outcome)
			continue
		}
		if absorbing[i] != absorbing[j] {
			abs := r.A
			if absorbing[j] {
				abs = r.B
			}
			if r.Outcome != Picked || r.Winner != abs {
				addf("%s: contradicts absorbing state %v, which must win", where, abs)
				continue
			}
		}
		if prev := ruleOf[i*n+j]; prev != 0 {
			p := spec.Rules[prev-1]
			if p.Outcome == r.Outcome && p.Winner == r.Winner && r.Outcome != Combined {
				addf("duplicate rules for %v vs %v: rules %d and %d", r.A, r.B, prev, k+1)
			} else {
				addf("contradicting rules for %v vs %v: rules %d and %d", r.A, r.B, prev, k+1)
			}
			continue
		}
		m.table[i*n+j], m.table[j*n+i] = e, e
		ruleOf[i*n+j], ruleOf[j*n+i] = k+1, k+1
	}

	for i := range n {
		for j := i + 1; j < n; j++ {
			if ruleOf[i*n+j] != 0 {
				continue
			}
			a, b := m.states[i], m.states[j]
			switch {
			case absorbing[i] && absorbing[j]:
				addf("no rule for %v vs %v (both absorbing)", a, b)
			case absorbing[i] || absorbing[j]:
				w := a
				if absorbing[j] {
					w = b
				}
				e := smEntry[S]{rule: PickRule(a, b, w, fmt.Sprintf("%v is absorbing", w)), result: w}
				m.table[i*n+j], m.table[j*n+i] = e, e
			default:
				addf("no rule for %v vs %v", a, b)
			}
		}
	}
	if len(problems) == 0 {
		problems = m.checkAssociative()
	}
	if len(problems) > 0 {
		return nil, &SpecError{Name: m.name, Problems: problems}
	}
	return m, nil
}

// checkAssociative merges every triple of states under every order of
// their stamps in both groupings, and reports each triple whose groupings
// both succeed but differ in state or stamp.
func (m *StateMachine[S]) checkAssociative() []string {
	var problems []string
	perms := [][3]int{{1, 2, 3}, {1, 3, 2}, {2, 1, 3}, {2, 3, 1}, {3, 1, 2}, {3, 2, 1}}
	n := len(m.states)
	for i := range n {
		for j := range n {
			for k := range n {
				for _, p := range perms {
					a, b, c := symb{i, p[0]}, symb{j, p[1]}, symb{k, p[2]}
					ab, ok1 := m.step(a, b)
					left, ok2 := m.step(ab, c)
					bc, ok3 := m.step(b, c)
					right, ok4 := m.step(a, bc)
					if ok1 && ok2 && ok3 && ok4 && left != right {
						what := ""
						if left.state == right.state {
							what = " in the stamp"
						}
						problems = append(problems, fmt.Sprintf(
							"not associative%s: with stamps %v@%d %v@%d %v@%d, (%[2]v ⊔ %[4]v) ⊔ %[6]v = %[8]v@%[9]d but %[2]v ⊔ (%[4]v ⊔ %[6]v) = %[10]v@%[11]d",
							what, m.states[i], p[0], m.states[j], p[1], m.states[k], p[2],
							m.states[left.state], left.stamp, m.states[right.state], right.stamp))
						break // one report per triple of states
					}
				}
			}
		}
	}
	return problems
}

// symb is a branch in checkAssociative: a state index and a stamp rank.
type symb struct{ state, stamp int }

func (m *StateMachine[S]) step(a, b symb) (symb, bool) {
	if a.state == b.state {
		return symb{a.state, max(a.stamp, b.stamp)}, true
	}
	e := m.table[a.state*len(m.states)+b.state]
	r := m.index[e.result]
	switch e.rule.Outcome {
	case Picked:
		if r == a.state {
			return a, true
		}
		return b, true
	case Combined:
		return symb{r, max(a.stamp, b.stamp)}, true
	}
	return symb{}, false
}

// Name returns the policy's name.
func (m *StateMachine[S]) Name() string { return m.name }

// Equal implements [Equaler]: states are equal when ==.
func (m *StateMachine[S]) Equal(a, b S) bool { return a == b }

// States returns the declared states in declaration order, in a new slice.
func (m *StateMachine[S]) States() []S { return slices.Clone(m.states) }

// Rule returns the rule that settles a and b, and false if either is not a
// declared state. Pairs settled by absorption get a Picked rule whose reason
// says so; equal states get a rule with Outcome Same.
func (m *StateMachine[S]) Rule(a, b S) (Rule[S], bool) {
	i, okA := m.index[a]
	j, okB := m.index[b]
	switch {
	case !okA || !okB:
		return Rule[S]{}, false
	case i == j:
		return Rule[S]{A: a, B: b, Outcome: Same, Reason: "equal states"}, true
	}
	return m.table[i*len(m.states)+j].rule, true
}

// MergeInto implements [Policy]: it settles two branches by the machine's
// rules. A state that was not declared is rejected, as is a pair whose rule
// rejects it.
func (m *StateMachine[S]) MergeInto(out *Branch[S], d *Decision, a, b *Branch[S]) error {
	i, okA := m.index[a.Value]
	j, okB := m.index[b.Value]
	if !okA || !okB {
		bad := a.Value
		if okA {
			bad = b.Value
		}
		return m.reject(out, d, fmt.Sprintf("undeclared state %v", bad))
	}
	if i == j {
		sameInto(out, d, m.name, a, b, "equal states")
		return nil
	}
	e := m.table[i*len(m.states)+j]
	switch e.rule.Outcome {
	case Picked:
		if e.result == a.Value {
			pickInto(out, d, m.name, a, b, e.rule.Reason)
		} else {
			pickInto(out, d, m.name, b, a, e.rule.Reason)
		}
		return nil
	case Combined:
		*out = Branch[S]{Value: e.result, Stamp: later(a.Stamp, b.Stamp)}
		*d = Decision{Policy: m.name, Outcome: Combined, Reason: e.rule.Reason}
		return nil
	}
	return m.reject(out, d, e.rule.Reason)
}

func (m *StateMachine[S]) reject(out *Branch[S], d *Decision, reason string) error {
	*out, *d = Branch[S]{}, Decision{Policy: m.name, Outcome: Rejected, Reason: reason}
	return &Rejection{Policy: m.name, Reason: reason}
}
