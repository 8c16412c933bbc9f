package email_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/medialuna/medialuna/adapters/notify/email"
	"github.com/medialuna/medialuna/adapters/notify/notifyerr"
	"github.com/medialuna/medialuna/domain"
)

type mail struct{ To, Subject, Body string }

// fakeMailer records messages and fails with err.
type fakeMailer struct {
	sent []mail
	err  error
}

func (m *fakeMailer) Send(_ context.Context, to, subject, body string) error {
	m.sent = append(m.sent, mail{to, subject, body})
	return m.err
}

// rejected is what mail.RejectedError looks like from here.
type rejected struct{ error }

func (rejected) Permanent() bool { return true }

func notification() domain.Notification {
	at := time.Date(2026, 3, 1, 12, 30, 0, 0, time.UTC)
	return domain.Notification{
		Event:      domain.EventIncidentTriggered,
		OccurredAt: at,
		Monitor:    domain.NotificationMonitor{ID: 7, Name: "API", URL: "https://api.example.com/health", Type: domain.TypeHTTP},
		Incident:   &domain.NotificationIncident{ID: 42, Type: domain.IncidentSSLExpiry, Message: "certificate expires in 7 days", Status: domain.StatusTriggered, SentAt: at},
	}
}

var channel = domain.ChannelConfig{Type: domain.ChannelEmail, EmailRecipient: "ops@example.com"}

func TestSendMailsSubjectAndText(t *testing.T) {
	m := &fakeMailer{}
	if err := email.New(email.Config{Mailer: m}).Send(context.Background(), channel, "", notification()); err != nil {
		t.Fatal(err)
	}
	want := []mail{{
		To:      "ops@example.com",
		Subject: "[Media Luna] Certificate expiring: API",
		Body:    "[Media Luna] Certificate expiring: API\nMonitor: API (HTTP https://api.example.com/health)\nIncident #42 SSL_EXPIRY TRIGGERED: certificate expires in 7 days\nAt: 2026-03-01T12:30:00Z\n",
	}}
	if d := cmp.Diff(want, m.sent); d != "" {
		t.Errorf("mails (-want +got):\n%s", d)
	}
}

func TestSendClassifiesMailerErrors(t *testing.T) {
	down := errors.New("connect to smtp server: connection refused")
	tests := []struct {
		name      string
		err       error
		permanent bool
	}{
		{"server down", down, false},
		{"rejected for good", rejected{errors.New("smtp RCPT TO: 550 no such user")}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := email.New(email.Config{Mailer: &fakeMailer{err: tt.err}}).Send(context.Background(), channel, "", notification())
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want it to wrap %v", err, tt.err)
			}
			if got := notifyerr.IsPermanent(err); got != tt.permanent {
				t.Errorf("permanent = %v, want %v", got, tt.permanent)
			}
			if !strings.Contains(err.Error(), "ops@example.com") {
				t.Errorf("error %q does not name the recipient", err)
			}
		})
	}
}

func TestMisconfigurationIsPermanent(t *testing.T) {
	m := &fakeMailer{}
	if err := email.New(email.Config{Mailer: m}).Send(context.Background(), domain.ChannelConfig{}, "", notification()); !notifyerr.IsPermanent(err) {
		t.Errorf("no recipient: err = %v, want permanent", err)
	}
	if err := email.New(email.Config{}).Send(context.Background(), channel, "", notification()); !notifyerr.IsPermanent(err) {
		t.Errorf("no mailer: err = %v, want permanent", err)
	}
	if len(m.sent) != 0 {
		t.Errorf("sent %v", m.sent)
	}
}
