package e2e

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/medialuna/medialuna/domain"
	"github.com/medialuna/medialuna/test/browser"
	"github.com/medialuna/medialuna/test/smtpcatcher"
	"github.com/medialuna/medialuna/test/testdb"
)

// uiTestWindow is a maintenance window as GET /api/maintenance-windows/{id}
// reports it.
type uiTestWindow struct {
	ID                   int64      `json:"id"`
	Name                 string     `json:"name"`
	Description          *string    `json:"description"`
	StartTime            time.Time  `json:"start_time"`
	EndTime              time.Time  `json:"end_time"`
	TimeZone             string     `json:"time_zone"`
	AppliesToAllMonitors bool       `json:"applies_to_all_monitors"`
	MonitorIDs           []int64    `json:"monitor_ids"`
	IsRecurring          bool       `json:"is_recurring"`
	RecurrencePattern    *string    `json:"recurrence_pattern"`
	RecurrenceDays       *string    `json:"recurrence_days"`
	RecurrenceEndDate    *time.Time `json:"recurrence_end_date"`
	IsActive             bool       `json:"is_active"`
}

// nextOffsetChange is the first local day after from (a day or more
// ahead) on which the zone's UTC offset differs from the day before's:
// a DST change.
func nextOffsetChange(t *testing.T, loc *time.Location, from time.Time) time.Time {
	t.Helper()
	day := time.Date(from.Year(), from.Month(), from.Day()+1, 12, 0, 0, 0, loc)
	_, prev := day.Zone()
	for range 400 {
		day = time.Date(day.Year(), day.Month(), day.Day()+1, 12, 0, 0, 0, loc)
		if _, off := day.Zone(); off != prev {
			return time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, loc)
		}
	}
	t.Fatalf("no DST change in %s within 400 days", loc)
	return time.Time{}
}

var maintWindowHash = regexp.MustCompile(`^#window-(\d+)$`)

// previewedOccurrences reads the preview's occurrences as instants.
func previewedOccurrences(t *testing.T, p *browser.Page) []domain.Occurrence {
	t.Helper()
	var out []domain.Occurrence
	list, _ := p.Eval(`[...document.querySelectorAll("#maint-preview li")].map(li => li.dataset.start + " " + li.dataset.end)`).([]any)
	for _, x := range list {
		start, end, _ := strings.Cut(x.(string), " ")
		a, err1 := time.Parse(time.RFC3339, start)
		b, err2 := time.Parse(time.RFC3339, end)
		if err1 != nil || err2 != nil {
			t.Fatalf("preview item %q: %v %v", x, err1, err2)
		}
		out = append(out, domain.Occurrence{Start: a, End: b})
	}
	return out
}

