package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/medialuna/medialuna/adapters/postgres"
	"github.com/medialuna/medialuna/adapters/secretbox"
	"github.com/medialuna/medialuna/domain"
	"github.com/medialuna/medialuna/test/smtpcatcher"
	"github.com/medialuna/medialuna/test/testdb"
)

const (
	masterKey1 = "first-master-key-0123456789abcdef0123456789"
	masterKey2 = "second-master-key-fedcba9876543210fedcba98"
)

// headerTarget is a monitored HTTP server that records the credentials
// each check brought.
type headerTarget struct {
	*httptest.Server
	mu   sync.Mutex
	seen []string
	down bool // /b answers 503
}

func newHeaderTarget(t *testing.T) *headerTarget {
	ht := &headerTarget{}
	ht.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, _ := r.BasicAuth()
		line := strings.Join([]string{r.Header.Get("Authorization"), r.Header.Get("Cookie"), r.Header.Get("X-API-Key"), user + ":" + pass}, "|")
		ht.mu.Lock()
		ht.seen = append(ht.seen, line)
		down := ht.down && r.URL.Path == "/b"
		ht.mu.Unlock()
		if down {
			w.WriteHeader(503)
			return
		}
		w.Write([]byte("ok"))
	}))
	t.Cleanup(ht.Close)
	return ht
}

// saw reports whether a check since the last reset carried want.
func (ht *headerTarget) saw(want string) bool {
	ht.mu.Lock()
	defer ht.mu.Unlock()
	for _, l := range ht.seen {
		if strings.Contains(l, want) {
			return true
		}
	}
	return false
}

func (ht *headerTarget) reset() {
	ht.mu.Lock()
	ht.seen = nil
	ht.mu.Unlock()
}

// noSecrets fails the test for every secret found in what (named where).
func noSecrets(t *testing.T, where, what string, secrets []string) {
	t.Helper()
	for _, s := range secrets {
		if strings.Contains(what, s) {
			t.Errorf("%s holds the secret %q", where, s)
		}
	}
}

// rawLog is every event of the log as stored, payload and metadata.
func rawLog(t *testing.T, db *testdb.DB) string {
	t.Helper()
	var rows []string
	if err := db.Select(&rows, `SELECT stream_id || ' ' || event_type || ' ' || data::text || ' ' || metadata::text FROM events ORDER BY position`); err != nil {
		t.Fatal(err)
	}
	// Check results live in their own table, in columns (the text a check
	// reports is where a target's credentials could leak).
	var checks []string
	if err := db.Select(&checks, `SELECT concat_ws(' ', monitor_id, error, detail, stream_id, event_id, metadata::text) FROM check_events ORDER BY position`); err != nil {
		t.Fatal(err)
	}
	rows = append(rows, checks...)
	return strings.Join(rows, "\n")
}

func (rc *receiver) setSecret(s string) {
	rc.mu.Lock()
	rc.secret = s
	rc.mu.Unlock()
}

func (rc *receiver) problems() []string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]string(nil), rc.bad...)
}

// openEnvelope opens a sealed value with the master key, as anyone holding
// the key and a copy of the database could.
func openEnvelope(t *testing.T, db *testdb.DB, master, stream, envelope string) (string, bool) {
	t.Helper()
	m, err := secretbox.NewMaster(master)
	if err != nil {
		t.Fatal(err)
	}
	plain, ok, err := secretbox.New(m, postgres.NewStreamKeys(db.DB)).Open(context.Background(), stream, envelope)
	if err != nil {
		t.Fatal(err)
	}
	return plain, ok
}

