package mail_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/medialuna/medialuna/adapters/mail"
	"github.com/medialuna/medialuna/test/smtpcatcher"
)

func TestSMTPSendsToARealServer(t *testing.T) {
	c := smtpcatcher.Start(t)
	m := mail.NewSMTP(mail.Config{Addr: c.Addr, From: "noreply@medialuna.test", TLS: "none"})
	if err := m.Send(context.Background(), "ana@example.com", "Hello ñ", "line one\nline two"); err != nil {
		t.Fatal(err)
	}
	got := c.WaitFor(t, "ana@example.com", 5*time.Second)
	if got.From != "noreply@medialuna.test" {
		t.Errorf("from = %q", got.From)
	}
	if !strings.Contains(got.Data, "line one\r\nline two") || !strings.Contains(got.Data, "Subject: =?utf-8?q?Hello_=C3=B1?=") {
		t.Errorf("message:\n%s", got.Data)
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
