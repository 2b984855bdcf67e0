package sqlite_test

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	concordsqlite "github.com/harborpoint/concord/adapters/sqlite"
	"github.com/harborpoint/concord/hold"
	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/replica/storetest"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

// The crash test runs its own test binary as the child that writes.
const (
	crashEnv = "CONCORD_SQLITE_CRASH_DB"    // the database file; set only in the child
	syncEnv  = "CONCORD_SQLITE_CRASH_SYNC"  // "full" or "normal"
	roundEnv = "CONCORD_SQLITE_CRASH_ROUND" // a number that keeps each round's keys and notes apart
)

// TestCrash kills a process that writes holds through a replica.Replica on
// a SQLite file with SIGKILL at random moments — after a random number of
// acknowledged writes, plus a random pause that often lands inside the next
// one — and checks after each kill, reopening the file, that the database
// is intact and that every write the child acknowledged (printed after
// Create or Update returned) is there. The next round writes on in the same
// file, so a kill also lands on a database that recovered from the last one.
// Finally the crashed file passes storetest.
func TestCrash(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	path := filepath.Join(t.TempDir(), "crash.db")
	for round := range 6 {
		sync := []string{"full", "normal"}[round%2]
		acks := runChild(t, path, sync, round, 1+rng.IntN(150), time.Duration(rng.IntN(3000))*time.Microsecond)
		checkAcked(t, path, round, acks)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = db.Close() }()
	n := 0
	storetest.Run(t, func(t *testing.T) replica.Store {
		n++
		s, err := concordsqlite.New(t.Context(), db, fmt.Sprintf("after_crash_%d", n))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}, storetest.Options{MaxValueSize: 64 << 10})
}

// acked is what the child acknowledged in one round: the holds it created,
// and the last note it wrote to each hot key.
type acked struct {
	created []string
	notes   map[string]int
	total   int
}

// runChild starts the writer, reads its acknowledgements, kills it after
// `after` of them and a pause, and returns every acknowledgement it printed
// before it died.
func runChild(t *testing.T, path, sync string, round, after int, pause time.Duration) acked {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashEnv+"="+path, syncEnv+"="+sync, roundEnv+"="+strconv.Itoa(round))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	a := acked{notes: map[string]int{}}
	lines := bufio.NewScanner(out)
	killed := false
	for lines.Scan() {
		f := strings.Fields(lines.Text())
		switch {
		case len(f) == 2 && f[0] == "create":
			a.created = append(a.created, f[1])
		case len(f) == 3 && f[0] == "note":
			n, err := strconv.Atoi(f[2])
			if err != nil {
				t.Fatalf("child printed %q", lines.Text())
			}
			a.notes[f[1]] = n
		default:
			continue // the test framework's own lines
		}
		a.total++
		if a.total == after && !killed {
			time.Sleep(pause)
			if err := cmd.Process.Kill(); err != nil { // SIGKILL
				t.Fatal(err)
			}
			killed = true
		}
	}
	err = cmd.Wait()
	if !killed || err == nil || !strings.Contains(err.Error(), "killed") {
		t.Fatalf("round %d: the child ended by itself (%v) after %d writes, before the kill", round, err, a.total)
	}
	t.Logf("round %d (%s): killed after %d acknowledged writes (%d asked, then %v)", round, sync, a.total, after, pause)
	return a
}

// checkAcked reopens the database and finds every acknowledged write.
func checkAcked(t *testing.T, path string, round int, a acked) {
	t.Helper()
	ctx := context.Background()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	var ok string
	if err := db.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&ok); err != nil || ok != "ok" {
		t.Fatalf("round %d: integrity_check = %q, %v", round, ok, err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	s, err := concordsqlite.Open(path, concordsqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }() // before the next round's child opens the file
	r, err := replica.New(version.MustID("check"), s, hold.Resolver(resolve.Options{}), replica.Options[hold.Hold]{})
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range a.created {
		if rec, err := r.Get(ctx, key); err != nil || rec.Value.ID != key {
			t.Errorf("round %d: acknowledged create of %s: Get = %+v, %v", round, key, rec.Value, err)
		}
	}
	for key, n := range a.notes {
		rec, err := r.Get(ctx, key)
		if err != nil {
			t.Errorf("round %d: acknowledged note %d on %s: %v", round, n, key, err)
			continue
		}
		// A later write may have been stored without being acknowledged.
		if got, err := strconv.Atoi(rec.Value.Note); err != nil || got < n {
			t.Errorf("round %d: %s has note %q, want the acknowledged %d or a later one", round, key, rec.Value.Note, n)
		}
	}
}

// TestCrashChild is the writer TestCrash starts and kills; run by itself it
// does nothing.
func TestCrashChild(t *testing.T) {
	path := os.Getenv(crashEnv)
	if path == "" {
		t.Skip("the child of TestCrash")
	}
	opts := concordsqlite.Options{}
	if os.Getenv(syncEnv) == "normal" {
		opts.Synchronous = concordsqlite.SyncNormal
	}
	round, _ := strconv.Atoi(os.Getenv(roundEnv))
	s, err := concordsqlite.Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	r, err := replica.New(version.MustID(fmt.Sprintf("writer%d", round)), s, hold.Resolver(resolve.Options{}), replica.Options[hold.Hold]{})
	if err != nil {
		t.Fatal(err)
	}
	expires := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < 1_000_000; i++ { // until killed
		var line string
		if i%3 == 0 {
			key := fmt.Sprintf("r%d-H-%d", round, i)
			if _, err := r.Create(ctx, key, hold.New(key, "C1", "agency", expires)); err != nil {
				t.Fatal(err)
			}
			line = "create " + key
		} else {
			key := fmt.Sprintf("hot-%d", i%4)
			note := round*1_000_000 + i
			if err := writeNote(ctx, r, key, note, expires); err != nil {
				t.Fatal(err)
			}
			line = fmt.Sprintf("note %s %d", key, note)
		}
		if _, err := fmt.Println(line); err != nil {
			return // the parent is gone
		}
	}
}

// writeNote sets key's note with a conditional update, creating the hold
// first if it does not exist.
func writeNote(ctx context.Context, r *replica.Replica[hold.Hold], key string, note int, expires time.Time) error {
	rec, err := r.Get(ctx, key)
	if err != nil {
		h := hold.New(key, "C2", "agency", expires)
		h.Note = strconv.Itoa(note)
		_, err := r.Create(ctx, key, h)
		return err
	}
	_, err = r.Update(ctx, key, rec.Token, func(h *hold.Hold, _ replica.Write) error {
		h.Note = strconv.Itoa(note)
		return nil
	})
	return err
}