func streamKeys(t *testing.T, db *testdb.DB, stream string) int {
	t.Helper()
	var n int
	if err := db.Get(&n, `SELECT count(*) FROM stream_keys WHERE stream_id = $1`, stream); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestSecretsNeverReachTheLog creates a channel of every type that holds a
// credential and monitors that send credentials; no credential is in the
// raw events table, the audit export (NDJSON and CSV), `events export`, a
// rebuild's output or the server log, while deliveries are still signed
// with the right secret and checks still send their headers, after a
// rebuild and after the master key is rotated. Deleting a channel destroys
// its data key: its old events no longer open.
func TestSecretsNeverReachTheLog(t *testing.T) {
	t.Setenv("MEDIALUNA_SECRET_KEY", masterKey1)
	const (
		slackPath   = "slk-secret-path-7Hq2"
		hookToken   = "hook-token-Zp41"
		pdKey       = "PDsecretKEY0123456789abcdefghijk"
		tgToken     = "987654321:AAsecretTELEGRAMtoken_0123456789xyz"
		bearer      = "Bearer mon-bearer-Q9x7"
		cookie      = "session=mon-cookie-W3e5"
		apiKey      = "mon-apikey-R8t6"
		urlPass     = "mon-urlpass-Y2u4"
		twilioTok   = "twilio-secret-token-U1i9"
		smtpPass    = "smtp-secret-password-O0p3"
		monitorUser = "probeuser"
	)
	slackD := newServiceDouble(t, func(r *http.Request, body []byte) (string, string) {
		if r.URL.Path != "/services/T1/B1/"+slackPath {
			return "", "slack: " + r.URL.Path
		}
		return "slack", ""
	})
	pagerD := newServiceDouble(t, func(r *http.Request, body []byte) (string, string) {
		var p struct {
			RoutingKey string `json:"routing_key"`
		}
		if json.Unmarshal(body, &p) != nil || p.RoutingKey != pdKey {
			return "", "pagerduty: " + string(body)
		}
		return "pagerduty", ""
	})
	telegramD := newServiceDouble(t, func(r *http.Request, body []byte) (string, string) {
		if r.URL.Path != "/bot"+tgToken+"/sendMessage" {
			return "", "telegram: " + r.URL.Path
		}
		return "telegram", ""
	})
	rc := newReceiver(t)
	ht := newHeaderTarget(t)

	db := testdb.New(t)
	env := []string{"MEDIALUNA_MIN_CHECK_INTERVAL=1", "MEDIALUNA_PAGERDUTY_URL=" + pagerD.URL, "MEDIALUNA_TELEGRAM_URL=" + telegramD.URL,
		"MEDIALUNA_TWILIO_ACCOUNT_SID=" + twilioSID, "MEDIALUNA_TWILIO_AUTH_TOKEN=" + twilioTok, "MEDIALUNA_TWILIO_FROM=+15005550006",
		"MEDIALUNA_SMTP_USERNAME=mailer", "MEDIALUNA_SMTP_PASSWORD=" + smtpPass}
	s := startServer(t, db, smtpcatcher.Start(t), env...)
	su := signup(t, s, "secrets@example.com", "Secrets")
	unlimited(t, s, su.Account.ID)
	jwt := su.AccessToken

	var hook channel
	s.expect(201, "POST", "/api/notification-channels", jwt, map[string]string{"name": "hook", "channel_type": "WEBHOOK",
		"webhook_url": rc.URL + "/in?token=" + hookToken}).json(t, &hook)
	if !strings.HasPrefix(hook.WebhookSecret, "whsec_") {
		t.Fatalf("webhook secret %q", hook.WebhookSecret)
	}
	rc.setSecret(hook.WebhookSecret)
	channels := map[string]int64{"hook": hook.ID}
	for name, body := range map[string]map[string]string{
		"slack":    {"channel_type": "SLACK", "slack_webhook_url": slackD.URL + "/services/T1/B1/" + slackPath},
		"pager":    {"channel_type": "PAGERDUTY", "pagerduty_routing_key": pdKey},
		"telegram": {"channel_type": "TELEGRAM", "telegram_bot_token": tgToken, "telegram_chat_id": "-1001234567890"},
	} {
		body["name"] = name
		var ch channel
		s.expect(201, "POST", "/api/notification-channels", jwt, body).json(t, &ch)
		channels[name] = ch.ID
	}
	var withHeaders, withPassword monitor
	s.expect(201, "POST", "/api/v1/monitors", jwt, map[string]any{"name": "headers", "type": "HTTP", "url": ht.URL + "/h", "check_interval": 1,
		"request_headers": map[string]string{"Authorization": bearer, "Cookie": cookie, "X-API-Key": apiKey}}).json(t, &withHeaders)
	s.expect(201, "POST", "/api/v1/monitors", jwt, map[string]any{"name": "basic", "type": "HTTP", "check_interval": 1,
		"url": strings.Replace(ht.URL, "http://", "http://"+monitorUser+":"+urlPass+"@", 1) + "/b"}).json(t, &withPassword)
	var push monitor
	s.expect(201, "POST", "/api/v1/monitors", jwt, map[string]any{"name": "push", "type": "PUSH", "check_interval": 60}).json(t, &push)
	if len(push.PushToken) < 32 {
		t.Fatalf("push token %q", push.PushToken)
	}
	// The owner reads back what they configured, as before.
	if got := getMonitor(t, s, jwt, withHeaders.ID).RequestHeaders["X-API-Key"]; got != apiKey {
		t.Errorf("request_headers read back as %q", got)
	}
	secrets := []string{hook.WebhookSecret, hookToken, slackPath, pdKey, tgToken, strings.TrimPrefix(bearer, "Bearer "), cookie, apiKey, urlPass,
		twilioTok, smtpPass, masterKey1, push.PushToken}

	works := func(when string) {
		t.Helper()
		for name, id := range channels {
			if r := s.call("POST", "/api/notification-channels/"+itoa(id)+"/test", jwt, nil); r.Status != 200 {
				t.Errorf("%s: test notification through %s: %d %s", when, name, r.Status, r.Body)
			}
		}
		if p := rc.problems(); len(p) > 0 {
			t.Errorf("%s: webhook deliveries not signed with the channel's secret: %v", when, p)
		}
		for name, d := range map[string]*serviceDouble{"slack": slackD, "pagerduty": pagerD, "telegram": telegramD} {
			if p := d.problems(); len(p) > 0 {
				t.Errorf("%s: %s got %v", when, name, p)
			}
		}
		s.expect(200, "POST", "/api/push/"+push.PushToken, "", nil)
		ht.reset()
		waitFor(t, func() bool { return ht.saw(bearer+"|"+cookie+"|"+apiKey) && ht.saw("|"+monitorUser+":"+urlPass) })
	}
	works("created")
	// An incident on the monitor with a URL password is notified: the
	// notification (in the log, and sent to the webhook) shows the URL
	// with its password redacted.
	s.expect(201, "POST", "/api/notification-rules", jwt, map[string]any{"name": "basic down", "channel_ids": []int64{hook.ID},
		"monitor_ids": []int64{withPassword.ID}, "conditions": []map[string]any{{"type": "STATUS", "operator": "eq", "value": "down"}}})
	ht.mu.Lock()
	ht.down = true
	ht.mu.Unlock()
	waitFor(t, func() bool { return slices.Contains(rc.seen(), "incident.triggered") })
	ht.mu.Lock()
	ht.down = false
	ht.mu.Unlock()
	rc.mu.Lock()
	for _, p := range rc.payloads {
		if p["event"] == "incident.triggered" {
			b, _ := json.Marshal(p)
			if strings.Contains(string(b), urlPass) || !strings.Contains(string(b), monitorUser+":xxxxx@") {
				t.Errorf("the notification shows the monitor's URL as: %s", b)
			}
		}
	}
	rc.mu.Unlock()
	sent := len(rc.seen())

	audit := func() (string, string) {
		ndjson := s.expect(200, "GET", "/api/audit/events?format=ndjson", jwt, nil).Body
		csv := s.expect(200, "GET", "/api/audit/events?format=csv", jwt, nil).Body
		if !strings.Contains(string(ndjson), "NotificationChannelCreated") || !strings.Contains(string(csv), "MonitorCreated") {
			t.Fatalf("the audit export misses the channel and monitor events:\n%s", ndjson)
		}
		return string(ndjson), string(csv)
	}
	ndjson, csv := audit()
	noSecrets(t, "the events table", rawLog(t, db), secrets)
	noSecrets(t, "the NDJSON audit export", ndjson, secrets)
	noSecrets(t, "the CSV audit export", csv, secrets)
	if !strings.Contains(ndjson, domain.EnvelopePrefix) {
		t.Errorf("the audit export shows no sealed envelope:\n%s", ndjson)
	}
	out, errOut, err := medialuna(t, db, "events", "export")
	if err != nil || !strings.Contains(out, "MonitorCreated") {
		t.Fatalf("events export: %v %s", err, errOut)
	}
	noSecrets(t, "events export", out+errOut, secrets)

	// A rebuild opens the sealed events: channels and monitors still work.
	out, errOut, err = medialuna(t, db, "projections", "rebuild", "notifications", "monitors")
	if err != nil {
		t.Fatalf("rebuild: %v %s", err, errOut)
	}
	noSecrets(t, "the rebuild's output", out+errOut, secrets)
	works("rebuilt")
	if len(rc.seen()) <= sent {
		t.Errorf("no webhook delivery after the rebuild")
	}

	// Deleting the channel destroys its data key: the envelope of its
	// signing secret, in the log and every copy of it, no longer opens.
	hookStream := domain.ChannelStream(hook.ID)
	var envelope string
	if err := db.Get(&envelope, `SELECT data->>'webhook_secret' FROM events WHERE stream_id = $1 AND event_type = 'NotificationChannelCreated'`, hookStream); err != nil {
		t.Fatal(err)
	}
	if plain, ok := openEnvelope(t, db, masterKey1, hookStream, envelope); !ok || plain != hook.WebhookSecret {
		t.Fatalf("before the delete, the envelope opens to %q (%v)", plain, ok)
	}
	if _, ok := openEnvelope(t, db, masterKey1, domain.ChannelStream(channels["slack"]), envelope); ok {
		t.Errorf("an envelope opened with another stream's key")
	}
	s.expect(204, "DELETE", "/api/notification-channels/"+itoa(hook.ID), jwt, nil)
	delete(channels, "hook")
	if n := streamKeys(t, db, hookStream); n != 0 {
		t.Errorf("the deleted channel still has %d data keys", n)
	}
	if plain, ok := openEnvelope(t, db, masterKey1, hookStream, envelope); ok {
		t.Errorf("after the delete, the envelope still opens to %q", plain)
	}

	// Rotation: stop, rewrap every data key with a new master key; the
	// old key no longer starts the server, the new one does and everything
	// still works.
	if err := s.stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	firstLog := s.logs.String()
	_, errOut, err = medialuna(t, db, "secrets", "rotate-key", "--new-key", masterKey2)
	if err != nil || !strings.Contains(errOut, "data keys rewrapped") {
		t.Fatalf("rotate-key: %v %s", err, errOut)
	}
	noSecrets(t, "rotate-key's output", errOut, append(secrets, masterKey2))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	wrong, err := exec.CommandContext(ctx, binary, "serve", "--addr", freeAddr(t), "--database-url", db.URL).CombinedOutput()
	if err == nil || !strings.Contains(string(wrong), "sealed under master key") {
		t.Errorf("serve with the old key after rotation: %v\n%s", err, wrong)
	}
	s = startServer(t, db, smtpcatcher.Start(t), append(env, "MEDIALUNA_SECRET_KEY="+masterKey2)...)
	works("rotated")
	secrets = append(secrets, masterKey2)
	ndjson, csv = audit()
	noSecrets(t, "the events table", rawLog(t, db), secrets)
	noSecrets(t, "the NDJSON audit export", ndjson, secrets)
	noSecrets(t, "the CSV audit export", csv, secrets)
	// Deleting a monitor destroys its key too.
	s.expect(204, "DELETE", "/api/v1/monitors/"+itoa(withHeaders.ID), jwt, nil)
	if n := streamKeys(t, db, domain.MonitorStream(withHeaders.ID)); n != 0 {
		t.Errorf("the deleted monitor still has %d data keys", n)
	}
	noSecrets(t, "the server log", firstLog+s.logs.String(), secrets)
}

// TestSealLogUpgradesAnOldLog appends channel events the way builds before
// sealing wrote them (secrets in plaintext), then runs `secrets seal-log`:
// the secrets leave the log, the channel still delivers signed with its
// secret (also after a rebuild), the deleted channel's secret cannot be
// opened, a second run changes nothing, and serve's start-up warning goes.
func TestSealLogUpgradesAnOldLog(t *testing.T) {
	t.Setenv("MEDIALUNA_SECRET_KEY", masterKey1)
	const (
		oldSecret = "whsec_old0123456789abcdef0123456789abcdef0123456789abcdef01234567"
		oldToken  = "old-hook-token-K5l6"
		oldSlack  = "old-slack-path-J7h8"
	)
	rc := newReceiver(t)
	rc.setSecret(oldSecret)
	db := testdb.New(t)
	s := startServer(t, db, smtpcatcher.Start(t))
	su := signup(t, s, "old@example.com", "Old")
	jwt := su.AccessToken

	ctx := context.Background()
	raw := postgres.NewEventStore(db.DB, db.URL, testdb.Logger(t))
	ids := postgres.NewIDs(db.DB)
	meta := domain.Metadata{ActorType: domain.ActorUser, ActorID: su.User.ID, AccountID: su.Account.ID, OccurredAt: time.Now().UTC()}
	appendOld := func(stream string, evs ...domain.Event) {
		t.Helper()
		for i, e := range evs {
			d, err := domain.Encode(e, meta, itoa(int64(i))+"-"+stream)
			if err != nil {
				t.Fatal(err)
			}
			d.ID = newUUID(t, db)
			if _, err := raw.Append(ctx, stream, domain.AnyVersion, d); err != nil {
				t.Fatal(err)
			}
		}
	}
	hookID, err := ids.Next(ctx, "channel")
	if err != nil {
		t.Fatal(err)
	}
	appendOld(domain.ChannelStream(hookID), &domain.ChannelCreated{ChannelID: hookID, AccountID: su.Account.ID, WebhookSecret: oldSecret,
		Config: domain.ChannelConfig{Name: "old hook", Type: domain.ChannelWebhook, WebhookURL: rc.URL + "/old?token=" + oldToken, Enabled: true}})
	goneID, err := ids.Next(ctx, "channel")
	if err != nil {
		t.Fatal(err)
	}
	appendOld(domain.ChannelStream(goneID), &domain.ChannelCreated{ChannelID: goneID, AccountID: su.Account.ID,
		Config: domain.ChannelConfig{Name: "gone", Type: domain.ChannelSlack, SlackWebhookURL: "https://hooks.slack.com/services/" + oldSlack, Enabled: true}},
		&domain.ChannelDeleted{})
	secrets := []string{oldSecret, oldToken, oldSlack}
	for _, sec := range secrets {
		if !strings.Contains(rawLog(t, db), sec) {
			t.Fatalf("the old-style log does not hold %q: the test wrote it wrong", sec)
		}
	}
	waitFor(t, func() bool { return s.call("GET", "/api/notification-channels/"+itoa(hookID), jwt, nil).Status == 200 })

	// serve warns while the log may hold plaintext.
	if _, err := db.Exec(`DELETE FROM settings WHERE key = 'secrets_log_sealed'`); err != nil {
		t.Fatal(err)
	}
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	s = startServer(t, db, smtpcatcher.Start(t))
	if !strings.Contains(s.logs.String(), "secrets seal-log") {
		t.Errorf("serve did not warn of plaintext secrets:\n%s", s.logs.String())
	}

	_, errOut, err := medialuna(t, db, "secrets", "seal-log")
	if err != nil || !strings.Contains(errOut, "2 sealed") || !strings.Contains(errOut, "1 deleted streams") {
		t.Fatalf("seal-log: %v\n%s", err, errOut)
	}
	noSecrets(t, "the sealed events table", rawLog(t, db), secrets)
	noSecrets(t, "seal-log's output", errOut, secrets)
	if n := streamKeys(t, db, domain.ChannelStream(goneID)); n != 0 {
		t.Errorf("the deleted channel kept its data key")
	}
	var envelope string
	if err := db.Get(&envelope, `SELECT data->'config'->>'slack_webhook_url' FROM events WHERE stream_id = $1 AND event_type = 'NotificationChannelCreated'`,
		domain.ChannelStream(goneID)); err != nil {
		t.Fatal(err)
	}
	if plain, ok := openEnvelope(t, db, masterKey1, domain.ChannelStream(goneID), envelope); ok || !domain.IsEnvelope(envelope) {
		t.Errorf("the deleted channel's sealed URL %q opens to %q", envelope, plain)
	}

	test := func(when string) {
		t.Helper()
		before := len(rc.seen())
		if r := s.call("POST", "/api/notification-channels/"+itoa(hookID)+"/test", jwt, nil); r.Status != 200 {
			t.Errorf("%s: test notification: %d %s", when, r.Status, r.Body)
		}
		if len(rc.seen()) != before+1 || len(rc.problems()) > 0 {
			t.Errorf("%s: webhook deliveries %v, badly signed %v", when, rc.seen(), rc.problems())
		}
	}
	test("sealed")
	if _, errOut, err := medialuna(t, db, "projections", "rebuild", "notifications"); err != nil {
		t.Fatalf("rebuild: %v %s", err, errOut)
	}
	test("rebuilt")

	_, errOut, err = medialuna(t, db, "secrets", "seal-log")
	if err != nil || !strings.Contains(errOut, "0 sealed") {
		t.Errorf("second seal-log: %v\n%s", err, errOut)
	}
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	s = startServer(t, db, smtpcatcher.Start(t))
	if strings.Contains(s.logs.String(), "secrets seal-log") {
		t.Errorf("serve still warns after seal-log")
	}
	test("restarted")
	noSecrets(t, "the server log", s.logs.String(), secrets)
}

func newUUID(t *testing.T, db *testdb.DB) string {
	t.Helper()
	var id string
	if err := db.Get(&id, `SELECT gen_random_uuid()::text`); err != nil {
		t.Fatal(err)
	}
	return id
}
