package e2e

import (
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/medialuna/medialuna/test/browser"
	"github.com/medialuna/medialuna/test/smtpcatcher"
	"github.com/medialuna/medialuna/test/testdb"
)

// apiStatusPage is GET /api/status-pages/{id}, the fields the editor sets.
type apiStatusPage struct {
	ID          int64   `json:"id"`
	Title       string  `json:"title"`
	Subdomain   string  `json:"subdomain"`
	Description *string `json:"description"`
	LogoURL     *string `json:"logo_url"`
	CustomCSS   *string `json:"custom_css"`
	MonitorIDs  []int64 `json:"monitor_ids"`
	IsPublic    bool    `json:"is_public"`
	URL         string  `json:"url"`
}

var statusPagePath = regexp.MustCompile(`/status-pages/(\d+)$`)

// createMonitorAPI makes a monitor the pages can show.
func createMonitorAPI(t *testing.T, s *server, jwt, name string) int64 {
	t.Helper()
	var m monitor
	s.expect(201, "POST", "/api/v1/monitors", jwt, map[string]any{"name": name, "type": "HTTP", "url": "http://127.0.0.1:1/x", "check_interval": 300}).json(t, &m)
	return m.ID
}

func strp(s string) *string { return &s }

// inFrame is a JavaScript expression true when the preview frame has
// loaded a document for which cond (an expression over its document, d)
// holds.
func inFrame(cond string) string {
	return `(() => { const f = document.querySelector("#sp-frame"); const d = f && f.contentDocument; if (!d || !d.body || d.readyState !== "complete") return false; return (` + cond + `) })()`
}

// frameMonitors is an expression for the frame's monitor names, in order,
// joined by "|".
const frameMonitors = `Array.from(d.querySelectorAll("#monitors .name")).map(e => e.textContent).join("|")`

