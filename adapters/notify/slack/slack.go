// Package slack delivers notifications to Slack through incoming webhooks:
// a POST of a Block Kit message to the URL the channel was set up with.
// The URL is the credential (anyone holding it can post), so it never
// appears in errors.
package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/medialuna/medialuna/adapters/notify/notifyerr"
	"github.com/medialuna/medialuna/domain"
)

// Config configures a Sender. The zero value is usable.
type Config struct {
	// Client sends the requests; nil means a client with a 10 s timeout.
	Client *http.Client
}

// Sender posts notifications to Slack incoming webhooks.
type Sender struct{ client *http.Client }

// New returns a Sender for cfg.
func New(cfg Config) *Sender {
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 10 * time.Second}
	}
	return &Sender{client: cfg.Client}
}

// Slack's limits on block texts; longer texts make Slack refuse the whole
// message with invalid_blocks.
const (
	maxHeader  = 150
	maxSection = 3000
)

// Message is the incoming-webhook request body. Text is what
// notifications and clients without Block Kit show; Blocks is the message.
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
	Type string `json:"type"` // plain_text or mrkdwn
	Text string `json:"text"`
}

// Send posts n to the channel's incoming webhook. Slack answers 200 "ok";
// its errors are texts such as invalid_payload (400), no_service (404) or
// channel_is_archived (410), which are permanent.
func (s *Sender) Send(ctx context.Context, ch domain.ChannelConfig, _ string, n domain.Notification) error {
	u, err := url.Parse(ch.SlackWebhookURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return notifyerr.Permanent(errors.New("slack: the channel has no valid incoming webhook URL"))
	}
	body, err := json.Marshal(render(n))
	if err != nil {
		return notifyerr.Permanent(fmt.Errorf("slack: encode message: %w", err))
	}
	// Everything after the host identifies and authorizes the webhook.
	secret := strings.TrimPrefix(u.EscapedPath(), "/")
	if u.RawQuery != "" {
		secret += "?" + u.RawQuery
	}
	return notifyerr.Redact(s.post(ctx, ch.SlackWebhookURL, body), secret, strings.TrimPrefix(u.Path, "/"))
}

func (s *Sender) post(ctx context.Context, webhookURL string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, webhookURL, bytes.NewReader(body))
	if err != nil {
		return notifyerr.Permanent(fmt.Errorf("slack: %w", err))
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	status, answer, err := notifyerr.Do(s.client, req, "slack")
	if err != nil {
		return err
	}
	return notifyerr.Expect2xx("slack", status, answer)
}

// render lays n out as a header with the subject, a section with the
// monitor and incident, and a context line with the time.
func render(n domain.Notification) message {
	subject := n.Subject()
	var details []string
	if n.Monitor.Name != "" || n.Monitor.URL != "" {
		line := "*Monitor:* " + escape(n.Monitor.Name)
		if n.Monitor.URL != "" {
			line += " (" + escape(string(n.Monitor.Type)) + " " + escape(n.Monitor.URL) + ")"
		}
		details = append(details, line)
	}
	if in := n.Incident; in != nil {
		details = append(details, fmt.Sprintf("*Incident #%d:* %s %s", in.ID, escape(string(in.Type)), escape(string(in.Status))))
		if in.Message != "" {
			details = append(details, escape(in.Message))
		}
	}
	if len(details) == 0 {
		details = append(details, "This is a test notification from Media Luna: the channel works.")
	}
	when := "Media Luna"
	if !n.OccurredAt.IsZero() {
		when = n.OccurredAt.UTC().Format(time.RFC3339) + " · Media Luna"
	}
	return message{
		Text: subject,
		Blocks: []block{
			{Type: "header", Text: &text{Type: "plain_text", Text: domain.Truncate(subject, maxHeader, "...")}},
			{Type: "section", Text: &text{Type: "mrkdwn", Text: domain.Truncate(strings.Join(details, "\n"), maxSection, "...")}},
			{Type: "context", Elements: []text{{Type: "mrkdwn", Text: when}}},
		},
	}
}

// escape keeps user-chosen names and messages from being read as Slack
// markup: mrkdwn gives &, < and > special meaning (links, mentions).
var escape = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace
