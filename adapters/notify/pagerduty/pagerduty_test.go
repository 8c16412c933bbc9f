package pagerduty_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/medialuna/medialuna/adapters/notify/notifyerr"
	"github.com/medialuna/medialuna/adapters/notify/pagerduty"
	"github.com/medialuna/medialuna/domain"
)

const routingKey = "R0123456789abcdef0123456789ABCDE" // 32 characters, as PagerDuty issues them

var at = time.Date(2026, 3, 1, 12, 30, 0, 0, time.UTC)

func notification(event string, typ domain.IncidentType) domain.Notification {
	n := domain.Notification{
		DeliveryID: "delivery-9",
		Event:      event,
		OccurredAt: at,
		Monitor:    domain.NotificationMonitor{ID: 7, Name: "API", URL: "https://api.example.com/health", Type: domain.TypeHTTP},
		AccountID:  3,
	}
	if event != domain.EventTest {
		n.Incident = &domain.NotificationIncident{ID: 42, Type: typ, Message: "connection refused", Status: domain.StatusTriggered, SentAt: at}
	}
	return n
}

// event is an Events API v2 body as PagerDuty documents it; the fake
// rejects fields outside it.
type event struct {
	RoutingKey  string   `json:"routing_key"`
	EventAction string   `json:"event_action"`
	DedupKey    string   `json:"dedup_key"`
	Payload     *payload `json:"payload,omitempty"`
	Client      string   `json:"client,omitempty"`
	ClientURL   string   `json:"client_url,omitempty"`
}

type payload struct {
	Summary       string         `json:"summary"`
	Source        string         `json:"source"`
	Severity      string         `json:"severity"`
	Timestamp     string         `json:"timestamp,omitempty"`
	Component     string         `json:"component,omitempty"`
	Group         string         `json:"group,omitempty"`
	Class         string         `json:"class,omitempty"`
	CustomDetails map[string]any `json:"custom_details,omitempty"`
}

type fakePagerDuty struct {
	t   *testing.T
	mu  sync.Mutex
	got []event
	srv *httptest.Server
}

func newFakePagerDuty(t *testing.T) *fakePagerDuty {
	f := &fakePagerDuty{t: t}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakePagerDuty) invalid(w http.ResponseWriter, problem string) {
	f.t.Errorf("invalid event: %s", problem)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusBadRequest)
	_ = json.NewEncoder(w).Encode(map[string]any{"status": "invalid event", "message": "Event object is invalid", "errors": []string{problem}})
}

func (f *fakePagerDuty) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/v2/enqueue" {
		f.t.Errorf("request %s %s", r.Method, r.URL.Path)
		http.NotFound(w, r)
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		f.invalid(w, "Content-Type "+ct)
		return
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	var ev event
	if err := dec.Decode(&ev); err != nil {
		f.invalid(w, err.Error())
		return
	}
	if problem := validate(ev); problem != "" {
		f.invalid(w, problem)
		return
	}
	f.mu.Lock()
	f.got = append(f.got, ev)
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	_ = json.NewEncoder(w).Encode(map[string]string{"status": "success", "message": "Event processed", "dedup_key": ev.DedupKey})
}

// validate applies the Events API v2's documented rules.
func validate(ev event) string {
	switch {
	case len(ev.RoutingKey) != 32:
		return "Length of 'routing_key' is incorrect (should be 32 characters)"
	case ev.EventAction != "trigger" && ev.EventAction != "acknowledge" && ev.EventAction != "resolve":
		return "'event_action' is invalid"
	case ev.DedupKey == "" || len(ev.DedupKey) > 255:
		return "'dedup_key' must be 1 to 255 characters"
	case ev.EventAction != "trigger" && ev.Payload != nil:
		return "payload is only sent with trigger events"
	case ev.EventAction != "trigger":
		return ""
	case ev.Payload == nil:
		return "'payload' is missing or blank"
	case ev.Payload.Summary == "" || utf8.RuneCountInString(ev.Payload.Summary) > 1024:
		return "'payload.summary' must be 1 to 1024 characters"
	case ev.Payload.Source == "":
		return "'payload.source' is missing or blank"
	case !strings.Contains(" critical error warning info ", " "+ev.Payload.Severity+" "):
		return "'payload.severity' is invalid"
	}
	if ev.Payload.Timestamp != "" {
		if _, err := time.Parse(time.RFC3339, ev.Payload.Timestamp); err != nil {
			return "'payload.timestamp' is not ISO 8601"
		}
	}
	return ""
}

