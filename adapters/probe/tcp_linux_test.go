//go:build linux

package probe_test

import (
	"context"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/medialuna/medialuna/adapters/probe"
	"github.com/medialuna/medialuna/domain"
)

// unanswered returns a loopback address where connecting hangs: a listener
// with a backlog of 0 whose accept queue is full, so Linux drops further
// SYNs. It keeps the traffic on the machine, unlike a non-routable address.
func unanswered(t *testing.T) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	addr := (&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: sa.(*syscall.SockaddrInet4).Port}).String()
	for i := 0; i < 8; i++ {
		conn, err := net.DialTimeout("tcp", addr, 300*time.Millisecond)
		if err != nil {
			return addr // the queue is full
		}
		t.Cleanup(func() { _ = conn.Close() })
	}
	t.Skip("could not fill the accept queue of a loopback listener")
	return ""
}

func TestTCPTimeout(t *testing.T) {
	addr := unanswered(t)
	start := time.Now()
	got := check(t, probe.New(probe.Config{}), domain.CheckSpec{Type: domain.TypeTCP, URL: addr, Timeout: time.Second})
	assertPrompt(t, start)
	if d := cmp.Diff(domain.CheckOutcome{Error: "timed out after 1s"}, got, ignoreTiming); d != "" {
		t.Errorf("outcome (-want +got):\n%s", d)
	}
}

// A caller's deadline shorter than the spec's timeout bounds the check.
func TestCallerDeadline(t *testing.T) {
	addr := unanswered(t)
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	got := probe.New(probe.Config{}).Check(ctx, domain.CheckSpec{Type: domain.TypeTCP, URL: addr})
	assertPrompt(t, start)
	if got.Up || !strings.HasPrefix(got.Error, "timed out after ") || !strings.HasSuffix(got.Error, "ms") {
		t.Errorf("got %+v, want a timeout of about 500ms", got)
	}
}

// Canceling a running check stops it.
func TestCancelRunningCheck(t *testing.T) {
	addr := unanswered(t)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	start := time.Now()
	got := probe.New(probe.Config{}).Check(ctx, domain.CheckSpec{Type: domain.TypeTCP, URL: addr, Timeout: 10 * time.Second})
	assertPrompt(t, start)
	if d := cmp.Diff(domain.CheckOutcome{Error: "check canceled"}, got, ignoreTiming); d != "" {
		t.Errorf("outcome (-want +got):\n%s", d)
	}
}
