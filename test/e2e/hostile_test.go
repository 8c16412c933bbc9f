package e2e

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/medialuna/medialuna/adapters/postgres"
	"github.com/medialuna/medialuna/domain"
	"github.com/medialuna/medialuna/test/smtpcatcher"
	"github.com/medialuna/medialuna/test/testdb"
)

// nul carries the bytes no PostgreSQL text or jsonb value can hold (U+0000)
// next to other control characters.
const nul = "a\x00b\x01c"

// TestEventsWithNULBytesStopNoReader appends events full of NUL bytes
// straight to the log, as an older build or another writer might, and shows
// every projector and consumer moving past them: the read models store the
// text safely (U+0000 becomes U+FFFD), the detector still opens an incident
// for a monitor whose name holds a NUL, later writes still answer at once,
// and `projections rebuild` completes.
func TestEventsWithNULBytesStopNoReader(t *testing.T) {
	db := testdb.New(t)
	s := startServer(t, db, smtpcatcher.Start(t), "MEDIALUNA_MIN_CHECK_INTERVAL=1")
	uncheckedByOpenAPI(s, "it appends events the API would refuse (a NUL tag colour, a rule without conditions) straight to the log")
	owner := signup(t, s, "nul@example.com", "NUL Team")
	unlimited(t, s, owner.Account.ID)

	ctx := context.Background()
	store := postgres.NewEventStore(db.DB, db.URL, testdb.Logger(t))
	defer store.Close()
	ids := postgres.NewIDs(db.DB)
	acct := owner.Account.ID
	meta := domain.Metadata{ActorType: domain.ActorUser, ActorID: owner.User.ID, AccountID: acct, CorrelationID: "hostile", OccurredAt: time.Now().UTC()}
	next := func(kind string) int64 {
		id, err := ids.Next(ctx, kind)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	appendNew := func(stream string, events ...domain.Event) domain.Position {
		t.Helper()
		data := make([]domain.EventData, len(events))
		for i, e := range events {
			d, err := domain.Encode(e, meta, uuid.NewString())
			if err != nil {
				t.Fatal(err)
			}
			data[i] = d
		}
		res, err := store.Append(ctx, stream, domain.AnyVersion, data...)
		if err != nil {
			t.Fatalf("append to %s: %v", stream, err)
		}
		return res.Position
	}

	// A port that refuses connections: the monitor goes down at once.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()

	var regions []struct {
		ID int64 `json:"id"`
	}
	s.expect(200, "GET", "/api/regions/public", "", nil).json(t, &regions)
	text := nul
	monitorID := next("monitor")
	appendNew(domain.MonitorStream(monitorID), domain.MonitorCreated{MonitorID: monitorID, AccountID: acct, Config: domain.MonitorConfig{
		Name: "down " + nul, Type: domain.TypeHTTP, URL: "http://" + closed + "/" + nul, CheckInterval: 1, Timeout: 2,
		RegionIDs: []int64{regions[0].ID}, ConfirmFromLocations: 1, ExpectedStatusCodes: []int{200},
		RequestHeaders: map[string]string{"X-" + nul: nul}, RequestBody: nul, HTTPMethod: "GET", TagIDs: []int64{}, DependsOn: []int64{}}})
	appendNew(domain.ChecksStream(regions[0].ID), domain.CheckRecorded{MonitorID: monitorID, RegionID: regions[0].ID,
		ScheduledAt: time.Now().UTC(), CheckedAt: time.Now().UTC(), CheckOutcome: domain.CheckOutcome{Error: "refused " + nul, Detail: nul}})
	appendNew(domain.AccountStream(acct), domain.AccountUpdated{Name: "team " + nul, Timezone: "UTC"})
	userID := next("user")
	appendNew(domain.UserStream(userID), domain.UserRegistered{UserID: userID, AccountID: acct, Email: "x" + nul + "@example.com", FullName: nul, PasswordHash: nul})
	tagID := next("tag")
	appendNew(domain.TagStream(tagID), domain.TagCreated{TagID: tagID, AccountID: acct, Name: nul, Color: nul})
	windowID := next("maintenance")
	appendNew(domain.MaintenanceStream(windowID), domain.MaintenanceScheduled{WindowID: windowID, AccountID: acct, Config: domain.MaintenanceConfig{
		Name: nul, Description: &text, StartTime: time.Now().Add(48 * time.Hour).UTC(), EndTime: time.Now().Add(49 * time.Hour).UTC(),
		TimeZone: "UTC", MonitorIDs: []int64{}, IsActive: true}})
	channelID := next("channel")
	appendNew(domain.ChannelStream(channelID), domain.ChannelCreated{ChannelID: channelID, AccountID: acct, Config: domain.ChannelConfig{
		Name: nul, Type: domain.ChannelWebhook, WebhookURL: "http://" + closed + "/" + nul, Enabled: false}, WebhookSecret: nul})
	ruleID := next("rule")
	appendNew(domain.RuleStream(ruleID), domain.RuleCreated{RuleID: ruleID, AccountID: acct, Config: domain.RuleConfig{
		Name: nul, ChannelIDs: []int64{channelID}, MonitorIDs: []int64{}, ConsecutiveChecks: 1}})
	pageID := next("status_page")
	appendNew(domain.StatusPageStream(pageID), domain.StatusPageCreated{PageID: pageID, AccountID: acct, Config: domain.StatusPageConfig{
		Title: nul, Subdomain: "nul-page", Description: &text, CustomCSS: &text, LogoURL: &text, MonitorIDs: []int64{monitorID}, IsPublic: true}})

	// The detector opens an incident for the monitor whose name holds a NUL.
	var incidents []incident
	waitFor(t, func() bool {
		incidents = incidentsOf(t, s, owner.AccessToken, "?monitor_id="+itoa(monitorID))
		return len(incidents) == 1
	})
	last := appendNew(domain.IncidentStream(incidents[0].ID), domain.IncidentCommented{UserID: owner.User.ID, Message: nul, Public: true})

	// Every reader has moved past every hostile event, and none was parked:
	// the text was stored safely.
	waitFor(t, func() bool {
		var behind int
		if err := db.Get(&behind, `SELECT count(*) FROM projection_checkpoints WHERE (commit_position, prepare_position) < ($1, $2)`,
			last.Commit, last.Prepare); err != nil {
			t.Fatal(err)
		}
		return behind == 0
	})
	var parked []string
	if err := db.Select(&parked, `SELECT projector || ' ' || event_type || ': ' || error FROM parked_events`); err != nil {
		t.Fatal(err)
	}
	if len(parked) > 0 {
		t.Errorf("parked events:\n%s", strings.Join(parked, "\n"))
	}

	var m monitor
	s.expect(200, "GET", fmt.Sprintf("/api/v1/monitors/%d", monitorID), owner.AccessToken, nil).json(t, &m)
	if want := "down a\uFFFDb\x01c"; m.Name != want {
		t.Errorf("monitor name %q, want %q", m.Name, want)
	}
	var timeline struct {
		Timeline []struct {
			EventType string `json:"event_type"`
			Message   string `json:"message"`
		} `json:"timeline"`
	}
	waitFor(t, func() bool {
		s.expect(200, "GET", fmt.Sprintf("/api/v1/incidents/%d", incidents[0].ID), owner.AccessToken, nil).json(t, &timeline)
		for _, e := range timeline.Timeline {
			if e.EventType == "COMMENT" {
				return e.Message == "a\uFFFDb\x01c"
			}
		}
		return false
	})
	for _, path := range []string{"/api/maintenance-windows", "/api/notification-channels", "/api/notification-rules", "/api/status-pages",
		"/api/tags", "/api/users/me", "/api/v1/account", "/api/audit/events"} {
		s.expect(200, "GET", path, owner.AccessToken, nil)
	}
	s.expect(200, "GET", "/status/nul-page", "", nil)

	// A write after the hostile events answers at once with what it wrote.
	started := time.Now()
	var created monitor
	s.expect(201, "POST", "/api/v1/monitors", owner.AccessToken, map[string]any{"name": "after", "type": "TCP", "url": closed, "check_interval": 60}).json(t, &created)
	if created.Name != "after" || time.Since(started) > 5*time.Second {
		t.Errorf("create after hostile events: %+v in %s", created, time.Since(started))
	}

	// A rebuild of every read model completes over the same log.
	if out, errOut, err := medialuna(t, db, "projections", "rebuild"); err != nil {
		t.Fatalf("projections rebuild: %v\n%s\n%s", err, out, errOut)
	}
	s.expect(200, "GET", fmt.Sprintf("/api/v1/monitors/%d", monitorID), owner.AccessToken, nil).json(t, &m)
	if want := "down a\uFFFDb\x01c"; m.Name != want {
		t.Errorf("after rebuild: monitor name %q, want %q", m.Name, want)
	}
}

// tracedCall makes a request with its own X-Request-ID and returns the
// answer and how many events the request appended: every event carries the
// request id as its correlation id.
func (s *server) tracedCall(t testing.TB, method, path, auth string, body any) (response, int) {
	t.Helper()
	id := uuid.NewString()
	r := s.request(t, method, path, auth, body, http.Header{"X-Request-Id": {id}})
	if got := r.Header.Get("X-Request-ID"); got != id {
		t.Fatalf("%s %s: request id %q not taken (got %q): the events could not be traced", method, path, id, got)
	}
	var appended int
	if err := s.DB.Get(&appended, `SELECT count(*) FROM events WHERE metadata->>'correlation_id' = $1`, id); err != nil {
		t.Fatal(err)
	}
	return r, appended
}

// TestHostileTextRefusedAtTheEdge sends NUL bytes, control characters and
// invalid UTF-8 in every kind of string the API takes: each is a 422 naming
// the field (bodies) or a 400 (query strings, paths), and appends nothing.
// Line breaks stay allowed where they belong.
func TestHostileTextRefusedAtTheEdge(t *testing.T) {
	db := testdb.New(t)
	s := startServer(t, db, smtpcatcher.Start(t), "MEDIALUNA_MIN_CHECK_INTERVAL=1")
	owner := signup(t, s, "edge@example.com", "Edge Team")
	unlimited(t, s, owner.Account.ID)
	tok := owner.AccessToken

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	var m monitor
	s.expect(201, "POST", "/api/v1/monitors", tok, map[string]any{"name": "down", "type": "TCP", "url": closed, "check_interval": 1}).json(t, &m)
	var channel struct {
		ID int64 `json:"id"`
	}
	s.expect(201, "POST", "/api/notification-channels", tok, map[string]any{"name": "ops", "channel_type": "EMAIL", "email_recipient": "ops@example.com"}).json(t, &channel)
	incidents := waitIncidents(t, s, tok, "?monitor_id="+itoa(m.ID), 1)
	inc := itoa(incidents[0].ID)
	mon := itoa(m.ID)
	window := map[string]any{"start_time": time.Now().Add(time.Hour).UTC().Format(time.RFC3339), "end_time": time.Now().Add(2 * time.Hour).UTC().Format(time.RFC3339)}
	with := func(base map[string]any, kv ...any) map[string]any {
		out := map[string]any{}
		for k, v := range base {
			out[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			out[kv[i].(string)] = kv[i+1]
		}
		return out
	}
	newMonitor := map[string]any{"name": "ok", "type": "HTTP", "url": "http://" + closed + "/", "check_interval": 60}

	refused := []struct {
		name, method, path string
		body               any
		loc                string // the 422's loc after "body", joined by "."
	}{
		{"signup account name", "POST", "/api/auth/signup", map[string]any{"email": "n@example.com", "password": "long enough pw", "account_name": nul}, "account_name"},
		{"signup full name", "POST", "/api/auth/signup", map[string]any{"email": "n@example.com", "password": "long enough pw", "account_name": "x", "full_name": "\x00"}, "full_name"},
		{"signup email", "POST", "/api/auth/signup", map[string]any{"email": "n\x00@example.com", "password": "long enough pw", "account_name": "x"}, "email"},
		{"accept-invite full name", "POST", "/api/auth/accept-invite", map[string]any{"token": "t", "password": "long enough pw", "full_name": nul}, "full_name"},
		{"login password", "POST", "/api/auth/login", map[string]any{"email": "edge@example.com", "password": "a\x00"}, "password"},
		{"monitor name", "POST", "/api/v1/monitors", with(newMonitor, "name", nul), "name"},
		{"monitor name with a line break", "POST", "/api/v1/monitors", with(newMonitor, "name", "two\nlines"), "name"},
		{"monitor request body", "POST", "/api/v1/monitors", with(newMonitor, "request_body", "a\x00b"), "request_body"},
		{"monitor url", "POST", "/api/v1/monitors", with(newMonitor, "url", "http://example.com/\r\nHost: evil"), "url"},
		{"monitor header value", "POST", "/api/v1/monitors", with(newMonitor, "request_headers", map[string]string{"X-A": "v\r\nX-Injected: 1"}), "request_headers.X-A"},
		{"monitor header name", "POST", "/api/v1/monitors", with(newMonitor, "request_headers", map[string]string{"X-\x00": "v"}), "request_headers.X-\x00"},
		{"monitor update", "PUT", "/api/v1/monitors/" + mon, map[string]any{"name": nul}, "name"},
		{"tag name", "POST", "/api/tags", map[string]any{"name": "t\x00g"}, "name"},
		{"tag name, invalid UTF-8", "POST", "/api/tags", []byte("{\"name\":\"t\xffg\"}"), "name"},
		{"tag name, lone surrogate", "POST", "/api/tags", `{"name":"t\ud800g"}`, "name"},
		{"account name", "PATCH", "/api/v1/account", map[string]any{"name": "\x1b[31mred"}, "name"},
		{"API key name", "POST", "/api/users/api-keys", map[string]any{"name": nul, "scopes": []string{"read:account"}}, "name"},
		{"API key scope", "POST", "/api/users/api-keys", map[string]any{"name": "k", "scopes": []string{"read:account\x00"}}, "scopes.0"},
		{"invitation email", "POST", "/api/accounts/users/invite", map[string]any{"email": "a\x00@example.com", "role": "EDITOR"}, "email"},
		{"maintenance name", "POST", "/api/maintenance-windows", with(window, "name", nul), "name"},
		{"maintenance description", "POST", "/api/maintenance-windows", with(window, "name", "w", "description", "a\x00"), "description"},
		{"channel name", "POST", "/api/notification-channels", map[string]any{"name": nul, "channel_type": "EMAIL", "email_recipient": "a@example.com"}, "name"},
		{"channel update", "PUT", "/api/notification-channels/" + itoa(channel.ID), map[string]any{"name": nul}, "name"},
		{"rule name", "POST", "/api/notification-rules", map[string]any{"name": nul, "channel_ids": []int64{channel.ID}, "conditions": []map[string]any{{"type": "STATUS", "value": "down"}}}, "name"},
		{"rule condition", "POST", "/api/notification-rules", map[string]any{"name": "r", "channel_ids": []int64{channel.ID}, "conditions": []map[string]any{{"type": "STATUS", "value": "down\x00"}}}, "conditions.0.value"},
		{"status page description", "POST", "/api/status-pages", map[string]any{"title": "t", "subdomain": "edge-page", "description": nul}, "description"},
		{"status page css", "POST", "/api/status-pages", map[string]any{"title": "t", "subdomain": "edge-page", "custom_css": "a{}\x00"}, "custom_css"},
		{"status page title", "POST", "/api/status-pages", map[string]any{"title": "\x07", "subdomain": "edge-page"}, "title"},
		{"acknowledge message", "POST", "/api/incidents/" + inc + "/acknowledge", map[string]any{"message": nul}, "message"},
		{"snooze reason", "POST", "/api/incidents/" + inc + "/snooze", map[string]any{"duration_minutes": 5, "reason": nul}, "reason"},
		{"comment", "POST", "/api/incidents/" + inc + "/timeline", map[string]any{"message": "a\x00b"}, "message"},
		{"comment with a bell", "POST", "/api/incidents/" + inc + "/timeline", map[string]any{"message": "ding\x07"}, "message"},
		{"bulk action", "POST", "/api/monitors/bulk", map[string]any{"action": "pause\x00", "monitor_ids": []int64{m.ID}}, "action"},
		{"unknown field", "POST", "/api/tags", map[string]any{"name": "fine", "x\x00": 1}, "x\x00"},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			r, appended := s.tracedCall(t, tc.method, tc.path, tok, tc.body)
			if appended != 0 {
				t.Errorf("appended %d events", appended)
			}
			if r.Status != 422 {
				t.Fatalf("status %d, want 422: %s", r.Status, r.Body)
			}
			var body struct {
				Detail []struct {
					Loc  []any  `json:"loc"`
					Type string `json:"type"`
				} `json:"detail"`
			}
			r.json(t, &body)
			if len(body.Detail) == 0 {
				t.Fatalf("no detail: %s", r.Body)
			}
			var loc []string
			for _, l := range body.Detail[0].Loc[1:] {
				loc = append(loc, fmt.Sprint(l))
			}
			if got := strings.Join(loc, "."); body.Detail[0].Loc[0] != "body" || got != tc.loc {
				t.Errorf("loc %v, want body.%s: %s", body.Detail[0].Loc, tc.loc, r.Body)
			}
		})
	}

	for _, path := range []string{"/api/v1/monitors?search=%00", "/api/v1/monitors?tag=%00", "/api/v1/monitors?search=%FF", "/api/push/%00",
		"/api/v1/incidents?status=%1B", "/api/audit/events?stream=a%00", "/status/a%00b", "/api/v1/monitors/" + mon + "%00"} {
		r, appended := s.tracedCall(t, "GET", path, tok, nil)
		if r.Status != 400 || appended != 0 {
			t.Errorf("GET %s: status %d, %d events appended, want 400 and none: %s", path, r.Status, appended, r.Body)
		}
	}
	if r, appended := s.tracedCall(t, "POST", "/api/push/%00", "", nil); r.Status != 400 || appended != 0 {
		t.Errorf("POST /api/push/%%00: status %d, %d events, want 400 and none", r.Status, appended)
	}

	// What a field legitimately holds is kept: line breaks and tabs in a
	// request body, CSS and descriptions, a tab in a header value.
	var kept struct {
		RequestBody    string            `json:"request_body"`
		RequestHeaders map[string]string `json:"request_headers"`
	}
	s.expect(201, "POST", "/api/v1/monitors", tok, with(newMonitor, "http_method", "POST", "request_body", "{\n\t\"a\": 1\r\n}", "request_headers", map[string]string{"X-Folded": "a\tb"})).json(t, &kept)
	if kept.RequestBody != "{\n\t\"a\": 1\r\n}" || kept.RequestHeaders["X-Folded"] != "a\tb" {
		t.Errorf("kept %+v", kept)
	}
	s.expect(201, "POST", "/api/status-pages", tok, map[string]any{"title": "Ünïcode ✓", "subdomain": "edge-page", "description": "one\ntwo", "custom_css": "body {\n\tcolor: red;\n}"})
	s.expect(201, "POST", "/api/maintenance-windows", tok, with(window, "name", "Deploy", "description", "Steps:\n1. drain\n2. deploy", "applies_to_all_monitors", true))
	s.expect(201, "POST", "/api/incidents/"+inc+"/timeline", tok, map[string]any{"message": "Line one\nLine two"})
}

