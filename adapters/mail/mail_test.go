package mail_test

import (
	"context"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/medialuna/medialuna/adapters/mail"
)

// catcher is a real SMTP server on loopback that keeps what it receives.
type catcher struct {
	mu       sync.Mutex
	messages []string
	rcpts    []string
}

func (c *catcher) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{c: c}, nil }

type session struct{ c *catcher }

func (s *session) Mail(string, *smtp.MailOptions) error { return nil }
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.c.mu.Lock()
	s.c.rcpts = append(s.c.rcpts, to)
	s.c.mu.Unlock()
	return nil
}
func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	s.c.mu.Lock()
	s.c.messages = append(s.c.messages, string(b))
	s.c.mu.Unlock()
	return err
}
func (s *session) Reset()        {}
func (s *session) Logout() error { return nil }

func TestSMTPSendsToARealServer(t *testing.T) {
	c := &catcher{}
	srv := smtp.NewServer(c)
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })

	m := mail.NewSMTP(mail.Config{Addr: ln.Addr().String(), From: "noreply@medialuna.test", TLS: "none"})
	if err := m.Send(context.Background(), "ana@example.com", "Hello ñ", "line one\nline two"); err != nil {
		t.Fatal(err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.messages) != 1 || c.rcpts[0] != "ana@example.com" {
		t.Fatalf("got %d messages to %v", len(c.messages), c.rcpts)
	}
	if !strings.Contains(c.messages[0], "line one\r\nline two") || !strings.Contains(c.messages[0], "Subject: =?utf-8?q?Hello_=C3=B1?=") {
		t.Errorf("message:\n%s", c.messages[0])
	}
}

func TestSMTPRefusesHeaderInjection(t *testing.T) {
	m := mail.NewSMTP(mail.Config{Addr: "127.0.0.1:1", From: "a@b.c", TLS: "none", Timeout: time.Second})
	if err := m.Send(context.Background(), "x@y.z\r\nBcc: evil@y.z", "s", "b"); err == nil {
		t.Fatal("header injection accepted")
	}
}

func TestSMTPDeadServerIsAnError(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	m := mail.NewSMTP(mail.Config{Addr: addr, From: "a@b.c", TLS: "none", Timeout: time.Second})
	if err := m.Send(context.Background(), "x@y.z", "s", "b"); err == nil || !strings.Contains(err.Error(), "connect to smtp server") {
		t.Fatalf("err = %v", err)
	}
}
