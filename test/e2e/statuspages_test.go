package e2e

import (
	"context"
	"encoding/xml"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/medialuna/medialuna/test/smtpcatcher"
	"github.com/medialuna/medialuna/test/testdb"
)

type statusPage struct {
	ID          int64   `json:"id"`
	Title       string  `json:"title"`
	Subdomain   string  `json:"subdomain"`
	Description *string `json:"description"`
	MonitorIDs  []int64 `json:"monitor_ids"`
	CustomCSS   *string `json:"custom_css"`
	LogoURL     *string `json:"logo_url"`
	IsPublic    bool    `json:"is_public"`
	URL         string  `json:"url"`
}

type publicPage struct {
	Title      string   `json:"title"`
	Status     string   `json:"status"`
	StatusText string   `json:"status_text"`
	UptimePct  *float64 `json:"uptime_percentage"`
	Monitors   []struct {
		ID            int64    `json:"id"`
		Name          string   `json:"name"`
		Status        string   `json:"status"`
		MonitorStatus string   `json:"monitor_status"`
		UptimePct     *float64 `json:"uptime_percentage"`
		Daily         []struct {
			Date      string   `json:"date"`
			UptimePct *float64 `json:"uptime_percentage"`
			Checks    int64    `json:"checks"`
		} `json:"daily"`
	} `json:"monitors"`
	Incidents []struct {
		ID        int64  `json:"id"`
		MonitorID int64  `json:"monitor_id"`
		Type      string `json:"incident_type"`
		Status    string `json:"status"`
		Updates   []struct {
			Message string `json:"message"`
		} `json:"updates"`
	} `json:"incidents"`
	RecentIncidents []struct {
		ID int64 `json:"id"`
	} `json:"recent_incidents"`
	Maintenance []struct {
		ID         int64   `json:"id"`
		Name       string  `json:"name"`
		InProgress bool    `json:"in_progress"`
		MonitorIDs []int64 `json:"monitor_ids"`
	} `json:"maintenance"`
}

