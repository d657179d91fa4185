// Package pgcluster starts throwaway PostgreSQL clusters for tests that stop,
// freeze or fill a database: each cluster has its own data directory, port
// and socket directory, so such a test never touches the shared server.
//
// initdb refuses to run as root, and CI runs as root: there the cluster is
// created and run as the operating-system user postgres, in a directory that
// user owns.
package pgcluster

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Cluster is a running (or stopped) throwaway PostgreSQL cluster.
type Cluster struct {
	// Port is the TCP port it listens on, on 127.0.0.1.
	Port int
	dir  string
	bin  string
	uid  int // -1 when running as the current user
	gid  int
}

// Start creates and starts a cluster, stopped and removed when the test
// ends. Without PostgreSQL's server binaries it skips the test, or fails it
// when CI is set.
func Start(tb testing.TB) *Cluster {
	tb.Helper()
	bin, err := binDir()
	if err != nil {
		if os.Getenv("CI") != "" {
			tb.Fatalf("pgcluster: %v (CI is set, so this test may not skip)", err)
		}
		tb.Skipf("pgcluster: SKIPPING: %v", err)
	}
	c := &Cluster{bin: bin, uid: -1, gid: -1}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			tb.Fatalf("pgcluster: running as root needs the postgres user: %v", err)
		}
		c.uid, _ = strconv.Atoi(u.Uid)
		c.gid, _ = strconv.Atoi(u.Gid)
	}
	c.dir, err = os.MkdirTemp("", "pgcluster-")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		c.stop("immediate")
		os.RemoveAll(c.dir)
	})
	if c.uid >= 0 {
		if err := os.Chown(c.dir, c.uid, c.gid); err != nil {
			tb.Fatal(err)
		}
	}
	if err := os.Mkdir(c.socketDir(), 0o700); err != nil {
		tb.Fatal(err)
	}
	if c.uid >= 0 {
		_ = os.Chown(c.socketDir(), c.uid, c.gid)
	}
	if out, err := c.run("initdb", "-D", c.dataDir(), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"); err != nil {
		tb.Fatalf("pgcluster: initdb: %v\n%s", err, out)
	}
	c.Port = freePort(tb)
	c.StartAgain(tb)
	return c
}

// URL is a connection URL for database db ("postgres" always exists).
func (c *Cluster) URL(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.Port, db)
}

// StartAgain starts a stopped cluster on the same port and waits until it
// accepts connections.
func (c *Cluster) StartAgain(tb testing.TB) {
	tb.Helper()
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200", c.Port, c.socketDir())
	if out, err := c.run("pg_ctl", "-D", c.dataDir(), "-l", filepath.Join(c.dir, "server.log"), "-o", opts, "-w", "-t", "60", "start"); err != nil {
		log, _ := os.ReadFile(filepath.Join(c.dir, "server.log"))
		tb.Fatalf("pgcluster: pg_ctl start: %v\n%s\n%s", err, out, log)
	}
}

// Stop stops the cluster: mode "immediate" is a crash (no checkpoint, every
// connection cut), "fast" a clean shutdown.
func (c *Cluster) Stop(tb testing.TB, mode string) {
	tb.Helper()
	if out, err := c.stop(mode); err != nil {
		tb.Fatalf("pgcluster: pg_ctl stop -m %s: %v\n%s", mode, err, out)
	}
}

func (c *Cluster) stop(mode string) ([]byte, error) {
	if _, err := os.Stat(filepath.Join(c.dataDir(), "postmaster.pid")); err != nil {
		return nil, nil // not running
	}
	c.signal(syscall.SIGCONT) // a frozen cluster cannot stop
	return c.run("pg_ctl", "-D", c.dataDir(), "-m", mode, "-w", "-t", "60", "stop")
}

// Freeze stops every process of the cluster with SIGSTOP: connections stay
// open but nothing answers, as with a hung database host.
func (c *Cluster) Freeze(tb testing.TB) {
	tb.Helper()
	if n := c.signal(syscall.SIGSTOP); n == 0 {
		tb.Fatal("pgcluster: Freeze: no server process found")
	}
}

// Thaw resumes a frozen cluster.
func (c *Cluster) Thaw(tb testing.TB) {
	tb.Helper()
	c.signal(syscall.SIGCONT)
}

// signal sends sig to the postmaster and all its children and returns how
// many processes it signalled.
func (c *Cluster) signal(sig syscall.Signal) int {
	data, err := os.ReadFile(filepath.Join(c.dataDir(), "postmaster.pid"))
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(data), "\n", 2)[0]))
	if err != nil {
		return 0
	}
	pids := append([]int{pid}, children(pid)...)
	n := 0
	for _, p := range pids {
		if syscall.Kill(p, sig) == nil {
			n++
		}
	}
	return n
}

// children lists the processes whose parent is pid.
func children(pid int) []int {
	entries, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// The command name is in parentheses and may hold spaces; the
		// parent pid is the second field after it.
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(stat[i+1:]))
		if len(f) > 1 && f[1] == strconv.Itoa(pid) {
			out = append(out, p)
		}
	}
	sort.Ints(out)
	return out
}

func (c *Cluster) dataDir() string   { return filepath.Join(c.dir, "data") }
func (c *Cluster) socketDir() string { return filepath.Join(c.dir, "sock") }

// run runs one of PostgreSQL's programs, as the postgres user when the test
// runs as root.
func (c *Cluster) run(prog string, args ...string) ([]byte, error) {
	cmd := exec.Command(filepath.Join(c.bin, prog), args...)
	cmd.Dir = c.dir
	if c.uid >= 0 {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(c.uid), Gid: uint32(c.gid)}}
	}
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	done := make(chan struct{})
	var out []byte
	var err error
	go func() {
		out, err = cmd.CombinedOutput()
		close(done)
	}()
	select {
	case <-done:
		return out, err
	case <-time.After(2 * time.Minute):
		_ = cmd.Process.Kill()
		<-done
		return out, fmt.Errorf("%s timed out", prog)
	}
}

// binDir finds the server binaries (initdb, pg_ctl): Debian keeps them in
// /usr/lib/postgresql/<version>/bin; elsewhere they may be on PATH.
func binDir() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return versionOf(dirs[i]) > versionOf(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	return "", fmt.Errorf("no initdb found (install Debian's postgresql package)")
}

func versionOf(dir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
	return v
}

func freePort(tb testing.TB) int {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
