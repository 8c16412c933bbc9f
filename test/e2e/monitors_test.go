package e2e

import (
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/medialuna/medialuna/test/smtpcatcher"
	"github.com/medialuna/medialuna/test/testdb"
)

type monitor struct {
	ID                   int64             `json:"id"`
	Name                 string            `json:"name"`
	Type                 string            `json:"type"`
	URL                  string            `json:"url"`
	Status               string            `json:"status"`
	CheckInterval        int               `json:"check_interval"`
	Timeout              int               `json:"timeout"`
	RegionIDs            []int64           `json:"region_ids"`
	ConfirmFromLocations int               `json:"confirm_from_locations"`
	ExpectedStatusCodes  []int             `json:"expected_status_codes"`
	FollowRedirects      bool              `json:"follow_redirects"`
	VerifySSL            bool              `json:"verify_ssl"`
	Port                 int               `json:"port"`
	RequestHeaders       map[string]string `json:"request_headers"`
	PushToken            string            `json:"push_token"`
	Tags                 []struct {
		ID   int64  `json:"id"`
		Name string `json:"name"`
	} `json:"tags"`
	LastCheckedAt *time.Time `json:"last_checked_at"`
}

// target is an HTTP server whose health the test switches.
type target struct {
	*httptest.Server
	healthy atomic.Bool
	hits    atomic.Int64
}

func newTarget(t *testing.T) *target {
	tg := &target{}
	tg.healthy.Store(true)
	tg.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tg.hits.Add(1)
		if !tg.healthy.Load() {
			w.WriteHeader(503)
			return
		}
		w.Write([]byte("ok"))
	}))
	t.Cleanup(tg.Close)
	return tg
}

func getMonitor(t testing.TB, s *server, token string, id int64) monitor {
	var m monitor
	s.expect(200, "GET", "/api/v1/monitors/"+itoa(id), token, nil).json(t, &m)
	return m
}

