package e2e

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/medialuna/medialuna/test/smtpcatcher"
	"github.com/medialuna/medialuna/test/testdb"
)

// receiver is a webhook endpoint that checks signatures with its own HMAC
// code and can be told to fail.
type receiver struct {
	*httptest.Server
	secret   string
	mu       sync.Mutex
	events   []string
	payloads []map[string]any
	failNext int
	bad      []string
}

func newReceiver(t *testing.T) *receiver {
	rc := &receiver{}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		defer rc.mu.Unlock()
		if rc.failNext > 0 {
			rc.failNext--
			w.WriteHeader(503)
			return
		}
		sig := r.Header.Get("X-Media-Luna-Signature")
		var ts, v1 string
		for _, part := range strings.Split(sig, ",") {
			k, v, _ := strings.Cut(part, "=")
			switch k {
			case "t":
				ts = v
			case "v1":
				v1 = v
			}
		}
		mac := hmac.New(sha256.New, []byte(rc.secret))
		mac.Write([]byte(ts + "." + string(body)))
		if !hmac.Equal([]byte(hex.EncodeToString(mac.Sum(nil))), []byte(v1)) || r.Header.Get("Content-Type") != "application/json" ||
			r.Header.Get("X-Media-Luna-Delivery") == "" {
			rc.bad = append(rc.bad, sig)
			w.WriteHeader(400)
			return
		}
		var p map[string]any
		json.Unmarshal(body, &p)
		rc.events = append(rc.events, p["event"].(string))
		rc.payloads = append(rc.payloads, p)
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) seen() []string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]string(nil), rc.events...)
}

// TestIncidentNotificationsAreDelivered: a rule routes an incident's life to
// a signed webhook and to email; a failing endpoint is retried; every
// attempt shows on the timeline and in the channel's deliveries.
func TestIncidentNotificationsAreDelivered(t *testing.T) {
	mail := smtpcatcher.Start(t)
	s := startServer(t, testdb.New(t), mail, "MEDIALUNA_MIN_CHECK_INTERVAL=1")
	su := signup(t, s, "deliver@example.com", "Deliver")
	unlimited(t, s, su.Account.ID)
	jwt := su.AccessToken
	rc := newReceiver(t)
	var hook, mailCh channel
	s.expect(201, "POST", "/api/notification-channels", jwt, map[string]string{"name": "ops", "channel_type": "WEBHOOK", "webhook_url": rc.URL}).json(t, &hook)
	rc.secret = hook.WebhookSecret
	s.expect(201, "POST", "/api/notification-channels", jwt, map[string]string{"name": "mail", "channel_type": "EMAIL", "email_recipient": "oncall@example.com"}).json(t, &mailCh)
	s.expect(200, "POST", "/api/notification-channels/"+itoa(hook.ID)+"/test", jwt, nil)
	waitFor(t, func() bool { return strings.Join(rc.seen(), " ") == "test" })

	tg := newTarget(t)
	var m monitor
	s.expect(201, "POST", "/api/v1/monitors", jwt, map[string]any{"name": "shop", "type": "HTTP", "url": tg.URL, "check_interval": 1}).json(t, &m)
	s.expect(201, "POST", "/api/notification-rules", jwt, map[string]any{"name": "down", "channel_ids": []int64{hook.ID, mailCh.ID},
		"conditions": []map[string]any{{"type": "STATUS", "operator": "eq", "value": "down"}}})
	waitStatus(t, s, jwt, m.ID, "up")

	rc.mu.Lock()
	rc.failNext = 2 // the trigger notification fails twice, then arrives
	rc.mu.Unlock()
	tg.healthy.Store(false)
	inc := waitIncidents(t, s, jwt, "", 1)[0]
	waitFor(t, func() bool { return strings.Join(rc.seen(), " ") == "test incident.triggered" })
	got := mail.WaitFor(t, "oncall@example.com", 20*time.Second)
	if !strings.Contains(got.Data, "DOWN: shop") {
		t.Errorf("email:\n%s", got.Data)
	}
	rc.mu.Lock()
	p := rc.payloads[1]
	rc.mu.Unlock()
	incJSON, _ := json.Marshal(p["incident"])
	monJSON, _ := json.Marshal(p["monitor"])
	if p["account_id"].(float64) != float64(su.Account.ID) || !strings.Contains(string(incJSON), `"incident_type":"DOWN"`) ||
		!strings.Contains(string(monJSON), `"name":"shop"`) || p["occurred_at"] == nil {
		t.Errorf("payload = %v", p)
	}

	s.expect(200, "POST", "/api/incidents/"+itoa(inc.ID)+"/acknowledge", jwt, nil)
	waitFor(t, func() bool { return strings.Join(rc.seen(), " ") == "test incident.triggered incident.acknowledged" })
	tg.healthy.Store(true)
	waitFor(t, func() bool {
		return strings.Join(rc.seen(), " ") == "test incident.triggered incident.acknowledged incident.resolved monitor.recovered"
	})

	var full incident
	waitFor(t, func() bool {
		s.expect(200, "GET", "/api/v1/incidents/"+itoa(inc.ID), jwt, nil).json(t, &full)
		n, retries := 0, 0
		for _, e := range full.Timeline {
			switch e.EventType {
			case "NOTIFICATION_SENT":
				n++
			case "NOTIFICATION_RETRYING":
				retries++
			}
		}
		// Four events, two channels; the two failed attempts before the
		// trigger got through show too.
		return n == 8 && retries == 2
	})
	var deliveries []struct {
		Event    string `json:"event"`
		Status   string `json:"status"`
		Attempts int    `json:"attempts"`
	}
	s.expect(200, "GET", "/api/notification-channels/"+itoa(hook.ID)+"/deliveries", jwt, nil).json(t, &deliveries)
	var triggered []int
	for _, d := range deliveries {
		if d.Status != "delivered" {
			t.Errorf("delivery %+v", d)
		}
		if d.Event == "incident.triggered" {
			triggered = append(triggered, d.Attempts)
		}
	}
	if len(deliveries) != 4 || len(triggered) != 1 || triggered[0] != 3 {
		t.Errorf("deliveries = %+v; want 4 delivered, the trigger after 3 attempts", deliveries)
	}
	rc.mu.Lock()
	if len(rc.bad) > 0 {
		t.Errorf("requests with bad signatures: %v", rc.bad)
	}
	rc.mu.Unlock()
}

