package twilio_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/medialuna/medialuna/adapters/notify/notifyerr"
	"github.com/medialuna/medialuna/adapters/notify/twilio"
	"github.com/medialuna/medialuna/domain"
)

const (
	sid   = "AC0123456789abcdef0123456789abcdef"
	token = "auth-token-0123456789abcdef"
	from  = "+15005550006"
	to    = "+34600111222"
)

func notification() domain.Notification {
	at := time.Date(2026, 3, 1, 12, 30, 0, 0, time.UTC)
	return domain.Notification{
		DeliveryID: "delivery-9",
		Event:      domain.EventIncidentTriggered,
		OccurredAt: at,
		Monitor:    domain.NotificationMonitor{ID: 7, Name: "API", URL: "https://api.example.com/health", Type: domain.TypeHTTP},
		Incident:   &domain.NotificationIncident{ID: 42, Type: domain.IncidentDown, Message: "connection refused", Status: domain.StatusTriggered, SentAt: at},
		AccountID:  3,
	}
}

// fakeTwilio is the Messages API of account sid, authenticated with token.
type fakeTwilio struct {
	t   *testing.T
	mu  sync.Mutex
	got []url.Values
	srv *httptest.Server
}

func newFakeTwilio(t *testing.T) *fakeTwilio {
	f := &fakeTwilio{t: t}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// fail answers as Twilio does, with its error body.
func fail(w http.ResponseWriter, status, code int, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"code": code, "message": message, "more_info": fmt.Sprintf("https://www.twilio.com/docs/errors/%d", code), "status": status})
}

func (f *fakeTwilio) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/2010-04-01/Accounts/"+sid+"/Messages.json" {
		f.t.Errorf("request %s %s", r.Method, r.URL.Path)
		fail(w, http.StatusNotFound, 20404, "The requested resource was not found")
		return
	}
	if user, pass, ok := r.BasicAuth(); !ok || user != sid || pass != token {
		fail(w, http.StatusUnauthorized, 20003, "Authenticate")
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
		f.t.Errorf("Content-Type = %q", ct)
	}
	if err := r.ParseForm(); err != nil {
		f.t.Errorf("form: %v", err)
	}
	for _, field := range []string{"To", "From", "Body"} {
		if r.PostForm.Get(field) == "" {
			f.t.Errorf("no %s", field)
			fail(w, http.StatusBadRequest, 21604, "A '"+field+"' parameter is required.")
			return
		}
	}
	if utf8.RuneCountInString(r.PostForm.Get("Body")) > 1600 {
		fail(w, http.StatusBadRequest, 21617, "The concatenated message body exceeds the 1600 character limit.")
		return
	}
	f.mu.Lock()
	f.got = append(f.got, r.PostForm)
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(w).Encode(map[string]any{"sid": "SM0123456789abcdef0123456789abcdef", "account_sid": sid, "to": r.PostForm.Get("To"), "from": r.PostForm.Get("From"), "body": r.PostForm.Get("Body"), "status": "queued"})
}

func sender(base string, client *http.Client) *twilio.Sender {
	return twilio.New(twilio.Config{BaseURL: base, AccountSID: sid, AuthToken: token, From: from, Client: client})
}

var channel = domain.ChannelConfig{Type: domain.ChannelSMS, PhoneNumber: to}

func TestSendTextsTheRecipient(t *testing.T) {
	f := newFakeTwilio(t)
	if err := sender(f.srv.URL, nil).Send(context.Background(), channel, "", notification()); err != nil {
		t.Fatal(err)
	}
	want := []url.Values{{
		"To":   {to},
		"From": {from},
		"Body": {"[Media Luna] DOWN: API\nMonitor: API (HTTP https://api.example.com/health)\nIncident #42 DOWN TRIGGERED: connection refused\nAt: 2026-03-01T12:30:00Z"},
	}}
	if d := cmp.Diff(want, f.got); d != "" {
		t.Errorf("messages (-want +got):\n%s", d)
	}
}

func TestLongMessagesAreCut(t *testing.T) {
	f := newFakeTwilio(t)
	n := notification()
	n.Incident.Message = strings.Repeat("ñ", 1000)
	if err := sender(f.srv.URL, nil).Send(context.Background(), channel, "", n); err != nil {
		t.Fatal(err)
	}
	body := f.got[0].Get("Body")
	if utf8.RuneCountInString(body) > 320 || !strings.HasPrefix(body, n.Subject()+"\n") || !strings.HasSuffix(body, "...") {
		t.Errorf("body (%d characters) = %q", utf8.RuneCountInString(body), body)
	}
}

func TestNotConfiguredIsPermanent(t *testing.T) {
	f := newFakeTwilio(t)
	tests := []struct {
		name string
		cfg  twilio.Config
	}{
		{"nothing", twilio.Config{BaseURL: f.srv.URL}},
		{"no account sid", twilio.Config{BaseURL: f.srv.URL, AuthToken: token, From: from}},
		{"no auth token", twilio.Config{BaseURL: f.srv.URL, AccountSID: sid, From: from}},
		{"no from", twilio.Config{BaseURL: f.srv.URL, AccountSID: sid, AuthToken: token}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := twilio.New(tt.cfg).Send(context.Background(), channel, "", notification())
			if !notifyerr.IsPermanent(err) || !strings.Contains(err.Error(), "not configured") || !strings.Contains(err.Error(), "--twilio-account-sid") {
				t.Errorf("err = %v, want permanent, naming the flags", err)
			}
		})
	}
	if len(f.got) != 0 {
		t.Errorf("sent %v", f.got)
	}
}

func TestSendClassifiesTwilioErrors(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		code      int
		permanent bool
	}{
		{"invalid number", 400, 21211, true},
		{"bad credentials", 401, 20003, true},
		{"rate limited", 429, 20429, false},
		{"internal error", 500, 20500, false},
		{"unavailable", 503, 20503, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				fail(w, tt.status, tt.code, "twilio says "+tt.name)
			}))
			defer srv.Close()
			err := sender(srv.URL, nil).Send(context.Background(), channel, "", notification())
			if err == nil {
				t.Fatal("no error")
			}
			if got := notifyerr.IsPermanent(err); got != tt.permanent {
				t.Errorf("permanent = %v, want %v (%v)", got, tt.permanent, err)
			}
			want := fmt.Sprintf("twilio answered HTTP %d %s: error %d: twilio says %s", tt.status, http.StatusText(tt.status), tt.code, tt.name)
			if err.Error() != want {
				t.Errorf("error = %q, want %q", err, want)
			}
		})
	}
}

func TestWrongTokenIsPermanentAndNotQuoted(t *testing.T) {
	f := newFakeTwilio(t)
	s := twilio.New(twilio.Config{BaseURL: f.srv.URL, AccountSID: sid, AuthToken: "revoked-token-xyz", From: from})
	err := s.Send(context.Background(), channel, "", notification())
	if !notifyerr.IsPermanent(err) || strings.Contains(err.Error(), "revoked-token-xyz") {
		t.Errorf("err = %v", err)
	}
}

func TestSendTimesOutPromptly(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)
	start := time.Now()
	err := sender(srv.URL, &http.Client{Timeout: 100 * time.Millisecond}).Send(context.Background(), channel, "", notification())
	if err == nil || notifyerr.IsPermanent(err) {
		t.Fatalf("err = %v, want a temporary error", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %s", d)
	}
}