func TestIncidentLifecycleSharesOneDedupKey(t *testing.T) {
	f := newFakePagerDuty(t)
	s := pagerduty.New(pagerduty.Config{BaseURL: f.srv.URL})
	ch := domain.ChannelConfig{Type: domain.ChannelPagerDuty, PagerDutyRoutingKey: routingKey}
	for _, ev := range []string{domain.EventIncidentTriggered, domain.EventIncidentAcknowledged, domain.EventIncidentResolved, domain.EventMonitorRecovered} {
		if err := s.Send(context.Background(), ch, "", notification(ev, domain.IncidentDown)); err != nil {
			t.Fatalf("%s: %v", ev, err)
		}
	}
	const key = "medialuna-incident-42"
	want := []event{
		{RoutingKey: routingKey, EventAction: "trigger", DedupKey: key, Client: "Media Luna", Payload: &payload{
			Summary:   "[Media Luna] DOWN: API",
			Source:    "https://api.example.com/health",
			Severity:  "critical",
			Timestamp: "2026-03-01T12:30:00Z",
			Component: "API",
			Class:     "DOWN",
			CustomDetails: map[string]any{
				"event":      "incident.triggered",
				"account_id": float64(3),
				"monitor":    map[string]any{"id": float64(7), "name": "API", "url": "https://api.example.com/health", "type": "HTTP"},
				"incident": map[string]any{"id": float64(42), "incident_type": "DOWN", "message": "connection refused",
					"status": "TRIGGERED", "sent_at": "2026-03-01T12:30:00Z"},
			},
		}},
		{RoutingKey: routingKey, EventAction: "acknowledge", DedupKey: key, Client: "Media Luna"},
		{RoutingKey: routingKey, EventAction: "resolve", DedupKey: key, Client: "Media Luna"},
		{RoutingKey: routingKey, EventAction: "resolve", DedupKey: key, Client: "Media Luna"},
	}
	if d := cmp.Diff(want, f.got); d != "" {
		t.Errorf("events (-want +got):\n%s", d)
	}
}

func TestTriggerSeverity(t *testing.T) {
	tests := []struct {
		name     string
		n        domain.Notification
		severity string
		dedupKey string
	}{
		{"down", notification(domain.EventIncidentTriggered, domain.IncidentDown), "critical", "medialuna-incident-42"},
		{"ssl expiry", notification(domain.EventIncidentTriggered, domain.IncidentSSLExpiry), "warning", "medialuna-incident-42"},
		{"performance", notification(domain.EventIncidentTriggered, domain.IncidentPerformance), "warning", "medialuna-incident-42"},
		{"test", notification(domain.EventTest, ""), "info", "medialuna-test-delivery-9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakePagerDuty(t)
			err := pagerduty.New(pagerduty.Config{BaseURL: f.srv.URL}).Send(context.Background(), domain.ChannelConfig{PagerDutyRoutingKey: routingKey}, "", tt.n)
			if err != nil {
				t.Fatal(err)
			}
			if len(f.got) != 1 || f.got[0].Payload == nil {
				t.Fatalf("events: %+v", f.got)
			}
			got := f.got[0]
			if got.EventAction != "trigger" || got.Payload.Severity != tt.severity || got.DedupKey != tt.dedupKey || got.Payload.Summary != tt.n.Subject() {
				t.Errorf("got action %q severity %q dedup key %q summary %q", got.EventAction, got.Payload.Severity, got.DedupKey, got.Payload.Summary)
			}
		})
	}
}

