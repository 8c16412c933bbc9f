package e2e

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/medialuna/medialuna/test/browser"
	"github.com/medialuna/medialuna/test/smtpcatcher"
	"github.com/medialuna/medialuna/test/testdb"
)

// apiLogin returns a JWT for a user who signed up through the dashboard.
func apiLogin(t *testing.T, s *server, email string) string {
	t.Helper()
	var login struct {
		AccessToken string `json:"access_token"`
	}
	s.expect(200, "POST", "/api/auth/login", "", map[string]string{"email": email, "password": dashboardPassword}).json(t, &login)
	return login.AccessToken
}

// rowSelector selects a monitor's row in the list.
func rowSelector(id int64) string { return `tr[data-monitor="` + itoa(id) + `"]` }

// listNames returns the names in the list's rows, in order.
func listNames(p *browser.Page) []string {
	v, _ := p.Eval(`Array.from(document.querySelectorAll("#monitor-list tbody tr td:nth-child(2) a")).map(a => a.innerText)`).([]any)
	out := []string{}
	for _, x := range v {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

var monitorPath = regexp.MustCompile(`/monitors/(\d+)$`)

// TestDashboardMonitorsJourney drives the monitors pages in Chromium
// through the real binary: the form (plan limits said, only the chosen
// type's fields, a refusal next to its field with the typed values kept),
// a monitor that turns up and then down in the list without a reload,
// hostile names shown as text, clone, edit, pause and resume, bulk pause,
// bulk delete after a confirmation page, and search, filter and sort done
// by the server.
func TestDashboardMonitorsJourney(t *testing.T) {
	b := browser.New(t)
	s := startServer(t, testdb.New(t), smtpcatcher.Start(t), "MEDIALUNA_MIN_CHECK_INTERVAL=1")
	tg := newTarget(t)
	const email = "journey@example.com"
	_, p := signUpInBrowser(t, b, s, email, "Journey")
	jwt := apiLogin(t, s, email)

	// The form says the plan's limits before they are hit, with the
	// minimum interval this server takes (--min-check-interval 1).
	p.Navigate(s.URL + "/monitors/new")
	main := p.Text("main")
	for _, want := range []string{"0 of 10 monitors used", "Your plan (Free) allows 1 region per monitor", "At least 1 s on Free"} {
		if !strings.Contains(main, want) {
			t.Errorf("the form does not say %q:\n%s", want, main)
		}
	}
	visible := func(sel string) bool {
		v, _ := p.Eval(`(() => { const e = document.querySelector("` + sel + `"); return !!e && e.offsetParent !== null })()`).(bool)
		return v
	}
	if visible("#port") || !visible("#http_method") || !visible("#url") {
		t.Errorf("HTTP form: port visible %v, method visible %v, url visible %v", visible("#port"), visible("#http_method"), visible("#url"))
	}
	p.SetValue("#type", "TCP")
	if !visible("#port") || visible("#http_method") || visible("#request_headers") {
		t.Errorf("TCP form: port visible %v, method visible %v", visible("#port"), visible("#http_method"))
	}
	p.SetValue("#type", "PUSH")
	if visible("#url") || !visible("#grace_period") {
		t.Errorf("PUSH form: url visible %v, grace visible %v", visible("#url"), visible("#grace_period"))
	}
	p.SetValue("#type", "HTTP")
	checkPage(t, p, "monitor-form-http")
	p.Navigate(s.URL + "/monitors/new")

	// A refusal comes back next to its field, with what was typed.
	p.Fill("#name", "Web")
	p.Fill("#url", "not a url")
	p.Fill("#check_interval", "1")
	p.Fill("#timeout", "2")
	p.SetValue("#request_headers", "X-Probe: dashboard")
	p.ClickButton("Create monitor")
	if !p.WaitText("#err-url", "http:// or https://", 10*time.Second) {
		t.Fatalf("no error next to url:\n%s", p.Text("main"))
	}
	if got := p.Eval(`[document.querySelector("#name").value, document.querySelector("#url").value, document.querySelector("#request_headers").value,
		document.querySelector("#url").getAttribute("aria-invalid")].join("|")`); got != "Web|not a url|X-Probe: dashboard|true" {
		t.Errorf("typed values after the refusal: %v", got)
	}
	if !strings.Contains(p.Text(".form-error"), "not saved") {
		t.Errorf("no summary at the top: %q", p.Text("main"))
	}
	// The summary is announced and leads to each field in error.
	if got, _ := p.Eval(`(() => { const s = document.querySelector("#error-summary"); const a = s && s.querySelector('a[href="#url"]');
		return s && a ? s.getAttribute("role") + "|" + a.textContent + "|" + !!document.querySelector(a.getAttribute("href")) : "no link" })()`).(string); !strings.HasPrefix(got, "alert|URL or host: ") || !strings.HasSuffix(got, "|true") {
		t.Errorf("the error summary's link to url: %v", got)
	}

	// Created against a target that fails at first, so the list shows it
	// down, then up, then down again, each without a reload.
	tg.healthy.Store(false)
	p.Fill("#url", tg.URL+"/health")
	p.ClickButton("Create monitor")
	p.WaitTrue(`!location.pathname.startsWith("/monitors/new")`, 10*time.Second)
	m := monitorPath.FindStringSubmatch(strings.SplitN(p.URL(), "?", 2)[0])
	if m == nil {
		t.Fatalf("after create the browser is at %s", p.URL())
	}
	webID := int64(atoi(m[1]))
	web := getMonitor(t, s, jwt, webID)
	if web.Name != "Web" || web.URL != tg.URL+"/health" || web.CheckInterval != 1 || web.Timeout != 2 || web.RequestHeaders["X-Probe"] != "dashboard" {
		t.Errorf("created monitor: %+v", web)
	}
	p.Navigate(s.URL + "/monitors")
	p.Eval(`window.__sameDocument = 1`)
	isDown := `(() => { const r = document.querySelector('` + rowSelector(webID) + `'); return !!r && r.classList.contains("is-down") && r.innerText.includes("Down") })()`
	if !p.WaitTrue(isDown, 20*time.Second) {
		t.Fatalf("the row did not show Down: %s", p.Text("main"))
	}
	// A box ticked for a bulk action stays ticked through live refreshes.
	// (A click can land on a row a refresh has just replaced; tick until
	// the box shows ticked.)
	selected := `document.querySelector("#sel-` + itoa(webID) + `").checked`
	for range 5 {
		p.Check("#sel-"+itoa(webID), true)
		if p.WaitTrue(selected, time.Second) {
			break
		}
	}
	tg.healthy.Store(true)
	if !p.WaitTrue(`(() => { const r = document.querySelector('`+rowSelector(webID)+`'); return !!r && !r.classList.contains("is-down") && r.innerText.includes("Up") })()`, 20*time.Second) {
		t.Fatalf("the row did not turn Up: %s", p.Text("main"))
	}
	if p.Eval(selected) != true {
		t.Error("the live refresh unticked the selection")
	}
	tg.healthy.Store(false)
	if !p.WaitTrue(isDown, 20*time.Second) {
		t.Fatalf("the row did not turn Down again: %s", p.Text("main"))
	}
	if p.Eval(`window.__sameDocument === 1`) != true {
		t.Error("the page reloaded")
	}
	tg.healthy.Store(true)

	// Hostile names render as text.
	hostile := []string{`<img src=x onerror=alert(1)>Img`, `<script>window.__pwned=1</script>Script`}
	var hostileIDs []int64
	for _, name := range hostile {
		var mon monitor
		s.expect(201, "POST", "/api/v1/monitors", jwt, map[string]any{"name": name, "type": "HTTP", "url": tg.URL, "check_interval": 60}).json(t, &mon)
		hostileIDs = append(hostileIDs, mon.ID)
	}
	p.Navigate(s.URL + "/monitors?sort=name")
	names := listNames(p)
	if len(names) != 3 || names[0] != hostile[0] || names[1] != hostile[1] || names[2] != "Web" {
		t.Errorf("names by name: %q", names)
	}
	if n := p.Count("#monitor-list img, #monitor-list script"); n != 0 {
		t.Errorf("%d injected elements in the list", n)
	}
	checkPage(t, p, "monitors-list")

	// Clone, then edit.
	p.Navigate(s.URL + "/monitors/" + itoa(webID) + "/edit")
	p.ClickButton("Clone")
	if got := p.Eval(`document.querySelector("#name").value`); got != "Copy of Web" {
		t.Errorf("clone's name = %v", got)
	}
	p.ClickButton("Create monitor")
	p.WaitTrue(`!location.pathname.startsWith("/monitors/new")`, 10*time.Second)
	m = monitorPath.FindStringSubmatch(strings.SplitN(p.URL(), "?", 2)[0])
	if m == nil {
		t.Fatalf("after clone the browser is at %s\n%s", p.URL(), p.Text("main"))
	}
	copyID := int64(atoi(m[1]))
	if c := getMonitor(t, s, jwt, copyID); c.Name != "Copy of Web" || c.URL != web.URL || c.RequestHeaders["X-Probe"] != "dashboard" {
		t.Errorf("clone = %+v", c)
	}
	p.Navigate(s.URL + "/monitors/" + itoa(webID) + "/edit")
	p.Fill("#name", "Web renamed")
	p.Fill("#expected_status_codes", "200, 204")
	p.ClickButton("Save changes")
	if !p.WaitTrue(`!location.pathname.endsWith("/edit")`, 10*time.Second) {
		t.Errorf("the edit was not saved: %s", p.Text("main"))
	}
	if e := getMonitor(t, s, jwt, webID); e.Name != "Web renamed" || e.URL != web.URL || e.CheckInterval != 1 || len(e.ExpectedStatusCodes) != 2 {
		t.Errorf("edited = %+v", e)
	}

	// Pause and resume one.
	p.Navigate(s.URL + "/monitors/" + itoa(webID) + "/edit")
	p.ClickButton("Pause")
	if !p.WaitText(".flash", "Paused Web renamed", 10*time.Second) {
		t.Errorf("after pause: %s %s", p.URL(), p.Text("main"))
	}
	p.Navigate(s.URL + "/monitors")
	if !p.WaitText(rowSelector(webID), "Paused", 10*time.Second) {
		t.Errorf("the list after pause: %s", p.Text("main"))
	}
	p.Navigate(s.URL + "/monitors/" + itoa(webID) + "/edit")
	p.ClickButton("Resume")
	p.WaitTrue(`!location.pathname.endsWith("/edit")`, 10*time.Second)
	if got := getMonitor(t, s, jwt, webID).Status; got == "paused" {
		t.Errorf("after resume the status is %s", got)
	}

	// Bulk pause of two, back to the same query.
	p.Navigate(s.URL + "/monitors?sort=name")
	p.Check("#sel-"+itoa(webID), true)
	p.Check("#sel-"+itoa(copyID), true)
	p.SetValue("#bulk-action", "pause")
	p.ClickButton("Apply to selected")
	if !p.WaitText(".flash", "Paused 2 monitors", 10*time.Second) {
		t.Errorf("no flash after bulk pause: %s", p.Text("main"))
	}
	if u := p.URL(); !strings.Contains(u, "sort=name") {
		t.Errorf("bulk pause went back to %s", u)
	}
	for _, id := range []int64{webID, copyID} {
		if got := getMonitor(t, s, jwt, id).Status; got != "paused" {
			t.Errorf("monitor %d after bulk pause: %s", id, got)
		}
	}

	// Status filter and search are the server's.
	p.Navigate(s.URL + "/monitors?status=paused&sort=name")
	if names := listNames(p); len(names) != 2 || names[0] != "Copy of Web" || names[1] != "Web renamed" {
		t.Errorf("paused: %q", names)
	}
	p.Navigate(s.URL + "/monitors")
	p.Fill("#q", "copy")
	if !p.WaitTrue(`document.querySelectorAll("#monitor-list tbody tr").length === 1 && location.search.includes("q=copy")`, 10*time.Second) {
		t.Errorf("search did not narrow the list: %q at %s", listNames(p), p.URL())
	}
	if !strings.Contains(p.Text("#monitor-list"), "1 monitor") {
		t.Errorf("total after search: %s", p.Text("#monitor-list"))
	}
	// A tag added in bulk, then filtered by.
	var tag struct {
		ID int64 `json:"id"`
	}
	s.expect(201, "POST", "/api/tags", jwt, map[string]string{"name": "edge", "color": "#123456"}).json(t, &tag)
	p.Navigate(s.URL + "/monitors?sort=name")
	p.Check("#sel-"+itoa(copyID), true)
	p.SetValue("#bulk-action", "add_tags")
	p.SetValue("#bulk-tag", itoa(tag.ID))
	if p.Count(`#f-tag option[value="edge"]`) != 1 {
		t.Error("the tag filter does not offer the new tag")
	}
	p.ClickButton("Apply to selected")
	if !p.WaitText(".flash", "Tagged 1 monitor", 10*time.Second) {
		t.Errorf("no flash after tagging: %s", p.Text("main"))
	}
	p.Navigate(s.URL + "/monitors?tag=edge")
	if names := listNames(p); len(names) != 1 || names[0] != "Copy of Web" {
		t.Errorf("tag filter: %q", names)
	}
	// The live refresh and a bulk action's return keep the filter.
	if got := p.Eval(`document.querySelector("#monitor-list").getAttribute("hx-get") + " " + document.querySelector("input[name=back]").value`); got != "/monitors?tag=edge /monitors?tag=edge" {
		t.Errorf("the filtered list refreshes and returns to %v", got)
	}
	p.Navigate(s.URL + "/monitors?tag=no-such-tag")
	if n := p.Count("#monitor-list tbody tr"); n != 0 {
		t.Errorf("an unknown tag shows %d rows", n)
	}
	p.Navigate(s.URL + "/monitors?type=HEAD")
	if n := p.Count("#monitor-list tbody tr"); n != 0 || !strings.Contains(p.Text("#monitor-list"), "No monitor matches") {
		t.Errorf("HEAD filter shows %d rows", n)
	}
	// A page past the end shows the last page, not "nothing matches".
	p.Navigate(s.URL + "/monitors?sort=name&page=7")
	if n := p.Count("#monitor-list tbody tr"); n == 0 || strings.Contains(p.Text("#monitor-list"), "No monitor matches") {
		t.Errorf("a page past the end shows %d rows: %s", n, p.Text("#monitor-list"))
	}
	if got := p.Eval(`document.querySelector("#monitor-list").getAttribute("hx-get")`); got != "/monitors?sort=name" {
		t.Errorf("the clamped page refreshes from %v", got)
	}
	// Controls inside the live list keep their ids from one refresh to the
	// next, so htmx gives focus back to the one that had it.
	for _, id := range hostileIDs {
		if n := p.Count("#m-" + itoa(id) + "-name"); n != 1 {
			t.Errorf("monitor %d's name link: %d with its id", id, n)
		}
	}

	// Bulk delete asks first, on a page of its own.
	p.Navigate(s.URL + "/monitors?sort=name")
	for _, id := range hostileIDs {
		p.Check("#sel-"+itoa(id), true)
	}
	p.SetValue("#bulk-action", "delete")
	p.ClickButton("Apply to selected")
	if !p.WaitText("h1", "Delete these 2 monitors?", 10*time.Second) {
		t.Fatalf("no confirmation: %s", p.Text("main"))
	}
	for _, id := range hostileIDs {
		s.expect(200, "GET", "/api/v1/monitors/"+itoa(id), jwt, nil)
	}
	checkPage(t, p, "monitors-delete-confirm")
	p.ClickButton("Delete 2 monitors")
	if !p.WaitText(".flash", "Deleted 2 monitors", 10*time.Second) {
		t.Errorf("no flash after delete: %s", p.Text("main"))
	}
	for _, id := range hostileIDs {
		s.expect(404, "GET", "/api/v1/monitors/"+itoa(id), jwt, nil)
	}

	// One monitor's delete confirmation, then Cancel keeps it.
	p.Navigate(s.URL + "/monitors/" + itoa(copyID) + "/delete")
	p.ClickButton("Cancel")
	p.WaitTrue(`!location.pathname.endsWith("/delete")`, 10*time.Second)
	s.expect(200, "GET", "/api/v1/monitors/"+itoa(copyID), jwt, nil)
	p.Navigate(s.URL + "/monitors/" + itoa(copyID) + "/delete")
	p.ClickButton("Delete 1 monitor")
	p.WaitTrue(`!location.pathname.endsWith("/delete")`, 10*time.Second)
	s.expect(404, "GET", "/api/v1/monitors/"+itoa(copyID), jwt, nil)
}

// TestDashboardMonitorsAccess: a VIEWER sees no write actions and the
// server refuses their forged bulk post; a post without the CSRF token is
// refused; another account sees none of these monitors.
func TestDashboardMonitorsAccess(t *testing.T) {
	b := browser.New(t)
	s := startServer(t, testdb.New(t), smtpcatcher.Start(t), "MEDIALUNA_MIN_CHECK_INTERVAL=1")
	owner := signup(t, s, "owner@example.com", "Owners")
	var mon monitor
	s.expect(201, "POST", "/api/v1/monitors", owner.AccessToken, map[string]any{"name": "Owned API", "type": "HTTP", "url": "http://127.0.0.1:1/x", "check_interval": 60}).json(t, &mon)

	s.expect(200, "POST", "/api/accounts/users/invite", owner.AccessToken, map[string]string{"email": "viewer@example.com", "role": "VIEWER"})
	mail := s.Mail.WaitFor(t, "viewer@example.com", 20*time.Second)
	token := regexp.MustCompile(`Token: (\S+)`).FindStringSubmatch(mail.Data)
	if token == nil {
		t.Fatalf("no token in the invitation:\n%s", mail.Data)
	}
	s.expect(200, "POST", "/api/auth/accept-invite", "", map[string]string{"token": token[1], "password": dashboardPassword})

	// The VIEWER's list has the monitor and no write action.
	_, p := logInInBrowser(t, b, s, "viewer@example.com", dashboardPassword)
	p.Navigate(s.URL + "/monitors")
	if !strings.Contains(p.Text("#monitor-list"), "Owned API") {
		t.Fatalf("the viewer does not see the monitor: %s", p.Text("main"))
	}
	for _, sel := range []string{`input[name="id"]`, `[data-select-all]`, `#bulk`, `a[href="/monitors/new"]`, `a[href$="/edit"]`, `button[formaction]`} {
		if n := p.Count(sel); n != 0 {
			t.Errorf("the viewer's list has %d of %s", n, sel)
		}
	}
	checkPage(t, p, "monitors-list-viewer")

	viewer := newFormClient(t, s)
	viewer.login("viewer@example.com", dashboardPassword)
	status, _, csrf := viewer.get("/monitors")
	if status != 200 || csrf == "" {
		t.Fatalf("viewer's list: %d, token %q", status, csrf)
	}
	if status, _, _ := viewer.get("/monitors/new"); status != http.StatusForbidden {
		t.Errorf("viewer's GET /monitors/new: %d", status)
	}
	for _, path := range []string{"/monitors/bulk", "/monitors/" + itoa(mon.ID) + "/pause", "/monitors/" + itoa(mon.ID) + "/delete", "/monitors"} {
		if status, body := viewer.post(path, url.Values{"csrf": {csrf}, "action": {"pause"}, "id": {itoa(mon.ID)}, "name": {"x"}, "type": {"HTTP"}, "url": {"http://x"}}); status != http.StatusForbidden {
			t.Errorf("viewer's forged POST %s: %d\n%s", path, status, body)
		}
	}
	if got := getMonitor(t, s, owner.AccessToken, mon.ID); got.Status == "paused" {
		t.Error("the viewer's forged post paused the monitor")
	}

	// The owner's own session, without the token.
	ownerForm := newFormClient(t, s)
	ownerForm.login("owner@example.com", dashboardPassword)
	if status, _ := ownerForm.post("/monitors/bulk", url.Values{"action": {"delete"}, "confirm": {"yes"}, "id": {itoa(mon.ID)}}); status != http.StatusForbidden {
		t.Errorf("POST without a CSRF token: %d", status)
	}
	s.expect(200, "GET", "/api/v1/monitors/"+itoa(mon.ID), owner.AccessToken, nil)

	// A refusal is a 422 with the form again; the plan's monitor limit,
	// said on the form before it is reached, is a 403.
	_, _, ownerCSRF := ownerForm.get("/monitors/new")
	form := url.Values{"csrf": {ownerCSRF}, "name": {"Typed name"}, "type": {"HTTP"}, "url": {"http://127.0.0.1:1/"}, "check_interval": {"0"}, "timeout": {"5"}}
	if status, body := ownerForm.post("/monitors", form); status != http.StatusUnprocessableEntity || !strings.Contains(body, `id="err-check_interval"`) || !strings.Contains(body, `value="Typed name"`) {
		t.Errorf("interval 0: %d\n%s", status, body)
	}
	for i := range 9 {
		s.expect(201, "POST", "/api/v1/monitors", owner.AccessToken, map[string]any{"name": "Filler " + itoa(int64(i)), "type": "HTTP", "url": "http://127.0.0.1:1/x", "check_interval": 60})
	}
	if _, body, _ := ownerForm.get("/monitors/new"); !strings.Contains(body, "10 of 10 monitors used") {
		t.Errorf("the form does not say the limit is reached:\n%s", body)
	}
	form.Set("check_interval", "60")
	if status, body := ownerForm.post("/monitors", form); status != http.StatusForbidden || !strings.Contains(body, `value="Typed name"`) || !strings.Contains(body, "form-error") {
		t.Errorf("past the plan's monitors: %d\n%s", status, body)
	}

	// Another account sees none of it.
	signup(t, s, "other@example.com", "Others")
	other := newFormClient(t, s)
	other.login("other@example.com", dashboardPassword)
	status, body, otherCSRF := other.get("/monitors")
	if status != 200 || strings.Contains(body, "Owned API") || strings.Contains(body, `data-monitor="`+itoa(mon.ID)+`"`) {
		t.Errorf("the other account's list (%d) shows this account's monitor", status)
	}
	for _, path := range []string{"/monitors/" + itoa(mon.ID) + "/edit", "/monitors/" + itoa(mon.ID) + "/delete", "/monitors/new?clone=" + itoa(mon.ID)} {
		if status, _, _ := other.get(path); status != http.StatusNotFound {
			t.Errorf("the other account's GET %s: %d", path, status)
		}
	}
	if status, _ := other.post("/monitors/"+itoa(mon.ID)+"/pause", url.Values{"csrf": {otherCSRF}}); status != http.StatusNotFound {
		t.Errorf("the other account's pause: %d", status)
	}
	other.post("/monitors/bulk", url.Values{"csrf": {otherCSRF}, "action": {"delete"}, "confirm": {"yes"}, "id": {itoa(mon.ID)}})
	if got := getMonitor(t, s, owner.AccessToken, mon.ID); got.Status == "paused" || got.Name != "Owned API" {
		t.Errorf("the other account changed the monitor: %+v", got)
	}
}
