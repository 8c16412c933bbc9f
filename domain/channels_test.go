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
			ChannelIDs: []int64{1}, Enabled: true, ConsecutiveChecks: 1}
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
		{"zero consecutive, not taken as one", func(r *domain.RuleConfig) { r.ConsecutiveChecks = 0 }, "consecutive_checks"},
		{"renotify every 30 minutes", func(r *domain.RuleConfig) { r.RenotifyMinutes = 30 }, ""},
		{"renotify too often", func(r *domain.RuleConfig) { r.RenotifyMinutes = 4 }, "renotify_minutes"},
		{"renotify past a week", func(r *domain.RuleConfig) { r.RenotifyMinutes = 10081 }, "renotify_minutes"},
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

func TestRuleMatches(t *testing.T) {
	rule := func(cond domain.Condition, monitors ...int64) domain.RuleConfig {
		return domain.RuleConfig{Conditions: []domain.Condition{cond}, MonitorIDs: monitors, Enabled: true}
	}
	down := domain.Condition{Type: "STATUS", Operator: "eq", Value: "down"}
	up := domain.Condition{Type: "STATUS", Operator: "eq", Value: "up"}
	slow := domain.Condition{Type: "RESPONSE_TIME", Operator: "gt", Value: 2000.0}
	cases := []struct {
		name    string
		rule    domain.RuleConfig
		monitor int64
		typ     domain.IncidentType
		event   string
		want    bool
	}{
		{"down: a DOWN incident starts", rule(down), 1, domain.IncidentDown, domain.EventIncidentTriggered, true},
		{"down: a DOWN incident ends", rule(down), 1, domain.IncidentDown, domain.EventMonitorRecovered, true},
		{"down: a certificate expires", rule(down), 1, domain.IncidentSSLExpiry, domain.EventIncidentTriggered, true},
		{"down: slowness is not down", rule(down), 1, domain.IncidentPerformance, domain.EventIncidentTriggered, false},
		{"up: not the start", rule(up), 1, domain.IncidentDown, domain.EventIncidentTriggered, false},
		{"up: not the acknowledgement", rule(up), 1, domain.IncidentDown, domain.EventIncidentAcknowledged, false},
		{"up: the resolution", rule(up), 1, domain.IncidentDown, domain.EventIncidentResolved, true},
		{"up: the recovery", rule(up), 1, domain.IncidentDown, domain.EventMonitorRecovered, true},
		{"response time: slowness", rule(slow), 1, domain.IncidentPerformance, domain.EventIncidentTriggered, true},
		{"response time: not down", rule(slow), 1, domain.IncidentDown, domain.EventIncidentTriggered, false},
		{"listed monitor", rule(down, 1, 2), 2, domain.IncidentDown, domain.EventIncidentTriggered, true},
		{"unlisted monitor", rule(down, 1, 2), 3, domain.IncidentDown, domain.EventIncidentTriggered, false},
		{"disabled", domain.RuleConfig{Conditions: []domain.Condition{down}}, 1, domain.IncidentDown, domain.EventIncidentTriggered, false},
	}
	for _, c := range cases {
		if got := c.rule.Matches(c.monitor, c.typ, c.event); got != c.want {
			t.Errorf("%s: Matches = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestDependencyCycle(t *testing.T) {
	graph := map[int64][]int64{2: {1}, 3: {2}, 4: {3, 5}, 6: {6}}
	cases := []struct {
		name      string
		monitor   int64
		dependsOn []int64
		want      domain.DependencyPath
	}{
		{"a new edge in a chain", 5, []int64{1}, nil},
		{"depending on a dependant's dependant", 1, []int64{3}, domain.DependencyPath{1, 3, 2, 1}},
		{"two monitors on each other", 1, []int64{2}, domain.DependencyPath{1, 2, 1}},
		{"a diamond is no cycle", 7, []int64{4, 3}, nil},
		{"through a second branch", 5, []int64{4}, domain.DependencyPath{5, 4, 5}},
		{"no dependencies", 1, nil, nil},
	}
	for _, c := range cases {
		got := domain.DependencyCycle(c.monitor, c.dependsOn, graph)
		if diff := cmp.Diff(c.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", c.name, diff)
		}
	}
	if got := domain.DependencyCycle(1, []int64{3}, graph).String(); got != "monitor 1 -> monitor 3 -> monitor 2 -> monitor 1" {
		t.Errorf("String() = %q", got)
	}
}
