package slack_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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
	"github.com/medialuna/medialuna/adapters/notify/slack"
	"github.com/medialuna/medialuna/domain"
)

const hookPath = "/services/T0001/B0002/abcdefSECRETxyz"

func notification() domain.Notification {
	return domain.Notification{
		DeliveryID: "d-1",
		Event:      domain.EventIncidentTriggered,
		OccurredAt: time.Date(2026, 3, 1, 12, 30, 0, 0, time.UTC),
		Monitor:    domain.NotificationMonitor{ID: 7, Name: "API <prod> & co", URL: "https://api.example.com/health", Type: domain.TypeHTTP},
		Incident:   &domain.NotificationIncident{ID: 42, Type: domain.IncidentDown, Message: "connection refused", Status: domain.StatusTriggered},
		AccountID:  3,
	}
}

// Block Kit as the test reads it back: only the parts Slack requires.
type message struct {
	Text   string  `json:"text"`
	Blocks []block `json:"blocks"`
}

type block struct {
	Type     string `json:"type"`
	Text     *text  `json:"text,omitempty"`
	Elements []text `json:"elements,omitempty"`
}

type text struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

// fakeSlack is an incoming webhook: it checks requests as Slack documents
// them and answers "ok", or invalid_blocks when the message is malformed.
type fakeSlack struct {
	t    *testing.T
	mu   sync.Mutex
	got  []message
	srv  *httptest.Server
	hook string
}

func newFakeSlack(t *testing.T) *fakeSlack {
	f := &fakeSlack{t: t}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	f.hook = f.srv.URL + hookPath
	return f
}

func (f *fakeSlack) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != hookPath {
		f.t.Errorf("request %s %s", r.Method, r.URL.Path)
		http.Error(w, "no_service", http.StatusNotFound)
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		f.t.Errorf("Content-Type = %q", ct)
		http.Error(w, "invalid_payload", http.StatusBadRequest)
		return
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	var m message
	if err := dec.Decode(&m); err != nil {
		f.t.Errorf("body: %v", err)
		http.Error(w, "invalid_payload", http.StatusBadRequest)
		return
	}
	if problem := validate(m); problem != "" {
		f.t.Errorf("invalid Block Kit: %s", problem)
		http.Error(w, "invalid_blocks", http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.got = append(f.got, m)
	f.mu.Unlock()
	_, _ = io.WriteString(w, "ok")
}

// validate applies Block Kit's rules for the blocks a sender may use.
func validate(m message) string {
	if m.Text == "" {
		return "no top-level text (needed for notifications)"
	}
	if len(m.Blocks) == 0 || len(m.Blocks) > 50 {
		return fmt.Sprintf("%d blocks", len(m.Blocks))
	}
	for i, b := range m.Blocks {
		switch b.Type {
		case "header":
			if b.Text == nil || b.Text.Type != "plain_text" || b.Text.Text == "" || utf8.RuneCountInString(b.Text.Text) > 150 {
				return fmt.Sprintf("block %d: header needs plain_text of 1 to 150 characters", i)
			}
		case "section":
			if b.Text == nil || (b.Text.Type != "plain_text" && b.Text.Type != "mrkdwn") || b.Text.Text == "" || utf8.RuneCountInString(b.Text.Text) > 3000 {
				return fmt.Sprintf("block %d: section needs a text object of 1 to 3000 characters", i)
			}
		case "context":
			if len(b.Elements) == 0 || len(b.Elements) > 10 {
				return fmt.Sprintf("block %d: context needs 1 to 10 elements", i)
			}
			for _, e := range b.Elements {
				if (e.Type != "plain_text" && e.Type != "mrkdwn") || e.Text == "" {
					return fmt.Sprintf("block %d: bad context element %+v", i, e)
				}
			}
		default:
			return fmt.Sprintf("block %d: unexpected type %q", i, b.Type)
		}
	}
	return ""
}

func TestSendPostsBlockKit(t *testing.T) {
	f := newFakeSlack(t)
	ch := domain.ChannelConfig{Type: domain.ChannelSlack, SlackWebhookURL: f.hook}
	if err := slack.New(slack.Config{}).Send(context.Background(), ch, "", notification()); err != nil {
		t.Fatal(err)
	}
	want := []message{{
		Text: "[Media Luna] DOWN: API <prod> & co",
		Blocks: []block{
			{Type: "header", Text: &text{Type: "plain_text", Text: "[Media Luna] DOWN: API <prod> & co"}},
			{Type: "section", Text: &text{Type: "mrkdwn", Text: "*Monitor:* API &lt;prod&gt; &amp; co (HTTP https://api.example.com/health)\n*Incident #42:* DOWN TRIGGERED\nconnection refused"}},
			{Type: "context", Elements: []text{{Type: "mrkdwn", Text: "2026-03-01T12:30:00Z · Media Luna"}}},
		},
	}}
	if d := cmp.Diff(want, f.got); d != "" {
		t.Errorf("messages (-want +got):\n%s", d)
	}
}

func TestSendKeepsWithinBlockKitLimits(t *testing.T) {
	f := newFakeSlack(t)
	n := notification()
	n.Monitor.Name = strings.Repeat("ñ", 400)
	n.Incident.Message = strings.Repeat("x", 5000)
	ch := domain.ChannelConfig{SlackWebhookURL: f.hook}
	if err := slack.New(slack.Config{}).Send(context.Background(), ch, "", n); err != nil {
		t.Fatal(err) // the fake rejects (and reports) blocks over Slack's limits
	}
	test := domain.Notification{Event: domain.EventTest}
	if err := slack.New(slack.Config{}).Send(context.Background(), ch, "", test); err != nil {
		t.Fatal(err) // a test notification has no monitor or incident, yet its section must not be empty
	}
}

func TestSendClassifiesSlackErrors(t *testing.T) {
	tests := []struct {
		status    int
		body      string
		permanent bool
	}{
		{400, "invalid_payload", true},
		{403, "action_prohibited", true},
		{404, "no_service", true},
		{410, "channel_is_archived", true},
		{429, "rate_limited", false},
		{500, "rollup_error", false},
		{503, "service unavailable", false},
	}
	for _, tt := range tests {
		t.Run(tt.body, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				http.Error(w, tt.body, tt.status)
			}))
			defer srv.Close()
			err := slack.New(slack.Config{}).Send(context.Background(), domain.ChannelConfig{SlackWebhookURL: srv.URL + hookPath}, "", notification())
			if err == nil {
				t.Fatal("no error")
			}
			if got := notifyerr.IsPermanent(err); got != tt.permanent {
				t.Errorf("permanent = %v, want %v (%v)", got, tt.permanent, err)
			}
			if !strings.Contains(err.Error(), tt.body) {
				t.Errorf("error %q does not quote Slack's answer", err)
			}
		})
	}
}

