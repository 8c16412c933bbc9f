package probe_test

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/medialuna/medialuna/adapters/probe"
	"github.com/medialuna/medialuna/domain"
)

// ignoreTiming compares outcomes without their response time.
var ignoreTiming = cmpopts.IgnoreFields(domain.CheckOutcome{}, "ResponseTimeMs")

// check runs spec and fails the test when the outcome has no response time.
func check(t *testing.T, c *probe.Checker, spec domain.CheckSpec) domain.CheckOutcome {
	t.Helper()
	out := c.Check(context.Background(), spec)
	if out.ResponseTimeMs <= 0 {
		t.Errorf("ResponseTimeMs = %v, want > 0", out.ResponseTimeMs)
	}
	return out
}

// closedPort returns a loopback address on which nothing listens.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

// port returns the port of a host:port address.
func port(t *testing.T, addr string) int {
	t.Helper()
	ap, err := net.ResolveTCPAddr("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	return ap.Port
}

// serveTCP accepts connections on a loopback listener and runs handle on
// each, closing the connection afterwards. It returns the listener's address.
func serveTCP(t *testing.T, network, address string, handle func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen(network, address)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() {
		_ = ln.Close()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { _ = conn.Close() }()
				_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
				handle(conn)
			}()
		}
	}()
	return ln.Addr().String()
}

// drain reads from conn until the client goes away.
func drain(conn net.Conn) { _, _ = io.Copy(io.Discard, conn) }

// readLine reads one CRLF-terminated line from conn, byte by byte so nothing
// after it is consumed.
func readLine(conn net.Conn) (string, error) {
	var b strings.Builder
	buf := make([]byte, 1)
	for b.Len() < 1024 {
		if _, err := conn.Read(buf); err != nil {
			return b.String(), err
		}
		if buf[0] == '\n' {
			return strings.TrimSuffix(b.String(), "\r"), nil
		}
		b.WriteByte(buf[0])
	}
	return b.String(), errors.New("line too long")
}

// assertPrompt fails the test when a check that should stop at its timeout
// took far longer; the bound is generous, this is not a benchmark.
func assertPrompt(t *testing.T, start time.Time) {
	t.Helper()
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("check returned after %v, want it to stop at its timeout", d)
	}
}