// TestDashboardMaintenance drives the maintenance pages in Chromium
// through the real binary: a weekly window in America/New_York spanning a
// DST change is previewedOccurrences (the occurrences are domain's Occurrences for
// the same config: 09:00 local on both sides of the change, the UTC
// offset moving), saved, read back from the API, edited and compared
// again, disabled and deleted; a one-off in effect now is listed under
// "In effect now"; the list refreshes live; hostile names are text; bad
// input is refused next to its field; a VIEWER sees no write controls and
// a forged post is 403 and appends nothing.
func TestDashboardMaintenance(t *testing.T) {
	b := browser.New(t)
	s := startServer(t, testdb.New(t), smtpcatcher.Start(t))
	const email = "maint-ui@example.com"
	_, p := signUpInBrowser(t, b, s, email, "Maint UI")
	jwt := apiLogin(t, s, email)
	var account struct {
		ID int64 `json:"id"`
	}
	s.expect(200, "PATCH", "/api/v1/account", jwt, map[string]string{"timezone": "America/New_York"}).json(t, &account)
	unlimited(t, s, account.ID)
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	var db, web, cache monitor
	s.expect(201, "POST", "/api/v1/monitors", jwt, map[string]any{"name": "db", "type": "HTTP", "url": "http://127.0.0.1:9/", "check_interval": 3600}).json(t, &db)
	s.expect(201, "POST", "/api/v1/monitors", jwt, map[string]any{"name": "web", "type": "HTTP", "url": "http://127.0.0.1:9/", "check_interval": 3600}).json(t, &web)
	s.expect(201, "POST", "/api/v1/monitors", jwt, map[string]any{"name": "cache", "type": "HTTP", "url": "http://127.0.0.1:9/", "check_interval": 3600}).json(t, &cache)
	windows := func() []uiTestWindow {
		var out []uiTestWindow
		s.expect(200, "GET", "/api/maintenance-windows", jwt, nil).json(t, &out)
		return out
	}
	getWindow := func(id int64) uiTestWindow {
		var w uiTestWindow
		s.expect(200, "GET", "/api/maintenance-windows/"+itoa(id), jwt, nil).json(t, &w)
		return w
	}

	// The form starts in the account's time zone.
	p.Navigate(s.URL + "/maintenance/new")
	if got := p.Eval(`document.querySelector("#time_zone").value`); got != "America/New_York" {
		t.Errorf("the form's default zone = %v, want the account's", got)
	}
	checkPage(t, p, "maintenance-form")

	// Bad input: refused next to its field, nothing saved.
	p.Fill("#name", " ")
	p.SetValue("#schedule", "weekly")
	p.SetValue("#start_date", "")
	p.ClickButton("Create window")
	if !p.WaitText("#err-name", "1 to 200 characters", 10*time.Second) || !p.WaitText("#err-start_date", "required", 5*time.Second) {
		t.Errorf("no errors next to name and first day:\n%s", p.Text("main"))
	}
	if p.Eval(`document.querySelector("#schedule").value`) != "weekly" {
		t.Error("the refused form lost its schedule")
	}
	if n := len(windows()); n != 0 {
		t.Fatalf("a refused form saved %d windows", n)
	}

	// A weekly window on Sundays and Wednesdays, 09:00 for 2 h 30 min,
	// from two weeks before the next DST change, so ten occurrences cross it.
	change := nextOffsetChange(t, ny, time.Now())
	first := change.AddDate(0, 0, -15)
	if tomorrow := time.Now().In(ny).AddDate(0, 0, 1); first.Before(tomorrow) {
		first = time.Date(tomorrow.Year(), tomorrow.Month(), tomorrow.Day(), 0, 0, 0, 0, ny)
	}
	p.Navigate(s.URL + "/maintenance/new")
	p.Eval(`window.__sameDocument = 1`)
	p.Fill("#name", "Weekly patching")
	p.Fill("#description", "OS updates\nthen reboots")
	p.SetValue("#schedule", "weekly")
	p.SetValue("#start_date", first.Format(time.DateOnly))
	p.SetValue("#start_clock", "09:00")
	p.Fill("#duration_hours", "2")
	p.Fill("#duration_minutes", "30")
	p.Check("#day-0", true)
	p.Check("#day-3", true)
	p.Check("#monitor-"+itoa(db.ID), true)
	p.Check("#monitor-"+itoa(web.ID), true)
	// A preview of something wrong says so next to the field, in place.
	p.SetValue("#start_clock", "")
	p.ClickButton("Preview")
	if !p.WaitText("#err-start_clock", "enter the time each occurrence starts", 10*time.Second) || p.Count("#maint-preview") != 0 {
		t.Errorf("no error next to the start time in the preview:\n%s", p.Text("main"))
	}
	if p.Eval(`document.querySelector("#day-3").checked && document.querySelector("#duration_minutes").value === "30"`) != true {
		t.Error("the refused preview lost what was typed")
	}
	p.SetValue("#start_clock", "09:00")
	p.ClickButton("Preview")
	if !p.WaitTrue(`document.querySelectorAll("#maint-preview li").length === 10`, 10*time.Second) {
		t.Fatalf("no preview of 10 occurrences:\n%s", p.Text("main"))
	}
	if p.Eval(`window.__sameDocument === 1`) != true {
		t.Error("the preview reloaded the page (htmx should swap the form)")
	}
	if got := p.Eval(`document.activeElement && document.activeElement.id`); got != "maint-preview" {
		t.Errorf("after the preview the focus is on %v, want the occurrences", got)
	}
	str := func(s string) *string { return &s }
	desc := "OS updates\nthen reboots"
	cfg := domain.MaintenanceConfig{Name: "Weekly patching", Description: &desc, TimeZone: "America/New_York",
		StartTime: time.Date(first.Year(), first.Month(), first.Day(), 9, 0, 0, 0, ny), EndTime: time.Date(first.Year(), first.Month(), first.Day(), 11, 30, 0, 0, ny),
		IsRecurring: true, RecurrencePattern: str("weekly"), RecurrenceDays: str("0,3"), MonitorIDs: []int64{db.ID, web.ID}, IsActive: true}
	if err := cfg.Validate(time.LoadLocation, func(int64) bool { return true }); err != nil {
		t.Fatal(err)
	}
	want := cfg.Occurrences(time.Now(), time.Now().AddDate(1, 0, 0), ny)[:10]
	got := previewedOccurrences(t, p)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("the preview is not domain's Occurrences (-want +got):\n%s", diff)
	}
	offsets := map[int]bool{}
	for _, o := range got {
		local := o.Start.In(ny)
		_, off := local.Zone()
		offsets[off] = true
		if local.Format("15:04") != "09:00" || o.End.Sub(o.Start) != 150*time.Minute {
			t.Errorf("occurrence %s – %s is not 09:00 local for 2 h 30 min", o.Start, o.End)
		}
	}
	if len(offsets) != 2 {
		t.Errorf("the preview does not cross the DST change of %s: offsets %v", change.Format(time.DateOnly), offsets)
	}
	if text := p.Text("#maint-preview"); !strings.Contains(text, "Every week on Wednesday and Sunday at 09:00 for 2 h 30 min") ||
		!strings.Contains(text, "EST, UTC-05:00") || !strings.Contains(text, "EDT, UTC-04:00") {
		t.Errorf("the preview's words:\n%s", text)
	}
	checkPage(t, p, "maintenance-preview")

	// Without JavaScript the same preview is a full page.
	c := newFormClient(t, s)
	c.login(email, dashboardPassword)
	_, _, token := c.get("/maintenance/new")
	form := url.Values{"csrf": {token}, "name": {"Weekly patching"}, "schedule": {"weekly"}, "time_zone": {"America/New_York"},
		"start_date": {first.Format(time.DateOnly)}, "start_clock": {"09:00"}, "duration_hours": {"2"}, "duration_minutes": {"30"},
		"days": {"", "0", "3"}, "monitor_ids": {"", itoa(db.ID), itoa(web.ID)}, "is_active": {"false", "true"}}
	status, body := c.post("/maintenance/preview", form)
	plain := regexp.MustCompile(`data-start="([^"]+)" data-end="([^"]+)"`).FindAllStringSubmatch(body, -1)
	if status != http.StatusOK || len(plain) != 10 || plain[0][1] != want[0].Start.Format(time.RFC3339) || plain[9][2] != want[9].End.Format(time.RFC3339) {
		t.Errorf("the plain preview: %d, %d occurrences", status, len(plain))
	}
	form.Set("start_clock", "9 o'clock")
	if status, body := c.post("/maintenance/preview", form); status != http.StatusUnprocessableEntity || !strings.Contains(body, `id="err-start_clock"`) {
		t.Errorf("a plain preview of a bad time: %d", status)
	}

	// Saved, it is what the form set.
	p.ClickButton("Create window")
	if !p.WaitTrue(`location.pathname === "/maintenance"`, 10*time.Second) {
		t.Fatalf("create did not reach the list: %s\n%s", p.URL(), p.Text("main"))
	}
	m := maintWindowHash.FindStringSubmatch(p.Eval(`location.hash`).(string))
	if m == nil {
		t.Fatalf("the list's address names no window: %s", p.URL())
	}
	id := int64(atoi(m[1]))
	wantWindow := uiTestWindow{ID: id, Name: cfg.Name, Description: &desc, StartTime: cfg.StartTime.UTC(), EndTime: cfg.EndTime.UTC(), TimeZone: cfg.TimeZone,
		MonitorIDs: []int64{db.ID, web.ID}, IsRecurring: true, RecurrencePattern: str("weekly"), RecurrenceDays: str("0,3"), IsActive: true}
	sortIDs := cmp.Transformer("sort", func(ids []int64) []int64 { out := slices.Clone(ids); slices.Sort(out); return out })
	if diff := cmp.Diff(wantWindow, getWindow(id), sortIDs); diff != "" {
		t.Errorf("the saved window (-form +API):\n%s", diff)
	}
	if !p.WaitText("#maint-upcoming #window-"+itoa(id), "Every week on Wednesday and Sunday at 09:00 for 2 h 30 min", 5*time.Second) {
		t.Errorf("the list's upcoming windows:\n%s", p.Text("main"))
	}
	if got := p.Text("#window-" + itoa(id) + ` [data-field="monitors"]`); got != "db, web" && got != "web, db" {
		t.Errorf("monitors covered: %q", got)
	}

	// Edited: Wednesdays and Fridays, web and cache.
	p.Navigate(s.URL + "/maintenance/" + itoa(id) + "/edit")
	if got := p.Eval(`[document.querySelector("#schedule").value, document.querySelector("#start_clock").value, document.querySelector("#day-0").checked,
		document.querySelector("#duration_hours").value, document.querySelector("#duration_minutes").value].join("|")`); got != "weekly|09:00|true|2|30" {
		t.Errorf("the edit form shows %v", got)
	}
	p.Check("#day-0", false)
	p.Check("#day-5", true)
	p.Check("#monitor-"+itoa(db.ID), false)
	p.Check("#monitor-"+itoa(cache.ID), true)
	p.ClickButton("Save changes")
	if !p.WaitTrue(`location.pathname === "/maintenance"`, 10*time.Second) {
		t.Fatalf("save did not reach the list: %s\n%s", p.URL(), p.Text("main"))
	}
	wantWindow.RecurrenceDays, wantWindow.MonitorIDs = str("3,5"), []int64{web.ID, cache.ID}
	if diff := cmp.Diff(wantWindow, getWindow(id), sortIDs); diff != "" {
		t.Errorf("the edited window (-form +API):\n%s", diff)
	}

	// A one-off in effect now, in Berlin, for all monitors.
	berlin, _ := time.LoadLocation("Europe/Berlin")
	now := time.Now().In(berlin)
	p.Navigate(s.URL + "/maintenance/new")
	p.Fill("#name", "Database upgrade")
	p.SetValue("#time_zone", "Europe/Berlin")
	p.SetValue("#schedule", "once")
	p.SetValue("#start_time", now.Add(-time.Hour).Format("2006-01-02T15:04"))
	p.SetValue("#end_time", now.Add(2*time.Hour).Format("2006-01-02T15:04"))
	p.Check("#applies_to_all_monitors", true)
	p.ClickButton("Create window")
	if !p.WaitTrue(`location.pathname === "/maintenance"`, 10*time.Second) {
		t.Fatalf("the one-off was not created: %s\n%s", p.URL(), p.Text("main"))
	}
	oneID := int64(atoi(maintWindowHash.FindStringSubmatch(p.Eval(`location.hash`).(string))[1]))
	one := getWindow(oneID)
	if one.IsRecurring || !one.AppliesToAllMonitors || one.TimeZone != "Europe/Berlin" ||
		!one.StartTime.Equal(now.Add(-time.Hour).Truncate(time.Minute)) || !one.EndTime.Equal(now.Add(2*time.Hour).Truncate(time.Minute)) {
		t.Errorf("the one-off = %+v", one)
	}
	if !strings.Contains(p.Text("#maint-now"), "Database upgrade") || !strings.Contains(p.Text("#window-"+itoa(oneID)), "All monitors") {
		t.Errorf("the one-off is not in effect now:\n%s", p.Text("main"))
	}

	// Live: a window made elsewhere shows up without a reload, keyboard
	// focus stays on the control that had it, and hostile names are text.
	p.Eval(`window.__sameDocument = 1`)
	p.Eval(`document.querySelector('button[data-toggle="` + itoa(id) + `"]').focus()`)
	hostile := `<img src=x onerror=alert(1)>`
	var h uiTestWindow
	s.expect(201, "POST", "/api/maintenance-windows", jwt, map[string]any{"name": hostile, "description": `"><script>window.__pwned=1</script>`,
		"start_time": time.Now().Add(24 * time.Hour).UTC().Format(time.RFC3339), "end_time": time.Now().Add(25 * time.Hour).UTC().Format(time.RFC3339),
		"applies_to_all_monitors": true}).json(t, &h)
	if !p.WaitText("#window-"+itoa(h.ID)+" .maint-name", hostile, 10*time.Second) {
		t.Errorf("the list did not show the new window live:\n%s", p.Text("main"))
	}
	if p.Eval(`window.__sameDocument === 1`) != true {
		t.Error("the list reloaded")
	}
	if got := p.Eval(`document.activeElement && document.activeElement.id`); got != "window-"+itoa(id)+"-toggle" {
		t.Errorf("after the live refresh the focus is on %v, want the toggle it was on", got)
	}
	if n := p.Count("#maint-list img, #maint-list script"); n != 0 {
		t.Errorf("%d injected elements in the list", n)
	}
	checkPage(t, p, "maintenance-list")

	// Disabled from the list: the API says so, and it is no longer upcoming.
	p.Click(`button[data-toggle="` + itoa(id) + `"]`)
	if !p.WaitText(".flash", "Disabled Weekly patching", 10*time.Second) {
		t.Errorf("no flash after disabling:\n%s", p.Text("main"))
	}
	if getWindow(id).IsActive {
		t.Error("the API still shows the window enabled")
	}
	if !strings.Contains(p.Text("#maint-past #window-"+itoa(id)), "None while disabled") {
		t.Errorf("the disabled window is not under past and disabled:\n%s", p.Text("main"))
	}

	// A VIEWER sees the list without write controls; forged posts are 403
	// and change nothing.
	s.expect(200, "POST", "/api/accounts/users/invite", jwt, map[string]string{"email": "viewer@example.com", "role": "VIEWER"})
	mail := s.Mail.WaitFor(t, "viewer@example.com", 20*time.Second)
	s.expect(200, "POST", "/api/auth/accept-invite", "", map[string]string{"token": inviteToken(t, mail.Data), "password": "viewer password 1"})
	_, vp := logInInBrowser(t, b, s, "viewer@example.com", "viewer password 1")
	vp.Navigate(s.URL + "/maintenance")
	if !strings.Contains(vp.Text("#maint-list"), "Weekly patching") {
		t.Errorf("the VIEWER's list:\n%s", vp.Text("main"))
	}
	if n := vp.Count(`#main form[method="post"], a[href="/maintenance/new"], a[href$="/edit"], a[href$="/delete"], button[data-toggle]`); n != 0 {
		t.Errorf("a VIEWER is offered %d write controls", n)
	}
	checkPage(t, vp, "maintenance-list-viewer")
	before := windows()
	audit := func() int {
		r := s.expect(200, "GET", "/api/audit/events?format=ndjson", jwt, nil)
		return strings.Count(string(r.Body), `"Maintenance`)
	}
	eventsBefore := audit()
	vc := newFormClient(t, s)
	vc.login("viewer@example.com", "viewer password 1")
	_, _, vtoken := vc.get("/maintenance")
	if vtoken == "" {
		t.Fatal("no CSRF token on the VIEWER's list")
	}
	for path, form := range map[string]url.Values{
		"/maintenance":                          {"csrf": {vtoken}, "name": {"forged"}, "schedule": {"once"}, "applies_to_all_monitors": {"true"}},
		"/maintenance/" + itoa(id):              {"csrf": {vtoken}, "name": {"forged"}},
		"/maintenance/" + itoa(id) + "/toggle":  {"csrf": {vtoken}},
		"/maintenance/" + itoa(id) + "/delete":  {"csrf": {vtoken}},
		"/maintenance/" + itoa(id) + "/preview": {"csrf": {vtoken}},
	} {
		if status, _ := vc.post(path, form); status != http.StatusForbidden {
			t.Errorf("a VIEWER's forged POST %s: %d, want 403", path, status)
		}
	}
	for _, path := range []string{"/maintenance/new", "/maintenance/" + itoa(id) + "/edit", "/maintenance/" + itoa(id) + "/delete"} {
		if status, _, _ := vc.get(path); status != http.StatusForbidden {
			t.Errorf("a VIEWER's GET %s: %d, want 403", path, status)
		}
	}
	if diff := cmp.Diff(before, windows()); diff != "" {
		t.Errorf("the VIEWER's posts changed windows:\n%s", diff)
	}
	if n := audit(); n != eventsBefore {
		t.Errorf("the VIEWER's posts appended %d maintenance events", n-eventsBefore)
	}

	// Another account's session finds no window by its id: every page and
	// post is a 404, and nothing changes.
	signup(t, s, "maint-stranger@example.com", "Strangers")
	sc := newFormClient(t, s)
	sc.login("maint-stranger@example.com", dashboardPassword)
	for _, path := range []string{"/maintenance/" + itoa(id) + "/edit", "/maintenance/" + itoa(id) + "/delete"} {
		if status, body, _ := sc.get(path); status != http.StatusNotFound || strings.Contains(body, "Weekly patching") {
			t.Errorf("another account's GET %s: %d", path, status)
		}
	}
	_, _, stoken := sc.get("/maintenance")
	if stoken == "" {
		t.Fatal("no CSRF token on the stranger's list: the posts would be refused for that alone")
	}
	for path, form := range map[string]url.Values{
		"/maintenance/" + itoa(id):              {"csrf": {stoken}, "name": {"taken over"}},
		"/maintenance/" + itoa(id) + "/preview": {"csrf": {stoken}},
		"/maintenance/" + itoa(id) + "/toggle":  {"csrf": {stoken}},
		"/maintenance/" + itoa(id) + "/delete":  {"csrf": {stoken}},
	} {
		if status, body := sc.post(path, form); status != http.StatusNotFound || strings.Contains(body, "Weekly patching") {
			t.Errorf("another account's POST %s: %d", path, status)
		}
	}
	if diff := cmp.Diff(before, windows()); diff != "" {
		t.Errorf("another account's posts changed windows:\n%s", diff)
	}

	// Deleted after a confirmation page: the API no longer has it.
	p.Navigate(s.URL + "/maintenance")
	p.Click(`#window-` + itoa(id) + ` a[href$="/delete"]`)
	if !strings.Contains(p.Text("h1"), "Delete maintenance window Weekly patching?") {
		t.Fatalf("no confirmation page: %s\n%s", p.URL(), p.Text("main"))
	}
	checkPage(t, p, "maintenance-delete")
	p.ClickButton("Delete window")
	if !p.WaitText(".flash", "Deleted Weekly patching", 10*time.Second) {
		t.Errorf("no flash after delete:\n%s", p.Text("main"))
	}
	s.expect(404, "GET", "/api/maintenance-windows/"+itoa(id), jwt, nil)
	if p.Count("#window-"+itoa(id)) != 0 {
		t.Error("the deleted window is still listed")
	}
}