// TestNotificationSurvivesACrashBeforeSending kills the server while the
// decision to notify is in the log but the endpoint has not accepted it,
// restarts it, and sees the notification arrive.
func TestNotificationSurvivesACrashBeforeSending(t *testing.T) {
	db := testdb.New(t)
	mail := smtpcatcher.Start(t)
	s := startServer(t, db, mail, "MEDIALUNA_MIN_CHECK_INTERVAL=1")
	su := signup(t, s, "crash@example.com", "Crash")
	unlimited(t, s, su.Account.ID)
	jwt := su.AccessToken
	rc := newReceiver(t)
	rc.failNext = 1 << 30 // down until told otherwise
	var hook channel
	s.expect(201, "POST", "/api/notification-channels", jwt, map[string]string{"name": "ops", "channel_type": "WEBHOOK", "webhook_url": rc.URL}).json(t, &hook)
	rc.secret = hook.WebhookSecret
	tg := newTarget(t)
	var m monitor
	s.expect(201, "POST", "/api/v1/monitors", jwt, map[string]any{"name": "api", "type": "HTTP", "url": tg.URL, "check_interval": 1}).json(t, &m)
	s.expect(201, "POST", "/api/notification-rules", jwt, map[string]any{"name": "down", "channel_ids": []int64{hook.ID},
		"conditions": []map[string]any{{"type": "STATUS", "operator": "eq", "value": "down"}}})
	waitStatus(t, s, jwt, m.ID, "up")
	tg.healthy.Store(false)
	waitIncidents(t, s, jwt, "", 1)
	waitFor(t, func() bool {
		var queued int
		db.Get(&queued, `SELECT count(*) FROM events WHERE event_type = 'NotificationQueued'`)
		return queued == 1
	})
	time.Sleep(500 * time.Millisecond) // the dispatcher is retrying against the failing endpoint
	s.cmd.Process.Kill()
	s.done <- <-s.done // keep the exit for the harness's cleanup
	var attempted int
	db.Get(&attempted, `SELECT count(*) FROM events WHERE event_type = 'NotificationAttempted'`)
	if attempted != 0 {
		t.Fatalf("an outcome was recorded before the crash (%d); the test needs the send still pending", attempted)
	}

	rc.mu.Lock()
	rc.failNext = 0
	rc.mu.Unlock()
	s2 := startServer(t, db, mail, "MEDIALUNA_MIN_CHECK_INTERVAL=1")
	waitFor(t, func() bool { return strings.Contains(strings.Join(rc.seen(), " "), "incident.triggered") })
	var deliveries []struct {
		Event  string `json:"event"`
		Status string `json:"status"`
	}
	waitFor(t, func() bool {
		s2.expect(200, "GET", "/api/notification-channels/"+itoa(hook.ID)+"/deliveries", jwt, nil).json(t, &deliveries)
		return len(deliveries) >= 1 && deliveries[len(deliveries)-1].Status == "delivered"
	})
	if n := strings.Count(strings.Join(rc.seen(), " "), "incident.triggered"); n != 1 {
		t.Errorf("incident.triggered arrived %d times", n)
	}
}
