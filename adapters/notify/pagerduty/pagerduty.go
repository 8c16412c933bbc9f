// Package pagerduty delivers notifications as PagerDuty Events API v2
// events. An incident's events share one dedup key, so PagerDuty keeps one
// alert per Media Luna incident: triggered opens it, acknowledged and
// resolved (or the monitor recovering) move that same alert along.
package pagerduty

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/medialuna/medialuna/adapters/notify/notifyerr"
	"github.com/medialuna/medialuna/domain"
)

// DefaultBaseURL is the Events API's address.
const DefaultBaseURL = "https://events.pagerduty.com"

// Config configures a Sender. The zero value is usable.
type Config struct {
	// BaseURL replaces DefaultBaseURL (in tests, or for the EU service
	// region, https://events.eu.pagerduty.com).
	BaseURL string
	// Client sends the requests; nil means a client with a 10 s timeout.
	Client *http.Client
}

// Sender enqueues PagerDuty events.
type Sender struct {
	base   string
	client *http.Client
}

// New returns a Sender for cfg.
func New(cfg Config) *Sender {
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 10 * time.Second}
	}
	return &Sender{base: strings.TrimRight(cfg.BaseURL, "/"), client: cfg.Client}
}

// Event is an Events API v2 request body.
type event struct {
	RoutingKey  string   `json:"routing_key"`
	EventAction string   `json:"event_action"`
	DedupKey    string   `json:"dedup_key"`
	Payload     *payload `json:"payload,omitempty"` // trigger only
	Client      string   `json:"client,omitempty"`
}

type payload struct {
	Summary       string         `json:"summary"`
	Source        string         `json:"source"`
	Severity      string         `json:"severity"`
	Timestamp     string         `json:"timestamp,omitempty"`
	Component     string         `json:"component,omitempty"`
	Class         string         `json:"class,omitempty"`
	CustomDetails map[string]any `json:"custom_details,omitempty"`
}

// maxSummary is the Events API's limit on payload.summary.
const maxSummary = 1024

// DedupKey is the key all events of incident id share.
func DedupKey(incidentID int64) string { return fmt.Sprintf("medialuna-incident-%d", incidentID) }

// Send enqueues the event for n. PagerDuty answers 202 Accepted; 400 means
// the event (or routing key) is invalid, 429 that the key is rate limited.
func (s *Sender) Send(ctx context.Context, ch domain.ChannelConfig, _ string, n domain.Notification) error {
	if ch.PagerDutyRoutingKey == "" {
		return notifyerr.Permanent(errors.New("pagerduty: the channel has no routing key"))
	}
	ev, err := build(ch.PagerDutyRoutingKey, n)
	if err != nil {
		return notifyerr.Permanent(err)
	}
	body, err := json.Marshal(ev)
	if err != nil {
		return notifyerr.Permanent(fmt.Errorf("pagerduty: encode event: %w", err))
	}
	// The routing key travels in the body, never in the URL; redacting it
	// anyway guards against a service (or proxy) quoting the request back.
	return notifyerr.Redact(s.post(ctx, body), ch.PagerDutyRoutingKey)
}

func build(routingKey string, n domain.Notification) (event, error) {
	ev := event{RoutingKey: routingKey, Client: "Media Luna"}
	switch n.Event {
	case domain.EventTest:
		// A test has no incident; the delivery id keeps retries of the same
		// test from opening a second alert.
		ev.EventAction, ev.DedupKey = "trigger", "medialuna-test-"+n.DeliveryID
	case domain.EventIncidentTriggered:
		ev.EventAction = "trigger"
	case domain.EventIncidentAcknowledged:
		ev.EventAction = "acknowledge"
	case domain.EventIncidentResolved, domain.EventMonitorRecovered:
		ev.EventAction = "resolve"
	default:
		return ev, fmt.Errorf("pagerduty: no event action for %q notifications", n.Event)
	}
	if n.Event != domain.EventTest {
		if n.Incident == nil {
			return ev, fmt.Errorf("pagerduty: %s notification without an incident: nothing to %s", n.Event, ev.EventAction)
		}
		ev.DedupKey = DedupKey(n.Incident.ID)
	}
	if ev.EventAction == "trigger" {
		ev.Payload = buildPayload(n)
	}
	return ev, nil
}

func buildPayload(n domain.Notification) *payload {
	p := &payload{
		Summary:   domain.Truncate(n.Subject(), maxSummary, "..."),
		Source:    n.Monitor.URL,
		Severity:  "critical",
		Component: n.Monitor.Name,
		CustomDetails: map[string]any{
			"event":      n.Event,
			"account_id": n.AccountID,
			"monitor":    n.Monitor,
		},
	}
	if p.Source == "" {
		p.Source = n.Monitor.Name
	}
	if p.Source == "" {
		p.Source = "Media Luna" // required by PagerDuty
	}
	if !n.OccurredAt.IsZero() {
		p.Timestamp = n.OccurredAt.UTC().Format(time.RFC3339)
	}
	if n.Event == domain.EventTest {
		p.Severity = "info"
	}
	if in := n.Incident; in != nil {
		p.Class = string(in.Type)
		p.CustomDetails["incident"] = in
		if in.Type == domain.IncidentSSLExpiry || in.Type == domain.IncidentPerformance {
			p.Severity = "warning"
		}
	}
	return p
}

func (s *Sender) post(ctx context.Context, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.base+"/v2/enqueue", bytes.NewReader(body))
	if err != nil {
		return notifyerr.Permanent(fmt.Errorf("pagerduty: %w", err))
	}
	req.Header.Set("Content-Type", "application/json")
	status, answer, err := notifyerr.Do(s.client, req, "pagerduty")
	if err != nil {
		return err
	}
	return notifyerr.Expect2xx("pagerduty", status, answer) // 202 is the documented success
}
