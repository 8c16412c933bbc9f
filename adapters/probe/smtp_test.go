package probe_test

import (
	"io"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/google/go-cmp/cmp"

	"github.com/medialuna/medialuna/adapters/probe"
	"github.com/medialuna/medialuna/domain"
)

// session is a go-smtp session that accepts nothing of interest.
type session struct{}

func (session) Reset()                               {}
func (session) Logout() error                        { return nil }
func (session) Mail(string, *smtp.MailOptions) error { return nil }
func (session) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (session) Data(r io.Reader) error               { _, err := io.Copy(io.Discard, r); return err }
func newSession(*smtp.Conn) (smtp.Session, error)    { return session{}, nil }

// startSMTP runs a go-smtp server on loopback and returns its address.
func startSMTP(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := smtp.NewServer(smtp.BackendFunc(newSession))
	srv.Domain = "mx.example.test"
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().String()
}

// scripted returns a handler that writes greeting, answers EHLO with
// ehlo and QUIT with 221, recording what the client said.
func scripted(greeting, ehlo string, said chan<- string) func(net.Conn) {
	return func(conn net.Conn) {
		_, _ = io.WriteString(conn, greeting)
		for {
			line, err := readLine(conn)
			if err != nil {
				return
			}
			if said != nil {
				said <- line
			}
			switch line {
			case "QUIT":
				_, _ = io.WriteString(conn, "221 bye\r\n")
				return
			default:
				_, _ = io.WriteString(conn, ehlo)
			}
		}
	}
}

func TestSMTP(t *testing.T) {
	server := startSMTP(t)
	tests := []struct {
		name   string
		handle func(net.Conn)
		want   domain.CheckOutcome
	}{
		{"go-smtp server", nil, domain.CheckOutcome{Up: true, Detail: "220 mx.example.test ESMTP Service Ready"}},
		{
			"multi-line greeting",
			scripted("220-mx.example.test welcome\r\n220 more words\r\n", "250-mx.example.test\r\n250 SIZE 1000\r\n", nil),
			domain.CheckOutcome{Up: true, Detail: "220-mx.example.test welcome"},
		},
		{
			"rejecting greeting",
			scripted("554 go away\r\n", "", nil),
			domain.CheckOutcome{Detail: "554 go away", Error: "SMTP banner: expected 220, got 554 go away"},
		},
		{
			"EHLO refused",
			scripted("220 mx ready\r\n", "502 5.5.1 command not implemented\r\n", nil),
			domain.CheckOutcome{Detail: "220 mx ready", Error: "SMTP EHLO: expected 250, got 502 5.5.1 command not implemented"},
		},
		{
			"not an SMTP server",
			scripted("SSH-2.0-OpenSSH_9.6\r\n", "", nil),
			domain.CheckOutcome{Error: `SMTP banner: not an SMTP server: got "SSH-2.0-OpenSSH_9.6"`},
		},
		{
			"hangs up at once",
			func(net.Conn) {},
			domain.CheckOutcome{Error: "SMTP banner: connection closed by server before replying"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := server
			if tt.handle != nil {
				addr = serveTCP(t, "tcp", "127.0.0.1:0", tt.handle)
			}
			host, p, _ := net.SplitHostPort(addr)
			pn, _ := strconv.Atoi(p)
			got := check(t, probe.New(probe.Config{}), domain.CheckSpec{Type: domain.TypeSMTP, URL: host, Port: pn, Timeout: 5 * time.Second})
			if d := cmp.Diff(tt.want, got, ignoreTiming); d != "" {
				t.Errorf("outcome (-want +got):\n%s", d)
			}
		})
	}
}

// The check says EHLO medialuna.probe, then QUIT.
func TestSMTPConversation(t *testing.T) {
	said := make(chan string, 4)
	addr := serveTCP(t, "tcp", "127.0.0.1:0", scripted("220 mx ready\r\n", "250 hello\r\n", said))
	out := check(t, probe.New(probe.Config{}), domain.CheckSpec{Type: domain.TypeSMTP, URL: "smtp://" + addr, Timeout: 5 * time.Second})
	if !out.Up {
		t.Fatalf("want up, got %+v", out)
	}
	got := []string{<-said, <-said}
	if d := cmp.Diff([]string{"EHLO medialuna.probe", "QUIT"}, got); d != "" {
		t.Errorf("client said (-want +got):\n%s", d)
	}
}

func TestSMTPTimeout(t *testing.T) {
	addr := serveTCP(t, "tcp", "127.0.0.1:0", drain) // says nothing
	start := time.Now()
	got := check(t, probe.New(probe.Config{}), domain.CheckSpec{Type: domain.TypeSMTP, URL: addr, Timeout: time.Second})
	assertPrompt(t, start)
	if d := cmp.Diff(domain.CheckOutcome{Error: "SMTP banner: timed out after 1s"}, got, ignoreTiming); d != "" {
		t.Errorf("outcome (-want +got):\n%s", d)
	}
}

func TestSMTPRefused(t *testing.T) {
	got := check(t, probe.New(probe.Config{}), domain.CheckSpec{Type: domain.TypeSMTP, URL: closedPort(t), Timeout: 5 * time.Second})
	if d := cmp.Diff(domain.CheckOutcome{Error: "connection refused"}, got, ignoreTiming); d != "" {
		t.Errorf("outcome (-want +got):\n%s", d)
	}
}
