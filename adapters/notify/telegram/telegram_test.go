package telegram_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
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
	"github.com/medialuna/medialuna/adapters/notify/telegram"
	"github.com/medialuna/medialuna/domain"
)

const (
	token = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
	chat  = "-1001234567890"
)

func notification() domain.Notification {
	at := time.Date(2026, 3, 1, 12, 30, 0, 0, time.UTC)
	return domain.Notification{
		DeliveryID: "delivery-9",
		Event:      domain.EventIncidentResolved,
		OccurredAt: at,
		Monitor:    domain.NotificationMonitor{ID: 7, Name: "API", URL: "https://api.example.com/health", Type: domain.TypeHTTP},
		Incident:   &domain.NotificationIncident{ID: 42, Type: domain.IncidentDown, Message: "connection refused", Status: domain.StatusResolved, SentAt: at},
		AccountID:  3,
	}
}

var channel = domain.ChannelConfig{Type: domain.ChannelTelegram, TelegramBotToken: token, TelegramChatID: chat}

type sendMessage struct {
	ChatID                string `json:"chat_id"`
	Text                  string `json:"text"`
	DisableWebPagePreview bool   `json:"disable_web_page_preview"`
}

// fakeBotAPI knows one bot (token) and one chat, and answers as the Bot API
// does: 200 {"ok":true,"result":...} or {"ok":false,"error_code":...}.
type fakeBotAPI struct {
	t   *testing.T
	mu  sync.Mutex
	got []sendMessage
	srv *httptest.Server
}

