package statushtml

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/medialuna/medialuna/domain"
	"github.com/medialuna/medialuna/projections"
)

// fakeReader serves canned page data and counts reads.
type fakeReader struct {
	mu    sync.Mutex
	pages map[string]projections.PublicPageData
	reads atomic.Int64
	delay time.Duration
}

func (f *fakeReader) PublicPage(_ context.Context, sub string, dailySince, incidentsSince, now time.Time) (projections.PublicPageData, error) {
	f.reads.Add(1)
	time.Sleep(f.delay)
	f.mu.Lock()
	defer f.mu.Unlock()
	d, ok := f.pages[sub]
	if !ok {
		return d, domain.Errorf(domain.ErrNotFound, "status page not found")
	}
	return d, nil
}

// PublicPageOf serves the data set for the page's subdomain with the
// page given in place of the saved one.
func (f *fakeReader) PublicPageOf(_ context.Context, page projections.StatusPageView, dailySince, incidentsSince, now time.Time) (projections.PublicPageData, error) {
	f.reads.Add(1)
	f.mu.Lock()
	defer f.mu.Unlock()
	d := f.pages[page.Subdomain]
	d.Page = page
	return d, nil
}

func (f *fakeReader) set(sub string, d projections.PublicPageData) {
	f.mu.Lock()
	f.pages[sub] = d
	f.mu.Unlock()
}

func ptr[T any](v T) *T { return &v }

var hostile = []string{`<script>alert(1)</script>`, `</style><script>alert(2)</script>`, `"><img src=x onerror=alert(3)>`,
	`javascript:alert(4)`, `{{.}}`, `</title><script>alert(5)</script>`}

// fixture builds a page whose every user-typed field is hostile.
func fixture(now time.Time) projections.PublicPageData {
	day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	started := now.Add(-30 * time.Minute)
	return projections.PublicPageData{
		Page: projections.StatusPageView{ID: 1, AccountID: 7, StatusPageConfig: domain.StatusPageConfig{
			Title: "Acme " + hostile[5], Subdomain: "acme", Description: ptr("Our services " + hostile[2]),
			MonitorIDs: []int64{2, 1, 3}, IsPublic: true, LogoURL: ptr("https://cdn.example.com/logo.png"),
			CustomCSS: ptr(`body{color:red} ` + hostile[1] + ` .x{background:url(javascript:alert(6))} .y{width:expression(alert(7))}`)}},
		Monitors: []projections.PublicMonitor{
			{ID: 2, Name: "API " + hostile[0], Status: "down", LastCheckedAt: &now},
			{ID: 1, Name: "Web", Status: "up", LastCheckedAt: &now},
			{ID: 3, Name: "DB", Status: "up", LastCheckedAt: &now},
		},
		Daily: []projections.DailyUptime{
			{MonitorID: 1, Day: day, Checks: 1000, Up: 1000},
			{MonitorID: 1, Day: day.AddDate(0, 0, -1), Checks: 1000, Up: 950},
			{MonitorID: 2, Day: day, Checks: 100, Up: 50},
			{MonitorID: 3, Day: day.AddDate(0, 0, -89), Checks: 0, Up: 0, Maintenance: 10},
			{MonitorID: 3, Day: day.AddDate(0, 0, -95), Checks: 10, Up: 0}, // outside the 90 days
		},
		Incidents: []projections.IncidentRow{
			{ID: 11, MonitorID: 2, Type: "DOWN", Status: "TRIGGERED", Message: "internal: 10.0.0.5 refused", StartedAt: started},
			{ID: 10, MonitorID: 1, Type: "DOWN", Status: "RESOLVED", Message: "internal", StartedAt: now.Add(-48 * time.Hour), ResolvedAt: ptr(now.Add(-47 * time.Hour))},
			{ID: 9, MonitorID: 1, Type: "DOWN", Status: "RESOLVED", Message: "old", StartedAt: now.Add(-30 * 24 * time.Hour), ResolvedAt: ptr(now.Add(-30 * 24 * time.Hour))},
		},
		Updates: []projections.PublicUpdate{{IncidentID: 11, Message: "We are looking into it " + hostile[0], CreatedAt: started.Add(time.Minute)}},
		Windows: []projections.WindowView{{ID: 5, MaintenanceConfig: domain.MaintenanceConfig{Name: "DB upgrade " + hostile[0],
			StartTime: now.Add(-time.Hour), EndTime: now.Add(time.Hour), MonitorIDs: []int64{3}, IsActive: true, TimeZone: "UTC"}}},
	}
}

