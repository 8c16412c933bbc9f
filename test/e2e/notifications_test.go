package e2e

import (
	"strings"
	"testing"

	"github.com/medialuna/medialuna/test/smtpcatcher"
	"github.com/medialuna/medialuna/test/testdb"
)

type channel struct {
	ID              int64  `json:"id"`
	Name            string `json:"name"`
	Type            string `json:"channel_type"`
	EmailRecipient  string `json:"email_recipient"`
	SlackWebhookURL string `json:"slack_webhook_url"`
	WebhookURL      string `json:"webhook_url"`
	WebhookSecret   string `json:"webhook_secret"`
	BotToken        string `json:"telegram_bot_token"`
	Enabled         bool   `json:"enabled"`
}

type rule struct {
	ID         int64   `json:"id"`
	Name       string  `json:"name"`
	ChannelIDs []int64 `json:"channel_ids"`
	MonitorIDs []int64 `json:"monitor_ids"`
	Enabled    bool    `json:"enabled"`
	Consec     int     `json:"consecutive_checks"`
	Conditions []struct {
		Type     string `json:"type"`
		Operator string `json:"operator"`
		Value    any    `json:"value"`
	} `json:"conditions"`
}

// TestChannelsAndRules covers channel and rule CRUD: per-type validation
// naming the field, secrets masked after creation, the webhook signing
// secret shown once, rules refusing other accounts' channels, and deletes
// cascading out of rules.
func TestChannelsAndRules(t *testing.T) {
	db := testdb.New(t)
	s := startServer(t, db, smtpcatcher.Start(t))
	jwt := signup(t, s, "notify@example.com", "Notify").AccessToken
	other := signup(t, s, "notify-other@example.com", "Other").AccessToken

	var before int
	db.Get(&before, `SELECT count(*) FROM events`)
	for body, field := range map[string]string{
		`{"name": "x", "channel_type": "EMAIL"}`:                                  "email_recipient",
		`{"name": "x", "channel_type": "SLACK", "slack_webhook_url": "nope"}`:     "slack_webhook_url",
		`{"name": "x", "channel_type": "TELEGRAM", "telegram_chat_id": "1"}`:      "telegram_bot_token",
		`{"name": "x", "channel_type": "SMS", "phone_number": "12"}`:              "phone_number",
		`{"name": "x", "channel_type": "PAGERDUTY"}`:                              "pagerduty_routing_key",
		`{"name": "x", "channel_type": "FAX"}`:                                    "channel_type",
		`{"channel_type": "WEBHOOK", "webhook_url": "https://hooks.example.com"}`: "name",
	} {
		r := s.call("POST", "/api/notification-channels", jwt, body)
		if r.Status != 422 || !strings.Contains(string(r.Body), `"`+field+`"`) {
			t.Errorf("%s: %d %s; want 422 naming %s", body, r.Status, r.Body, field)
		}
	}
	var after int
	db.Get(&after, `SELECT count(*) FROM events`)
	if after != before {
		t.Errorf("refused channels wrote %d events", after-before)
	}

	var slack, hook, email channel
	s.expect(201, "POST", "/api/notification-channels", jwt, map[string]string{"name": "team", "channel_type": "SLACK",
		"slack_webhook_url": "https://hooks.slack.com/services/T000/B000/verysecretpart"}).json(t, &slack)
	if strings.Contains(slack.SlackWebhookURL, "verysecret") || !strings.HasPrefix(slack.SlackWebhookURL, "https://hooks.slack.com/") {
		t.Errorf("slack URL not masked: %q", slack.SlackWebhookURL)
	}
	s.expect(201, "POST", "/api/notification-channels", jwt, map[string]string{"name": "ops hook", "channel_type": "WEBHOOK",
		"webhook_url": "https://hooks.example.com/ml"}).json(t, &hook)
	if !strings.HasPrefix(hook.WebhookSecret, "whsec_") {
		t.Errorf("webhook secret not shown at creation: %+v", hook)
	}
	var again channel
	s.expect(200, "GET", "/api/notification-channels/"+itoa(hook.ID), jwt, nil).json(t, &again)
	if again.WebhookSecret != "" {
		t.Error("webhook secret shown after creation")
	}
	s.expect(201, "POST", "/api/notification-channels", jwt, map[string]string{"name": "mail", "channel_type": "email",
		"email_recipient": "Oncall@Example.com"}).json(t, &email)
	if email.EmailRecipient != "oncall@example.com" || email.Type != "EMAIL" || !email.Enabled {
		t.Errorf("email channel = %+v", email)
	}
	var patched channel
	s.expect(200, "PATCH", "/api/notification-channels/"+itoa(email.ID), jwt, map[string]any{"enabled": false}).json(t, &patched)
	if patched.Enabled || patched.EmailRecipient != "oncall@example.com" {
		t.Errorf("patched = %+v", patched)
	}
	s.expect(422, "PATCH", "/api/notification-channels/"+itoa(email.ID), jwt, map[string]any{"channel_type": "SMS", "phone_number": "+34600111222"})
	s.expect(404, "GET", "/api/notification-channels/"+itoa(email.ID), other, nil)

	var m monitor
	s.expect(201, "POST", "/api/v1/monitors", jwt, map[string]any{"name": "api", "type": "HTTP", "url": "https://example.com"}).json(t, &m)
	var otherChannel channel
	s.expect(201, "POST", "/api/notification-channels", other, map[string]string{"name": "theirs", "channel_type": "EMAIL", "email_recipient": "x@example.com"}).json(t, &otherChannel)
	s.expect(422, "POST", "/api/notification-rules", jwt, map[string]any{"name": "r", "conditions": []map[string]any{{"type": "STATUS", "operator": "eq", "value": "down"}},
		"channel_ids": []int64{otherChannel.ID}})
	s.expect(422, "POST", "/api/notification-rules", jwt, map[string]any{"name": "r", "conditions": []map[string]any{{"type": "STATUS", "operator": "gt", "value": "down"}},
		"channel_ids": []int64{slack.ID}})
	s.expect(422, "POST", "/api/notification-rules", jwt, map[string]any{"name": "r", "channel_ids": []int64{slack.ID}})
	var rl rule
	s.expect(201, "POST", "/api/notification-rules", jwt, map[string]any{"name": "slow or down",
		"conditions":  []map[string]any{{"type": "STATUS", "operator": "eq", "value": "down"}, {"type": "RESPONSE_TIME", "operator": "gt", "value": 1500}},
		"channel_ids": []int64{slack.ID, hook.ID}, "monitor_ids": []int64{m.ID}}).json(t, &rl)
	if !rl.Enabled || rl.Consec != 1 || len(rl.Conditions) != 2 || len(rl.ChannelIDs) != 2 {
		t.Errorf("rule = %+v", rl)
	}
	var pr rule
	s.expect(200, "PATCH", "/api/notification-rules/"+itoa(rl.ID), jwt, map[string]any{"consecutive_checks": 3, "enabled": false}).json(t, &pr)
	if pr.Consec != 3 || pr.Enabled || pr.Name != "slow or down" || len(pr.ChannelIDs) != 2 {
		t.Errorf("patched rule = %+v", pr)
	}
	// Deleting a channel or a monitor takes it off the rule.
	s.expect(204, "DELETE", "/api/notification-channels/"+itoa(hook.ID), jwt, nil)
	s.expect(204, "DELETE", "/api/v1/monitors/"+itoa(m.ID), jwt, nil)
	waitFor(t, func() bool {
		var got rule
		s.expect(200, "GET", "/api/notification-rules/"+itoa(rl.ID), jwt, nil).json(t, &got)
		return len(got.ChannelIDs) == 1 && got.ChannelIDs[0] == slack.ID && len(got.MonitorIDs) == 0
	})
	var rules []rule
	s.expect(200, "GET", "/api/notification-rules", other, nil).json(t, &rules)
	if len(rules) != 0 {
		t.Errorf("another account sees %d rules", len(rules))
	}
	s.expect(404, "DELETE", "/api/notification-rules/"+itoa(rl.ID), other, nil)
	s.expect(204, "DELETE", "/api/notification-rules/"+itoa(rl.ID), jwt, nil)
	s.expect(404, "GET", "/api/notification-rules/"+itoa(rl.ID), jwt, nil)
}
