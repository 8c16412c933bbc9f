package httpapi

import (
	"net/http"
	"net/http/httptest"
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

// TestTestOutcomeCookie: Send test's outcome reaches the channel's page
// once, as sent, on that channel's path only; a long error is cut to fit
// a cookie; a cookie that says neither outcome shows none.
func TestTestOutcomeCookie(t *testing.T) {
	s := &Server{}
	carry := func(res uiTestResult, id int64) *http.Cookie {
		t.Helper()
		w := httptest.NewRecorder()
		s.setTestOutcome(w, httptest.NewRequest("POST", "/notifications/channels/7/test", nil), id, res)
		cs := w.Result().Cookies()
		if len(cs) != 1 || cs[0].Name != testOutcomeCookie || cs[0].Path != "/notifications/channels/7" || !cs[0].HttpOnly || cs[0].MaxAge <= 0 {
			t.Fatalf("outcome cookies %+v", cs)
		}
		return cs[0]
	}
	take := func(c *http.Cookie) (*uiTestResult, []*http.Cookie) {
		t.Helper()
		r := httptest.NewRequest("GET", "/notifications/channels/7", nil)
		if c != nil {
			r.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
		}
		w := httptest.NewRecorder()
		return s.takeTestOutcome(w, r, 7), w.Result().Cookies()
	}
	if got, gone := take(carry(uiTestResult{Delivered: true}, 7)); got == nil || !got.Delivered || got.Error != "" ||
		len(gone) != 1 || gone[0].MaxAge >= 0 || gone[0].Path != "/notifications/channels/7" {
		t.Errorf("delivered: %+v, removal %+v", got, gone)
	}
	const failure = `the test notification through "<b>hook</b>" failed: webhook: Post "http://127.0.0.1:9/hook"; dial tcp: connection refused`
	if got, _ := take(carry(uiTestResult{Error: failure}, 7)); got == nil || got.Delivered || got.Error != failure {
		t.Errorf("failed: %+v", got)
	}
	long := strings.Repeat("é", 2000)
	c := carry(uiTestResult{Error: long}, 7)
	if len(c.String()) > 4096 {
		t.Errorf("a long error makes a %d-byte cookie", len(c.String()))
	}
	if got, _ := take(c); got == nil || !strings.HasPrefix(long, strings.TrimSuffix(got.Error, "…")) || len(got.Error) > maxTestError+len("…") {
		t.Errorf("a long error comes back as %d bytes", len(got.Error))
	}
	for _, v := range []string{"", "nonsense", "%zz"} {
		if got, _ := take(&http.Cookie{Name: testOutcomeCookie, Value: v}); got != nil {
			t.Errorf("cookie %q shows %+v", v, got)
		}
	}
	if got, _ := take(nil); got != nil {
		t.Errorf("no cookie shows %+v", got)
	}
}