// fetch makes an unauthenticated request, optionally for another Host.
func (s *server) fetch(path, host string, header ...string) response {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", s.URL+path, nil)
	if err != nil {
		s.t.Fatal(err)
	}
	if host != "" {
		req.Host = host
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return response{Status: resp.StatusCode, Header: resp.Header, Body: data}
}

func (s *server) publicPage(t testing.TB, sub string) publicPage {
	t.Helper()
	r := s.fetch("/api/public/status-pages/"+sub, "")
	if r.Status != 200 {
		t.Fatalf("public page %s: %d %s", sub, r.Status, r.Body)
	}
	var p publicPage
	r.json(t, &p)
	return p
}

// TestStatusPagesCRUD: create, list, read, partial update (PUT and
// PATCH), delete; subdomains unique across accounts (409), reserved and
// malformed names refused (422), hostile logo URLs refused, the FREE
// plan's one page (403 naming the limit), other accounts see 404, API
// keys 401.
func TestStatusPagesCRUD(t *testing.T) {
	s := startServer(t, testdb.New(t), smtpcatcher.Start(t), "MEDIALUNA_MIN_CHECK_INTERVAL=1")
	a := signup(t, s, "pages-a@example.com", "Pages A")
	b := signup(t, s, "pages-b@example.com", "Pages B")
	ja, jb := a.AccessToken, b.AccessToken
	var m monitor
	s.expect(201, "POST", "/api/v1/monitors", ja, map[string]any{"name": "API", "type": "HTTP", "url": "http://127.0.0.1:9/", "check_interval": 300}).json(t, &m)

	// Validation: required fields, DNS label, reserved names, logo URL,
	// another account's monitor.
	r := s.expect(422, "POST", "/api/status-pages", ja, map[string]any{})
	if !strings.Contains(string(r.Body), `"title"`) || !strings.Contains(string(r.Body), `"subdomain"`) {
		t.Errorf("missing fields: %s", r.Body)
	}
	for _, bad := range []map[string]any{
		{"title": "x", "subdomain": "www"},
		{"title": "x", "subdomain": "api"},
		{"title": "x", "subdomain": "-acme"},
		{"title": "x", "subdomain": "ac_me"},
		{"title": "x", "subdomain": strings.Repeat("a", 64)},
		{"title": "x", "subdomain": "acme", "logo_url": "javascript:alert(1)"},
		{"title": "x", "subdomain": "acme", "logo_url": "data:image/png;base64,AAAA"},
		{"title": "", "subdomain": "acme"},
	} {
		s.expect(422, "POST", "/api/status-pages", ja, bad)
	}
	s.expect(422, "POST", "/api/status-pages", jb, map[string]any{"title": "x", "subdomain": "bee", "monitor_ids": []int64{m.ID}})
	s.expect(400, "POST", "/api/status-pages", ja, map[string]any{"title": "x", "subdomain": "acme", "monitor_ids": "1"})

	var p statusPage
	s.expect(201, "POST", "/api/status-pages", ja, map[string]any{"title": "Acme status", "subdomain": "Acme", "monitor_ids": []int64{m.ID},
		"custom_css": "body{color:#333}", "logo_url": "https://cdn.example.com/logo.png", "description": "Our services"}).json(t, &p)
	if p.ID == 0 || p.Subdomain != "acme" || !p.IsPublic || len(p.MonitorIDs) != 1 || p.LogoURL == nil || p.CustomCSS == nil ||
		p.Description == nil || p.URL != s.URL+"/status/acme" {
		t.Fatalf("created = %+v", p)
	}
	// Taken across accounts, whatever the case.
	r = s.expect(409, "POST", "/api/status-pages", jb, map[string]any{"title": "Mine", "subdomain": "ACME"})
	if !strings.Contains(r.detail(), "taken") {
		t.Errorf("409 detail: %s", r.detail())
	}
	// FREE allows one page.
	r = s.expect(403, "POST", "/api/status-pages", ja, map[string]any{"title": "Second", "subdomain": "acme-two"})
	if !strings.Contains(r.detail(), "FREE") || !strings.Contains(r.detail(), "1 status page") {
		t.Errorf("limit detail: %s", r.detail())
	}

	var list []statusPage
	s.expect(200, "GET", "/api/status-pages", ja, nil).json(t, &list)
	if len(list) != 1 || list[0].ID != p.ID {
		t.Errorf("list = %+v", list)
	}
	s.expect(200, "GET", "/api/status-pages", jb, nil).json(t, &list)
	if len(list) != 0 {
		t.Errorf("other account lists %+v", list)
	}
	s.expect(404, "GET", "/api/status-pages/"+itoa(p.ID), jb, nil)
	s.expect(404, "PUT", "/api/status-pages/"+itoa(p.ID), jb, map[string]any{"title": "mine now"})
	s.expect(404, "DELETE", "/api/status-pages/"+itoa(p.ID), jb, nil)

	// Partial updates: PUT and PATCH change only what they name.
	var u statusPage
	s.expect(200, "PUT", "/api/status-pages/"+itoa(p.ID), ja, map[string]any{"title": "Acme Inc."}).json(t, &u)
	if u.Title != "Acme Inc." || u.Subdomain != "acme" || len(u.MonitorIDs) != 1 || u.LogoURL == nil {
		t.Errorf("after PUT = %+v", u)
	}
	s.expect(200, "PATCH", "/api/status-pages/"+itoa(p.ID), ja, map[string]any{"logo_url": nil, "is_public": false, "subdomain": "acme-inc"}).json(t, &u)
	if u.LogoURL != nil || u.IsPublic || u.Subdomain != "acme-inc" || u.Title != "Acme Inc." {
		t.Errorf("after PATCH = %+v", u)
	}
	s.expect(422, "PATCH", "/api/status-pages/"+itoa(p.ID), ja, map[string]any{"subdomain": "admin"})
	// The old name is free again once renamed.
	var pb statusPage
	s.expect(201, "POST", "/api/status-pages", jb, map[string]any{"title": "B", "subdomain": "acme"}).json(t, &pb)
	s.expect(409, "PATCH", "/api/status-pages/"+itoa(p.ID), ja, map[string]any{"subdomain": "acme"})

	// API keys cannot manage status pages (the reference names no scope).
	var key struct {
		Key string `json:"key"`
	}
	s.expect(201, "POST", "/api/users/api-keys", ja, map[string]any{"name": "k", "scopes": []string{"read:monitors"}}).json(t, &key)
	s.expect(401, "GET", "/api/status-pages", key.Key, nil)

	// Delete: 204, gone, name free.
	s.expect(204, "DELETE", "/api/status-pages/"+itoa(p.ID), ja, nil)
	s.expect(404, "GET", "/api/status-pages/"+itoa(p.ID), ja, nil)
	s.expect(201, "POST", "/api/status-pages", ja, map[string]any{"title": "Back", "subdomain": "acme-inc"})

	// A deleted monitor leaves the page.
	s.expect(204, "DELETE", "/api/v1/monitors/"+itoa(m.ID), ja, nil)
	s.expect(200, "GET", "/api/status-pages", ja, nil).json(t, &list)
	if len(list) != 1 || len(list[0].MonitorIDs) != 0 {
		t.Errorf("after monitor delete = %+v", list)
	}

	// The audit log has the claims.
	audit := s.expect(200, "GET", "/api/audit/events?stream=subdomain-acme", ja, nil)
	if !strings.Contains(string(audit.Body), "SubdomainClaimed") {
		t.Errorf("audit for subdomain-acme: %s", audit.Body)
	}
}

// TestPublicStatusPage: the public JSON and HTML follow a monitor going
// down and back up, with the incident and its public updates (and not its
// internal comments); the page answers by path and by Host; badges and
// the feed; caching headers; private pages are 404.
func TestPublicStatusPage(t *testing.T) {
	s := startServer(t, testdb.New(t), smtpcatcher.Start(t), "MEDIALUNA_MIN_CHECK_INTERVAL=1",
		"MEDIALUNA_STATUS_DOMAIN=status.test", "MEDIALUNA_STATUS_CACHE_TTL=300ms")
	su := signup(t, s, "public@example.com", "Public")
	unlimited(t, s, su.Account.ID)
	jwt := su.AccessToken
	tg := newTarget(t)
	var web, api monitor
	s.expect(201, "POST", "/api/v1/monitors", jwt, map[string]any{"name": "Web", "type": "HTTP", "url": tg.URL + "/web", "check_interval": 1, "timeout": 2}).json(t, &web)
	apiTarget := newTarget(t)
	s.expect(201, "POST", "/api/v1/monitors", jwt, map[string]any{"name": "API", "type": "HTTP", "url": apiTarget.URL, "check_interval": 1, "timeout": 2}).json(t, &api)
	var p statusPage
	s.expect(201, "POST", "/api/status-pages", jwt, map[string]any{"title": "Public Co", "subdomain": "publicco",
		"monitor_ids": []int64{api.ID, web.ID}}).json(t, &p)
	if p.URL != "http://publicco.status.test/" {
		t.Errorf("url = %s", p.URL)
	}
	waitStatus(t, s, jwt, web.ID, "up")
	waitStatus(t, s, jwt, api.ID, "up")

	var pp publicPage
	waitFor(t, func() bool {
		pp = s.publicPage(t, "publicco")
		return pp.Status == "operational" && len(pp.Monitors) == 2 && pp.Monitors[0].Status == "operational" && pp.Monitors[1].Status == "operational"
	})
	if pp.Title != "Public Co" || pp.Monitors[0].ID != api.ID || pp.Monitors[0].Name != "API" || len(pp.Monitors[0].Daily) != 90 {
		t.Fatalf("page = %+v", pp)
	}
	// Today's bar fills in from the rollups.
	waitFor(t, func() bool {
		pp = s.publicPage(t, "publicco")
		d := pp.Monitors[1].Daily[89]
		return d.Checks > 0 && d.UptimePct != nil && *d.UptimePct == 100 && d.Date == time.Now().UTC().Format("2006-01-02")
	})

	// The API goes down: partial outage, an open incident.
	apiTarget.healthy.Store(false)
	waitFor(t, func() bool {
		pp = s.publicPage(t, "publicco")
		return pp.Status == "partial_outage" && pp.Monitors[0].Status == "down" && len(pp.Incidents) == 1
	})
	if pp.Incidents[0].MonitorID != api.ID || pp.Incidents[0].Type != "DOWN" || pp.StatusText != "Partial outage" {
		t.Errorf("incident = %+v", pp.Incidents)
	}
	incID := pp.Incidents[0].ID
	s.expect(201, "POST", "/api/incidents/"+itoa(incID)+"/timeline", jwt, map[string]any{"message": "internal: db-3 disk full"})
	s.expect(201, "POST", "/api/incidents/"+itoa(incID)+"/timeline", jwt, map[string]any{"message": "We are restoring the API.", "public": true})
	waitFor(t, func() bool {
		pp = s.publicPage(t, "publicco")
		return len(pp.Incidents) == 1 && len(pp.Incidents[0].Updates) == 1
	})
	if pp.Incidents[0].Updates[0].Message != "We are restoring the API." {
		t.Errorf("updates = %+v", pp.Incidents[0].Updates)
	}
	var full incident
	s.expect(200, "GET", "/api/v1/incidents/"+itoa(incID), jwt, nil).json(t, &full)
	if !strings.Contains(string(s.expect(200, "GET", "/api/v1/incidents/"+itoa(incID), jwt, nil).Body), `"public":true`) {
		t.Error("timeline does not mark the public comment")
	}

	// HTML by path and by Host, same content, links fitting each.
	byPath := s.fetch("/status/publicco", "")
	byHost := s.fetch("/", "publicco.status.test")
	for name, r := range map[string]response{"path": byPath, "host": byHost} {
		body := string(r.Body)
		if r.Status != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") {
			t.Fatalf("%s: %d %s", name, r.Status, r.Header)
		}
		for _, want := range []string{"Public Co", "Partial outage", "We are restoring the API.", `data-monitor="` + itoa(api.ID) + `" data-status="down"`} {
			if !strings.Contains(body, want) {
				t.Errorf("%s page lacks %q", name, want)
			}
		}
		if strings.Contains(body, "db-3 disk full") || strings.Contains(body, "<script") {
			t.Errorf("%s page shows an internal comment or a script", name)
		}
		csp := r.Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "script-src") || r.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s headers: %v", name, r.Header)
		}
	}
	if !strings.Contains(string(byHost.Body), `href="/feed.atom"`) || !strings.Contains(string(byPath.Body), `href="/status/publicco/feed.atom"`) {
		t.Error("feed links")
	}
	// Another host under the status domain is another page; the API is
	// not served on page hosts.
	if r := s.fetch("/", "nosuch.status.test"); r.Status != 404 {
		t.Errorf("unknown host page: %d", r.Status)
	}
	if r := s.fetch("/api/v1/monitors", "publicco.status.test"); r.Status != 404 {
		t.Errorf("API on a page host: %d", r.Status)
	}

	// Caching: ETag and 304; gzip.
	etag := byPath.Header.Get("ETag")
	if etag == "" || byPath.Header.Get("Cache-Control") == "" || byPath.Header.Get("Last-Modified") == "" {
		t.Fatalf("cache headers %v", byPath.Header)
	}
	if r := s.fetch("/status/publicco", "", "If-None-Match", etag); r.Status != 304 && r.Status != 200 {
		t.Errorf("If-None-Match: %d", r.Status) // 200 when the page was rebuilt in between
	}
	if r := s.fetch("/status/publicco", "", "Accept-Encoding", "gzip"); r.Header.Get("Content-Encoding") != "gzip" {
		t.Errorf("no gzip: %v", r.Header)
	}

	// Badges.
	badgeOf := func(path, host string) string {
		t.Helper()
		r := s.fetch(path, host)
		if r.Status != 200 || r.Header.Get("Content-Type") != "image/svg+xml" || !strings.Contains(string(r.Body), "<svg") {
			t.Fatalf("badge %s: %d %v %s", path, r.Status, r.Header, r.Body)
		}
		return string(r.Body)
	}
	if b := badgeOf("/status/publicco/badge.svg", ""); !strings.Contains(b, "partial outage") || !strings.Contains(b, "Public Co") {
		t.Errorf("page badge: %s", b)
	}
	if b := badgeOf("/status/publicco/monitors/"+itoa(api.ID)+"/badge.svg", ""); !strings.Contains(b, "down") || !strings.Contains(b, "API") {
		t.Errorf("monitor badge: %s", b)
	}
	if b := badgeOf("/monitors/"+itoa(web.ID)+"/badge.svg?type=uptime&label=uptime", "publicco.status.test"); !strings.Contains(b, "100.00%") || !strings.Contains(b, "uptime") {
		t.Errorf("uptime badge: %s", b)
	}
	if r := s.fetch("/status/publicco/monitors/999999/badge.svg", ""); r.Status != 404 {
		t.Errorf("badge of a monitor not on the page: %d", r.Status)
	}

	// Recovery: operational again, the incident resolved and in the feed.
	apiTarget.healthy.Store(true)
	waitFor(t, func() bool {
		pp = s.publicPage(t, "publicco")
		return pp.Status == "operational" && len(pp.Incidents) == 0 && len(pp.RecentIncidents) == 1
	})
	r := s.fetch("/status/publicco/feed.atom", "")
	var feed struct {
		Title   string `xml:"title"`
		Entries []struct {
			Title   string `xml:"title"`
			Content string `xml:"content"`
		} `xml:"entry"`
	}
	if err := xml.Unmarshal(r.Body, &feed); err != nil || r.Header.Get("Content-Type") != "application/atom+xml; charset=utf-8" {
		t.Fatalf("feed: %v %v %s", err, r.Header, r.Body)
	}
	if len(feed.Entries) != 1 || !strings.Contains(feed.Entries[0].Title, "Outage: API (resolved)") ||
		!strings.Contains(feed.Entries[0].Content, "We are restoring the API.") || strings.Contains(string(r.Body), "db-3") {
		t.Errorf("feed = %+v", feed)
	}

	// Maintenance covering the page's monitor shows, and the component says so.
	now := time.Now().UTC()
	s.expect(201, "POST", "/api/maintenance-windows", jwt, map[string]any{"name": "Web deploy", "start_time": now.Add(-time.Minute).Format(time.RFC3339),
		"end_time": now.Add(time.Hour).Format(time.RFC3339), "monitor_ids": []int64{web.ID}})
	waitFor(t, func() bool {
		pp = s.publicPage(t, "publicco")
		return len(pp.Maintenance) == 1 && pp.Maintenance[0].InProgress && pp.Monitors[1].Status == "maintenance" && pp.Status == "maintenance"
	})

	// A private page is not shown; deleting it frees the public address.
	s.expect(200, "PATCH", "/api/status-pages/"+itoa(p.ID), jwt, map[string]any{"is_public": false})
	if r := s.fetch("/status/publicco", ""); r.Status != 404 {
		t.Errorf("private page: %d", r.Status)
	}
	if r := s.fetch("/api/public/status-pages/publicco", ""); r.Status != 404 {
		t.Errorf("private page json: %d", r.Status)
	}
}
