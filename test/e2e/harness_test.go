// Package e2e runs the real medialuna binary on a free port against a fresh
// database and a real SMTP catcher, and drives it over HTTP as users do.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/medialuna/medialuna/test/smtpcatcher"
	"github.com/medialuna/medialuna/test/testdb"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "medialuna-e2e")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "medialuna")
	if err := installAPIChecker(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	build := exec.Command("go", "build", "-o", binary, "../../cmd/medialuna")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build medialuna:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// server is one running medialuna process.
type server struct {
	t    testing.TB
	URL  string
	DB   *testdb.DB
	Mail *smtpcatcher.Catcher
	cmd  *exec.Cmd
	logs *syncBuffer
	done chan error
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func freeAddr(t testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startServer runs `medialuna serve` and waits for /healthz.
func startServer(t testing.TB, db *testdb.DB, mail *smtpcatcher.Catcher, extraEnv ...string) *server {
	t.Helper()
	addr := freeAddr(t)
	s := &server{t: t, URL: "http://" + addr, DB: db, Mail: mail, logs: &syncBuffer{}, done: make(chan error, 1)}
	s.cmd = exec.Command(binary, "serve", "--addr", addr)
	s.cmd.Env = append(os.Environ(), "DATABASE_URL="+db.URL, "MEDIALUNA_SMTP_ADDR="+mail.Addr, "MEDIALUNA_SMTP_TLS=none",
		"MEDIALUNA_LOG_LEVEL=debug", "MEDIALUNA_SIGNUP=open")
	s.cmd.Env = append(s.cmd.Env, extraEnv...)
	s.cmd.Stdout, s.cmd.Stderr = s.logs, s.logs
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.done <- s.cmd.Wait() }()
	t.Cleanup(func() {
		s.cmd.Process.Kill()
		<-s.done
		if t.Failed() {
			t.Logf("server logs:\n%s", s.logs.String())
		}
	})
	// Checked against docs/openapi.yaml until t ends (its findings are
	// reported before the server's logs).
	watchServer(t, addr)
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(s.URL + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return s
			}
		}
		select {
		case err := <-s.done:
			t.Fatalf("server exited early: %v\n%s", err, s.logs.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatalf("server not healthy after 30s:\n%s", s.logs.String())
	return nil
}

// stop sends SIGTERM and returns the exit error.
func (s *server) stop() error {
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.done:
		s.done <- err // let Cleanup's wait return
		return err
	case <-time.After(30 * time.Second):
		return fmt.Errorf("no exit within 30s of SIGTERM")
	}
}

// response is what a call returned.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r response) json(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
}

func (r response) detail() string {
	var d struct {
		Detail any `json:"detail"`
	}
	json.Unmarshal(r.Body, &d)
	if s, ok := d.Detail.(string); ok {
		return s
	}
	b, _ := json.Marshal(d.Detail)
	return string(b)
}

// call makes a request; body is JSON-encoded unless it is a string or []byte.
func (s *server) call(method, path, auth string, body any) response {
	s.t.Helper()
	return s.request(s.t, method, path, auth, body, nil)
}

// request is call with extra headers, failing t (a subtest's own) on a
// transport error.
func (s *server) request(t testing.TB, method, path, auth string, body any, header http.Header) response {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		data, _ := json.Marshal(b)
		rd = bytes.NewReader(data)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, s.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	for name, values := range header {
		req.Header[name] = values
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if auth != "" {
		req.Header.Set("Authorization", "Bearer "+auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return response{Status: resp.StatusCode, Header: resp.Header, Body: data}
}

// expect fails the test unless the call answered want.
func (s *server) expect(want int, method, path, auth string, body any) response {
	s.t.Helper()
	r := s.call(method, path, auth, body)
	if r.Status != want {
		s.t.Fatalf("%s %s: status %d, want %d; body %s", method, path, r.Status, want, r.Body)
	}
	return r
}

// waitFor polls cond for up to 10 s.
func waitFor(t testing.TB, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// unlimited moves an account to ENTERPRISE (no rate limit) for tests that
// poll the API many times a minute.
func unlimited(t testing.TB, s *server, accountID int64) {
	t.Helper()
	if _, errOut, err := medialuna(t, s.DB, "accounts", "set-plan", strconv.FormatInt(accountID, 10), "ENTERPRISE"); err != nil {
		t.Fatalf("set-plan: %v %s", err, errOut)
	}
}