// TestWriteAnswersWhileAReadModelIsStuck holds the monitors read model's
// checkpoint row locked, so the projector cannot apply anything, and shows a
// create answering 202 with the decided id within a few seconds instead of
// a 404 after ten; once the model moves again the monitor is there.
func TestWriteAnswersWhileAReadModelIsStuck(t *testing.T) {
	db := testdb.New(t)
	s := startServer(t, db, smtpcatcher.Start(t))
	owner := signup(t, s, "stuck@example.com", "Stuck Team")

	tx, err := db.Beginx()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.Exec(`SELECT 1 FROM projection_checkpoints WHERE name = 'monitors' FOR UPDATE`); err != nil {
		t.Fatal(err)
	}
	started := time.Now()
	r := s.call("POST", "/api/v1/monitors", owner.AccessToken, map[string]any{"name": "while stuck", "type": "TCP", "url": "127.0.0.1:1", "check_interval": 300})
	took := time.Since(started)
	var accepted struct {
		ID       int64  `json:"id"`
		Recorded bool   `json:"recorded"`
		Detail   string `json:"detail"`
	}
	r.json(t, &accepted)
	if r.Status != 202 || accepted.ID == 0 || !accepted.Recorded || !strings.Contains(accepted.Detail, "recorded") {
		t.Fatalf("create while the model is stuck: status %d, %s", r.Status, r.Body)
	}
	t.Logf("answered 202 after %s", took)
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool {
		return s.call("GET", fmt.Sprintf("/api/v1/monitors/%d", accepted.ID), owner.AccessToken, nil).Status == 200
	})
}