func TestLongSummaryIsCut(t *testing.T) {
	f := newFakePagerDuty(t)
	n := notification(domain.EventIncidentTriggered, domain.IncidentDown)
	n.Monitor.Name = strings.Repeat("ñ", 2000)
	n.Monitor.URL = ""
	if err := pagerduty.New(pagerduty.Config{BaseURL: f.srv.URL}).Send(context.Background(), domain.ChannelConfig{PagerDutyRoutingKey: routingKey}, "", n); err != nil {
		t.Fatal(err) // the fake rejects (and reports) summaries over 1024 characters
	}
	if got := f.got[0].Payload.Source; got != n.Monitor.Name {
		t.Errorf("source without a URL = %q, want the monitor's name", got)
	}
}

func TestUnsendableNotificationsArePermanent(t *testing.T) {
	f := newFakePagerDuty(t)
	s := pagerduty.New(pagerduty.Config{BaseURL: f.srv.URL})
	noIncident := notification(domain.EventIncidentResolved, domain.IncidentDown)
	noIncident.Incident = nil
	for name, tc := range map[string]struct {
		ch domain.ChannelConfig
		n  domain.Notification
	}{
		"no routing key":     {domain.ChannelConfig{}, notification(domain.EventIncidentTriggered, domain.IncidentDown)},
		"no incident":        {domain.ChannelConfig{PagerDutyRoutingKey: routingKey}, noIncident},
		"unknown event type": {domain.ChannelConfig{PagerDutyRoutingKey: routingKey}, notification("monitor.paused", domain.IncidentDown)},
	} {
		if err := s.Send(context.Background(), tc.ch, "", tc.n); !notifyerr.IsPermanent(err) {
			t.Errorf("%s: err = %v, want permanent", name, err)
		}
	}
	if len(f.got) != 0 {
		t.Errorf("sent %+v", f.got)
	}
}

func TestSendClassifiesPagerDutyErrors(t *testing.T) {
	tests := []struct {
		status    int
		body      string
		permanent bool
	}{
		{400, `{"status":"invalid event","message":"Event object is invalid","errors":["Length of 'routing_key' is incorrect (should be 32 characters)"]}`, true},
		{429, `{"status":"throttle event","message":"Requests for this service are arriving too quickly.  Please retry later."}`, false},
		{500, `{"status":"error","message":"internal error"}`, false},
		{502, `bad gateway`, false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.status), func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(tt.body))
			}))
			defer srv.Close()
			err := pagerduty.New(pagerduty.Config{BaseURL: srv.URL}).Send(context.Background(), domain.ChannelConfig{PagerDutyRoutingKey: routingKey}, "", notification(domain.EventIncidentTriggered, domain.IncidentDown))
			if err == nil {
				t.Fatal("no error")
			}
			if got := notifyerr.IsPermanent(err); got != tt.permanent {
				t.Errorf("permanent = %v, want %v (%v)", got, tt.permanent, err)
			}
			if !strings.Contains(err.Error(), fmt.Sprint(tt.status)) || !strings.Contains(err.Error(), tt.body[:10]) {
				t.Errorf("error %q lacks the status or PagerDuty's answer", err)
			}
		})
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
	s := pagerduty.New(pagerduty.Config{BaseURL: srv.URL, Client: &http.Client{Timeout: 100 * time.Millisecond}})
	start := time.Now()
	err := s.Send(context.Background(), domain.ChannelConfig{PagerDutyRoutingKey: routingKey}, "", notification(domain.EventIncidentTriggered, domain.IncidentDown))
	if err == nil || notifyerr.IsPermanent(err) {
		t.Fatalf("err = %v, want a temporary error", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %s", d)
	}
}