func newFakeBotAPI(t *testing.T) *fakeBotAPI {
	f := &fakeBotAPI{t: t}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func reply(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func botError(w http.ResponseWriter, code int, description string) {
	reply(w, code, map[string]any{"ok": false, "error_code": code, "description": description})
}

func (f *fakeBotAPI) serve(w http.ResponseWriter, r *http.Request) {
	tok, method, ok := strings.Cut(strings.TrimPrefix(r.URL.Path, "/bot"), "/")
	if !ok || !strings.HasPrefix(r.URL.Path, "/bot") || method != "sendMessage" || r.Method != http.MethodPost {
		f.t.Errorf("request %s %s", r.Method, r.URL.Path)
		botError(w, http.StatusNotFound, "Not Found")
		return
	}
	if tok != token {
		botError(w, http.StatusUnauthorized, "Unauthorized")
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		f.t.Errorf("Content-Type = %q", ct)
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	var m sendMessage
	if err := dec.Decode(&m); err != nil {
		f.t.Errorf("body: %v", err)
		botError(w, http.StatusBadRequest, "Bad Request: can't parse JSON")
		return
	}
	switch {
	case m.ChatID != chat:
		botError(w, http.StatusBadRequest, "Bad Request: chat not found")
		return
	case m.Text == "":
		botError(w, http.StatusBadRequest, "Bad Request: message text is empty")
		return
	case utf8.RuneCountInString(m.Text) > 4096:
		botError(w, http.StatusBadRequest, "Bad Request: message is too long")
		return
	}
	f.mu.Lock()
	f.got = append(f.got, m)
	f.mu.Unlock()
	reply(w, http.StatusOK, map[string]any{"ok": true, "result": map[string]any{"message_id": len(f.got), "chat": map[string]any{"id": -1001234567890}, "text": m.Text}})
}

func TestSendMessage(t *testing.T) {
	f := newFakeBotAPI(t)
	if err := telegram.New(telegram.Config{BaseURL: f.srv.URL}).Send(context.Background(), channel, "", notification()); err != nil {
		t.Fatal(err)
	}
	want := []sendMessage{{
		ChatID:                chat,
		Text:                  "[Media Luna] Resolved: API\nMonitor: API (HTTP https://api.example.com/health)\nIncident #42 DOWN RESOLVED: connection refused\nAt: 2026-03-01T12:30:00Z\n",
		DisableWebPagePreview: true,
	}}
	if d := cmp.Diff(want, f.got); d != "" {
		t.Errorf("messages (-want +got):\n%s", d)
	}
}

func TestLongMessagesAreCut(t *testing.T) {
	f := newFakeBotAPI(t)
	n := notification()
	n.Incident.Message = strings.Repeat("ñ", 5000)
	if err := telegram.New(telegram.Config{BaseURL: f.srv.URL}).Send(context.Background(), channel, "", n); err != nil {
		t.Fatal(err)
	}
}

func TestSendClassifiesBotAPIErrors(t *testing.T) {
	f := newFakeBotAPI(t)
	// answering stands in for the Bot API, answering status with body.
	answering := func(status int, body map[string]any) string {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { reply(w, status, body) }))
		t.Cleanup(srv.Close)
		return srv.URL
	}
	tests := []struct {
		name      string
		base      string // the Bot API's address
		ch        domain.ChannelConfig
		permanent bool
		quote     string // what the error must quote
	}{
		{"unknown chat", f.srv.URL, domain.ChannelConfig{TelegramBotToken: token, TelegramChatID: "@nosuchchannel"}, true, "chat not found"},
		{"revoked token", f.srv.URL, domain.ChannelConfig{TelegramBotToken: "987654321:BBHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw", TelegramChatID: chat}, true, "Unauthorized"},
		{"no token", f.srv.URL, domain.ChannelConfig{TelegramChatID: chat}, true, "bot token"},
		{"bot blocked", answering(403, map[string]any{"ok": false, "error_code": 403, "description": "Forbidden: bot was blocked by the user"}),
			channel, true, "Forbidden: bot was blocked by the user"},
		{"rate limited", answering(429, map[string]any{"ok": false, "error_code": 429, "description": "Too Many Requests: retry after 5", "parameters": map[string]any{"retry_after": 5}}),
			channel, false, "Too Many Requests: retry after 5"},
		{"internal error", answering(500, map[string]any{"ok": false, "error_code": 500, "description": "Internal Server Error"}),
			channel, false, "Internal Server Error"},
		{"bad gateway", answering(502, map[string]any{"ok": false, "error_code": 502, "description": "Bad Gateway"}),
			channel, false, "Bad Gateway"},
		{"200 with ok false", answering(200, map[string]any{"ok": false, "error_code": 400, "description": "Bad Request: odd"}),
			channel, true, "Bad Request: odd"},
		{"200 from something else", answering(200, map[string]any{"hello": "proxy"}), channel, false, "proxy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := telegram.New(telegram.Config{BaseURL: tt.base}).Send(context.Background(), tt.ch, "", notification())
			if err == nil {
				t.Fatal("no error")
			}
			if got := notifyerr.IsPermanent(err); got != tt.permanent {
				t.Errorf("permanent = %v, want %v (%v)", got, tt.permanent, err)
			}
			if !strings.Contains(err.Error(), tt.quote) {
				t.Errorf("error %q lacks %q", err, tt.quote)
			}
			if tt.ch.TelegramBotToken != "" && strings.Contains(err.Error(), tt.ch.TelegramBotToken) {
				t.Errorf("token in error: %v", err)
			}
		})
	}
}

// assertRedacted fails if the bot token can be read from err, in its text
// or in a *url.Error it wraps.
func assertRedacted(t *testing.T, err error) {
	t.Helper()
	secret := strings.SplitN(token, ":", 2)[1]
	if strings.Contains(err.Error(), secret) {
		t.Errorf("token in error text: %v", err)
	}
	if !strings.Contains(err.Error(), "[REDACTED]") {
		t.Errorf("error %q does not show where the token was", err)
	}
	var ue *url.Error
	if errors.As(err, &ue) && strings.Contains(ue.URL, secret) {
		t.Errorf("url.Error with the token reachable: %s", ue.URL)
	}
}

func TestUnreachableServerErrorHidesTheToken(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	err = telegram.New(telegram.Config{BaseURL: "http://" + addr}).Send(context.Background(), channel, "", notification())
	if err == nil || notifyerr.IsPermanent(err) {
		t.Fatalf("err = %v, want a temporary error", err)
	}
	assertRedacted(t, err)
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
	err := telegram.New(telegram.Config{BaseURL: srv.URL, Client: &http.Client{Timeout: 100 * time.Millisecond}}).Send(context.Background(), channel, "", notification())
	if err == nil || notifyerr.IsPermanent(err) {
		t.Fatalf("err = %v, want a temporary error", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %s", d)
	}
	assertRedacted(t, err)
}
