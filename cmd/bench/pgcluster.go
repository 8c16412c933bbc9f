package main

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// pgBin is where Debian and Ubuntu install PostgreSQL 15's programs.
const pgBin = "/usr/lib/postgresql/15/bin"

// pgCluster is a PostgreSQL server the bench starts for itself, so the
// CPU it reads from /proc is the bench's alone: the machine's shared
// server also runs other people's tests.
type pgCluster struct {
	dir      string // data directory (and the socket's)
	port     int
	asUser   string // the user initdb and postgres run as; "" is the current one
	postgres *exec.Cmd
	pid      int // the postmaster's
}

// URL is the cluster's postgres database, as its superuser.
func (c *pgCluster) URL() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", c.port)
}

// startCluster runs initdb into a fresh directory and starts postgres on a
// free loopback port with pg_stat_statements loaded. Durability stays at
// its defaults (fsync and synchronous_commit on): what users run. PostgreSQL
// refuses to run as root, so as root it runs as the postgres user.
func startCluster() (*pgCluster, error) {
	dir, err := os.MkdirTemp("", "medialuna-bench-pg")
	if err != nil {
		return nil, err
	}
	c := &pgCluster{dir: dir}
	if os.Geteuid() == 0 {
		c.asUser = "postgres"
		u, err := user.Lookup(c.asUser)
		if err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("running as root needs a postgres user for PostgreSQL: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	data := filepath.Join(dir, "data")
	if out, err := c.command("initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync").CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("initdb: %v: %s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	c.port = ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	var log bytes.Buffer
	c.postgres = c.command("postgres", "-D", data, "-p", strconv.Itoa(c.port), "-c", "listen_addresses=127.0.0.1",
		"-c", "unix_socket_directories="+dir, "-c", "shared_preload_libraries=pg_stat_statements",
		"-c", "pg_stat_statements.max=1000", "-c", "max_connections=200")
	c.postgres.Stdout, c.postgres.Stderr = &log, &log
	if err := c.postgres.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	// runuser forks, so the postmaster's pid comes from its pid file.
	for range 300 {
		if b, err := os.ReadFile(filepath.Join(data, "postmaster.pid")); err == nil {
			lines := strings.Split(string(b), "\n")
			if len(lines) > 7 && strings.TrimSpace(lines[7]) == "ready" {
				c.pid, _ = strconv.Atoi(strings.TrimSpace(lines[0]))
				return c, nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	c.stop(false)
	return nil, fmt.Errorf("postgres did not start: %s", log.String())
}

func (c *pgCluster) command(prog string, args ...string) *exec.Cmd {
	path := filepath.Join(pgBin, prog)
	if c.asUser == "" {
		return exec.Command(path, args...)
	}
	return exec.Command("runuser", append([]string{"-u", c.asUser, "--", path}, args...)...)
}

// stop shuts the cluster down (fast mode: the bench's data is disposable)
// and removes it unless keep.
func (c *pgCluster) stop(keep bool) {
	if c.pid > 0 {
		if p, err := os.FindProcess(c.pid); err == nil {
			p.Signal(syscall.SIGINT)
		}
	}
	if c.postgres != nil && c.postgres.Process != nil {
		done := make(chan struct{})
		go func() { c.postgres.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			c.postgres.Process.Kill()
		}
	}
	if !keep {
		os.RemoveAll(c.dir)
	}
}

// clockTick is the length of one clock tick of /proc/PID/stat: USER_HZ,
// 100 on every Linux architecture Go runs the bench on.
const clockTick = 10 * time.Millisecond

// procTimes reads a process's own CPU (utime+stime) and its reaped
// children's (cutime+cstime), in ticks, and its parent's pid.
func procTimes(pid int) (self, children int64, ppid int, err error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, 0, err
	}
	s := string(data)
	i := strings.LastIndex(s, ")")
	if i < 0 || i+2 > len(s) {
		return 0, 0, 0, errors.New("unexpected /proc stat format")
	}
	// Fields after the command: state(0) ppid(1) ... utime(11) stime(12)
	// cutime(13) cstime(14).
	f := strings.Fields(s[i+2:])
	if len(f) < 15 {
		return 0, 0, 0, errors.New("short /proc stat line")
	}
	n := func(k int) int64 { v, _ := strconv.ParseInt(f[k], 10, 64); return v }
	ppid, _ = strconv.Atoi(f[1])
	return n(11) + n(12), n(13) + n(14), ppid, nil
}

// measureCPU returns the CPU seconds used so far by the server process
// (with its reaped children) and by PostgreSQL; a scenario calls it at the
// start and the end of its window and subtracts. With the bench's own
// cluster, PostgreSQL is the postmaster with its reaped children (every
// backend that exited, whoever it served) plus its live children. With pg
// nil (an external server), it is every postgres process on the machine,
// which counts other users' work and misses exited backends.
func measureCPU(serverPID int, pg *pgCluster) (serverSec, pgSec float64, err error) {
	self, children, _, err := procTimes(serverPID)
	if err != nil {
		return 0, 0, fmt.Errorf("server CPU: %w", err)
	}
	serverSec = float64(self+children) * clockTick.Seconds()
	var pgTicks int64
	if pg != nil {
		self, children, _, err := procTimes(pg.pid)
		if err != nil {
			return 0, 0, fmt.Errorf("postmaster CPU: %w", err)
		}
		pgTicks = self + children
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0, 0, err
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if pg == nil {
			comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
			if err != nil || !strings.HasPrefix(string(comm), "postgres") {
				continue
			}
		}
		self, _, ppid, err := procTimes(pid)
		if err != nil || (pg != nil && ppid != pg.pid) {
			continue // gone meanwhile (its time is now in the postmaster's cutime), or not ours
		}
		pgTicks += self
	}
	return serverSec, float64(pgTicks) * clockTick.Seconds(), nil
}
