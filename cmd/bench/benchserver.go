package main

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// benchServer is the real medialuna server a scenario drives: built from
// this checkout (or the binary given), on a fresh database of the bench's
// own PostgreSQL cluster (or of an external server), listening on a free
// loopback port.
type benchServer struct {
	dir    string // scratch: the binary, the server's log
	binary string
	pg     *pgCluster // nil with an external server
	dbURL  string
	base   string // http://host:port
	proc   *exec.Cmd
	undo   []func()
}

// serverOptions says how to start one.
type serverOptions struct {
	binary   string   // "" builds ./cmd/medialuna
	adminURL string   // "" starts a cluster of the bench's own
	env      []string // more of the server's environment
}

// startBenchServer builds, creates the database and starts the server; it
// returns once GET /healthz answers. close undoes it all.
func startBenchServer(o serverOptions) (*benchServer, error) {
	dir, err := os.MkdirTemp("", "medialuna-bench")
	if err != nil {
		return nil, err
	}
	b := &benchServer{dir: dir, binary: o.binary}
	b.undo = append(b.undo, func() { os.RemoveAll(dir) })
	ok := false
	defer func() {
		if !ok {
			b.close()
		}
	}()
	if b.binary == "" {
		if b.binary, err = buildMedialuna(dir); err != nil {
			return nil, err
		}
	}
	admin := o.adminURL
	if admin == "" {
		logf("starting a PostgreSQL cluster of the bench's own")
		if b.pg, err = startCluster(); err != nil {
			return nil, err
		}
		admin = b.pg.URL()
		b.undo = append(b.undo, func() { b.pg.stop(false) })
	}
	dbURL, drop, err := createDatabase(admin)
	if err != nil {
		return nil, err
	}
	b.dbURL = dbURL
	b.undo = append(b.undo, drop)
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	logFile, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		return nil, err
	}
	b.undo = append(b.undo, func() { logFile.Close() })
	b.proc = exec.Command(b.binary, "serve", "--addr", addr, "--log-format", "json", "--log-level", "info")
	b.proc.Env = append(append(os.Environ(), "DATABASE_URL="+dbURL), o.env...)
	b.proc.Stdout, b.proc.Stderr = logFile, logFile
	if err := b.proc.Start(); err != nil {
		return nil, err
	}
	b.undo = append(b.undo, func() {
		b.proc.Process.Signal(syscall.SIGTERM)
		b.proc.Wait()
	})
	b.base = "http://" + addr
	if err := waitHealthy(b.base); err != nil {
		return nil, err
	}
	ok = true
	return b, nil
}

// buildMedialuna builds ./cmd/medialuna into dir and returns its path.
func buildMedialuna(dir string) (string, error) {
	binary := filepath.Join(dir, "medialuna")
	logf("building medialuna")
	build := exec.Command("go", "build", "-o", binary, "./cmd/medialuna")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	return binary, build.Run()
}

// close stops the server and removes what start made, newest first.
func (b *benchServer) close() {
	for i := len(b.undo) - 1; i >= 0; i-- {
		b.undo[i]()
	}
}

// signUp creates an account on the given plan and returns a client signed
// in to it, with its own pool of up to conns keep-alive connections.
func (b *benchServer) signUp(email, plan string, conns int) (*client, error) {
	cl := b.client("", conns)
	var su struct {
		AccessToken string `json:"access_token"`
		Account     struct{ ID int64 }
	}
	if err := cl.do("POST", "/api/auth/signup", map[string]string{"email": email, "password": "bench password", "account_name": "Bench " + email}, &su); err != nil {
		return nil, err
	}
	cl.token = su.AccessToken
	setPlan := exec.Command(b.binary, "accounts", "set-plan", strconv.FormatInt(su.Account.ID, 10), plan)
	setPlan.Env = append(os.Environ(), "DATABASE_URL="+b.dbURL)
	if out, err := setPlan.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("set-plan: %v: %s", err, out)
	}
	time.Sleep(time.Second) // the plan reaches the read models
	return cl, nil
}

// client is a new API client of the server with its own connection pool:
// separate clients are separate keep-alive connections, as separate API
// users would be.
func (b *benchServer) client(token string, conns int) *client {
	return &client{base: b.base, token: token, http: http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conns}}}
}

// cpu is the CPU seconds the server and PostgreSQL have used so far; see
// measureCPU.
func (b *benchServer) cpu() (serverSec, pgSec float64, err error) {
	return measureCPU(b.proc.Process.Pid, b.pg)
}
