package resolvetest_test

import (
	"testing"

	"pgregory.net/rapid"

	"github.com/harborpoint/concord/policy"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/resolve/resolvetest"
	"github.com/harborpoint/concord/version"
)

type phase string

// everything binds one field to each built-in policy.
type everything struct {
	Note     string
	Tags     policy.Set[string]
	Items    policy.AWSet[string]
	High     int
	Low      int
	Flag     bool
	Owner    string
	Opinions policy.Multi[string]
	Phase    phase
	adds     []string // elements to add at write time, with the write's dot
	removes  []string
}

var phases = mustPhases()

func mustPhases() *policy.StateMachine[phase] {
	m, err := policy.NewStateMachine(policy.StateMachineSpec[phase]{
		States:    []phase{"draft", "review", "published", "withdrawn"},
		Absorbing: []phase{"withdrawn"},
		Rules: []policy.Rule[phase]{
			policy.PickRule[phase]("draft", "review", "review", "review is further along"),
			policy.PickRule[phase]("draft", "published", "published", "published is further along"),
			policy.RejectRule[phase]("review", "published", "a published document changed under review"),
		},
	})
	if err != nil {
		panic(err)
	}
	return m
}

func everythingResolver(t *testing.T) *resolve.Resolver[everything] {
	r, err := resolve.New("everything", []resolve.Field[everything]{
		resolve.Bind("note", func(e *everything) *string { return &e.Note }, policy.LWW[string]()),
		resolve.Bind("tags", func(e *everything) *policy.Set[string] { return &e.Tags }, policy.Union[string]()),
		resolve.Bind("items", func(e *everything) *policy.AWSet[string] { return &e.Items }, policy.AddWins[string]()),
		resolve.Bind("high", func(e *everything) *int { return &e.High }, policy.Max[int]()),
		resolve.Bind("low", func(e *everything) *int { return &e.Low }, policy.Min[int]()),
		resolve.Bind("flag", func(e *everything) *bool { return &e.Flag }, policy.EnableWins()),
		resolve.Bind("owner", func(e *everything) *string { return &e.Owner }, policy.Once[string]()),
		resolve.Bind("opinions", func(e *everything) *policy.Multi[string] { return &e.Opinions }, policy.MultiValue[string]()),
		resolve.Bind("phase", func(e *everything) *phase { return &e.Phase }, policy.Policy[phase](phases)),
	}, nil, resolve.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func genEverything() *rapid.Generator[everything] {
	word := rapid.SampledFrom([]string{"a", "b", "c"})
	return rapid.Custom(func(t *rapid.T) everything {
		return everything{
			Note:     word.Draw(t, "note"),
			Tags:     policy.NewSet(rapid.SliceOfN(word, 0, 2).Draw(t, "tags")...),
			High:     rapid.IntRange(0, 5).Draw(t, "high"),
			Low:      rapid.IntRange(0, 5).Draw(t, "low"),
			Flag:     rapid.Bool().Draw(t, "flag"),
			Owner:    rapid.SampledFrom([]string{"", "", "ana", "bo"}).Draw(t, "owner"),
			Opinions: policy.Single(word.Draw(t, "opinion")),
			Phase:    rapid.SampledFrom([]phase{"draft", "review", "published", "withdrawn"}).Draw(t, "phase"),
			adds:     rapid.SliceOfN(word, 0, 2).Draw(t, "adds"),
			removes:  rapid.SliceOfN(word, 0, 1).Draw(t, "removes"),
		}
	})
}

func equalEverything(a, b everything) bool {
	return a.Note == b.Note && a.Tags.Equal(b.Tags) && a.Items.Equal(b.Items) && a.High == b.High && a.Low == b.Low &&
		a.Flag == b.Flag && a.Owner == b.Owner && a.Opinions.Equal(b.Opinions) && a.Phase == b.Phase
}

// TestEveryBuiltinConverges runs the checker on a record that binds every
// built-in policy, refusals included (Once, the state machine).
func TestEveryBuiltinConverges(t *testing.T) {
	r := everythingResolver(t)
	changeFields := resolvetest.ChangeFields(r, genEverything())
	resolvetest.Check(t, resolvetest.Config[everything]{
		Resolver: r,
		Value:    genEverything(),
		Equal:    equalEverything,
		Change: func(t *rapid.T, read everything) everything {
			v := changeFields(t, read)
			v.adds = rapid.SliceOfN(rapid.SampledFrom([]string{"a", "b", "c"}), 0, 2).Draw(t, "adds")
			v.removes = rapid.SliceOfN(rapid.SampledFrom([]string{"a", "b", "c"}), 0, 1).Draw(t, "removes")
			return v
		},
		OnWrite: func(v everything, d version.Dot) everything {
			for _, e := range v.removes {
				v.Items = v.Items.Remove(e)
			}
			for _, e := range v.adds {
				v.Items = v.Items.Add(e, d)
			}
			v.adds, v.removes = nil, nil
			return v
		},
	})
}
