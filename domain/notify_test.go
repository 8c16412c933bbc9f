package domain_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/medialuna/medialuna/domain"
)

func TestChannelValidation(t *testing.T) {
	const token = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
	cases := []struct {
		name  string
		cfg   domain.ChannelConfig
		field string
	}{
		{"email", domain.ChannelConfig{Name: "ops", Type: "email", EmailRecipient: "Ops@Example.com"}, ""},
		{"email missing", domain.ChannelConfig{Name: "ops", Type: "EMAIL"}, "email_recipient"},
		{"sms", domain.ChannelConfig{Name: "on call", Type: "SMS", PhoneNumber: "+34 600 111 222"}, ""},
		{"sms not E.164", domain.ChannelConfig{Name: "on call", Type: "SMS", PhoneNumber: "600111222"}, "phone_number"},
		{"slack", domain.ChannelConfig{Name: "s", Type: "SLACK", SlackWebhookURL: "https://hooks.slack.com/services/T0/B0/xyz"}, ""},
		{"slack missing", domain.ChannelConfig{Name: "s", Type: "SLACK"}, "slack_webhook_url"},
		{"pagerduty", domain.ChannelConfig{Name: "p", Type: "PAGERDUTY", PagerDutyRoutingKey: "0123456789abcdef0123456789abcdef"}, ""},
		{"pagerduty short key", domain.ChannelConfig{Name: "p", Type: "PAGERDUTY", PagerDutyRoutingKey: "abc"}, "pagerduty_routing_key"},
		{"webhook", domain.ChannelConfig{Name: "w", Type: "WEBHOOK", WebhookURL: "https://hooks.example.com/ml"}, ""},
		{"webhook ftp", domain.ChannelConfig{Name: "w", Type: "WEBHOOK", WebhookURL: "ftp://x"}, "webhook_url"},
		{"telegram", domain.ChannelConfig{Name: "t", Type: "TELEGRAM", TelegramBotToken: token, TelegramChatID: "-100123"}, ""},
		{"telegram no chat", domain.ChannelConfig{Name: "t", Type: "TELEGRAM", TelegramBotToken: token}, "telegram_chat_id"},
		{"unknown type", domain.ChannelConfig{Name: "x", Type: "PIGEON"}, "channel_type"},
		{"no name", domain.ChannelConfig{Type: "EMAIL", EmailRecipient: "a@b.co"}, "name"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.cfg.Validate()
			var de *domain.Error
			if c.field == "" {
				if err != nil {
					t.Fatalf("unexpected: %v", err)
				}
				return
			}
			if !asError(err, &de) || de.Fields[0].Field != c.field {
				t.Fatalf("err = %v, want %s", err, c.field)
			}
		})
	}
	masked := domain.ChannelConfig{SlackWebhookURL: "https://hooks.slack.com/services/T0/B0/secretpart", TelegramBotToken: token,
		PagerDutyRoutingKey: "0123456789abcdef0123456789abcdef"}.Masked()
	want := domain.ChannelConfig{SlackWebhookURL: "https://hooks.slack.com/********part", TelegramBotToken: "123456789:********",
		PagerDutyRoutingKey: "********cdef"}
	if diff := cmp.Diff(want, masked); diff != "" {
		t.Errorf("masked (-want +got):\n%s", diff)
	}
}

func TestRuleValidation(t *testing.T) {
	own := func(ids ...int64) func(int64) bool {
		return func(id int64) bool {
			for _, x := range ids {
				if x == id {
					return true
				}
			}
			return false
		}
	}
	base := func() domain.RuleConfig {
		return domain.RuleConfig{Name: "down alerts", Conditions: []domain.Condition{{Type: "status", Operator: "EQ", Value: "DOWN"}},
			ChannelIDs: []int64{1}, Enabled: true}
	}
	cases := []struct {
		name  string
		edit  func(*domain.RuleConfig)
		field string
	}{
		{"valid", func(*domain.RuleConfig) {}, ""},
		{"response time", func(r *domain.RuleConfig) {
			r.Conditions = []domain.Condition{{Type: "RESPONSE_TIME", Operator: "gt", Value: 2000.0}}
		}, ""},
		{"no conditions", func(r *domain.RuleConfig) { r.Conditions = nil }, "conditions"},
		{"bad operator", func(r *domain.RuleConfig) { r.Conditions[0].Operator = "ne" }, "conditions"},
		{"status with gt", func(r *domain.RuleConfig) { r.Conditions[0].Operator = "gt" }, "conditions"},
		{"response time as text", func(r *domain.RuleConfig) {
			r.Conditions = []domain.Condition{{Type: "RESPONSE_TIME", Operator: "gt", Value: "slow"}}
		}, "conditions"},
		{"foreign channel", func(r *domain.RuleConfig) { r.ChannelIDs = []int64{9} }, "channel_ids"},
		{"no channel", func(r *domain.RuleConfig) { r.ChannelIDs = nil }, "channel_ids"},
		{"foreign monitor", func(r *domain.RuleConfig) { r.MonitorIDs = []int64{9} }, "monitor_ids"},
		{"too many consecutive", func(r *domain.RuleConfig) { r.ConsecutiveChecks = 101 }, "consecutive_checks"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := base()
			c.edit(&r)
			err := r.Validate(own(1, 2), own(5))
			var de *domain.Error
			if c.field == "" {
				if err != nil {
					t.Fatalf("unexpected: %v", err)
				}
				if r.ConsecutiveChecks != 1 {
					t.Errorf("consecutive_checks default = %d", r.ConsecutiveChecks)
				}
				return
			}
			if !asError(err, &de) || de.Fields[0].Field != c.field {
				t.Fatalf("err = %v, want %s", err, c.field)
			}
		})
	}
	r := base()
	r.Validate(own(1), own())
	if r.Conditions[0].Type != "STATUS" || r.Conditions[0].Operator != "eq" || r.Conditions[0].Value != "down" {
		t.Errorf("not normalised: %+v", r.Conditions[0])
	}
}
