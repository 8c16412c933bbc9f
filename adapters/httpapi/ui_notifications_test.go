package httpapi

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/medialuna/medialuna/domain"
)

func TestChannelTargetHidesSecrets(t *testing.T) {
	for _, tc := range []struct {
		cfg  domain.ChannelConfig
		want string
	}{
		{domain.ChannelConfig{Type: domain.ChannelWebhook, WebhookURL: "https://hooks.example.com/in"}, "https://hooks.example.com/in"},
		{domain.ChannelConfig{Type: domain.ChannelWebhook, WebhookURL: "https://me:hunter2@hooks.example.com/in?token=abc"}, "https://me:********@hooks.example.com/in?…"},
		{domain.ChannelConfig{Type: domain.ChannelEmail, EmailRecipient: "ops@example.com"}, "ops@example.com"},
		{domain.ChannelConfig{Type: domain.ChannelPagerDuty, PagerDutyRoutingKey: "********BCDE"}, "routing key ********BCDE"},
		{domain.ChannelConfig{Type: domain.ChannelTelegram, TelegramBotToken: "1:********", TelegramChatID: "@ops"}, "chat @ops (bot 1:********)"},
	} {
		if got := channelTarget(tc.cfg); got != tc.want {
			t.Errorf("channelTarget(%+v) = %q, want %q", tc.cfg, got, tc.want)
		}
	}
}

// TestRuleFormRoundTrip: a rule shown in the form and posted back
// unchanged is the same rule, conditions the form has no place for
// included.
func TestRuleFormRoundTrip(t *testing.T) {
	rule := domain.RuleConfig{Name: "r", Conditions: []domain.Condition{{Type: "STATUS", Operator: "eq", Value: "down"},
		{Type: "RESPONSE_TIME", Operator: "gte", Value: 800.0}, {Type: "RESPONSE_TIME", Operator: "lt", Value: 5.0}},
		ChannelIDs: []int64{3}, MonitorIDs: []int64{7, 9}, ConsecutiveChecks: 2, RenotifyMinutes: 30, Enabled: true}
	got, err := ruleFieldsOf(rule).config()
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(rule, got); d != "" {
		t.Errorf("round trip:\n%s", d)
	}
	// "Only these monitors" with none ticked is refused, not read as every monitor.
	r := &http.Request{PostForm: url.Values{"monitor_scope": {"some"}, "monitor_ids": {""}}}
	if _, err := postedRuleFields(r, ruleFieldsOf(rule)).config(); err == nil || !strings.Contains(err.Error(), "monitor") {
		t.Errorf("no monitors ticked: %v", err)
	}
	r = &http.Request{PostForm: url.Values{"monitor_scope": {"all"}, "cond_slow": {"false", "true"}, "slow_ms": {"fast"}}}
	if _, err := postedRuleFields(r, ruleFieldsOf(rule)).config(); domain.ErrorCode(err) != domain.ErrInvalid {
		t.Errorf("a threshold that is not a number: %v", err)
	}
}
