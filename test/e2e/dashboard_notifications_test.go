package e2e

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/medialuna/medialuna/adapters/notify/webhook"
	"github.com/medialuna/medialuna/test/browser"
	"github.com/medialuna/medialuna/test/smtpcatcher"
	"github.com/medialuna/medialuna/test/testdb"
)

// hookReceiver is a local webhook endpoint that keeps every request.
type hookReceiver struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []hookRequest
}

type hookRequest struct {
	Path      string
	Signature string
	Body      []byte
}

func newHookReceiver(t *testing.T) *hookReceiver {
	h := &hookReceiver{}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		h.reqs = append(h.reqs, hookRequest{Path: r.URL.Path, Signature: r.Header.Get(webhook.HeaderSignature), Body: body})
		h.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *hookReceiver) requests() []hookRequest {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]hookRequest(nil), h.reqs...)
}

// recorder is a local stand-in for a notification service that takes any
// request and keeps its path and body.
func recorder(t *testing.T) *serviceDouble {
	return newServiceDouble(t, func(r *http.Request, body []byte) (string, string) {
		return r.URL.Path + " " + string(body), ""
	})
}

// closedURL is an http URL on a local port nothing listens on.
func closedURL(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr + "/hook"
}

var channelPagePath = regexp.MustCompile(`/notifications/channels/(\d+)(/created)?$`)

// channelIDFrom is the channel id in the browser's path after a create.
func channelIDFrom(t *testing.T, p *browser.Page) int64 {
	t.Helper()
	u, _ := url.Parse(p.URL())
	m := channelPagePath.FindStringSubmatch(u.Path)
	if m == nil {
		t.Fatalf("after create the browser is at %s:\n%s", p.URL(), p.Text("main"))
	}
	return int64(atoi(m[1]))
}

// apiChannel is a channel as the API shows it, every field.
type apiChannel struct {
	ID              int64  `json:"id"`
	Name            string `json:"name"`
	Type            string `json:"channel_type"`
	EmailRecipient  string `json:"email_recipient"`
	PhoneNumber     string `json:"phone_number"`
	SlackWebhookURL string `json:"slack_webhook_url"`
	WebhookURL      string `json:"webhook_url"`
	RoutingKey      string `json:"pagerduty_routing_key"`
	BotToken        string `json:"telegram_bot_token"`
	ChatID          string `json:"telegram_chat_id"`
	WebhookSecret   string `json:"webhook_secret"`
	Enabled         bool   `json:"enabled"`
}

func getChannel(t *testing.T, s *server, jwt string, id int64) apiChannel {
	t.Helper()
	var ch apiChannel
	s.expect(200, "GET", "/api/notification-channels/"+itoa(id), jwt, nil).json(t, &ch)
	return ch
}

// sendTest presses Send test on a channel's page and returns the outcome
// the page shows.
func sendTest(t *testing.T, p *browser.Page, s *server, id int64) string {
	t.Helper()
	p.Navigate(s.URL + "/notifications/channels/" + itoa(id))
	p.ClickButton("Send test")
	if !p.WaitTrue(`!!document.querySelector("#test-result")`, 20*time.Second) {
		t.Fatalf("no test outcome on %s:\n%s", p.URL(), p.Text("main"))
	}
	return p.Text("#test-result")
}

