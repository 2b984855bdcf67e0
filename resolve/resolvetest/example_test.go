package resolvetest_test

import (
	"fmt"

	"pgregory.net/rapid"

	"github.com/harborpoint/concord/policy"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/resolve/resolvetest"
)

// Issue is a user's record type: a replaceable title, labels that
// accumulate and an owner that may be set once.
type Issue struct {
	Title  string
	Labels policy.Set[string]
	Owner  string
}

// Check runs from a test, given the resolver under test and a rapid
// generator of record values:
//
//	func TestIssueResolver(t *testing.T) {
//		resolvetest.Check(t, resolvetest.Config[Issue]{Resolver: res, Value: genIssue})
//	}
//
// Here it runs with a stand-in for *testing.T that reports the outcome.
func ExampleCheck() {
	res, err := resolve.New("issue", []resolve.Field[Issue]{
		resolve.Bind("title", func(i *Issue) *string { return &i.Title }, policy.LWW[string]()),
		resolve.Bind("labels", func(i *Issue) *policy.Set[string] { return &i.Labels }, policy.Union[string]()),
		resolve.Bind("owner", func(i *Issue) *string { return &i.Owner }, policy.Once[string]()),
	}, nil, resolve.Options{})
	if err != nil {
		panic(err)
	}
	word := rapid.SampledFrom([]string{"", "a", "b"})
	genIssue := rapid.Custom(func(t *rapid.T) Issue {
		return Issue{
			Title:  word.Draw(t, "title"),
			Labels: policy.NewSet(rapid.SliceOfN(word, 0, 2).Draw(t, "labels")...),
			Owner:  word.Draw(t, "owner"),
		}
	})

	t := &reporter{}
	resolvetest.Check(t, resolvetest.Config[Issue]{
		Resolver: res,
		Value:    genIssue,
		Equal: func(a, b Issue) bool {
			return a.Title == b.Title && a.Labels.Equal(b.Labels) && a.Owner == b.Owner
		},
	})
	if t.Failed() {
		fmt.Println(t.msg)
	}
	fmt.Println("converges:", !t.Failed())
	// Output: converges: true
}

// reporter is a rapid.TB that keeps the first failure instead of failing a
// test.
type reporter struct {
	failed bool
	msg    string
}

func (r *reporter) Helper()                   {}
func (r *reporter) Name() string              { return "ExampleCheck" }
func (r *reporter) Logf(string, ...any)       {}
func (r *reporter) Log(...any)                {}
func (r *reporter) Skipf(string, ...any)      {}
func (r *reporter) Skip(...any)               {}
func (r *reporter) SkipNow()                  {}
func (r *reporter) Error(args ...any)         { r.fail(fmt.Sprint(args...)) }
func (r *reporter) Errorf(f string, a ...any) { r.fail(fmt.Sprintf(f, a...)) }
func (r *reporter) Fatal(args ...any)         { r.fail(fmt.Sprint(args...)) }
func (r *reporter) Fatalf(f string, a ...any) { r.fail(fmt.Sprintf(f, a...)) }
func (r *reporter) FailNow()                  { r.fail("FailNow") }
func (r *reporter) Fail()                     { r.fail("Fail") }
func (r *reporter) Failed() bool              { return r.failed }

func (r *reporter) fail(msg string) {
	if !r.failed {
		r.failed, r.msg = true, msg
	}
}