func waitStatus(t testing.TB, s *server, token string, id int64, want string) monitor {
	t.Helper()
	var m monitor
	deadline := time.Now().Add(60 * time.Second)
	for {
		m = getMonitor(t, s, token, id)
		if m.Status == want {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("monitor %d status %q, want %q", id, m.Status, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestMonitorLifecycle creates monitors against real targets and follows
// their status through failure, recovery, pause and deletion.
func TestMonitorLifecycle(t *testing.T) {
	db := testdb.New(t)
	s := startServer(t, db, smtpcatcher.Start(t), "MEDIALUNA_MIN_CHECK_INTERVAL=1")
	su := signup(t, s, "mon@example.com", "Mon")
	unlimited(t, s, su.Account.ID)
	jwt := su.AccessToken
	tg := newTarget(t)

	var regions []struct {
		ID   int64  `json:"id"`
		Code string `json:"code"`
	}
	s.expect(200, "GET", "/api/regions/public", "", nil).json(t, &regions)
	if len(regions) != 1 || regions[0].Code != "local" {
		t.Fatalf("regions = %+v", regions)
	}

	var m monitor
	s.expect(201, "POST", "/api/v1/monitors", jwt, map[string]any{"name": "api", "type": "HTTP", "url": tg.URL + "/health", "check_interval": 1, "timeout": 2}).json(t, &m)
	if m.Status != "pending" || m.Timeout != 2 || !m.FollowRedirects || !m.VerifySSL || m.ConfirmFromLocations != 1 ||
		len(m.RegionIDs) != 1 || m.RegionIDs[0] != regions[0].ID {
		t.Fatalf("created = %+v", m)
	}
	waitStatus(t, s, jwt, m.ID, "up")
	tg.healthy.Store(false)
	waitStatus(t, s, jwt, m.ID, "down")
	tg.healthy.Store(true)
	waitStatus(t, s, jwt, m.ID, "up")

	var history []struct {
		Up         bool   `json:"is_up"`
		StatusCode *int   `json:"status_code"`
		Error      string `json:"error"`
		RegionCode string `json:"region_code"`
	}
	s.expect(200, "GET", "/api/monitors/"+itoa(m.ID)+"/history?hours=1", jwt, nil).json(t, &history)
	var sawDown bool
	for _, h := range history {
		if !h.Up && h.StatusCode != nil && *h.StatusCode == 503 && strings.Contains(h.Error, "503") && h.RegionCode == "local" {
			sawDown = true
		}
	}
	if len(history) < 3 || !sawDown {
		t.Errorf("history = %+v", history)
	}

	var summary struct {
		TotalChecks int64    `json:"total_checks"`
		Uptime      *float64 `json:"uptime_percentage"`
		P95         *float64 `json:"p95_response_time_ms"`
		Source      string   `json:"source"`
	}
	s.expect(200, "GET", "/api/metrics/"+itoa(m.ID)+"/summary?hours=1", jwt, nil).json(t, &summary)
	if summary.TotalChecks < 3 || summary.Uptime == nil || *summary.Uptime >= 100 || summary.P95 == nil || summary.Source != "raw" {
		t.Errorf("summary = %+v", summary)
	}
	var points []struct {
		Checks int64 `json:"checks"`
	}
	s.expect(200, "GET", "/api/metrics/"+itoa(m.ID)+"/timeseries?hours=1&bucket_minutes=1", jwt, nil).json(t, &points)
	if len(points) == 0 {
		t.Error("no time series points")
	}
	var latency []struct {
		RegionCode string `json:"region_code"`
		Checks     int64  `json:"checks"`
	}
	s.expect(200, "GET", "/api/regions/monitors/"+itoa(m.ID)+"/latency", jwt, nil).json(t, &latency)
	if len(latency) != 1 || latency[0].RegionCode != "local" || latency[0].Checks < 3 {
		t.Errorf("latency = %+v", latency)
	}
	var overview struct {
		Total int `json:"total_monitors"`
		Up    int `json:"up"`
	}
	s.expect(200, "GET", "/api/metrics/overview", jwt, nil).json(t, &overview)
	if overview.Total != 1 || overview.Up != 1 {
		t.Errorf("overview = %+v", overview)
	}

	// Pause stops checks; resume starts them again as pending.
	s.expect(200, "POST", "/api/monitors/"+itoa(m.ID)+"/pause", jwt, nil)
	waitStatus(t, s, jwt, m.ID, "paused")
	time.Sleep(1500 * time.Millisecond)
	hits := tg.hits.Load()
	time.Sleep(2500 * time.Millisecond)
	if tg.hits.Load() != hits {
		t.Errorf("paused monitor still checked: %d more hits", tg.hits.Load()-hits)
	}
	s.expect(200, "POST", "/api/monitors/"+itoa(m.ID)+"/resume", jwt, nil)
	waitStatus(t, s, jwt, m.ID, "up")

	// Partial update: only the given fields change.
	var updated monitor
	s.expect(200, "PUT", "/api/v1/monitors/"+itoa(m.ID), jwt, map[string]any{"name": "api v2", "expected_status_codes": []int{200, 204}}).json(t, &updated)
	if updated.Name != "api v2" || updated.URL != m.URL || updated.Timeout != 2 || !cmp.Equal(updated.ExpectedStatusCodes, []int{200, 204}) {
		t.Errorf("updated = %+v", updated)
	}

	s.expect(204, "DELETE", "/api/v1/monitors/"+itoa(m.ID), jwt, nil)
	s.expect(404, "GET", "/api/v1/monitors/"+itoa(m.ID), jwt, nil)
	s.expect(404, "GET", "/api/monitors/"+itoa(m.ID)+"/history", jwt, nil)
	waitFor(t, func() bool {
		var n int
		db.Get(&n, `SELECT count(*) FROM check_results WHERE monitor_id = $1`, m.ID)
		return n == 0
	})
}

// TestMonitorTypesAgainstRealServers checks TCP and a refused port end to end.
func TestMonitorTypesAgainstRealServers(t *testing.T) {
	s := startServer(t, testdb.New(t), smtpcatcher.Start(t), "MEDIALUNA_MIN_CHECK_INTERVAL=1")
	jwt := signup(t, s, "types@example.com", "Types").AccessToken
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	closed, _ := net.Listen("tcp", "127.0.0.1:0")
	closedPort := closed.Addr().(*net.TCPAddr).Port
	closed.Close()

	var tcp, refused monitor
	s.expect(201, "POST", "/api/v1/monitors", jwt, map[string]any{"name": "db", "type": "TCP", "url": "127.0.0.1", "port": atoi(port), "check_interval": 1}).json(t, &tcp)
	s.expect(201, "POST", "/api/v1/monitors", jwt, map[string]any{"name": "gone", "type": "tcp", "url": "tcp://127.0.0.1:" + itoa(int64(closedPort)), "check_interval": 1}).json(t, &refused)
	// The url reads back as sent; the port comes from it.
	if refused.Port != closedPort || refused.URL != "tcp://127.0.0.1:"+itoa(int64(closedPort)) || refused.Type != "TCP" {
		t.Errorf("tcp:// URL not echoed with its port taken: %+v", refused)
	}
	waitStatus(t, s, jwt, tcp.ID, "up")
	waitStatus(t, s, jwt, refused.ID, "down")
	var history []struct {
		Error string `json:"error"`
	}
	s.expect(200, "GET", "/api/monitors/"+itoa(refused.ID)+"/history", jwt, nil).json(t, &history)
	if len(history) == 0 || !strings.Contains(history[0].Error, "refused") {
		t.Errorf("refused history = %+v", history)
	}
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

// TestMonitorValidationAndLimits covers the per-type rules and plan limits.
func TestMonitorValidationAndLimits(t *testing.T) {
	db := testdb.New(t)
	s := startServer(t, db, smtpcatcher.Start(t))
	su := signup(t, s, "rules@example.com", "Rules")
	jwt := su.AccessToken
	var before int
	db.Get(&before, `SELECT count(*) FROM events`)
	cases := []struct {
		body  string
		want  int
		field string
	}{
		{`{"type": "HTTP", "url": "https://example.com"}`, 422, "name"},
		{`{"name": "x", "url": "https://example.com"}`, 422, "type"},
		{`{"name": "x", "type": "HTTP"}`, 422, "url"},
		{`{"name": "x", "type": "GOPHER", "url": "https://example.com"}`, 422, "type"},
		{`{"name": "x", "type": "HTTP", "url": "ftp://example.com"}`, 422, "url"},
		{`{"name": "x", "type": "HTTP", "url": "not a url"}`, 422, "url"},
		{`{"name": "x", "type": "TCP", "url": "db.example.com"}`, 422, "port"},
		{`{"name": "x", "type": "TCP", "url": "db.example.com", "port": 70000}`, 422, "port"},
		{`{"name": "x", "type": "DNS", "url": "example.com", "dns_record_type": "SRV"}`, 422, "dns_record_type"},
		{`{"name": "x", "type": "HTTP", "url": "https://example.com", "check_interval": 60}`, 422, "check_interval"},
		{`{"name": "x", "type": "HTTP", "url": "https://example.com", "timeout": 121}`, 422, "timeout"},
		{`{"name": "x", "type": "HTTP", "url": "https://example.com", "http_method": "BREW"}`, 422, "http_method"},
		{`{"name": "x", "type": "HTTP", "url": "https://example.com", "expected_status_codes": [99]}`, 422, "expected_status_codes"},
		{`{"name": "x", "type": "HTTP", "url": "https://example.com", "request_headers": {"Bad Header": "v"}}`, 422, "request_headers"},
		{`{"name": "x", "type": "HTTP", "url": "https://example.com", "region_ids": [999]}`, 422, "region_ids"},
		{`{"name": "x", "type": "HTTP", "url": "https://example.com", "tag_ids": [999]}`, 422, "tag_ids"},
		{`{"name": "x", "type": "HTTP", "url": "https://example.com", "confirm_from_locations": 2}`, 422, "confirm_from_locations"},
		{`{"name": "x", "type": "HTTP", "url": "https://example.com", "timeout": "30"}`, 400, ""},
		{`{"name": "x", "type": "HTTP", "url": "https://example.com", "region_ids": "1"}`, 400, ""},
	}
	for _, c := range cases {
		r := s.call("POST", "/api/v1/monitors", jwt, c.body)
		if r.Status != c.want || !strings.Contains(string(r.Body), c.field) {
			t.Errorf("%s: %d %s; want %d naming %q", c.body, r.Status, r.Body, c.want, c.field)
		}
		if c.field == "check_interval" && !strings.Contains(string(r.Body), "at least 300 seconds") {
			t.Errorf("interval error does not name the minimum: %s", r.Body)
		}
	}
	var after int
	db.Get(&after, `SELECT count(*) FROM events`)
	if after != before {
		t.Errorf("refused monitors wrote %d events", after-before)
	}
	// Partial updates are validated like creations.
	var created monitor
	s.expect(201, "POST", "/api/v1/monitors", jwt, map[string]any{"name": "to edit", "type": "http", "url": "https://example.com"}).json(t, &created)
	s.expect(422, "PUT", "/api/v1/monitors/"+itoa(created.ID), jwt, map[string]any{"region_ids": []int64{}})
	s.expect(422, "PUT", "/api/v1/monitors/"+itoa(created.ID), jwt, map[string]any{"type": "push"})
	var retyped monitor
	s.expect(200, "PUT", "/api/v1/monitors/"+itoa(created.ID), jwt, map[string]any{"type": "head"}).json(t, &retyped)
	if retyped.Type != "HEAD" {
		t.Errorf("PUT type head gave %q", retyped.Type)
	}
	var usage struct {
		Usage struct {
			Monitors int `json:"monitors"`
		} `json:"usage"`
	}
	s.expect(200, "GET", "/api/v1/account", jwt, nil).json(t, &usage)
	if usage.Usage.Monitors != 1 {
		t.Errorf("usage counts %d monitors, want 1", usage.Usage.Monitors)
	}
	s.expect(204, "DELETE", "/api/v1/monitors/"+itoa(created.ID), jwt, nil)

	// FREE allows 10 monitors; the 11th is a 403 naming the limit.
	for i := range 10 {
		s.expect(201, "POST", "/api/v1/monitors", jwt, map[string]any{"name": "m" + itoa(int64(i)), "type": "HTTP", "url": "https://example.com"})
	}
	r := s.expect(403, "POST", "/api/v1/monitors", jwt, map[string]any{"name": "one too many", "type": "HTTP", "url": "https://example.com"})
	if !strings.Contains(r.detail(), "10 monitors") {
		t.Errorf("limit detail: %s", r.detail())
	}
	// A second region is over FREE's limit of one.
	if _, errOut, err := medialuna(t, db, "accounts", "set-plan", itoa(su.Account.ID), "PRO"); err != nil {
		t.Fatal(errOut)
	}
}

// TestTagsFiltersAndBulk covers tags, list filters and bulk actions, and
// that another account's ids are left alone.
func TestTagsFiltersAndBulk(t *testing.T) {
	s := startServer(t, testdb.New(t), smtpcatcher.Start(t))
	jwt := signup(t, s, "bulk@example.com", "Bulk").AccessToken
	other := signup(t, s, "other-bulk@example.com", "Other").AccessToken
	var prod struct {
		ID int64 `json:"id"`
	}
	s.expect(201, "POST", "/api/tags", jwt, map[string]string{"name": "prod", "color": "#22c55e"}).json(t, &prod)
	s.expect(409, "POST", "/api/tags", jwt, map[string]string{"name": "PROD"})
	s.expect(422, "POST", "/api/tags", jwt, map[string]string{"name": "x", "color": "green"})
	var a, b, foreign monitor
	s.expect(201, "POST", "/api/v1/monitors", jwt, map[string]any{"name": "Checkout API", "type": "HTTP", "url": "https://shop.example.com", "tag_ids": []int64{prod.ID}}).json(t, &a)
	s.expect(201, "POST", "/api/v1/monitors", jwt, map[string]any{"name": "Mail", "type": "SMTP", "url": "mail.example.com"}).json(t, &b)
	s.expect(201, "POST", "/api/v1/monitors", other, map[string]any{"name": "Foreign", "type": "HTTP", "url": "https://foreign.example.com"}).json(t, &foreign)
	if b.Port != 25 {
		t.Errorf("SMTP default port = %d", b.Port)
	}
	if len(a.Tags) != 1 || a.Tags[0].Name != "prod" {
		t.Errorf("tags = %+v", a.Tags)
	}
	names := func(query string) []string {
		var list []monitor
		s.expect(200, "GET", "/api/v1/monitors"+query, jwt, nil).json(t, &list)
		out := []string{}
		for _, m := range list {
			out = append(out, m.Name)
		}
		return out
	}
	for q, want := range map[string][]string{
		"":                       {"Checkout API", "Mail"},
		"?tag=prod":              {"Checkout API"},
		"?type=SMTP":             {"Mail"},
		"?search=shop":           {"Checkout API"},
		"?search=100%25":         {},
		"?status=pending":        {"Checkout API", "Mail"},
		"?skip=1&limit=1":        {"Mail"},
		"?search=checkout&tag=x": {},
	} {
		if diff := cmp.Diff(want, names(q)); diff != "" {
			t.Errorf("list %q (-want +got):\n%s", q, diff)
		}
	}
	s.expect(400, "GET", "/api/v1/monitors?status=sideways", jwt, nil)
	s.expect(400, "GET", "/api/v1/monitors?limit=1001", jwt, nil)

	var res struct {
		Succeeded int `json:"succeeded"`
		Results   []struct {
			MonitorID int64  `json:"monitor_id"`
			Status    string `json:"status"`
		} `json:"results"`
	}
	s.expect(200, "POST", "/api/monitors/bulk", jwt, map[string]any{"action": "pause", "monitor_ids": []int64{a.ID, b.ID, foreign.ID, 999999}}).json(t, &res)
	got, _ := json.Marshal(res.Results)
	if res.Succeeded != 2 || !strings.Contains(string(got), `{"monitor_id":`+itoa(foreign.ID)+`,"status":"not_found"}`) {
		t.Errorf("bulk pause: %s", got)
	}
	if getMonitor(t, s, other, foreign.ID).Status == "paused" {
		t.Error("bulk paused another account's monitor")
	}
	if diff := cmp.Diff([]string{"Checkout API", "Mail"}, names("?status=paused")); diff != "" {
		t.Errorf("paused (-want +got):\n%s", diff)
	}
	s.expect(200, "POST", "/api/monitors/bulk", jwt, map[string]any{"action": "add_tags", "monitor_ids": []int64{b.ID}, "tag_ids": []int64{prod.ID}})
	if diff := cmp.Diff([]string{"Checkout API", "Mail"}, names("?tag=prod")); diff != "" {
		t.Errorf("after add_tags (-want +got):\n%s", diff)
	}
	s.expect(422, "POST", "/api/monitors/bulk", jwt, map[string]any{"action": "add_tags", "monitor_ids": []int64{b.ID}})
	s.expect(422, "POST", "/api/monitors/bulk", jwt, map[string]any{"action": "explode", "monitor_ids": []int64{b.ID}})
	s.expect(204, "DELETE", "/api/tags/"+itoa(prod.ID), jwt, nil)
	if m := getMonitor(t, s, jwt, a.ID); len(m.Tags) != 0 {
		t.Errorf("deleted tag still on monitor: %+v", m.Tags)
	}
	s.expect(200, "POST", "/api/monitors/bulk", jwt, map[string]any{"action": "delete", "monitor_ids": []int64{a.ID, b.ID}})
	if diff := cmp.Diff([]string{}, names("")); diff != "" {
		t.Errorf("after bulk delete (-want +got):\n%s", diff)
	}
}

// TestPushMonitor: pings mark it up; silence past interval + grace marks it down.
func TestPushMonitor(t *testing.T) {
	s := startServer(t, testdb.New(t), smtpcatcher.Start(t), "MEDIALUNA_MIN_CHECK_INTERVAL=1")
	su := signup(t, s, "push@example.com", "Push")
	unlimited(t, s, su.Account.ID)
	jwt := su.AccessToken
	var m monitor
	s.expect(201, "POST", "/api/v1/monitors", jwt, map[string]any{"name": "nightly job", "type": "PUSH", "check_interval": 2, "grace_period": 1,
		"confirm_from_locations": 3}).json(t, &m)
	if m.ConfirmFromLocations != 1 {
		t.Errorf("push monitor confirm_from_locations = %d, want 1", m.ConfirmFromLocations)
	}
	if len(m.PushToken) < 32 {
		t.Fatalf("push token %q", m.PushToken)
	}
	s.expect(404, "POST", "/api/push/not-a-token", "", nil)
	var st struct {
		Status string `json:"status"`
	}
	s.expect(200, "POST", "/api/push/"+m.PushToken, "", nil).json(t, &st)
	if st.Status != "up" {
		t.Errorf("after ping: %+v", st)
	}
	s.expect(200, "GET", "/api/push/"+m.PushToken, "", nil)
	waitStatus(t, s, jwt, m.ID, "down") // no ping for 3 s
	s.expect(200, "POST", "/api/push/"+m.PushToken, "", nil)
	waitStatus(t, s, jwt, m.ID, "up")
}
