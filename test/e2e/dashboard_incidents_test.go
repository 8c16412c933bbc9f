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

// replayStepTag matches a replay step's opening tag as the server wrote it.
var replayStepTag = regexp.MustCompile(`<article class="replay-step" data-step="(\d+)" data-status="(\w+)"( hidden)?`)

// shownReplaySteps returns the "number status" of each replay step the
// server rendered visible: the one a page without JavaScript shows.
func shownReplaySteps(html string) []string {
	var out []string
	for _, m := range replayStepTag.FindAllStringSubmatch(html, -1) {
		if m[3] == "" {
			out = append(out, m[1]+" "+m[2])
		}
	}
	return out
}

// TestDashboardIncidentsJourney follows one incident through the
// dashboard in Chromium: it appears in the list by itself when its
// target fails, is acknowledged, commented on (publicly and not, with
// hostile text) and snoozed from its page, resolves there without a
// reload, and is stepped through in its replay, with and without
// JavaScript. Refusals show next to their forms; a VIEWER sees no actions
// and is refused a forged one; another account sees nothing of it.
func TestDashboardIncidentsJourney(t *testing.T) {
	b := browser.New(t)
	s := startServer(t, testdb.New(t), smtpcatcher.Start(t), "MEDIALUNA_MIN_CHECK_INTERVAL=1")
	const email = "oncall@example.com"
	su := signup(t, s, email, "Acme")
	unlimited(t, s, su.Account.ID)
	jwt := su.AccessToken

	tg := newTarget(t)
	const monitorName = `<img src=x onerror=alert(1)>Checkout`
	var m monitor
	s.expect(201, "POST", "/api/v1/monitors", jwt, map[string]any{"name": monitorName, "type": "HTTP", "url": tg.URL,
		"check_interval": 1, "timeout": 2}).json(t, &m)
	waitStatus(t, s, jwt, m.ID, "up")

	person, p := logInInBrowser(t, b, s, email, dashboardPassword)
	p.Navigate(s.URL + "/incidents")
	if !p.WaitText("#incidents-list", "No incidents yet", 5*time.Second) {
		t.Fatalf("empty list: %s", p.Text("main"))
	}
	// The marker survives only if the page is never reloaded.
	p.Eval(`window.__sameListPage = true`)
	tg.healthy.Store(false)
	if !p.WaitTrue(`document.querySelectorAll('#incidents-list tr[data-incident]').length === 1`, 30*time.Second) {
		t.Fatalf("the incident did not appear in the list by itself: %s", p.Text("main"))
	}
	if p.Eval(`window.__sameListPage === true`) != true {
		t.Fatal("the list page was reloaded")
	}
	var list []incident
	s.expect(200, "GET", "/api/v1/incidents", jwt, nil).json(t, &list)
	if len(list) != 1 {
		t.Fatalf("%d incidents over the API", len(list))
	}
	inc := list[0]
	id := itoa(inc.ID)
	if got := p.Text(`#incidents-list tr[data-incident="` + id + `"] td`); got != monitorName {
		t.Errorf("the row names the monitor %q, want %q", got, monitorName)
	}
	if got := p.Text(`#incidents-list tr[data-incident="` + id + `"]`); !strings.Contains(got, "Open") || !strings.Contains(got, "ongoing") {
		t.Errorf("the row says %q: want Open and ongoing", got)
	}
	if n := p.Count(`#incidents-list time[datetime]`); n != 1 {
		t.Errorf("%d <time> elements in the row", n)
	}
	// Filters: open shows it, resolved does not; the monitor's select offers it.
	p.SetValue("#f-status", "resolved")
	p.ClickButton("Filter")
	if !p.WaitText("#incidents-list", "No incidents match these filters", 5*time.Second) {
		t.Errorf("resolved filter: %s", p.Text("#incidents-list"))
	}
	p.SetValue("#f-status", "open")
	p.SetValue("#f-monitor", itoa(m.ID))
	p.ClickButton("Filter")
	if !p.WaitTrue(`document.querySelectorAll('#incidents-list tr[data-incident]').length === 1`, 5*time.Second) {
		t.Errorf("open filter for the monitor: %s", p.Text("#incidents-list"))
	}
	checkPage(t, p, "incidents")

	// The incident page.
	p = person.Open(s.URL + "/incidents")
	p.Click(`#incidents-list a[href="/incidents/` + id + `"]`)
	if !p.WaitText("#incident-status", "Open", 5*time.Second) {
		t.Fatalf("incident page: %s", p.Text("main"))
	}
	if got := p.Text("h1"); !strings.Contains(got, monitorName) {
		t.Errorf("heading %q", got)
	}

	// An empty textarea has no text node for Fill's clear step to work
	// on; SetValue types the whole value at once.
	p.SetValue("#ack-message", "Looking into it")
	p.ClickButton("Acknowledge")
	if !p.WaitText("#incident-status", "Acknowledged", 10*time.Second) || !p.WaitText("#timeline", "Looking into it", 5*time.Second) {
		t.Fatalf("after acknowledging: %s", p.Text("main"))
	}
	if !p.WaitText(".flash", "Acknowledged.", 2*time.Second) {
		t.Errorf("no flash after acknowledging: %s", p.Text("main"))
	}
	if got := p.Text(`#timeline li[data-event="ACKNOWLEDGED"]`); !strings.Contains(got, email) {
		t.Errorf("the acknowledgement does not say who: %q", got)
	}

	p.SetValue("#comment-message", "Fix is being deployed")
	p.Check("#comment-public", true)
	p.ClickButton("Add comment")
	if !p.WaitText("#timeline", "Fix is being deployed", 10*time.Second) {
		t.Fatalf("public comment: %s", p.Text("main"))
	}
	const hostile = `<img src=x onerror=alert(1)>`
	p.SetValue("#comment-message", hostile+" internal note")
	p.ClickButton("Add comment")
	if !p.WaitText("#timeline", hostile+" internal note", 10*time.Second) {
		t.Fatalf("internal comment: %s", p.Text("main"))
	}
	if n := p.Count(`#timeline li[data-event="COMMENT"]`); n != 2 {
		t.Errorf("%d comments on the timeline", n)
	}
	if n := p.Count(`#timeline li[data-public="true"]`); n != 1 {
		t.Errorf("%d public entries, want 1", n)
	}
	if got := p.Text(`#timeline li[data-public="true"]`); !strings.Contains(got, "Fix is being deployed") || !strings.Contains(got, "public") {
		t.Errorf("the public entry is %q", got)
	}
	if n := p.Count("main img"); n != 0 {
		t.Errorf("%d injected images", n)
	}

	p.SetValue("#snooze-duration", "15")
	p.Fill("#snooze-reason", "deploy in progress")
	p.ClickButton("Snooze")
	if !p.WaitText("#timeline", "Snoozed for 15 minutes", 10*time.Second) || !p.WaitText("#timeline", "deploy in progress", 2*time.Second) {
		t.Fatalf("snooze: %s", p.Text("main"))
	}
	if got := p.Text(".incident-facts"); strings.Contains(got, "not snoozed") {
		t.Errorf("facts after snoozing: %q", got)
	}

	// A duration the picker does not offer: the command refuses it, and the
	// page says so next to the picker.
	p.Eval(`(() => { const o = document.createElement("option"); o.value = "20000"; o.textContent = "forged";
		document.querySelector("#snooze-duration").append(o) })()`)
	p.SetValue("#snooze-duration", "20000")
	p.ClickButton("Snooze")
	if !p.WaitText("#snooze-duration-err", "duration_minutes", 10*time.Second) {
		t.Fatalf("no error next to the duration: %s", p.Text("main"))
	}
	if got := p.Eval(`document.querySelector("#snooze-duration").getAttribute("aria-invalid")`); got != "true" {
		t.Errorf("the duration is not marked invalid: %v", got)
	}

	// Recovery resolves it, on the open page, without a reload; a replay
	// opened before says a new event came.
	early := person.Open(s.URL + "/incidents/" + id + "/replay")
	p = person.Open(s.URL + "/incidents/" + id)
	p.Eval(`window.__sameIncidentPage = true`)
	tg.healthy.Store(true)
	if !p.WaitText("#incident-status", "Resolved", 30*time.Second) {
		t.Fatalf("the page did not show the recovery by itself: %s", p.Text("main"))
	}
	if p.Eval(`window.__sameIncidentPage === true`) != true {
		t.Fatal("the incident page was reloaded")
	}
	if !p.WaitText("#timeline", "Resolved", 5*time.Second) {
		t.Errorf("timeline without the resolution: %s", p.Text("#timeline"))
	}
	if !p.WaitText("#resolved-note", "resolved", 5*time.Second) {
		t.Errorf("no note that acknowledging and snoozing are over: %s", p.Text("main"))
	}
	checkPage(t, p, "incident")
	if !early.WaitText("#replay-news", "1 new event", 10*time.Second) {
		t.Errorf("the replay opened earlier does not say a new event came: %q", early.Text("#replay-news"))
	}
	if n := early.Count("[data-step]"); n != 5 {
		t.Errorf("the replay opened earlier changed under its reader: %d steps", n)
	}

	// The replay: as many steps as the log has events on the incident.
	var steps []struct {
		EventType string `json:"event_type"`
		State     struct {
			Status string `json:"status"`
		} `json:"state"`
	}
	s.expect(200, "GET", "/api/incidents/"+id+"/replay", jwt, nil).json(t, &steps)
	if len(steps) != 6 {
		t.Fatalf("%d replay steps over the API, want 6 (opened, acknowledged, two comments, snoozed, resolved)", len(steps))
	}
	rp := person.Open(s.URL + "/incidents/" + id + "/replay")
	if n := rp.Count("[data-step]"); n != len(steps) {
		t.Fatalf("%d steps on the page, want %d", n, len(steps))
	}
	shown := func() string {
		v, _ := rp.Eval(`(() => { const v = [...document.querySelectorAll("[data-step]")].filter(e => !e.hidden);
			return v.length === 1 ? v[0].dataset.step + " " + v[0].dataset.status : "shown: " + v.length })()`).(string)
		return v
	}
	if got := shown(); got != "6 RESOLVED" {
		t.Errorf("the replay opens on %q, want the last step", got)
	}
	rp.SetValue("#replay-range", "0")
	if got := shown(); got != "1 TRIGGERED" {
		t.Errorf("slider at 0 shows %q", got)
	}
	if got := rp.Text("[data-replay-label]"); got != "Step 1 of 6" {
		t.Errorf("label %q", got)
	}
	// The slider tells a screen reader which event it is on.
	if got := rp.Eval(`document.querySelector("#replay-range").getAttribute("aria-valuetext") + "|" + document.querySelector('[data-step="1"]').dataset.stepLabel`); got != "Step 1 of 6: Opened|Opened" {
		t.Errorf("the slider's value text at step 1: %v", got)
	}
	rp.ClickButton("Next event")
	if got := shown(); got != "2 ACKNOWLEDGED" {
		t.Errorf("next event shows %q", got)
	}
	if got := rp.Text(`[data-step="2"] .replay-changes`); !strings.Contains(got, "status TRIGGERED → ACKNOWLEDGED") {
		t.Errorf("step 2 changes %q", got)
	}
	if got := rp.Text(`[data-step="2"] h3`); !strings.Contains(got, "+") {
		t.Errorf("step 2 says no elapsed time: %q", got)
	}
	if n := rp.Count(`[data-step="2"] .timeline li.future`); n != 4 {
		t.Errorf("step 2 dims %d later entries, want 4", n)
	}
	// Dimmed, not hidden from screen readers: they hear "Later:" first.
	if n := rp.Count(`[data-step="2"] .timeline li[aria-hidden]`); n != 0 {
		t.Errorf("step 2 hides %d entries from screen readers", n)
	}
	if got := rp.Text(`[data-step="2"] .timeline li.future`); !strings.HasPrefix(strings.TrimSpace(got), "Later:") {
		t.Errorf("a later entry does not say so: %q", got)
	}
	rp.SetValue("#replay-range", "5")
	if got := shown(); got != "6 RESOLVED" {
		t.Errorf("slider at the end shows %q", got)
	}
	rp.ClickButton("Previous event")
	if got := shown(); got != "5 ACKNOWLEDGED" {
		t.Errorf("previous event shows %q", got)
	}
	if got := rp.Text(`[data-step="5"] .replay-changes`); !strings.Contains(got, "snoozed until") {
		t.Errorf("the snooze step's changes %q", got)
	}
	if got := rp.Text(`[data-step="3"]`); !strings.Contains(got, "Public comment") {
		t.Errorf("the public comment's step: %q", got)
	}
	if n := rp.Count("main img"); n != 0 {
		t.Errorf("%d injected images in the replay", n)
	}
	checkPage(t, rp, "incident-replay")

	// Without JavaScript: ?step=N and ?as_of= render that moment.
	fc := newFormClient(t, s)
	fc.login(email, dashboardPassword)
	status, html, _ := fc.get("/incidents/" + id + "/replay?step=1")
	if got := shownReplaySteps(html); status != 200 || len(got) != 1 || got[0] != "1 TRIGGERED" {
		t.Errorf("?step=1: %d, shown %v", status, got)
	}
	if !strings.Contains(html, `href="?step=2"`) {
		t.Error("step 1 has no link to step 2")
	}
	if !strings.Contains(html, `aria-valuetext="Step 1 of 6: Opened"`) {
		t.Error("the slider's value text is not rendered for the first step shown")
	}
	var got incident
	s.expect(200, "GET", "/api/v1/incidents/"+id, jwt, nil).json(t, &got)
	asOf := got.AcknowledgedAt.UTC().Format(time.RFC3339Nano)
	status, html, _ = fc.get("/incidents/" + id + "/replay?as_of=" + url.QueryEscape(asOf))
	if shown := shownReplaySteps(html); status != 200 || len(shown) != 1 || shown[0] != "2 ACKNOWLEDGED" {
		t.Errorf("?as_of=%s: %d, shown %v", asOf, status, shown)
	}
	// The date filters, and a date that is not one said next to its field.
	if status, html, _ := fc.get("/incidents?from=2099-01-01"); status != 200 || !strings.Contains(html, "No incidents match these filters") {
		t.Errorf("incidents from 2099: %d", status)
	}
	today := inc.StartedAt.UTC().Format("2006-01-02") // its day, even run at midnight
	if status, html, _ := fc.get("/incidents?from=" + today + "&to=" + today); status != 200 || !strings.Contains(html, `data-incident="`+id+`"`) {
		t.Errorf("incidents of today: %d", status)
	}
	if status, html, _ := fc.get("/incidents?from=yesterday"); status != http.StatusBadRequest || !regexp.MustCompile(`id="err-from">Give a date`).MatchString(html) {
		t.Errorf("a bad date: %d", status)
	}
	if status, _, _ := fc.get("/incidents/" + id + "/replay?step=99"); status != http.StatusBadRequest {
		t.Errorf("?step=99: %d", status)
	}

	// Refusals next to their forms: a forged duration (422 naming the
	// field) and acknowledging a resolved incident (409).
	_, _, token := fc.get("/incidents/" + id)
	status, html = fc.post("/incidents/"+id+"/snooze", url.Values{"csrf": {token}, "duration_minutes": {"3"}})
	if status != http.StatusUnprocessableEntity || !regexp.MustCompile(`id="snooze-duration-err">[^<]*duration_minutes`).MatchString(html) {
		t.Errorf("forged snooze: %d\n%s", status, html)
	}
	status, html = fc.post("/incidents/"+id+"/acknowledge", url.Values{"csrf": {token}, "message": {"late"}})
	if status != http.StatusConflict || !regexp.MustCompile(`(?s)id="ack-form".*?class="form-error"[^>]*>[^<]*already resolved`).MatchString(html) {
		t.Errorf("acknowledging a resolved incident: %d\n%s", status, html)
	}
	before := timelineLen(t, s, jwt, id)

	// A VIEWER sees the incident, no actions, and is refused a forged one.
	s.expect(200, "POST", "/api/accounts/users/invite", jwt, map[string]string{"email": "viewer@example.com", "role": "VIEWER"})
	mail := s.Mail.WaitFor(t, "viewer@example.com", 20*time.Second)
	tok := regexp.MustCompile(`Token: (\S+)`).FindStringSubmatch(mail.Data)
	if tok == nil {
		t.Fatalf("no token in the invitation:\n%s", mail.Data)
	}
	s.expect(200, "POST", "/api/auth/accept-invite", "", map[string]string{"token": tok[1], "password": "viewer password"})
	_, vp := logInInBrowser(t, b, s, "viewer@example.com", "viewer password")
	vp.Navigate(s.URL + "/incidents/" + id)
	if !vp.WaitText("#incident-status", "Resolved", 5*time.Second) {
		t.Fatalf("viewer's incident page: %s", vp.Text("main"))
	}
	if n := vp.Count(`.incident-actions, form[action^="/incidents/"]`); n != 0 {
		t.Errorf("a VIEWER sees %d action forms", n)
	}
	vc := newFormClient(t, s)
	vc.login("viewer@example.com", "viewer password")
	_, _, vtoken := vc.get("/incidents/" + id)
	if status, _ := vc.post("/incidents/"+id+"/comment", url.Values{"csrf": {vtoken}, "message": {"forged"}}); status != http.StatusForbidden {
		t.Errorf("a VIEWER's forged comment: %d", status)
	}

	// Another account: no incident page, no replay, an empty list, and a
	// forged comment finds nothing.
	_, op := signUpInBrowser(t, b, s, "other@example.com", "Other")
	op.Navigate(s.URL + "/incidents/" + id)
	if got := op.Text("main"); strings.Contains(got, monitorName) || strings.Contains(got, "Looking into it") {
		t.Errorf("another account's browser sees the incident: %s", got)
	}
	op.Navigate(s.URL + "/incidents")
	if !op.WaitText("#incidents-list", "No incidents yet", 5*time.Second) {
		t.Errorf("another account's list: %s", op.Text("main"))
	}
	oc := newFormClient(t, s)
	oc.login("other@example.com", dashboardPassword)
	for _, path := range []string{"/incidents/" + id, "/incidents/" + id + "/replay", "/incidents/" + id + "/replay?step=1"} {
		if status, _, _ := oc.get(path); status != http.StatusNotFound {
			t.Errorf("another account's %s: %d", path, status)
		}
	}
	status, html, otoken := oc.get("/incidents")
	if status != 200 || strings.Contains(html, `data-incident="`+id+`"`) || !strings.Contains(html, "No incidents yet") {
		t.Errorf("another account's list shows the incident (%d)", status)
	}
	if status, _ := oc.post("/incidents/"+id+"/comment", url.Values{"csrf": {otoken}, "message": {"forged"}}); status != http.StatusNotFound {
		t.Errorf("another account's comment: %d", status)
	}
	if after := timelineLen(t, s, jwt, id); after != before {
		t.Errorf("the timeline went from %d to %d entries after refused posts", before, after)
	}
}

func timelineLen(t *testing.T, s *server, jwt, id string) int {
	t.Helper()
	var inc incident
	s.expect(200, "GET", "/api/v1/incidents/"+id, jwt, nil).json(t, &inc)
	return len(inc.Timeline)
}
