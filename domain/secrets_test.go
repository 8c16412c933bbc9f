package domain

import (
	"reflect"
	"strings"
	"testing"
)

func TestURLPassword(t *testing.T) {
	for _, tc := range []struct{ url, pre, pass, post string }{
		{"https://u:p%40ss@example.com/x?y=1", "https://u:", "p%40ss", "@example.com/x?y=1"},
		{"http://user:pass@127.0.0.1:8080", "http://user:", "pass", "@127.0.0.1:8080"},
		{"https://u:a:b@h/p@q", "https://u:", "a:b", "@h/p@q"},
		{"https://user@example.com/", "", "", ""},
		{"https://user:@example.com/", "", "", ""},
		{"https://example.com/a@b", "", "", ""},
		{"db.example.com", "", "", ""},
	} {
		pre, pass, post, ok := urlPassword(tc.url)
		if ok != (tc.pass != "") || pre != tc.pre || pass != tc.pass || post != tc.post {
			t.Errorf("urlPassword(%q) = %q %q %q %v", tc.url, pre, pass, post, ok)
		}
	}
}

// TestMapSecrets: every credential of a channel or monitor goes through
// the mapping, nothing else does, and the caller's headers map is not
// changed under it.
func TestMapSecrets(t *testing.T) {
	up := func(s string) (string, error) { return "SEALED(" + s + ")", nil }
	ch := &ChannelCreated{ChannelID: 1, WebhookSecret: "whsec_1", Config: ChannelConfig{Name: "n", Type: ChannelWebhook,
		WebhookURL: "https://h/x?t=1", SlackWebhookURL: "https://hooks/s", PagerDutyRoutingKey: "k", TelegramBotToken: "1:t",
		TelegramChatID: "@chat", EmailRecipient: "a@b.c", PhoneNumber: "+34600111222"}}
	if err := ch.MapSecrets(up); err != nil {
		t.Fatal(err)
	}
	want := ChannelConfig{Name: "n", Type: ChannelWebhook, WebhookURL: "SEALED(https://h/x?t=1)", SlackWebhookURL: "SEALED(https://hooks/s)",
		PagerDutyRoutingKey: "SEALED(k)", TelegramBotToken: "SEALED(1:t)", TelegramChatID: "@chat", EmailRecipient: "a@b.c", PhoneNumber: "+34600111222"}
	if ch.Config != want || ch.WebhookSecret != "SEALED(whsec_1)" {
		t.Errorf("channel mapped to %+v %q", ch.Config, ch.WebhookSecret)
	}

	headers := map[string]string{"Authorization": "Bearer x", "X-Trace": "1", "Empty": ""}
	m := &MonitorCreated{PushToken: "tok", Config: MonitorConfig{URL: "https://u:pw@h/p", RequestHeaders: headers, RequestBody: "body"}}
	if err := m.MapSecrets(up); err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"Authorization": "SEALED(Bearer x)", "X-Trace": "SEALED(1)", "Empty": ""}; !reflect.DeepEqual(m.Config.RequestHeaders, want) {
		t.Errorf("headers mapped to %v", m.Config.RequestHeaders)
	}
	if m.Config.URL != "https://u:SEALED(pw)@h/p" || m.Config.RequestBody != "body" || m.PushToken != "SEALED(tok)" {
		t.Errorf("monitor mapped to %q %q", m.Config.URL, m.Config.RequestBody)
	}
	if headers["Authorization"] != "Bearer x" {
		t.Errorf("the caller's headers changed: %v", headers)
	}
	for _, typ := range []string{ch.EventType(), m.EventType(), (&ChannelUpdated{}).EventType(), (&MonitorUpdated{}).EventType()} {
		if !BearsSecrets(typ) {
			t.Errorf("BearsSecrets(%s) = false", typ)
		}
	}
	if BearsSecrets("CheckRecorded") || !ShredsSecrets("MonitorDeleted") || !ShredsSecrets("NotificationChannelDeleted") || ShredsSecrets("MonitorPaused") {
		t.Errorf("BearsSecrets/ShredsSecrets")
	}
	if !strings.HasPrefix(EnvelopePrefix, "enc:") {
		t.Errorf("prefix %q", EnvelopePrefix)
	}
}

func TestRedactedURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://u:secret@h/p": "https://u:xxxxx@h/p",
		"https://u@h/p":        "https://u@h/p",
		"https://h/p?k=v":      "https://h/p?k=v",
	} {
		if got := RedactedURL(in); got != want {
			t.Errorf("RedactedURL(%q) = %q, want %q", in, got, want)
		}
	}
}
