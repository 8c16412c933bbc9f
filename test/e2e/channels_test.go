package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/medialuna/medialuna/test/smtpcatcher"
	"github.com/medialuna/medialuna/test/testdb"
)

// serviceDouble is a local HTTP server standing in for a notification
// service: it checks each request against the service's documented format
// and records what it understood.
type serviceDouble struct {
	*httptest.Server
	mu  sync.Mutex
	got []string // one line per accepted request
	bad []string // requests that broke the format
}

func newServiceDouble(t *testing.T, check func(r *http.Request, body []byte) (string, string)) *serviceDouble {
	d := &serviceDouble{}
	d.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		line, problem := check(r, body)
		d.mu.Lock()
		defer d.mu.Unlock()
		if problem != "" {
			d.bad = append(d.bad, problem)
			w.WriteHeader(400)
			return
		}
		d.got = append(d.got, line)
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"ok":true,"status":"success","sid":"SM1"}`))
	}))
	t.Cleanup(d.Close)
	return d
}

func (d *serviceDouble) lines() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.got...)
}

func (d *serviceDouble) problems() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.bad...)
}

const (
	twilioSID   = "AC0123456789abcdef0123456789abcdef"
	twilioToken = "twilio-auth-token"
	botToken    = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawQ"
	routingKey  = "R0123456789ABCDEF0123456789ABCDE"
)

// TestEveryChannelTypeThroughTheServer routes one incident to Slack,
// PagerDuty, SMS through Twilio and Telegram, each a local server that
// checks the service's documented request, plus a webhook that hangs: the
// hanging endpoint holds up none of the others (they all hear of the
// incident while its request is still open), and it is delivered once
// released.
func TestEveryChannelTypeThroughTheServer(t *testing.T) {
	slackD := newServiceDouble(t, func(r *http.Request, body []byte) (string, string) {
		var p struct {
			Text   string           `json:"text"`
			Blocks []map[string]any `json:"blocks"`
		}
		if r.Method != "POST" || r.URL.Path != "/services/T0/B0/secret" || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") ||
			json.Unmarshal(body, &p) != nil || p.Text == "" || len(p.Blocks) == 0 {
			return "", "slack: " + r.Method + " " + r.URL.Path + " " + string(body)
		}
		return p.Text, ""
	})
	pagerD := newServiceDouble(t, func(r *http.Request, body []byte) (string, string) {
		var p struct {
			RoutingKey  string `json:"routing_key"`
			EventAction string `json:"event_action"`
			DedupKey    string `json:"dedup_key"`
			Payload     *struct {
				Summary  string `json:"summary"`
				Source   string `json:"source"`
				Severity string `json:"severity"`
			} `json:"payload"`
		}
		if r.Method != "POST" || r.URL.Path != "/v2/enqueue" || json.Unmarshal(body, &p) != nil || p.RoutingKey != routingKey || p.DedupKey == "" {
			return "", "pagerduty: " + r.URL.Path + " " + string(body)
		}
		if p.EventAction == "trigger" && (p.Payload == nil || p.Payload.Summary == "" || p.Payload.Source == "" || p.Payload.Severity == "") {
			return "", "pagerduty trigger without payload: " + string(body)
		}
		return p.EventAction + " " + p.DedupKey, ""
	})
	twilioD := newServiceDouble(t, func(r *http.Request, body []byte) (string, string) {
		user, pass, ok := r.BasicAuth()
		form, err := url.ParseQuery(string(body))
		if r.URL.Path != "/2010-04-01/Accounts/"+twilioSID+"/Messages.json" || !ok || user != twilioSID || pass != twilioToken || err != nil ||
			form.Get("To") != "+34600111222" || form.Get("From") != "+15005550006" || form.Get("Body") == "" {
			return "", "twilio: " + r.URL.Path + " " + string(body)
		}
		return form.Get("Body"), ""
	})
	telegramD := newServiceDouble(t, func(r *http.Request, body []byte) (string, string) {
		var p struct {
			ChatID string `json:"chat_id"`
			Text   string `json:"text"`
		}
		if r.URL.Path != "/bot"+botToken+"/sendMessage" || json.Unmarshal(body, &p) != nil || p.ChatID != "-1001234567890" || p.Text == "" {
			return "", "telegram: " + r.URL.Path + " " + string(body)
		}
		return p.Text, ""
	})
	release := make(chan struct{})
	var hangMu sync.Mutex
	hanging, hangDone := 0, 0
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hangMu.Lock()
		hanging++
		hangMu.Unlock()
		<-release
		hangMu.Lock()
		hangDone++
		hangMu.Unlock()
	}))
	t.Cleanup(hang.Close)
	t.Cleanup(func() {
		select {
		case <-release:
		default:
			close(release)
		}
	})

	s := startServer(t, testdb.New(t), smtpcatcher.Start(t), "MEDIALUNA_MIN_CHECK_INTERVAL=1",
		"MEDIALUNA_PAGERDUTY_URL="+pagerD.URL, "MEDIALUNA_TELEGRAM_URL="+telegramD.URL, "MEDIALUNA_TWILIO_URL="+twilioD.URL,
		"MEDIALUNA_TWILIO_ACCOUNT_SID="+twilioSID, "MEDIALUNA_TWILIO_AUTH_TOKEN="+twilioToken, "MEDIALUNA_TWILIO_FROM=+15005550006",
		"MEDIALUNA_NOTIFY_TIMEOUT=1m")
	su := signup(t, s, "channels@example.com", "Channels")
	unlimited(t, s, su.Account.ID)
	jwt := su.AccessToken
	var ids []int64
	for _, body := range []map[string]string{
		{"name": "hangs", "channel_type": "WEBHOOK", "webhook_url": hang.URL},
		{"name": "chat", "channel_type": "SLACK", "slack_webhook_url": slackD.URL + "/services/T0/B0/secret"},
		{"name": "pager", "channel_type": "PAGERDUTY", "pagerduty_routing_key": routingKey},
		{"name": "sms", "channel_type": "SMS", "phone_number": "+34600111222"},
		{"name": "bot", "channel_type": "TELEGRAM", "telegram_bot_token": botToken, "telegram_chat_id": "-1001234567890"},
	} {
		var ch channel
		s.expect(201, "POST", "/api/notification-channels", jwt, body).json(t, &ch)
		ids = append(ids, ch.ID)
	}
	tg := newTarget(t)
	var m monitor
	s.expect(201, "POST", "/api/v1/monitors", jwt, map[string]any{"name": "checkout", "type": "HTTP", "url": tg.URL, "check_interval": 1}).json(t, &m)
	s.expect(201, "POST", "/api/notification-rules", jwt, map[string]any{"name": "all", "channel_ids": ids,
		"conditions": []map[string]any{{"type": "STATUS", "operator": "eq", "value": "down"}}})
	waitStatus(t, s, jwt, m.ID, "up")

	tg.healthy.Store(false)
	inc := waitIncidents(t, s, jwt, "", 1)[0]
	// The hanging endpoint's request is open, and the others are served.
	waitFor(t, func() bool {
		hangMu.Lock()
		open := hanging == 1
		hangMu.Unlock()
		return open && len(slackD.lines()) == 1 && len(pagerD.lines()) == 1 && len(twilioD.lines()) == 1 && len(telegramD.lines()) == 1
	})
	hangMu.Lock()
	if hanging != 1 || hangDone != 0 {
		t.Errorf("the hanging endpoint had %d requests, %d finished; want 1 open while the others were served", hanging, hangDone)
	}
	hangMu.Unlock()
	for name, d := range map[string]*serviceDouble{"slack": slackD, "twilio": twilioD, "telegram": telegramD} {
		if got := d.lines()[0]; !strings.Contains(got, "DOWN: checkout") {
			t.Errorf("%s message = %q", name, got)
		}
	}
	dedup := strings.TrimPrefix(pagerD.lines()[0], "trigger ")

	s.expect(200, "POST", "/api/incidents/"+itoa(inc.ID)+"/acknowledge", jwt, nil)
	waitFor(t, func() bool { return len(pagerD.lines()) == 2 && len(slackD.lines()) == 2 })
	tg.healthy.Store(true)
	waitFor(t, func() bool {
		return len(pagerD.lines()) == 4 && len(telegramD.lines()) == 4 && len(twilioD.lines()) == 4
	})
	if got, want := strings.Join(pagerD.lines(), "|"), "trigger "+dedup+"|acknowledge "+dedup+"|resolve "+dedup+"|resolve "+dedup; got != want {
		t.Errorf("pagerduty saw %q, want %q (one dedup key per incident)", got, want)
	}

	// Everything the hanging channel was sent waits behind its first
	// request, in order; released, they all arrive.
	close(release)
	var deliveries []struct {
		Event  string `json:"event"`
		Status string `json:"status"`
	}
	waitFor(t, func() bool {
		s.expect(200, "GET", "/api/notification-channels/"+itoa(ids[0])+"/deliveries", jwt, nil).json(t, &deliveries)
		done := 0
		for _, d := range deliveries {
			if d.Status == "delivered" {
				done++
			}
		}
		return done == 4
	})
	for name, d := range map[string]*serviceDouble{"slack": slackD, "pagerduty": pagerD, "twilio": twilioD, "telegram": telegramD} {
		if p := d.problems(); len(p) > 0 {
			t.Errorf("%s: requests off the documented format: %v", name, p)
		}
	}
}

// TestDependenciesAndRuleOptionsThroughTheAPI: depends_on and
// renotify_minutes are validated (nothing written on refusal), and a
// monitor behind a failed dependency opens its incident without paging,
// its timeline saying why.
func TestDependenciesAndRuleOptionsThroughTheAPI(t *testing.T) {
	s := startServer(t, testdb.New(t), smtpcatcher.Start(t), "MEDIALUNA_MIN_CHECK_INTERVAL=1")
	su := signup(t, s, "deps@example.com", "Deps")
	unlimited(t, s, su.Account.ID)
	jwt := su.AccessToken
	rc := newReceiver(t)
	var hook channel
	s.expect(201, "POST", "/api/notification-channels", jwt, map[string]string{"name": "ops", "channel_type": "WEBHOOK", "webhook_url": rc.URL}).json(t, &hook)
	rc.secret = hook.WebhookSecret

	dbTarget, apiTarget := newTarget(t), newTarget(t)
	var dbMon, apiMon monitor
	s.expect(201, "POST", "/api/v1/monitors", jwt, map[string]any{"name": "database", "type": "HTTP", "url": dbTarget.URL, "check_interval": 1}).json(t, &dbMon)
	s.expect(422, "POST", "/api/v1/monitors", jwt, map[string]any{"name": "api", "type": "HTTP", "url": apiTarget.URL, "depends_on": []int64{999}})
	s.expect(201, "POST", "/api/v1/monitors", jwt, map[string]any{"name": "api", "type": "HTTP", "url": apiTarget.URL, "check_interval": 1,
		"depends_on": []int64{dbMon.ID}}).json(t, &apiMon)
	s.expect(422, "PUT", "/api/v1/monitors/"+itoa(apiMon.ID), jwt, map[string]any{"depends_on": []int64{apiMon.ID}})
	var got struct {
		DependsOn []int64 `json:"depends_on"`
	}
	s.expect(200, "GET", "/api/v1/monitors/"+itoa(apiMon.ID), jwt, nil).json(t, &got)
	if len(got.DependsOn) != 1 || got.DependsOn[0] != dbMon.ID {
		t.Fatalf("depends_on = %v after a refused change, want [%d]", got.DependsOn, dbMon.ID)
	}
	rule := map[string]any{"name": "down", "channel_ids": []int64{hook.ID}, "renotify_minutes": 3,
		"conditions": []map[string]any{{"type": "STATUS", "operator": "eq", "value": "down"}}}
	s.expect(422, "POST", "/api/notification-rules", jwt, rule)
	rule["renotify_minutes"] = 30
	var r struct {
		RenotifyMinutes int `json:"renotify_minutes"`
	}
	s.expect(201, "POST", "/api/notification-rules", jwt, rule).json(t, &r)
	if r.RenotifyMinutes != 30 {
		t.Errorf("renotify_minutes = %d", r.RenotifyMinutes)
	}
	waitStatus(t, s, jwt, dbMon.ID, "up")
	waitStatus(t, s, jwt, apiMon.ID, "up")

	dbTarget.healthy.Store(false)
	waitFor(t, func() bool { return strings.Join(rc.seen(), " ") == "incident.triggered" })
	apiTarget.healthy.Store(false)
	incs := waitIncidents(t, s, jwt, "", 2)
	var apiInc incident
	for _, i := range incs {
		if i.MonitorID == apiMon.ID {
			apiInc = i
		}
	}
	waitFor(t, func() bool {
		var full incident
		s.expect(200, "GET", "/api/v1/incidents/"+itoa(apiInc.ID), jwt, nil).json(t, &full)
		for _, e := range full.Timeline {
			if e.EventType == "NOTIFICATION_SUPPRESSED" && strings.Contains(e.Message, "monitor "+itoa(dbMon.ID)) {
				return true
			}
		}
		return false
	})
	if seen := strings.Join(rc.seen(), " "); seen != "incident.triggered" {
		t.Errorf("the webhook saw %q; the dependent monitor's incident must not page", seen)
	}
	rc.mu.Lock()
	monitorName := rc.payloads[0]["monitor"].(map[string]any)["name"]
	rc.mu.Unlock()
	if monitorName != "database" {
		t.Errorf("the page was about %v, want the database", monitorName)
	}

	// A cycle is refused, naming it.
	res := s.expect(422, "PUT", "/api/v1/monitors/"+itoa(dbMon.ID), jwt, map[string]any{"depends_on": []int64{apiMon.ID}})
	if !strings.Contains(string(res.Body), "cycle") {
		t.Errorf("cycle refusal: %s", res.Body)
	}

	// Deletions leave rules usable: a rule whose only monitor is deleted is
	// disabled (not widened to every monitor), and PATCH works without
	// resending the ids that are gone.
	var spare channel
	s.expect(201, "POST", "/api/notification-channels", jwt, map[string]string{"name": "spare", "channel_type": "WEBHOOK", "webhook_url": rc.URL}).json(t, &spare)
	var narrow struct {
		ID         int64   `json:"id"`
		Enabled    bool    `json:"enabled"`
		MonitorIDs []int64 `json:"monitor_ids"`
		ChannelIDs []int64 `json:"channel_ids"`
	}
	s.expect(201, "POST", "/api/notification-rules", jwt, map[string]any{"name": "api only", "channel_ids": []int64{hook.ID, spare.ID},
		"monitor_ids": []int64{apiMon.ID}, "conditions": []map[string]any{{"type": "STATUS", "operator": "eq", "value": "down"}}}).json(t, &narrow)
	s.expect(204, "DELETE", "/api/v1/monitors/"+itoa(apiMon.ID), jwt, nil)
	s.expect(204, "DELETE", "/api/notification-channels/"+itoa(spare.ID), jwt, nil)
	s.expect(200, "GET", "/api/notification-rules/"+itoa(narrow.ID), jwt, nil).json(t, &narrow)
	if narrow.Enabled || len(narrow.MonitorIDs) != 0 || len(narrow.ChannelIDs) != 1 {
		t.Errorf("rule after its monitor and a channel were deleted: %+v; want disabled, no monitors, one channel", narrow)
	}
	s.expect(200, "PATCH", "/api/notification-rules/"+itoa(narrow.ID), jwt, map[string]any{"name": "renamed"}).json(t, &narrow)
	if narrow.Enabled {
		t.Error("a PATCH of the name re-enabled a rule with no monitors left")
	}

	// Lists page like every other list.
	var page []channel
	s.expect(200, "GET", "/api/notification-channels?limit=1", jwt, nil).json(t, &page)
	if len(page) != 1 {
		t.Errorf("?limit=1 gave %d channels", len(page))
	}
}

// TestPrivateWebhookTargetsRefused: on a server that refuses private
// targets (multi-tenant hosting), a webhook pointing into the internal
// network is not called, and the test endpoint says why.
func TestPrivateWebhookTargetsRefused(t *testing.T) {
	rc := newReceiver(t)
	s := startServer(t, testdb.New(t), smtpcatcher.Start(t), "MEDIALUNA_BLOCK_PRIVATE_TARGETS=true", "MEDIALUNA_EMBEDDED_PROBE=false")
	su := signup(t, s, "ssrf@example.com", "SSRF")
	var hook channel
	s.expect(201, "POST", "/api/notification-channels", su.AccessToken, map[string]string{"name": "internal", "channel_type": "WEBHOOK",
		"webhook_url": rc.URL}).json(t, &hook)
	res := s.expect(422, "POST", "/api/notification-channels/"+itoa(hook.ID)+"/test", su.AccessToken, nil)
	if !strings.Contains(string(res.Body), "private") {
		t.Errorf("test answer = %s; want it to name the private address", res.Body)
	}
	if seen := rc.seen(); len(seen) != 0 {
		t.Errorf("the private endpoint was called: %v", seen)
	}
}