// TestDashboardNotificationChannels drives the channel pages in Chromium
// through the real binary: a webhook channel whose signing secret is shown
// once and signs the test delivery the page reports; a channel whose
// target refuses, with the failure and its error shown; one channel of
// every other type through the form against local stand-ins, each equal
// to what the API reports (secrets masked alike) and each test delivered;
// edits that keep a secret left empty and replace a typed one; a refusal
// next to its field with nothing written; deletion after a confirmation.
func TestDashboardNotificationChannels(t *testing.T) {
	b := browser.New(t)
	hooks := newHookReceiver(t)
	slackD, pagerD, twilioD, telegramD := recorder(t), recorder(t), recorder(t), recorder(t)
	mail := smtpcatcher.Start(t)
	s := startServer(t, testdb.New(t), mail,
		"MEDIALUNA_PAGERDUTY_URL="+pagerD.URL, "MEDIALUNA_TELEGRAM_URL="+telegramD.URL, "MEDIALUNA_TWILIO_URL="+twilioD.URL,
		"MEDIALUNA_TWILIO_ACCOUNT_SID="+twilioSID, "MEDIALUNA_TWILIO_AUTH_TOKEN="+twilioToken, "MEDIALUNA_TWILIO_FROM=+15005550006")
	const email = "channels-ui@example.com"
	su := signup(t, s, email, "Channels UI")
	unlimited(t, s, su.Account.ID)
	jwt := su.AccessToken
	_, p := logInInBrowser(t, b, s, email, dashboardPassword)

	// The form shows the fields of the chosen type only.
	p.Navigate(s.URL + "/notifications/channels/new")
	visible := func(sel string) bool {
		v, _ := p.Eval(`(() => { const e = document.querySelector("` + sel + `"); return !!e && e.offsetParent !== null })()`).(bool)
		return v
	}
	if !visible("#email_recipient") || visible("#webhook_url") || visible("#telegram_bot_token") {
		t.Errorf("EMAIL form: email %v, webhook %v, telegram %v", visible("#email_recipient"), visible("#webhook_url"), visible("#telegram_bot_token"))
	}
	p.SetValue("#channel_type", "TELEGRAM")
	if visible("#email_recipient") || !visible("#telegram_bot_token") || !visible("#telegram_chat_id") {
		t.Errorf("TELEGRAM form: email %v, token %v, chat %v", visible("#email_recipient"), visible("#telegram_bot_token"), visible("#telegram_chat_id"))
	}
	p.SetValue("#channel_type", "WEBHOOK")
	checkPage(t, p, "notification-channel-form")

	// A webhook channel: its secret shown once, on the next page.
	p.Fill("#name", "Deploy hook")
	p.Fill("#webhook_url", hooks.URL+"/medialuna")
	p.ClickButton("Create channel")
	p.WaitTrue(`location.pathname.endsWith("/created")`, 10*time.Second)
	hookID := channelIDFrom(t, p)
	secret, _ := p.Eval(`(document.querySelector("#webhook-secret") || {}).value || ""`).(string)
	if !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("no signing secret shown after create:\n%s", p.Text("main"))
	}
	howto := p.Text("main")
	for _, want := range []string{webhook.HeaderSignature, "HMAC-SHA256", "openssl dgst -sha256 -hmac", "hmac.New(sha256.New"} {
		if !strings.Contains(howto, want) {
			t.Errorf("the secret page does not say %q", want)
		}
	}
	if p.Count(`button[data-copy="#webhook-secret"]`) != 1 {
		t.Error("no copy button for the secret")
	}
	checkPage(t, p, "notification-webhook-secret")
	p.Navigate(p.URL())
	if p.Count("#webhook-secret") != 0 || p.Count("#secret-gone") != 1 {
		t.Errorf("a reload shows the secret again:\n%s", p.Text("main"))
	}
	got := getChannel(t, s, jwt, hookID)
	if want := (apiChannel{ID: hookID, Name: "Deploy hook", Type: "WEBHOOK", WebhookURL: hooks.URL + "/medialuna", Enabled: true}); got != want {
		t.Errorf("the API's webhook channel:\n%s", cmp.Diff(want, got))
	}

	// Send test: the receiver gets it, signed with the secret shown.
	if out := sendTest(t, p, s, hookID); !strings.Contains(out, "delivered") {
		t.Errorf("Send test shows %q", out)
	}
	reqs := hooks.requests()
	if len(reqs) != 1 {
		t.Fatalf("the receiver got %d requests", len(reqs))
	}
	if err := webhook.Verify(secret, reqs[0].Signature, reqs[0].Body, time.Now(), 0); err != nil || reqs[0].Path != "/medialuna" {
		t.Errorf("the test delivery to %s does not verify with the shown secret: %v", reqs[0].Path, err)
	}
	checkPage(t, p, "notification-channel")
	// The post redirected to the channel's page, which shows the outcome
	// once: loading it again shows none and sends nothing.
	if u, _ := url.Parse(p.URL()); u.Path != "/notifications/channels/"+itoa(hookID) {
		t.Errorf("after Send test the browser is at %s, not the channel's page", p.URL())
	}
	p.Navigate(p.URL())
	if p.Count("#test-result") != 0 || len(hooks.requests()) != 1 {
		t.Errorf("loading the page again: %d outcomes shown, %d test deliveries", p.Count("#test-result"), len(hooks.requests()))
	}
	for _, path := range []string{"/notifications", "/notifications/channels/" + itoa(hookID), "/notifications/channels/" + itoa(hookID) + "/edit"} {
		p.Navigate(s.URL + path)
		if html, _ := p.Eval(`document.documentElement.outerHTML`).(string); strings.Contains(html, secret) {
			t.Errorf("%s shows the signing secret again", path)
		}
	}

	// A target that refuses: the failure and its error.
	refused := closedURL(t)
	p.Navigate(s.URL + "/notifications/channels/new?type=WEBHOOK")
	p.Fill("#name", "Nobody listens")
	p.Fill("#webhook_url", refused)
	p.ClickButton("Create channel")
	p.WaitTrue(`location.pathname.endsWith("/created")`, 10*time.Second)
	deadID := channelIDFrom(t, p)
	if out := sendTest(t, p, s, deadID); !strings.Contains(out, "failed") || !strings.Contains(p.Text(".test-error"), "connection refused") {
		t.Errorf("a refused test shows %q", out)
	}
	checkPage(t, p, "notification-channel-test-failed")

	// Every other type through the form, each as the API reports it.
	create := func(typ string, fields map[string]string) int64 {
		t.Helper()
		p.Navigate(s.URL + "/notifications/channels/new")
		p.SetValue("#channel_type", typ)
		for sel, v := range fields {
			p.Fill(sel, v)
		}
		p.ClickButton("Create channel")
		p.WaitTrue(`!location.pathname.endsWith("/new") && location.pathname !== "/notifications/channels"`, 10*time.Second)
		return channelIDFrom(t, p)
	}
	slackURL := slackD.URL + "/services/T0/B0/secret"
	ids := map[string]int64{
		"EMAIL":     create("EMAIL", map[string]string{"#name": "Ops mail", "#email_recipient": "ops@example.com"}),
		"SLACK":     create("SLACK", map[string]string{"#name": "Ops chat", "#slack_webhook_url": slackURL}),
		"PAGERDUTY": create("PAGERDUTY", map[string]string{"#name": "Pager", "#pagerduty_routing_key": routingKey}),
		"SMS":       create("SMS", map[string]string{"#name": "On-call phone", "#phone_number": "+34600111222"}),
		"TELEGRAM":  create("TELEGRAM", map[string]string{"#name": "Bot", "#telegram_bot_token": botToken, "#telegram_chat_id": "-1001234567890"}),
	}
	want := map[string]apiChannel{
		"EMAIL":     {Name: "Ops mail", Type: "EMAIL", EmailRecipient: "ops@example.com"},
		"SLACK":     {Name: "Ops chat", Type: "SLACK", SlackWebhookURL: slackD.URL + "/********cret"},
		"PAGERDUTY": {Name: "Pager", Type: "PAGERDUTY", RoutingKey: "********BCDE"},
		"SMS":       {Name: "On-call phone", Type: "SMS", PhoneNumber: "+34600111222"},
		"TELEGRAM":  {Name: "Bot", Type: "TELEGRAM", BotToken: "123456789:********", ChatID: "-1001234567890"},
	}
	p.Navigate(s.URL + "/notifications")
	for typ, id := range ids {
		w := want[typ]
		w.ID, w.Enabled = id, true
		if got := getChannel(t, s, jwt, id); got != w {
			t.Errorf("%s channel through the form, as the API reports it:\n%s", typ, cmp.Diff(w, got))
		}
		// The list shows the target masked as the API does.
		target := p.Text(`tr[data-channel="` + itoa(id) + `"] td.target`)
		for _, masked := range []string{w.EmailRecipient, w.PhoneNumber, w.SlackWebhookURL, w.RoutingKey, w.BotToken, w.ChatID} {
			if masked != "" && !strings.Contains(target, masked) {
				t.Errorf("%s target in the list %q does not show %q", typ, target, masked)
			}
		}
	}
	html, _ := p.Eval(`document.documentElement.outerHTML`).(string)
	for _, raw := range []string{"/services/T0/B0/secret", routingKey, botToken} {
		if strings.Contains(html, raw) {
			t.Errorf("the list shows the secret %q", raw)
		}
	}
	checkPage(t, p, "notifications")

	// Each sends its test through its service.
	for typ, id := range ids {
		if out := sendTest(t, p, s, id); !strings.Contains(out, "delivered") {
			t.Errorf("%s Send test shows %q: %s", typ, out, p.Text(".test-error"))
		}
	}
	if msg := mail.WaitFor(t, "ops@example.com", 20*time.Second); msg.Data == "" {
		t.Error("no test email")
	}
	if l := slackD.lines(); len(l) != 1 || !strings.HasPrefix(l[0], "/services/T0/B0/secret ") {
		t.Errorf("slack got %q", l)
	}
	if l := pagerD.lines(); len(l) != 1 || !strings.Contains(l[0], routingKey) {
		t.Errorf("pagerduty got %q", l)
	}
	if l := twilioD.lines(); len(l) != 1 || !strings.Contains(l[0], "To=%2B34600111222") {
		t.Errorf("twilio got %q", l)
	}
	if l := telegramD.lines(); len(l) != 1 || !strings.HasPrefix(l[0], "/bot"+botToken+"/sendMessage ") {
		t.Errorf("telegram got %q", l)
	}

	// Edit: a secret left empty stays, a typed one replaces it; the
	// form shows the masked value, never the secret.
	p.Navigate(s.URL + "/notifications/channels/" + itoa(ids["SLACK"]) + "/edit")
	if got := p.Text("#masked-slack"); got != want["SLACK"].SlackWebhookURL {
		t.Errorf("the edit form's masked Slack URL %q, the API's %q", got, want["SLACK"].SlackWebhookURL)
	}
	if v, _ := p.Eval(`document.querySelector("#slack_webhook_url").value`).(string); v != "" || p.Count("#channel_type") != 1 || p.Count("select#channel_type") != 0 {
		t.Errorf("the edit form: secret field %q, type changeable %v", v, p.Count("select#channel_type") != 0)
	}
	if html, _ := p.Eval(`document.documentElement.outerHTML`).(string); strings.Contains(html, "B0/secret") {
		t.Error("the edit form shows the Slack URL")
	}
	checkPage(t, p, "notification-channel-edit")
	p.Fill("#name", "Ops chat (renamed)")
	p.ClickButton("Save changes")
	p.WaitTrue(`!location.pathname.endsWith("/edit")`, 10*time.Second)
	if got := getChannel(t, s, jwt, ids["SLACK"]); got.Name != "Ops chat (renamed)" || got.SlackWebhookURL != want["SLACK"].SlackWebhookURL {
		t.Errorf("after an edit leaving the secret empty: %+v", got)
	}
	if out := sendTest(t, p, s, ids["SLACK"]); !strings.Contains(out, "delivered") || len(slackD.lines()) != 2 || !strings.HasPrefix(slackD.lines()[1], "/services/T0/B0/secret ") {
		t.Errorf("the kept Slack URL: %q, %q", out, slackD.lines())
	}
	const newKey = "N0123456789ABCDEF0123456789ABWXY"
	p.Navigate(s.URL + "/notifications/channels/" + itoa(ids["PAGERDUTY"]) + "/edit")
	p.Fill("#pagerduty_routing_key", newKey)
	p.ClickButton("Save changes")
	p.WaitTrue(`!location.pathname.endsWith("/edit")`, 10*time.Second)
	if got := getChannel(t, s, jwt, ids["PAGERDUTY"]); got.RoutingKey != "********BWXY" {
		t.Errorf("the replaced routing key shows as %q", got.RoutingKey)
	}
	p.Navigate(s.URL + "/notifications/channels/" + itoa(ids["EMAIL"]) + "/edit")
	p.Check("#enabled", false)
	p.Fill("#email_recipient", "oncall@example.com")
	p.ClickButton("Save changes")
	p.WaitTrue(`!location.pathname.endsWith("/edit")`, 10*time.Second)
	if got := getChannel(t, s, jwt, ids["EMAIL"]); got.Enabled || got.EmailRecipient != "oncall@example.com" {
		t.Errorf("the edited email channel: %+v", got)
	}

	// A refusal next to its field, the typed values kept, nothing written.
	var before []apiChannel
	s.expect(200, "GET", "/api/notification-channels", jwt, nil).json(t, &before)
	p.Navigate(s.URL + "/notifications/channels/new")
	p.Fill("#name", "Bad mail")
	p.Fill("#email_recipient", "not an address")
	p.ClickButton("Create channel")
	if !p.WaitText("#err-email_recipient", "valid address", 10*time.Second) {
		t.Fatalf("no error next to the address:\n%s", p.Text("main"))
	}
	if v, _ := p.Eval(`document.querySelector("#name").value + "|" + document.querySelector("#email_recipient").getAttribute("aria-invalid")`).(string); v != "Bad mail|true" {
		t.Errorf("after the refusal: %q", v)
	}
	checkPage(t, p, "notification-channel-refused")
	var after []apiChannel
	s.expect(200, "GET", "/api/notification-channels", jwt, nil).json(t, &after)
	if len(after) != len(before) {
		t.Errorf("a refused channel was written: %d channels, were %d", len(after), len(before))
	}

	// Delete, after a confirmation.
	p.Navigate(s.URL + "/notifications/channels/" + itoa(deadID))
	p.ClickButton("Delete…")
	if !strings.Contains(p.Text("h1"), "Nobody listens") {
		t.Errorf("the confirmation page: %s", p.Text("main"))
	}
	checkPage(t, p, "notification-channel-delete")
	p.ClickButton("Delete channel")
	p.WaitTrue(`location.pathname === "/notifications"`, 10*time.Second)
	s.expect(404, "GET", "/api/notification-channels/"+itoa(deadID), jwt, nil)
	if p.Count(`tr[data-channel="`+itoa(deadID)+`"]`) != 0 {
		t.Error("the deleted channel is still listed")
	}
}