type harness struct {
	site   *Site
	reader *fakeReader
	now    atomic.Pointer[time.Time]
}

func newHarness(t *testing.T) *harness {
	h := &harness{reader: &fakeReader{pages: map[string]projections.PublicPageData{}}}
	now := time.Date(2026, 5, 10, 12, 0, 0, 0, time.UTC)
	h.now.Store(&now)
	h.reader.set("acme", fixture(now))
	h.site = New(Config{Reader: h.reader, Now: func() time.Time { return *h.now.Load() }, BaseURL: "http://127.0.0.1:8080",
		StatusDomain: "status.test:8080", TTL: 5 * time.Second})
	return h
}

func (h *harness) advance(d time.Duration) {
	n := h.now.Load().Add(d)
	h.now.Store(&n)
}

func (h *harness) get(t *testing.T, host, path string, hdr ...string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest("GET", path, nil)
	if host != "" {
		r.Host = host
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	if !h.site.Owns(r) {
		t.Fatalf("site does not own %s %s", host, path)
	}
	w := httptest.NewRecorder()
	h.site.ServeHTTP(w, r)
	return w
}

var styleRE = regexp.MustCompile(`(?s)<style>(.*?)</style>`)

func TestPageEscapesHostileInputAndAllowsOnlyItsOwnStyle(t *testing.T) {
	h := newHarness(t)
	w := h.get(t, "", "/status/acme")
	if w.Code != 200 {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	body := w.Body.String()
	for _, bad := range []string{"<script", "<img src=x", "javascript:", "expression(", "url(", "10.0.0.5"} {
		if strings.Contains(strings.ToLower(body), bad) {
			t.Errorf("page contains %q", bad)
		}
	}
	if strings.Count(body, "<img") != 1 {
		t.Errorf("%d img elements, want the logo only", strings.Count(body, "<img"))
	}
	if strings.Count(body, "<style>") != 1 || strings.Count(body, "</style>") != 1 {
		t.Fatalf("want exactly one style element")
	}
	css := styleRE.FindStringSubmatch(body)[1]
	if strings.Contains(css, "<") {
		t.Error("style holds <")
	}
	if !strings.Contains(css, "body{color:red}") {
		t.Errorf("benign custom CSS dropped: %q", css[len(css)-200:])
	}
	sum := sha256.Sum256([]byte(css))
	policy := w.Header().Get("Content-Security-Policy")
	if !strings.Contains(policy, "style-src 'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'") {
		t.Errorf("CSP %q does not allow the page's style by hash", policy)
	}
	for _, want := range []string{"default-src 'none'", "img-src https://cdn.example.com;", "base-uri 'none'", "frame-ancestors 'none'"} {
		if !strings.Contains(policy, want) {
			t.Errorf("CSP %q lacks %q", policy, want)
		}
	}
	if strings.Contains(policy, "script-src") || strings.Contains(policy, "unsafe") {
		t.Errorf("CSP %q allows script or unsafe sources", policy)
	}
	if w.Header().Get("X-Content-Type-Options") != "nosniff" || w.Header().Get("Content-Type") != "text/html; charset=utf-8" {
		t.Errorf("headers %v", w.Header())
	}
	// The escaped forms are there: users see what they typed.
	for _, want := range []string{"API &lt;script&gt;alert(1)&lt;/script&gt;", "We are looking into it &lt;script&gt;", `data-status="partial_outage"`,
		`data-monitor="3" data-status="maintenance"`, "In progress", "Partial outage", `src="https://cdn.example.com/logo.png"`} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	// Monitors in the page's order.
	if a, b := strings.Index(body, `data-monitor="2"`), strings.Index(body, `data-monitor="1"`); a < 0 || b < a {
		t.Error("monitors not in the page's order")
	}
	if n := strings.Count(body, "<i class="); n != 3*historyDays {
		t.Errorf("%d bars, want %d", n, 3*historyDays)
	}
}

func TestJSONPage(t *testing.T) {
	h := newHarness(t)
	w := h.get(t, "", "/api/public/status-pages/acme")
	if w.Code != 200 || w.Header().Get("Content-Type") != "application/json" || w.Header().Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("%d %v", w.Code, w.Header())
	}
	var p struct {
		Status    string   `json:"status"`
		UptimePct *float64 `json:"uptime_percentage"`
		Monitors  []struct {
			ID        int64    `json:"id"`
			Status    string   `json:"status"`
			UptimePct *float64 `json:"uptime_percentage"`
			Daily     []Day    `json:"daily"`
		} `json:"monitors"`
		Incidents []struct {
			ID      int64    `json:"id"`
			Message *string  `json:"message"`
			Updates []Update `json:"updates"`
		} `json:"incidents"`
		Recent      []Incident    `json:"recent_incidents"`
		Maintenance []Maintenance `json:"maintenance"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
		t.Fatal(err)
	}
	if p.Status != "partial_outage" || len(p.Monitors) != 3 || p.Monitors[0].Status != "down" || p.Monitors[1].Status != "operational" ||
		p.Monitors[2].Status != "maintenance" {
		t.Fatalf("page = %+v", p)
	}
	web := p.Monitors[1]
	if len(web.Daily) != historyDays || web.Daily[historyDays-1].Date != "2026-05-10" || *web.Daily[historyDays-1].UptimePct != 100 ||
		*web.Daily[historyDays-2].UptimePct != 95 || web.Daily[0].UptimePct != nil || *web.UptimePct != 97.5 {
		t.Errorf("web daily = %+v", web.Daily[historyDays-2:])
	}
	if db := p.Monitors[2]; db.UptimePct != nil || db.Daily[0].MaintenanceChecks != 10 {
		t.Errorf("db = %+v", db.Daily[0])
	}
	if *p.UptimePct != 95.23 { // (1000+950+50)/(2000+100), floored
		t.Errorf("page uptime %v", *p.UptimePct)
	}
	if len(p.Incidents) != 1 || p.Incidents[0].Message != nil || len(p.Incidents[0].Updates) != 1 {
		t.Errorf("incidents = %+v", p.Incidents)
	}
	if len(p.Recent) != 1 || p.Recent[0].ID != 10 {
		t.Errorf("recent = %+v", p.Recent)
	}
	if len(p.Maintenance) != 1 || !p.Maintenance[0].InProgress || len(p.Maintenance[0].MonitorIDs) != 1 {
		t.Errorf("maintenance = %+v", p.Maintenance)
	}
	if strings.Contains(w.Body.String(), "10.0.0.5") {
		t.Error("an internal incident message leaked")
	}
}

func TestCachingAndConditionalRequests(t *testing.T) {
	h := newHarness(t)
	first := h.get(t, "", "/status/acme")
	for range 20 {
		h.get(t, "", "/status/acme")
		h.get(t, "", "/api/public/status-pages/acme")
	}
	if n := h.reader.reads.Load(); n != 1 {
		t.Fatalf("%d reads for 41 requests within the TTL, want 1", n)
	}
	etag := first.Header().Get("ETag")
	if etag == "" || first.Header().Get("Last-Modified") == "" || first.Header().Get("Cache-Control") != "public, max-age=5" {
		t.Fatalf("headers %v", first.Header())
	}
	if w := h.get(t, "", "/status/acme", "If-None-Match", etag); w.Code != 304 || w.Body.Len() != 0 {
		t.Errorf("If-None-Match: %d", w.Code)
	}
	if w := h.get(t, "", "/status/acme", "If-None-Match", `"other"`); w.Code != 200 {
		t.Errorf("other etag: %d", w.Code)
	}
	if w := h.get(t, "", "/status/acme", "If-Modified-Since", first.Header().Get("Last-Modified")); w.Code != 304 {
		t.Errorf("If-Modified-Since: %d", w.Code)
	}
	gz := h.get(t, "", "/status/acme", "Accept-Encoding", "br, gzip")
	if gz.Header().Get("Content-Encoding") != "gzip" || gz.Header().Get("Vary") != "Accept-Encoding" {
		t.Fatalf("gzip headers %v", gz.Header())
	}
	zr, err := gzip.NewReader(gz.Body)
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := io.ReadAll(zr)
	if !bytes.Equal(plain, first.Body.Bytes()) {
		t.Error("gzip body differs from the plain one")
	}
	if gz.Body.Len() > first.Body.Len()/4 {
		t.Errorf("gzip %d bytes for %d", gz.Body.Len(), first.Body.Len())
	}

	// Past the TTL the stale page is served at once and rebuilt behind.
	h.reader.set("acme", func() projections.PublicPageData {
		d := fixture(*h.now.Load())
		d.Page.Title = "Renamed"
		return d
	}())
	h.advance(6 * time.Second)
	if w := h.get(t, "", "/status/acme"); !strings.Contains(w.Body.String(), "Acme") {
		t.Error("stale page not served while rebuilding")
	}
	waitUntil(t, func() bool { return strings.Contains(h.get(t, "", "/status/acme").Body.String(), "Renamed") })
	if n := h.reader.reads.Load(); n != 2 {
		t.Errorf("%d reads, want 2", n)
	}
	// Invalidate drops the page at once.
	h.reader.set("acme", func() projections.PublicPageData {
		d := fixture(*h.now.Load())
		d.Page.Title = "Again"
		return d
	}())
	h.site.Invalidate("acme")
	if w := h.get(t, "", "/status/acme"); !strings.Contains(w.Body.String(), "Again") {
		t.Error("invalidated page still served")
	}
	// After a quiet hour the first visitor gets a fresh page, not the hour-
	// old one (stale pages are served only up to twice the TTL).
	h.reader.set("acme", func() projections.PublicPageData {
		d := fixture(*h.now.Load())
		d.Page.Title = "After a quiet hour"
		return d
	}())
	h.advance(time.Hour)
	if w := h.get(t, "", "/status/acme"); !strings.Contains(w.Body.String(), "After a quiet hour") {
		t.Error("an hour-old page was served")
	}
}

func TestConcurrentColdRequestsBuildOnce(t *testing.T) {
	h := newHarness(t)
	h.reader.delay = 50 * time.Millisecond
	var wg sync.WaitGroup
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if w := h.get(t, "", "/status/acme"); w.Code != 200 {
				t.Errorf("status %d", w.Code)
			}
		}()
	}
	wg.Wait()
	if n := h.reader.reads.Load(); n != 1 {
		t.Errorf("%d builds for 32 concurrent cold requests, want 1", n)
	}
}

func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestHostRoutingAndNotFound(t *testing.T) {
	h := newHarness(t)
	w := h.get(t, "acme.status.test:8080", "/")
	if w.Code != 200 || !strings.Contains(w.Body.String(), `href="/feed.atom"`) {
		t.Fatalf("host page: %d", w.Code)
	}
	if w := h.get(t, "ACME.Status.Test", "/index.json"); w.Code != 200 || w.Header().Get("Content-Type") != "application/json" {
		t.Errorf("host json: %d", w.Code)
	}
	if w := h.get(t, "", "/status/acme"); !strings.Contains(w.Body.String(), `href="/status/acme/feed.atom"`) {
		t.Error("path page links")
	}
	for _, host := range []string{"status.test", "a.b.status.test", "acme.status.test.evil.com", "acmestatus.test"} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Host = host
		if h.site.Owns(r) {
			t.Errorf("site owns host %s", host)
		}
	}
	if w := h.get(t, "acme.status.test", "/api/v1/monitors"); w.Code != 404 {
		t.Errorf("API path on a page host: %d", w.Code)
	}
	// Unknown, invalid and private pages are 404, and invalid names never
	// reach the database.
	reads := h.reader.reads.Load()
	for _, p := range []string{"/status/WWW", "/status/-x", "/status/a%3Cb", "/status/" + strings.Repeat("a", 64)} {
		if w := h.get(t, "", p); w.Code != 404 {
			t.Errorf("%s: %d", p, w.Code)
		}
	}
	if h.reader.reads.Load() != reads {
		t.Error("an invalid subdomain reached the reader")
	}
	w = h.get(t, "", "/status/nope")
	if w.Code != 404 || !strings.Contains(w.Body.String(), "Status page not found") || !strings.Contains(w.Header().Get("Content-Security-Policy"), "default-src 'none'") {
		t.Errorf("unknown page: %d %s", w.Code, w.Body)
	}
	if w := h.get(t, "", "/api/public/status-pages/nope"); w.Code != 404 || !strings.Contains(w.Body.String(), `"detail"`) {
		t.Errorf("unknown json: %d %s", w.Code, w.Body)
	}
	d := fixture(*h.now.Load())
	d.Page.Subdomain, d.Page.IsPublic = "draft", false
	h.reader.set("draft", d)
	if w := h.get(t, "", "/status/draft"); w.Code != 404 {
		t.Errorf("private page: %d", w.Code)
	}
	r := httptest.NewRequest("POST", "/status/acme", nil)
	rec := httptest.NewRecorder()
	h.site.ServeHTTP(rec, r)
	if rec.Code != 405 || rec.Header().Get("Allow") != "GET, HEAD" {
		t.Errorf("POST: %d %v", rec.Code, rec.Header())
	}
}

func TestFeed(t *testing.T) {
	h := newHarness(t)
	w := h.get(t, "", "/status/acme/feed.atom")
	if w.Code != 200 || w.Header().Get("Content-Type") != "application/atom+xml; charset=utf-8" {
		t.Fatalf("%d %v", w.Code, w.Header())
	}
	var f struct {
		Title   string `xml:"title"`
		Entries []struct {
			Title   string `xml:"title"`
			ID      string `xml:"id"`
			Content struct {
				Type string `xml:"type,attr"`
				Body string `xml:",chardata"`
			} `xml:"content"`
		} `xml:"entry"`
	}
	if err := xml.Unmarshal(w.Body.Bytes(), &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Entries) != 3 || f.Entries[0].ID != "http://127.0.0.1:8080/status/acme#incident-11" || f.Entries[0].Content.Type != "text" ||
		!strings.Contains(f.Entries[0].Content.Body, "We are looking into it <script>") || !strings.Contains(f.Entries[1].Title, "(resolved)") {
		t.Errorf("feed = %+v", f)
	}
	if strings.Contains(w.Body.String(), "<script>") {
		t.Error("feed XML holds raw markup")
	}
	if w := h.get(t, "acme.status.test:8080", "/feed.atom"); !strings.Contains(w.Body.String(), "http://acme.status.test:8080/#incident-11") {
		t.Errorf("host feed ids: %s", w.Body.String()[:400])
	}
}

func TestPageURL(t *testing.T) {
	s := New(Config{BaseURL: "https://ml.example.com/"})
	if got := s.URL("acme"); got != "https://ml.example.com/status/acme" {
		t.Error(got)
	}
	s = New(Config{BaseURL: "https://ml.example.com", StatusDomain: "Status.Example.com"})
	if got := s.URL("acme"); got != "https://acme.status.example.com/" {
		t.Error(got)
	}
}

func TestAcceptsGzip(t *testing.T) {
	for in, want := range map[string]bool{"gzip": true, "br, gzip;q=0.5": true, "gzip;q=0": false, "identity": false, "": false, "GZIP": true} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Accept-Encoding", in)
		if acceptsGzip(r) != want {
			t.Errorf("acceptsGzip(%q) != %v", in, want)
		}
	}
}

func TestReaderErrorsAre503(t *testing.T) {
	s := New(Config{Reader: errReader{}, BaseURL: "http://x"})
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest("GET", "/status/acme", nil))
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("%d %v", rec.Code, rec.Header())
	}
}

type errReader struct{}

func (errReader) PublicPage(context.Context, string, time.Time, time.Time, time.Time) (projections.PublicPageData, error) {
	return projections.PublicPageData{}, io.ErrUnexpectedEOF
}

func (errReader) PublicPageOf(context.Context, projections.StatusPageView, time.Time, time.Time, time.Time) (projections.PublicPageData, error) {
	return projections.PublicPageData{}, io.ErrUnexpectedEOF
}

// TestPreviewIsThePublicPage: the editor's preview of a page, hostile
// fields and all, is the public page's bytes but for a robots noindex,
// custom CSS sanitised alike, and its CSP is the page's but for
// frame-ancestors; a draft is previewed too, and nothing is cached.
func TestPreviewIsThePublicPage(t *testing.T) {
	h := newHarness(t)
	public := h.get(t, "", "/status/acme")
	if public.Code != 200 {
		t.Fatalf("public page: %d", public.Code)
	}
	page := fixture(*h.now.Load()).Page
	body, policy, err := h.site.RenderPreview(context.Background(), page)
	if err != nil {
		t.Fatal(err)
	}
	const noindex = `<meta name="robots" content="noindex, nofollow">` + "\n"
	if strings.Count(string(body), noindex) != 1 {
		t.Errorf("preview lacks one %q", noindex)
	}
	if diff := cmp.Diff(public.Body.String(), strings.Replace(string(body), noindex, "", 1)); diff != "" {
		t.Errorf("preview differs from the public page beyond the robots tag (-public +preview):\n%s", diff)
	}
	for _, bad := range []string{"<script", "<img src=x", "javascript:", "expression(", "url("} {
		if strings.Contains(strings.ToLower(string(body)), bad) {
			t.Errorf("preview contains %q", bad)
		}
	}
	if css := styleRE.FindStringSubmatch(string(body))[1]; !strings.Contains(css, "body{color:red}") || strings.Contains(css, "<") {
		t.Errorf("preview's custom CSS not sanitised as the page's: %q", css)
	}
	want := strings.Replace(public.Header().Get("Content-Security-Policy"), "frame-ancestors 'none'", "frame-ancestors 'self'", 1)
	if policy != want || !strings.HasSuffix(policy, "frame-ancestors 'self'") {
		t.Errorf("preview CSP %q, want %q", policy, want)
	}

	// A draft with other values: previewed as typed, in its own order.
	builds := h.site.Builds()
	page.IsPublic, page.Title, page.MonitorIDs = false, "Draft <b>x</b>", []int64{3, 2}
	page.CustomCSS = ptr("h1{color:rgb(1,2,3)}")
	d := fixture(*h.now.Load())
	d.Monitors = []projections.PublicMonitor{d.Monitors[2], d.Monitors[0]}
	h.reader.set("acme", d)
	body, _, err = h.site.RenderPreview(context.Background(), page)
	if err != nil {
		t.Fatal(err)
	}
	b := string(body)
	if !strings.Contains(b, "<h1>Draft &lt;b&gt;x&lt;/b&gt;</h1>") || !strings.Contains(b, "h1{color:rgb(1,2,3)}") {
		t.Errorf("draft preview lacks its title or CSS")
	}
	if a, c := strings.Index(b, `data-monitor="3"`), strings.Index(b, `data-monitor="2"`); a < 0 || c < a || strings.Contains(b, `data-monitor="1"`) {
		t.Error("draft preview's monitors not in its order")
	}
	if h.site.Builds() != builds {
		t.Error("a preview went through the page cache")
	}
	if _, _, err := New(Config{Reader: errReader{}}).RenderPreview(context.Background(), page); err == nil {
		t.Error("a read error was not returned")
	}
}

func TestBadges(t *testing.T) {
	h := newHarness(t)
	w := h.get(t, "", "/status/acme/badge.svg")
	if w.Code != 200 || w.Header().Get("Content-Type") != "image/svg+xml" || w.Header().Get("Content-Security-Policy") != badgePolicy {
		t.Fatalf("%d %v", w.Code, w.Header())
	}
	body := w.Body.String()
	if !strings.Contains(body, "partial outage") || !strings.Contains(body, colorOrange) || strings.Contains(body, "<script") {
		t.Errorf("page badge: %s", body)
	}
	w = h.get(t, "", "/status/acme/monitors/2/badge.svg")
	if body := w.Body.String(); !strings.Contains(body, ">down<") || !strings.Contains(body, "API &lt;script&gt;") || strings.Contains(body, "<script") {
		t.Errorf("monitor badge: %s", body)
	}
	w = h.get(t, "acme.status.test", "/monitors/1/badge.svg?type=uptime&label=web%20uptime")
	if body := w.Body.String(); !strings.Contains(body, "97.50%") || !strings.Contains(body, "web uptime") || !strings.Contains(body, colorOrange) {
		t.Errorf("uptime badge: %s", body)
	}
	w = h.get(t, "", "/status/acme/monitors/3/badge.svg?type=uptime")
	if body := w.Body.String(); !strings.Contains(body, "no data") || !strings.Contains(body, colorGrey) {
		t.Errorf("no-data badge: %s", body)
	}
	if w := h.get(t, "", "/status/acme/monitors/99/badge.svg"); w.Code != 404 {
		t.Errorf("monitor not on the page: %d", w.Code)
	}
	if w := h.get(t, "", "/status/acme/badge.svg?type=bogus"); w.Code != 400 {
		t.Errorf("bad type: %d", w.Code)
	}
	if w := h.get(t, "", "/status/acme/badge.svg?label="+strings.Repeat("x", 41)); w.Code != 400 {
		t.Errorf("long label: %d", w.Code)
	}
	if w := h.get(t, "", "/status/acme/monitors/x/badge.svg"); w.Code != 404 {
		t.Errorf("bad id: %d", w.Code)
	}
	etag := h.get(t, "", "/status/acme/badge.svg").Header().Get("ETag")
	if w := h.get(t, "", "/status/acme/badge.svg", "If-None-Match", etag); w.Code != 304 {
		t.Errorf("badge If-None-Match: %d", w.Code)
	}
}

// TestPageTitleIsThePagesTitle: the document's title is the page's own,
// not it with " status" after it ("My team status status").
func TestPageTitleIsThePagesTitle(t *testing.T) {
	h := newHarness(t)
	d := fixture(*h.now.Load())
	d.Page.Title, d.Page.Subdomain = "My team status", "team"
	h.reader.set("team", d)
	body := h.get(t, "", "/status/team").Body.String()
	if !strings.Contains(body, "<title>My team status</title>") {
		t.Errorf("the title: %s", body[strings.Index(body, "<title>"):strings.Index(body, "</title>")+8])
	}
}
