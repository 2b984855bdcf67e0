package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
)

// The tests run against a real PostgreSQL: TestMain starts a throwaway
// cluster (initdb in a temporary directory, a Unix socket there and no TCP,
// trust authentication) and removes it afterwards. Without the server
// binaries the tests skip, saying how to install them, unless CI is set:
// then they fail.

// server is the cluster of this test run; nil when there is none.
var server *cluster

// noServer is why there is no server.
var noServer string

const installHint = "PostgreSQL not found (initdb, pg_ctl): install it with `apt-get install -y postgresql` (Debian/Ubuntu) or put its bin directory on PATH"

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	bin, err := findBin()
	if err != nil {
		if os.Getenv("CI") == "true" {
			fmt.Fprintln(os.Stderr, "postgres tests: CI=true and", installHint)
			return 1
		}
		noServer = installHint
		return m.Run()
	}
	c, err := startCluster(bin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "postgres tests: start a throwaway cluster:", err)
		return 1
	}
	defer c.remove()
	server = c
	return m.Run()
}

// requireServer skips t without a server.
func requireServer(t testing.TB) *cluster {
	t.Helper()
	if server == nil {
		t.Skip(noServer)
	}
	return server
}

// findBin returns the directory of initdb and pg_ctl: PATH first, then the
// newest /usr/lib/postgresql/*/bin (where Debian puts them).
func findBin() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		if _, err := exec.LookPath("pg_ctl"); err == nil {
			return filepath.Dir(p), nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int { return versionOf(b) - versionOf(a) })
	for _, d := range dirs {
		if isFile(filepath.Join(d, "initdb")) && isFile(filepath.Join(d, "pg_ctl")) {
			return d, nil
		}
	}
	return "", errors.New("no initdb")
}

func versionOf(binDir string) int {
	var v int
	_, _ = fmt.Sscan(filepath.Base(filepath.Dir(binDir)), &v)
	return v
}

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

// cluster is a throwaway PostgreSQL server.
type cluster struct {
	bin, dir string
	owner    string // the OS user the server runs as ("" = this process's)
}

// startCluster creates and starts a cluster in a new temporary directory.
// PostgreSQL refuses to run as root: as root, the cluster belongs to the
// "postgres" user (the Debian package creates it) and every command runs
// as that user.
func startCluster(bin string) (*cluster, error) {
	dir, err := os.MkdirTemp("", "concord-pg-")
	if err != nil {
		return nil, err
	}
	c := &cluster{bin: bin, dir: dir}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			_ = os.RemoveAll(dir)
			return nil, fmt.Errorf("running as root needs the user postgres to run the server: %w", err)
		}
		c.owner = u.Username
		if out, err := exec.Command("chown", "-R", u.Uid+":"+u.Gid, dir).CombinedOutput(); err != nil {
			_ = os.RemoveAll(dir)
			return nil, fmt.Errorf("chown: %v: %s", err, out)
		}
	}
	if err := c.run("initdb", "-D", c.data(), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	if err := c.start(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	return c, nil
}

func (c *cluster) data() string { return filepath.Join(c.dir, "data") }

// run runs one of the server's programs as the cluster's owner.
func (c *cluster) run(prog string, args ...string) error {
	path := filepath.Join(c.bin, prog)
	var cmd *exec.Cmd
	if c.owner != "" {
		cmd = exec.Command("runuser", append([]string{"-u", c.owner, "--", path}, args...)...)
	} else {
		cmd = exec.Command(path, args...)
	}
	cmd.Dir = c.dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s %s: %v: %s", prog, strings.Join(args, " "), err, out)
	}
	return nil
}

// start starts the server on a Unix socket in the cluster's directory and
// waits until it accepts connections.
func (c *cluster) start() error {
	opts := fmt.Sprintf("-c listen_addresses='' -c unix_socket_directories='%s' -c max_connections=100", c.dir)
	return c.run("pg_ctl", "start", "-w", "-t", "60", "-D", c.data(), "-l", filepath.Join(c.dir, "server.log"), "-o", opts)
}

// crash stops the server the way a power cut stops it: no shutdown
// checkpoint, so the next start recovers from the write-ahead log.
func (c *cluster) crash() error {
	return c.run("pg_ctl", "stop", "-w", "-m", "immediate", "-D", c.data())
}

func (c *cluster) remove() {
	_ = c.run("pg_ctl", "stop", "-w", "-m", "fast", "-D", c.data())
	_ = os.RemoveAll(c.dir)
}

// connString is the server's connection string.
func (c *cluster) connString() string {
	return fmt.Sprintf("host=%s port=5432 user=postgres dbname=postgres sslmode=disable", c.dir)
}

// pool returns a pool on the server that t closes.
func (c *cluster) pool(t testing.TB, maxConns int32) *pgxpool.Pool {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(c.connString())
	if err != nil {
		t.Fatal(err)
	}
	if maxConns > 0 {
		cfg.MaxConns = maxConns
	}
	p, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}