// apiRule is a rule as the API shows it.
type apiRule struct {
	ID                int64          `json:"id"`
	Name              string         `json:"name"`
	Conditions        []apiCondition `json:"conditions"`
	ChannelIDs        []int64        `json:"channel_ids"`
	MonitorIDs        []int64        `json:"monitor_ids"`
	ConsecutiveChecks int            `json:"consecutive_checks"`
	RenotifyMinutes   int            `json:"renotify_minutes"`
	Enabled           bool           `json:"enabled"`
}

type apiCondition struct {
	Type     string `json:"type"`
	Operator string `json:"operator"`
	Value    any    `json:"value"`
}

// TestDashboardNotificationRules drives the rule pages in Chromium
// through the real binary: create, a refusal with nothing written, edit
// and delete, each ending as the API reports; a channel's delivery log
// that shows an incident's delivery arriving without a reload; hostile
// names shown as text; a VIEWER offered no write and refused a forged one.
func TestDashboardNotificationRules(t *testing.T) {
	b := browser.New(t)
	hooks := newHookReceiver(t)
	s := startServer(t, testdb.New(t), smtpcatcher.Start(t), "MEDIALUNA_MIN_CHECK_INTERVAL=1")
	const email = "rules-ui@example.com"
	su := signup(t, s, email, "Rules UI")
	unlimited(t, s, su.Account.ID)
	jwt := su.AccessToken
	const hostile = `"><script>alert(1)</script>`
	const hostileImg = `<img src=x onerror=alert(1)>`
	var hook, other apiChannel
	s.expect(201, "POST", "/api/notification-channels", jwt, map[string]any{"name": hostileImg, "channel_type": "WEBHOOK", "webhook_url": hooks.URL + "/in"}).json(t, &hook)
	s.expect(201, "POST", "/api/notification-channels", jwt, map[string]any{"name": "Ops mail", "channel_type": "EMAIL", "email_recipient": "ops@example.com"}).json(t, &other)
	tg := newTarget(t)
	var web monitor
	s.expect(201, "POST", "/api/v1/monitors", jwt, map[string]any{"name": hostile, "type": "HTTP", "url": tg.URL, "check_interval": 60}).json(t, &web)
	_, p := logInInBrowser(t, b, s, email, dashboardPassword)

	// Create.
	p.Navigate(s.URL + "/notifications/rules/new")
	checkPage(t, p, "notification-rule-form")
	p.Fill("#name", hostile)
	p.Check("#cond_down", true)
	p.Check("#cond_slow", true)
	p.SetValue("#slow_operator", "gte")
	p.Fill("#slow_ms", "800")
	p.Check("#rch-"+itoa(hook.ID), true)
	p.Check("#scope-some", true)
	p.Check("#rmon-"+itoa(web.ID), true)
	p.Fill("#consecutive_checks", "2")
	p.Fill("#renotify_minutes", "3")
	p.ClickButton("Create rule")
	// 3 minutes is under the least: refused next to the field, nothing written.
	if !p.WaitText("#err-renotify_minutes", "between 5 and 10080", 10*time.Second) {
		t.Fatalf("no error next to the re-notify interval:\n%s", p.Text("main"))
	}
	if v, _ := p.Eval(`[document.querySelector("#name").value, document.querySelector("#slow_ms").value, document.querySelector("#rmon-` + itoa(web.ID) + `").checked].join("|")`).(string); v != hostile+"|800|true" {
		t.Errorf("the typed values after the refusal: %q", v)
	}
	checkPage(t, p, "notification-rule-refused")
	var rules []apiRule
	s.expect(200, "GET", "/api/notification-rules", jwt, nil).json(t, &rules)
	if len(rules) != 0 {
		t.Fatalf("a refused rule was written: %+v", rules)
	}
	p.Fill("#renotify_minutes", "10")
	p.ClickButton("Create rule")
	p.WaitTrue(`location.pathname === "/notifications"`, 10*time.Second)
	s.expect(200, "GET", "/api/notification-rules", jwt, nil).json(t, &rules)
	if len(rules) != 1 {
		t.Fatalf("rules after create: %+v", rules)
	}
	ruleID := rules[0].ID
	want := apiRule{ID: ruleID, Name: hostile, Conditions: []apiCondition{{"STATUS", "eq", "down"}, {"RESPONSE_TIME", "gte", 800.0}},
		ChannelIDs: []int64{hook.ID}, MonitorIDs: []int64{web.ID}, ConsecutiveChecks: 2, RenotifyMinutes: 10, Enabled: true}
	if d := cmp.Diff(want, rules[0]); d != "" {
		t.Errorf("the created rule, as the API reports it:\n%s", d)
	}
	row := p.Text(`tr[data-rule="` + itoa(ruleID) + `"]`)
	for _, w := range []string{hostile, "monitor goes down", "response time at or above 800 ms", hostileImg, "every 10 min"} {
		if !strings.Contains(row, w) {
			t.Errorf("the rule's row does not say %q: %q", w, row)
		}
	}
	checkPage(t, p, "notifications-with-rules")

	// Edit: every field the form has.
	p.Navigate(s.URL + "/notifications/rules/" + itoa(ruleID) + "/edit")
	if v, _ := p.Eval(`[document.querySelector("#cond_slow").checked, document.querySelector("#slow_operator").value, document.querySelector("#scope-some").checked].join("|")`).(string); v != "true|gte|true" {
		t.Errorf("the edit form shows the rule as %q", v)
	}
	checkPage(t, p, "notification-rule-edit")
	p.Fill("#name", "Everything down")
	p.Check("#cond_slow", false)
	p.Check("#cond_up", true)
	p.Check("#rch-"+itoa(other.ID), true)
	p.Check("#scope-all", true)
	p.Fill("#consecutive_checks", "1")
	p.Fill("#renotify_minutes", "0")
	p.ClickButton("Save changes")
	p.WaitTrue(`location.pathname === "/notifications"`, 10*time.Second)
	var edited apiRule
	s.expect(200, "GET", "/api/notification-rules/"+itoa(ruleID), jwt, nil).json(t, &edited)
	want = apiRule{ID: ruleID, Name: "Everything down", Conditions: []apiCondition{{"STATUS", "eq", "down"}, {"STATUS", "eq", "up"}},
		ChannelIDs: []int64{hook.ID, other.ID}, MonitorIDs: []int64{}, ConsecutiveChecks: 1, RenotifyMinutes: 0, Enabled: true}
	if d := cmp.Diff(want, edited); d != "" {
		t.Errorf("the edited rule, as the API reports it:\n%s", d)
	}

	// The channel's delivery log shows an incident's delivery arriving.
	p.Navigate(s.URL + "/notifications/channels/" + itoa(hook.ID))
	if !strings.Contains(p.Text("#deliveries"), "Nothing delivered") {
		t.Errorf("a new channel's log: %q", p.Text("#deliveries"))
	}
	p.Eval(`window.__sameDocument = 1`)
	var down monitor
	s.expect(201, "POST", "/api/v1/monitors", jwt, map[string]any{"name": "Down one", "type": "HTTP", "url": closedURL(t), "check_interval": 1}).json(t, &down)
	if !p.WaitTrue(`!!document.querySelector('#deliveries tr[data-status="delivered"]')`, 60*time.Second) {
		t.Fatalf("no delivery arrived on the channel's page:\n%s", p.Text("main"))
	}
	if v, _ := p.Eval(`window.__sameDocument === 1`).(bool); !v {
		t.Error("the page reloaded instead of updating")
	}
	if row := p.Text(`#deliveries tr[data-status="delivered"]`); !strings.Contains(row, "incident.triggered") {
		t.Errorf("the delivery row: %q", row)
	}
	// Its incident link keeps its id from one live refresh to the next, so
	// htmx gives keyboard focus back to it.
	if p.Count(`#deliveries tr[data-status="delivered"] a[href^="/incidents/"][id^="delivery-"]`) == 0 {
		t.Errorf("the delivery's incident link has no stable id: %s", p.Eval(`document.querySelector("#deliveries tbody").innerHTML`))
	}
	var deliveries []struct {
		DeliveryID string `json:"delivery_id"`
		Status     string `json:"status"`
	}
	s.expect(200, "GET", "/api/notification-channels/"+itoa(hook.ID)+"/deliveries", jwt, nil).json(t, &deliveries)
	if len(deliveries) == 0 || p.Count(`#deliveries tr[data-delivery="`+deliveries[len(deliveries)-1].DeliveryID+`"]`) != 1 {
		t.Errorf("the page's log and the API's differ: %+v", deliveries)
	}
	if len(hooks.requests()) == 0 {
		t.Error("the receiver heard nothing")
	}
	checkPage(t, p, "notification-channel-log")
	p.Navigate(s.URL + "/notifications")
	if got := p.Text(`tr[data-channel="` + itoa(hook.ID) + `"] .last-delivery`); !strings.Contains(got, "delivered") {
		t.Errorf("the list's last delivery: %q", got)
	}

	// A VIEWER sees everything and is offered no write; a forged one is refused.
	s.expect(200, "POST", "/api/accounts/users/invite", jwt, map[string]string{"email": "viewer@example.com", "role": "VIEWER"})
	token := inviteToken(t, s.Mail.WaitFor(t, "viewer@example.com", 20*time.Second).Data)
	s.expect(200, "POST", "/api/auth/accept-invite", "", map[string]string{"token": token, "password": "viewer password 1"})
	_, vp := logInInBrowser(t, b, s, "viewer@example.com", "viewer password 1")
	vp.Navigate(s.URL + "/notifications")
	if n := vp.Count(`main a[href*="/new"], main a[href$="/edit"], main a[href$="/delete"], main form[method="post"]`); n != 0 || vp.Count(`tr[data-rule]`) != 1 {
		t.Errorf("a VIEWER's list: %d write controls, %d rules", n, vp.Count(`tr[data-rule]`))
	}
	checkPage(t, vp, "notifications-viewer")
	vp.Navigate(s.URL + "/notifications/channels/" + itoa(hook.ID))
	if vp.Count(`main form[method="post"]`) != 0 || vp.Count(`#deliveries tr[data-delivery]`) == 0 {
		t.Errorf("a VIEWER's channel page: %d forms, %d deliveries", vp.Count(`main form[method="post"]`), vp.Count(`#deliveries tr[data-delivery]`))
	}
	checkPage(t, vp, "notification-channel-viewer")
	vc := newFormClient(t, s)
	vc.login("viewer@example.com", "viewer password 1")
	_, _, csrf := vc.get("/notifications/channels/" + itoa(hook.ID))
	if csrf == "" {
		t.Fatal("no CSRF token on the VIEWER's page: the forged posts would be refused for that alone")
	}
	if status, _, _ := vc.get("/notifications/channels/new"); status != http.StatusForbidden {
		t.Errorf("a VIEWER's channel form: %d", status)
	}
	for path, form := range map[string]url.Values{
		"/notifications/channels/" + itoa(hook.ID) + "/test":   {},
		"/notifications/channels":                              {"name": {"x"}, "channel_type": {"EMAIL"}, "email_recipient": {"x@example.com"}},
		"/notifications/channels/" + itoa(hook.ID) + "/delete": {},
		"/notifications/rules/" + itoa(ruleID):                 {"name": {"taken over"}},
		"/notifications/rules/" + itoa(ruleID) + "/delete":     {},
	} {
		form.Set("csrf", csrf)
		if status, _ := vc.post(path, form); status != http.StatusForbidden {
			t.Errorf("a VIEWER's forged POST %s: %d", path, status)
		}
	}
	// Nothing the forged posts asked for happened.
	getChannel(t, s, jwt, hook.ID)
	s.expect(200, "GET", "/api/notification-rules/"+itoa(ruleID), jwt, nil).json(t, &edited)
	if edited.Name != "Everything down" {
		t.Errorf("a VIEWER's forged edit renamed the rule to %q", edited.Name)
	}

	// Another account's session finds neither the channel nor the rule.
	signup(t, s, "stranger@example.com", "Strangers")
	sc := newFormClient(t, s)
	sc.login("stranger@example.com", dashboardPassword)
	for _, path := range []string{"/notifications/channels/" + itoa(hook.ID), "/notifications/channels/" + itoa(hook.ID) + "/edit",
		"/notifications/channels/" + itoa(hook.ID) + "/created", "/notifications/channels/" + itoa(hook.ID) + "/delete",
		"/notifications/channels/" + itoa(hook.ID) + "?page=2",
		"/notifications/rules/" + itoa(ruleID) + "/edit", "/notifications/rules/" + itoa(ruleID) + "/delete"} {
		if status, body, _ := sc.get(path); status != http.StatusNotFound || strings.Contains(body, "Everything down") {
			t.Errorf("another account's %s: %d", path, status)
		}
	}
	_, _, strangerCSRF := sc.get("/notifications")
	if strangerCSRF == "" {
		t.Fatal("no CSRF token on the stranger's list: the posts would be refused for that alone")
	}
	for path, form := range map[string]url.Values{
		"/notifications/channels/" + itoa(hook.ID) + "/test":   {},
		"/notifications/channels/" + itoa(hook.ID):             {"name": {"taken over"}, "webhook_url": {"http://127.0.0.1:9/stolen"}},
		"/notifications/channels/" + itoa(hook.ID) + "/delete": {},
		"/notifications/rules/" + itoa(ruleID):                 {"name": {"taken over"}},
		"/notifications/rules/" + itoa(ruleID) + "/delete":     {},
	} {
		form.Set("csrf", strangerCSRF)
		if status, _ := sc.post(path, form); status != http.StatusNotFound {
			t.Errorf("another account's POST %s: %d", path, status)
		}
	}
	if got := getChannel(t, s, jwt, hook.ID); got.Name != hostileImg || got.WebhookURL != hooks.URL+"/in" {
		t.Errorf("another account's posts changed the channel: %+v", got)
	}
	s.expect(200, "GET", "/api/notification-rules/"+itoa(ruleID), jwt, nil).json(t, &edited)
	if edited.Name != "Everything down" {
		t.Errorf("another account's post renamed the rule to %q", edited.Name)
	}

	// Delete, after a confirmation.
	p.Navigate(s.URL + "/notifications/rules/" + itoa(ruleID) + "/edit")
	p.ClickButton("Delete…")
	checkPage(t, p, "notification-rule-delete")
	p.ClickButton("Delete rule")
	p.WaitTrue(`location.pathname === "/notifications"`, 10*time.Second)
	s.expect(404, "GET", "/api/notification-rules/"+itoa(ruleID), jwt, nil)
	if p.Count(`tr[data-rule]`) != 0 {
		t.Error("the deleted rule is still listed")
	}
}