func TestSendInvalidURLIsPermanent(t *testing.T) {
	for _, u := range []string{"", "not a url", "ftp://hooks.slack.com/x"} {
		err := slack.New(slack.Config{}).Send(context.Background(), domain.ChannelConfig{SlackWebhookURL: u}, "", notification())
		if !notifyerr.IsPermanent(err) {
			t.Errorf("%q: err = %v, want permanent", u, err)
		}
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
	s := slack.New(slack.Config{Client: &http.Client{Timeout: 100 * time.Millisecond}})
	start := time.Now()
	err := s.Send(context.Background(), domain.ChannelConfig{SlackWebhookURL: srv.URL + hookPath}, "", notification())
	if err == nil || notifyerr.IsPermanent(err) {
		t.Fatalf("err = %v, want a temporary error", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %s", d)
	}
	if strings.Contains(err.Error(), "SECRET") {
		t.Errorf("webhook path in error: %v", err)
	}
}

func TestUnreachableWebhookURLIsRedacted(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	err = slack.New(slack.Config{}).Send(context.Background(), domain.ChannelConfig{SlackWebhookURL: "http://" + addr + hookPath}, "", notification())
	if err == nil || notifyerr.IsPermanent(err) {
		t.Fatalf("err = %v, want a temporary error", err)
	}
	if strings.Contains(err.Error(), "SECRET") || !strings.Contains(err.Error(), addr) {
		t.Errorf("error = %q: want the host, not the webhook path", err)
	}
	var ue *url.Error
	if errors.As(err, &ue) && strings.Contains(ue.URL, "SECRET") {
		t.Errorf("url.Error with the webhook path reachable: %s", ue.URL)
	}
}
