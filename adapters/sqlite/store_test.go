package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	concordsqlite "github.com/harborpoint/concord/adapters/sqlite"
	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/replica/storetest"
)

// TestStoreConformance holds a Store that Open made to the replica.Store
// contract, each check on a new database file. The Restart check closes
// the file and opens it again.
func TestStoreConformance(t *testing.T) {
	for _, sync := range []concordsqlite.Synchronous{concordsqlite.SyncFull, concordsqlite.SyncNormal} {
		t.Run(fmt.Sprint("sync", sync), func(t *testing.T) {
			opts := concordsqlite.Options{Synchronous: sync}
			files := map[replica.Store]file{}
			storetest.Run(t, func(t *testing.T) replica.Store {
				f := file{t, filepath.Join(t.TempDir(), "records.db")}
				s := open(t, f.path, opts)
				files[s] = f
				return s
			}, storetest.Options{Reopen: func(s replica.Store) (replica.Store, error) {
				f := files[s]
				if err := s.(*concordsqlite.Store).Close(); err != nil {
					return nil, err
				}
				return open(f.t, f.path, opts), nil
			}})
		})
	}
}

// file is a database file of a check and the check's test.
type file struct {
	t    *testing.T
	path string
}

// TestNewConformance holds a Store over the caller's own database to the
// contract, each check in a table of its own.
func TestNewConformance(t *testing.T) {
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "own.db")+"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	n := 0
	storetest.Run(t, func(t *testing.T) replica.Store {
		n++
		s, err := concordsqlite.New(t.Context(), db, fmt.Sprintf("check_%d", n))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}, storetest.Options{})
}

func open(t *testing.T, path string, opts concordsqlite.Options) *concordsqlite.Store {
	t.Helper()
	s, err := concordsqlite.Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

// TestTableNames refuses table names that are not plain identifiers, and
// keeps two tables of one file apart.
func TestTableNames(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.db")
	for _, bad := range []string{"1abc", "a-b", `a"b`, "a b", "x;DROP TABLE y", "é", "a234567890123456789012345678901234567890123456789"} {
		if _, err := concordsqlite.Open(path, concordsqlite.Options{Table: bad}); !errors.Is(err, concordsqlite.ErrInvalidTable) {
			t.Errorf("Open with table %q: err = %v, want ErrInvalidTable", bad, err)
		}
	}
	if _, err := concordsqlite.Open(path, concordsqlite.Options{Synchronous: 7}); err == nil {
		t.Error("Open with an unknown Synchronous succeeded")
	}
	plain, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = plain.Close() }()
	if _, err := concordsqlite.New(context.Background(), plain, "t"); err == nil {
		t.Error("New over a pool without a busy timeout succeeded")
	}
	ctx := context.Background()
	a := open(t, path, concordsqlite.Options{Table: "holds"})
	b := open(t, path, concordsqlite.Options{Table: "carts"})
	ra, err := a.CompareAndSet(ctx, "k", []byte("hold"), 0)
	if err != nil {
		t.Fatal(err)
	}
	if v, rev, err := b.Get(ctx, "k"); rev != 0 || err != nil {
		t.Errorf("another table's Get(k) = %q, %d, %v; want absent", v, rev, err)
	}
	if v, rev, err := a.Get(ctx, "k"); string(v) != "hold" || rev != ra || err != nil {
		t.Errorf("Get(k) = %q, %d, %v", v, rev, err)
	}
}

// TestReopen keeps records and the revision counter across a close: a key
// deleted before the close and created again after it gets a new revision.
func TestReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "r.db")
	s, err := concordsqlite.Open(path, concordsqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r1, err := s.CompareAndSet(ctx, "gone", []byte("1"), 0)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := s.CompareAndSet(ctx, "kept", []byte("2"), 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "gone", r1); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open(t, path, concordsqlite.Options{})
	if v, rev, err := s.Get(ctx, "kept"); string(v) != "2" || rev != r2 || err != nil {
		t.Errorf("after reopening, Get(kept) = %q, %d, %v; want 2 at %d", v, rev, err, r2)
	}
	r3, err := s.CompareAndSet(ctx, "gone", []byte("3"), 0)
	if err != nil || r3 <= r2 {
		t.Errorf("re-created key after reopening got revision %d, %v; want one above %d", r3, err, r2)
	}
}
