package postgres_test

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/harborpoint/concord/hold"
	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

// TestRestart crashes the server (pg_ctl stop -m immediate: no shutdown
// checkpoint, recovery from the log on start) and starts it again while a
// replica writes — creates of new holds and conditional updates of one hot
// hold's note — and then checks, on new connections, that every write the
// replica acknowledged is there. Writes that failed (the server was down, or
// went down under them) may or may not be there: the store could not tell.
func TestRestart(t *testing.T) {
	srv := requireServer(t)
	pool := srv.pool(t, 4)
	s := newStore(t, pool)
	r, err := replica.New(version.MustID("writer"), s, hold.Resolver(resolve.Options{}), replica.Options[hold.Hold]{})
	if err != nil {
		t.Fatal(err)
	}
	w := &restartWriter{r: r, created: map[string]bool{}}
	crashAt, restarted := make(chan struct{}), make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { w.run(crashAt, restarted) })
	<-crashAt
	if err := srv.crash(); err != nil {
		t.Fatal(err)
	}
	if err := srv.start(); err != nil {
		t.Fatal(err)
	}
	close(restarted)
	wg.Wait()
	if w.err != nil {
		t.Fatal(w.err)
	}
	t.Logf("%d acknowledged before the crash, %d after the restart, %d refused with an error (first: %v)", w.before, w.after, w.failed, w.firstErr)

	check, err := replica.New(version.MustID("check"), s, hold.Resolver(resolve.Options{}), replica.Options[hold.Hold]{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for key := range w.created {
		if rec, err := check.Get(ctx, key); err != nil || rec.Value.ID != key {
			t.Errorf("acknowledged create of %s: Get = %+v, %v", key, rec.Value, err)
		}
	}
	rec, err := check.Get(ctx, "hot")
	if n, convErr := strconv.Atoi(rec.Value.Note); err != nil || convErr != nil || n < w.note {
		t.Errorf("hot hold: note %q, %v; want the acknowledged %d or a later one", rec.Value.Note, err, w.note)
	}
}

// restartWriter writes until the server has restarted and taken 50 more
// writes, noting what was acknowledged.
type restartWriter struct {
	r       *replica.Replica[hold.Hold]
	created map[string]bool // holds whose create was acknowledged
	note    int             // the last acknowledged note of "hot"

	before, after, failed int
	firstErr, err         error
}

func (w *restartWriter) run(crashAt, restarted chan struct{}) {
	expires := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	isRestarted := func() bool {
		select {
		case <-restarted:
			return true
		default:
			return false
		}
	}
	for i := 0; w.after < 50; i++ {
		if i == 100_000 {
			w.err = fmt.Errorf("only %d writes acknowledged after the restart", w.after)
			return
		}
		after := isRestarted()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := w.write(ctx, i, expires)
		cancel()
		switch {
		case err != nil:
			w.failed++
			if w.firstErr == nil {
				w.firstErr = err
			}
			time.Sleep(5 * time.Millisecond) // pace the retries while the server is down
		case after:
			w.after++
		default:
			w.before++
			if w.before == 50 {
				close(crashAt)
			}
		}
	}
}

// write creates a hold (even i) or sets the hot hold's note to i (odd i).
func (w *restartWriter) write(ctx context.Context, i int, expires time.Time) error {
	if i%2 == 0 {
		key := fmt.Sprintf("H-%d", i)
		if _, err := w.r.Create(ctx, key, hold.New(key, "C1", "agency", expires)); err != nil {
			return err
		}
		w.created[key] = true
		return nil
	}
	rec, err := w.r.Get(ctx, "hot")
	if err != nil {
		h := hold.New("hot", "C2", "agency", expires)
		h.Note = strconv.Itoa(i)
		if _, err := w.r.Create(ctx, "hot", h); err != nil {
			return err
		}
		w.note = i
		return nil
	}
	if _, err := w.r.Update(ctx, "hot", rec.Token, func(h *hold.Hold, _ replica.Write) error {
		h.Note = strconv.Itoa(i)
		return nil
	}); err != nil {
		return err
	}
	w.note = i
	return nil
}