// TestDashboardStatusPages drives the status page editor in Chromium
// through the real binary: the subdomain said taken, reserved, invalid
// and available as it is typed (the page's own name available when
// editing), a refusal beside its field with nothing created, the preview
// showing unsaved values, create, reorder and rename, the public page,
// badge and feed, delete after a confirmation; the API reports the same
// page after every step. A VIEWER only looks; forged posts are refused.
func TestDashboardStatusPages(t *testing.T) {
	b := browser.New(t)
	s := startServer(t, testdb.New(t), smtpcatcher.Start(t))
	const email = "pages@example.com"
	_, p := signUpInBrowser(t, b, s, email, "Pages Co")
	jwt := apiLogin(t, s, email)
	alpha := createMonitorAPI(t, s, jwt, "Alpha API")
	beta := createMonitorAPI(t, s, jwt, "Beta web")
	hostileMon := createMonitorAPI(t, s, jwt, `<img src=x onerror=alert(1)>`)

	// Another account holds a subdomain.
	other := signup(t, s, "other-pages@example.com", "Other pages")
	unlimited(t, s, other.Account.ID) // room for a second page
	s.expect(201, "POST", "/api/status-pages", other.AccessToken, map[string]any{"title": "Theirs", "subdomain": "taken-one"})

	p.Navigate(s.URL + "/status-pages")
	if !strings.Contains(p.Text("main"), "No status pages yet") || !strings.Contains(p.Text("#pages-use"), "0 of 1 status pages used") {
		t.Errorf("the empty list:\n%s", p.Text("main"))
	}
	checkPage(t, p, "status-pages-empty")
	p.ClickButton("New status page")
	if !strings.HasSuffix(p.URL(), "/status-pages/new") {
		t.Fatalf("New status page led to %s", p.URL())
	}

	// The subdomain's availability, as it is typed.
	for _, c := range []struct{ typed, state, says string }{
		{"taken-one", "taken", "taken-one is taken"},
		{"status", "reserved", "status is reserved"},
		{"-bad", "invalid", "must not start or end with a hyphen"},
		{"bad_name", "invalid", "letters a-z, digits and hyphens"},
		{"Acme-Status", "available", "acme-status is available"},
	} {
		p.Fill("#subdomain", c.typed)
		if !p.WaitTrue(`(() => { const e = document.querySelector("#subdomain-status [data-state]"); return !!e && e.dataset.state === "`+c.state+`" && e.innerText.includes(`+"`"+c.says+"`"+`) })()`, 10*time.Second) {
			t.Errorf("typed %q: the check says %q, want %s: %q", c.typed, p.Text("#subdomain-status"), c.state, c.says)
		}
	}
	if live, _ := p.Eval(`document.querySelector("#subdomain-status").getAttribute("aria-live")`).(string); live != "polite" {
		t.Errorf("the subdomain check is not announced: aria-live %q", live)
	}

	// The preview, the public page itself in a frame, shows the unsaved
	// values: title (hostile, as text), description and the ticked
	// monitors in the typed order.
	const title = `"><script>alert(1)</script> Acme status`
	p.Fill("#title", title)
	const desc = `Everything Acme runs. </textarea><img src=x onerror=alert(1)>`
	p.Fill("#description", desc)
	p.Check("#mon-"+itoa(beta), true)
	p.Check("#mon-"+itoa(alpha), true)
	p.Fill("#pos-"+itoa(beta), "1")
	p.Fill("#pos-"+itoa(alpha), "2")
	if !p.WaitTrue(inFrame(`d.querySelector("h1").textContent === `+strconv.Quote(title)+` && `+frameMonitors+` === "Beta web|Alpha API" && d.querySelector(".desc").textContent === `+strconv.Quote(desc)), 10*time.Second) {
		t.Errorf("the preview does not show the unsaved title, monitors and description: %v", p.Eval(inFrame(`d.body.innerText`)))
	}
	if p.ScriptRan() || p.Count("script:not([src])") != 0 {
		t.Error("a script ran on the editor or its preview")
	}

	// A refusal comes back beside its field, with what was typed, and
	// nothing is created.
	p.Fill("#logo_url", "javascript:alert(1)")
	p.ClickButton("Create status page")
	if !p.WaitText("#err-logo_url", "http or https", 10*time.Second) {
		t.Fatalf("no error beside the logo URL:\n%s", p.Text("main"))
	}
	if got := p.Eval(`[document.querySelector("#title").value, document.querySelector("#subdomain").value, document.querySelector("#mon-` + itoa(beta) + `").checked].join("|")`); got != title+"|Acme-Status|true" {
		t.Errorf("the typed values after the refusal: %v", got)
	}
	var pages []apiStatusPage
	s.expect(200, "GET", "/api/status-pages", jwt, nil).json(t, &pages)
	if len(pages) != 0 {
		t.Fatalf("a refused form created pages: %+v", pages)
	}
	checkPage(t, p, "status-page-form")

	// Create.
	p.Fill("#logo_url", "")
	p.ClickButton("Create status page")
	p.WaitTrue(`/\/status-pages\/\d+$/.test(location.pathname)`, 10*time.Second)
	m := statusPagePath.FindStringSubmatch(strings.SplitN(p.URL(), "?", 2)[0])
	if m == nil {
		t.Fatalf("after create the browser is at %s:\n%s", p.URL(), p.Text("main"))
	}
	id := m[1]
	var got apiStatusPage
	s.expect(200, "GET", "/api/status-pages/"+id, jwt, nil).json(t, &got)
	want := apiStatusPage{ID: int64(atoi(id)), Title: title, Subdomain: "acme-status", Description: strp(desc),
		MonitorIDs: []int64{beta, alpha}, IsPublic: true, URL: s.URL + "/status/acme-status"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("created page (-want +got):\n%s", d)
	}
	if !strings.Contains(p.Text(".flash"), "Status page created") {
		t.Errorf("no flash after create: %q", p.Text("main"))
	}

	// The addresses to copy.
	badge, _ := p.Eval(`document.querySelector("#badge-url").value`).(string)
	feed, _ := p.Eval(`document.querySelector("#feed-url").value`).(string)
	if badge != want.URL+"/badge.svg" || feed != want.URL+"/feed.atom" {
		t.Errorf("badge %q, feed %q", badge, feed)
	}
	if n := p.Count(`button[data-copy="#badge-url"]`) + p.Count(`button[data-copy="#feed-url"]`); n != 2 {
		t.Errorf("%d copy buttons for the badge and the feed", n)
	}
	for u, ctype := range map[string]string{badge: "image/svg+xml", feed: "application/atom+xml"} {
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), ctype) {
			t.Errorf("GET %s: %d %s", u, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	}

	// Edit: the page's own subdomain is available to it; rename and reorder.
	p.Fill("#subdomain", "acme-status")
	if !p.WaitText("#subdomain-status", "acme-status is available", 10*time.Second) {
		t.Errorf("the page's own subdomain: %q", p.Text("#subdomain-status"))
	}
	p.Fill("#subdomain", "taken-one")
	if !p.WaitText("#subdomain-status", "taken-one is taken", 10*time.Second) {
		t.Errorf("another page's subdomain on edit: %q", p.Text("#subdomain-status"))
	}
	p.Fill("#subdomain", "acme-two")
	if !p.WaitText("#subdomain-status", "acme-two is available", 10*time.Second) {
		t.Errorf("a free subdomain on edit: %q", p.Text("#subdomain-status"))
	}
	p.Fill("#pos-"+itoa(alpha), "1")
	p.Fill("#pos-"+itoa(beta), "2")
	p.Check("#mon-"+itoa(hostileMon), true)
	p.Fill("#pos-"+itoa(hostileMon), "3")
	const css = ".banner { border-radius: 0 } h1 { color: rgb(1, 2, 3) } .x { background: url(http://192.0.2.1/x.png) }"
	p.SetValue("#custom_css", css)
	logo := s.URL + "/static/favicon.svg" // on this machine: checkPage counts requests leaving it
	p.Fill("#logo_url", logo)
	// The frame shows the new order and applies the custom CSS, sanitised
	// (the url() is dropped: the frame fetches nothing from 192.0.2.1).
	if !p.WaitTrue(inFrame(frameMonitors+` === "Alpha API|Beta web|<img src=x onerror=alert(1)>" && getComputedStyle(d.querySelector("h1")).color === "rgb(1, 2, 3)" && !!d.querySelector("header img") && d.querySelector("header img").complete && d.querySelector("header img").naturalWidth > 0`), 10*time.Second) {
		t.Errorf("the preview after reordering, styling and a logo: %v, h1 %v, logo %v", p.Eval(inFrame(frameMonitors)), p.Eval(inFrame(`getComputedStyle(d.querySelector("h1")).color`)),
			p.Eval(inFrame(`d.querySelector("header img") && d.querySelector("header img").naturalWidth`)))
	}
	if p.ScriptRan() {
		t.Error("a script ran in the preview")
	}

	// The frame's response: the public page's own CSP but frame-ancestors
	// 'self', SAMEORIGIN, noindex; another account's monitor asked for by
	// id is not shown.
	theirMon := createMonitorAPI(t, s, other.AccessToken, "Their secret monitor")
	frameSrc, _ := p.Eval(`document.querySelector("#sp-frame").contentWindow.location.pathname + document.querySelector("#sp-frame").contentWindow.location.search`).(string)
	if !strings.HasPrefix(frameSrc, "/status-pages/preview/page?") || strings.Contains(frameSrc, "csrf") {
		t.Errorf("the frame's address: %q", frameSrc)
	}
	pc := newFormClient(t, s)
	pc.login(email, dashboardPassword)
	resp, err := pc.http.Get(s.URL + frameSrc + "&monitor_ids=" + itoa(theirMon))
	if err != nil {
		t.Fatal(err)
	}
	frameBody := readBody(t, resp)
	policy := resp.Header.Get("Content-Security-Policy")
	if resp.StatusCode != 200 || resp.Header.Get("X-Frame-Options") != "SAMEORIGIN" || !strings.HasSuffix(policy, "frame-ancestors 'self'") ||
		strings.Contains(policy, "frame-ancestors 'none'") || strings.Contains(policy, "script-src") || !strings.HasPrefix(policy, "default-src 'none'; style-src 'sha256-") {
		t.Errorf("the frame's response: %d %v", resp.StatusCode, resp.Header)
	}
	if !strings.Contains(frameBody, `<meta name="robots" content="noindex, nofollow">`) || strings.Contains(frameBody, "Their secret monitor") ||
		!strings.Contains(frameBody, "Alpha API") || strings.Contains(frameBody, "192.0.2.1") || strings.Contains(frameBody, "<script") {
		t.Errorf("the frame's page:\n%s", frameBody)
	}
	if status, _, _ := newFormClient(t, s).get(frameSrc); status == http.StatusOK {
		t.Error("the preview answered without a session")
	}
	checkPage(t, p, "status-page-edit")
	p.ClickButton("Save changes")
	p.WaitText(".flash", "Status page saved", 10*time.Second)
	got = apiStatusPage{}
	s.expect(200, "GET", "/api/status-pages/"+id, jwt, nil).json(t, &got)
	want.Subdomain, want.URL, want.MonitorIDs, want.CustomCSS = "acme-two", s.URL+"/status/acme-two", []int64{alpha, beta, hostileMon}, strp(css)
	want.LogoURL = strp(logo)
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("edited page (-want +got):\n%s", d)
	}
	// The old name is free again: another account can take it.
	s.expect(201, "POST", "/api/status-pages", other.AccessToken, map[string]any{"title": "Took it", "subdomain": "acme-status"})

	// The list: title as text, subdomain, link, monitor count.
	p.Navigate(s.URL + "/status-pages")
	row := `tr[data-page="` + id + `"]`
	if txt := p.Text(row); !strings.Contains(txt, title) || !strings.Contains(txt, "acme-two") || p.Text(row+" [data-monitors]") != "3" {
		t.Errorf("the list's row: %q", txt)
	}
	checkPage(t, p, "status-pages-list")

	// The public page link works and shows the saved page.
	p.Click("#sp-" + id + "-public")
	if !p.WaitTrue(`location.pathname === "/status/acme-two"`, 10*time.Second) {
		t.Fatalf("the public link led to %s", p.URL())
	}
	pub := p.Text("body")
	if !strings.Contains(pub, title) || !(strings.Index(pub, "Alpha API") < strings.Index(pub, "Beta web")) || !strings.Contains(pub, "<img src=x onerror=alert(1)>") {
		t.Errorf("the public page:\n%s", pub)
	}
	if p.ScriptRan() {
		t.Error("a script ran on the public page")
	}

	// A VIEWER looks and cannot change anything.
	s.expect(200, "POST", "/api/accounts/users/invite", jwt, map[string]string{"email": "page-viewer@example.com", "role": "VIEWER"})
	token := inviteToken(t, s.Mail.WaitFor(t, "page-viewer@example.com", 20*time.Second).Data)
	s.expect(200, "POST", "/api/auth/accept-invite", "", map[string]string{"token": token, "password": dashboardPassword})
	_, vp := logInInBrowser(t, b, s, "page-viewer@example.com", dashboardPassword)
	vp.Navigate(s.URL + "/status-pages")
	if vp.Count("#new-page")+vp.Count(`a[href$="/delete"]`) != 0 || !strings.Contains(vp.Text("#page-list"), title) {
		t.Errorf("the viewer's list:\n%s", vp.Text("main"))
	}
	vp.Navigate(s.URL + "/status-pages/" + id)
	if vp.Count("#sp-form")+vp.Count("#delete-page") != 0 || !strings.Contains(vp.Text("main"), "acme-two") || !vp.WaitTrue(inFrame(frameMonitors+` === "Alpha API|Beta web|<img src=x onerror=alert(1)>"`), 10*time.Second) {
		t.Errorf("the viewer's page:\n%s", vp.Text("main"))
	}
	checkPage(t, vp, "status-page-viewer")
	viewer := newFormClient(t, s)
	viewer.login("page-viewer@example.com", dashboardPassword)
	_, _, vcsrf := viewer.get("/status-pages")
	if status, _, _ := viewer.get("/status-pages/new"); status != http.StatusForbidden {
		t.Errorf("viewer's GET /status-pages/new: %d", status)
	}
	forged := url.Values{"csrf": {vcsrf}, "title": {"Viewer was here"}, "subdomain": {"viewer-page"}, "is_public": {"true"}}
	for _, path := range []string{"/status-pages", "/status-pages/" + id, "/status-pages/" + id + "/delete"} {
		if status, body := viewer.post(path, forged); status != http.StatusForbidden {
			t.Errorf("viewer's POST %s: %d\n%s", path, status, body)
		}
	}
	// The owner's own session without the token.
	owner := newFormClient(t, s)
	owner.login(email, dashboardPassword)
	if status, _ := owner.post("/status-pages/"+id+"/delete", url.Values{}); status != http.StatusForbidden {
		t.Errorf("POST without a CSRF token: %d", status)
	}
	// The plan's one page is used: the form says so, and a create is
	// refused with the form as typed.
	_, newForm, ocsrf := owner.get("/status-pages/new")
	if !strings.Contains(newForm, "1 of 1 status pages used") || !strings.Contains(newForm, "all in use") {
		t.Errorf("the form at the plan's limit does not say so")
	}
	if status, body := owner.post("/status-pages", url.Values{"csrf": {ocsrf}, "title": {"Second page"}, "subdomain": {"acme-second"}, "is_public": {"true"}}); status != http.StatusForbidden ||
		!strings.Contains(body, `value="Second page"`) || !strings.Contains(body, "form-error") {
		t.Errorf("a page past the plan's limit: %d\n%s", status, body)
	}
	// Another account's page is not found.
	otherForm := newFormClient(t, s)
	otherForm.login("other-pages@example.com", dashboardPassword)
	if status, _, _ := otherForm.get("/status-pages/" + id); status != http.StatusNotFound {
		t.Errorf("another account's GET of the page: %d", status)
	}
	_, _, otherCSRF := otherForm.get("/status-pages")
	theirs := url.Values{"csrf": {otherCSRF}, "title": {"Taken over"}, "subdomain": {"taken-over"}, "is_public": {"true"}}
	for _, path := range []string{"/status-pages/" + id, "/status-pages/" + id + "/delete"} {
		if status, _ := otherForm.post(path, theirs); status != http.StatusNotFound {
			t.Errorf("another account's POST %s: %d", path, status)
		}
	}
	got = apiStatusPage{}
	s.expect(200, "GET", "/api/status-pages/"+id, jwt, nil).json(t, &got)
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("refused posts changed the page (-want +got):\n%s", d)
	}

	// Delete, after a confirmation.
	p.Navigate(s.URL + "/status-pages/" + id)
	p.Click("#delete-page")
	if !strings.Contains(p.Text("h1"), "Delete status page") {
		t.Fatalf("no confirmation: %s", p.Text("main"))
	}
	checkPage(t, p, "status-page-delete")
	p.ClickButton("Delete status page")
	p.WaitTrue(`location.pathname === "/status-pages"`, 10*time.Second)
	s.expect(404, "GET", "/api/status-pages/"+id, jwt, nil)
	s.expect(200, "GET", "/api/status-pages", jwt, nil).json(t, &pages)
	if len(pages) != 0 || p.Count(row) != 0 {
		t.Errorf("after delete: API %+v, rows %d", pages, p.Count(row))
	}
	resp, err = http.Get(s.URL + "/status/acme-two")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("the deleted page's public address: %d", resp.StatusCode)
	}
}
