// Package smtpcatcher is a real SMTP server on loopback that keeps every
// message it receives, for tests that check what Media Luna mails out.
package smtpcatcher

import (
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// Message is one received email.
type Message struct {
	From string
	To   []string
	Data string
}

// Catcher receives mail until the test ends.
type Catcher struct {
	Addr string
	mu   sync.Mutex
	msgs []Message
	cond chan struct{}
}

// Start runs a catcher on a free loopback port.
func Start(t testing.TB) *Catcher {
	c := &Catcher{cond: make(chan struct{}, 1)}
	srv := smtp.NewServer(c)
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c.Addr = ln.Addr().String()
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return c
}

// Messages returns what arrived so far.
func (c *Catcher) Messages() []Message {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Message(nil), c.msgs...)
}

// WaitFor returns the first message to rcpt, waiting up to timeout.
func (c *Catcher) WaitFor(t testing.TB, rcpt string, timeout time.Duration) Message {
	t.Helper()
	deadline := time.After(timeout)
	for {
		for _, m := range c.Messages() {
			for _, to := range m.To {
				if strings.EqualFold(to, rcpt) {
					return m
				}
			}
		}
		select {
		case <-c.cond:
		case <-deadline:
			t.Fatalf("no email to %s within %s", rcpt, timeout)
		}
	}
}

// NewSession implements smtp.Backend.
func (c *Catcher) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{c: c}, nil }

type session struct {
	c   *Catcher
	msg Message
}

func (s *session) AuthMechanisms() []string { return nil }
func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	s.msg.From = from
	return nil
}
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.msg.To = append(s.msg.To, to)
	return nil
}
func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.msg.Data = string(b)
	s.c.mu.Lock()
	s.c.msgs = append(s.c.msgs, s.msg)
	s.c.mu.Unlock()
	select {
	case s.c.cond <- struct{}{}:
	default:
	}
	s.msg = Message{}
	return nil
}
func (s *session) Reset()        { s.msg = Message{} }
func (s *session) Logout() error { return nil }
