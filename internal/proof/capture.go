package proof

import (
	"flag"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"

	"pgregory.net/rapid"
)

// Capture runs check on a rapid.TB that records what it is told instead of
// failing t, for the tests of a checker (policytest, resolvetest) that
// must watch it fail on a broken input. It returns whether check failed
// and everything it logged or reported, one line each. FailNow and Fatal
// end check's goroutine as in a test; a Skip counts as a failure, since a
// checker that skips proves nothing. While check runs, rapid writes no
// fail file for the expected failures; the flag is restored after. Capture
// must not run in parallel with other rapid checks of the same test
// binary: it sets rapid's command-line flags.
func Capture(t testing.TB, check func(rapid.TB)) (failed bool, out string) {
	t.Helper()
	restore := setFlags(t, map[string]string{"rapid.nofailfile": "true"})
	defer restore()
	r := &recorder{name: t.Name()}
	done := make(chan struct{})
	go func() {
		defer close(done)
		check(r)
	}()
	<-done
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.failed, r.out.String()
}

// ShrinkBriefly bounds how long rapid shrinks a failure, for the rest of
// the test, to a tenth of a second. Shrinking an expected failure took
// seconds per broken input in the tests of a checker and is not what they
// look at when they ask only that a failure is found and what it says.
// rapid keeps a failure's traceback while it shrinks, not its message: a
// test that needs the message of the minimal failure (policytest names the
// law the smallest case breaks) must shrink fully. Not for parallel tests.
func ShrinkBriefly(t testing.TB) {
	t.Helper()
	t.Cleanup(setFlags(t, map[string]string{"rapid.shrinktime": "100ms"}))
}

// setFlags sets flags by name and returns a function that restores them.
func setFlags(t testing.TB, values map[string]string) (restore func()) {
	t.Helper()
	old := map[string]string{}
	for name, v := range values {
		f := flag.Lookup(name)
		if f == nil {
			t.Fatalf("proof: no flag %s", name)
		}
		old[name] = f.Value.String()
		if err := flag.Set(name, v); err != nil {
			t.Fatalf("proof: flag %s=%s: %v", name, v, err)
		}
	}
	return func() {
		for name, v := range old {
			_ = flag.Set(name, v)
		}
	}
}

// recorder is the rapid.TB of Capture.
type recorder struct {
	name   string
	mu     sync.Mutex
	failed bool
	out    strings.Builder
}

func (r *recorder) Helper()      {}
func (r *recorder) Name() string { return r.name }

func (r *recorder) Logf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	fmt.Fprintf(&r.out, format+"\n", args...)
}

func (r *recorder) Log(args ...any) { r.Logf("%s", fmt.Sprint(args...)) }

func (r *recorder) Errorf(format string, args ...any) {
	r.Fail()
	r.Logf(format, args...)
}

func (r *recorder) Error(args ...any) { r.Errorf("%s", fmt.Sprint(args...)) }

func (r *recorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	runtime.Goexit()
}

func (r *recorder) Fatal(args ...any) { r.Fatalf("%s", fmt.Sprint(args...)) }
func (r *recorder) FailNow()          { r.Fail(); runtime.Goexit() }

func (r *recorder) Skipf(format string, args ...any) { r.Fatalf("unexpected skip: "+format, args...) }
func (r *recorder) Skip(args ...any)                 { r.Skipf("%s", fmt.Sprint(args...)) }
func (r *recorder) SkipNow()                         { r.Skipf("SkipNow") }

func (r *recorder) Fail() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failed = true
}

func (r *recorder) Failed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.failed
}
