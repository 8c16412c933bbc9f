package probe_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/crypto/ssh"

	"github.com/medialuna/medialuna/adapters/probe"
	"github.com/medialuna/medialuna/domain"
)

// startSSH runs a golang.org/x/crypto/ssh server on loopback and returns
// its address. Handshakes fail when the check hangs up; that is expected.
func startSSH(t *testing.T) string {
	t.Helper()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(key)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &ssh.ServerConfig{NoClientAuth: true, ServerVersion: "SSH-2.0-MediaLunaTest_1.0"}
	cfg.AddHostKey(signer)
	return serveTCP(t, "tcp", "127.0.0.1:0", func(conn net.Conn) {
		if sc, _, _, err := ssh.NewServerConn(conn, cfg); err == nil {
			_ = sc.Close()
		}
	})
}

// banner returns a handler that writes text and records the client's first
// line.
func banner(text string, said chan<- string) func(net.Conn) {
	return func(conn net.Conn) {
		_, _ = io.WriteString(conn, text)
		line, _ := readLine(conn)
		if said != nil {
			said <- line
		}
	}
}

func TestSSH(t *testing.T) {
	server := startSSH(t)
	web := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(web.Close)
	tests := []struct {
		name string
		addr string
		want domain.CheckOutcome
	}{
		{"x/crypto/ssh server", server, domain.CheckOutcome{Up: true, Detail: "SSH-2.0-MediaLunaTest_1.0"}},
		{
			"lines before the identification",
			serveTCP(t, "tcp", "127.0.0.1:0", banner("Welcome to the test host\r\nAuthorized use only\r\nSSH-2.0-OpenSSH_9.6p1 Debian-4\r\n", nil)),
			domain.CheckOutcome{Up: true, Detail: "SSH-2.0-OpenSSH_9.6p1 Debian-4"},
		},
		{
			"protocol 1.99",
			serveTCP(t, "tcp", "127.0.0.1:0", banner("SSH-1.99-OpenSSH_3.9\n", nil)),
			domain.CheckOutcome{Up: true, Detail: "SSH-1.99-OpenSSH_3.9"},
		},
		{
			"protocol 1 only",
			serveTCP(t, "tcp", "127.0.0.1:0", banner("SSH-1.5-ancient\r\n", nil)),
			domain.CheckOutcome{Detail: "SSH-1.5-ancient", Error: `unsupported SSH protocol version: "SSH-1.5-ancient"`},
		},
		{
			"an HTTP server",
			web.Listener.Addr().String(),
			domain.CheckOutcome{Error: `not an SSH server: banner "HTTP/1.1 400 Bad Request"`},
		},
		{
			"hangs up without a banner",
			serveTCP(t, "tcp", "127.0.0.1:0", func(conn net.Conn) { _, _ = readLine(conn) }),
			domain.CheckOutcome{Error: "SSH banner: connection closed by server before sending a banner"},
		},
		{
			"connection refused",
			closedPort(t),
			domain.CheckOutcome{Error: "connection refused"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := check(t, probe.New(probe.Config{}), domain.CheckSpec{Type: domain.TypeSSH, URL: tt.addr, Timeout: 5 * time.Second})
			if d := cmp.Diff(tt.want, got, ignoreTiming); d != "" {
				t.Errorf("outcome (-want +got):\n%s", d)
			}
		})
	}
}

// The check introduces itself so servers log a client that left, not junk.
func TestSSHIdentification(t *testing.T) {
	said := make(chan string, 1)
	addr := serveTCP(t, "tcp", "127.0.0.1:0", banner("SSH-2.0-OpenSSH_9.6\r\n", said))
	out := check(t, probe.New(probe.Config{}), domain.CheckSpec{Type: domain.TypeSSH, URL: "ssh://127.0.0.1", Port: port(t, addr), Timeout: 5 * time.Second})
	if !out.Up {
		t.Fatalf("want up, got %+v", out)
	}
	if got := <-said; got != "SSH-2.0-MediaLuna_Probe" {
		t.Errorf("client said %q, want SSH-2.0-MediaLuna_Probe", got)
	}
}

func TestSSHTimeout(t *testing.T) {
	addr := serveTCP(t, "tcp", "127.0.0.1:0", drain) // says nothing
	start := time.Now()
	got := check(t, probe.New(probe.Config{}), domain.CheckSpec{Type: domain.TypeSSH, URL: addr, Timeout: time.Second})
	assertPrompt(t, start)
	if d := cmp.Diff(domain.CheckOutcome{Error: "SSH banner: timed out after 1s"}, got, ignoreTiming); d != "" {
		t.Errorf("outcome (-want +got):\n%s", d)
	}
}
