package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/medialuna/medialuna/test/browser"
	"github.com/medialuna/medialuna/test/smtpcatcher"
	"github.com/medialuna/medialuna/test/testdb"
)

// TestDashboardDailyJourney is the day the dashboard is built for, in
// Chromium through the real binary, in one tab that is never reloaded while
// it waits: sign up, add an HTTP monitor against a local target through the
// form, watch it turn up; the target starts answering 503, the monitor turns
// down and its incident appears; acknowledge it with a message, comment,
// snooze it; the target recovers and the incident resolves by itself; then
// step through its replay.
func TestDashboardDailyJourney(t *testing.T) {
	b := browser.New(t)
	s := startServer(t, testdb.New(t), smtpcatcher.Start(t), "MEDIALUNA_MIN_CHECK_INTERVAL=1")
	tg := newTarget(t)

	person, p := signUpInBrowser(t, b, s, "daily@example.com", "Daily")
	if !strings.HasPrefix(p.Eval(`location.pathname`).(string), "/monitors/new") {
		t.Fatalf("sign-up landed on %s, not the new-monitor form", p.URL())
	}
	p.Fill("#name", "Checkout")
	p.SetValue("#type", "HTTP")
	p.Fill("#url", tg.URL+"/health")
	p.Fill("#check_interval", "1")
	p.Fill("#timeout", "2")
	p.ClickButton("Create monitor")
	if !p.WaitTrue(`/^\/monitors\/\d+$/.test(location.pathname)`, 15*time.Second) {
		t.Fatalf("creating the monitor landed on %s:\n%s", p.URL(), p.Text("main"))
	}
	monitorPage := p.URL()

	// The list, left open: the monitor turns up, then down, by itself.
	list := person.Open(s.URL + "/monitors")
	list.Eval(`window.__notReloaded = true`)
	row := `tbody tr`
	if !list.WaitText(row, "Up", 20*time.Second) {
		t.Fatalf("the monitor did not turn up in the list: %q", list.Text("main"))
	}
	overview := person.Open(s.URL + "/")
	overview.Eval(`window.__notReloaded = true`)
	tg.healthy.Store(false)
	if !list.WaitText(row, "Down", 20*time.Second) {
		t.Fatalf("the monitor did not turn down in the list: %q", list.Text("main"))
	}
	if list.Count(`tr.is-down`) != 1 {
		t.Errorf("the down row is not marked: %d", list.Count(`tr.is-down`))
	}
	if !overview.WaitText(`[data-count="down"]`, "1", 20*time.Second) || !overview.WaitText("main", "Checkout", 20*time.Second) {
		t.Errorf("the overview did not show the outage: %q", overview.Text("main"))
	}
	for name, pg := range map[string]*browser.Page{"list": list, "overview": overview} {
		if pg.Eval(`window.__notReloaded === true`) != true {
			t.Errorf("the %s reloaded to show the outage", name)
		}
	}
	checkPage(t, overview, "journey-overview")
	checkPage(t, list, "journey-monitors")

	// The incident, on the monitor's page and in the incidents list.
	p.Navigate(monitorPage)
	if !p.WaitTrue(`!!document.querySelector("#m-incidents [data-incident]")`, 20*time.Second) {
		t.Fatalf("no incident on the monitor's page: %q", p.Text("main"))
	}
	incidents := person.Open(s.URL + "/incidents")
	if !incidents.WaitText("main", "Checkout", 10*time.Second) {
		t.Fatalf("the incident is not in the list: %q", incidents.Text("main"))
	}
	checkPage(t, p, "journey-monitor")
	p.Click("#m-incidents [data-incident] a")
	if !p.WaitTrue(`/^\/incidents\/\d+$/.test(location.pathname)`, 10*time.Second) {
		t.Fatalf("the incident link went to %s", p.URL())
	}
	incidentPage := p.URL()
	if got := p.Eval(`document.querySelector("#incident").dataset.status`); got != "TRIGGERED" {
		t.Errorf("a new incident's status is %v", got)
	}

	// Acknowledge with a message, comment, snooze.
	p.Fill("#ack-message", "On it: the checkout pods are restarting")
	p.ClickButton("Acknowledge")
	if !p.WaitText("#incident", "On it: the checkout pods are restarting", 10*time.Second) {
		t.Fatalf("the acknowledgement is not on the timeline: %q", p.Text("main"))
	}
	p.Fill("#comment-message", "Rolled back to yesterday's build")
	p.Check("#comment-public", true)
	p.ClickButton("Add comment")
	if !p.WaitText("#incident", "Rolled back to yesterday's build", 10*time.Second) {
		t.Fatalf("the comment is not on the timeline: %q", p.Text("main"))
	}
	p.SetValue("#snooze-duration", "15")
	p.Fill("#snooze-reason", "waiting for the rollback")
	p.ClickButton("Snooze")
	if !p.WaitText("#incident", "waiting for the rollback", 10*time.Second) {
		t.Fatalf("the snooze is not on the timeline: %q", p.Text("main"))
	}

	// Recovery resolves it, and the open page shows it without a reload.
	p.Navigate(incidentPage)
	p.Eval(`window.__notReloaded = true`)
	tg.healthy.Store(true)
	if !p.WaitTrue(`document.querySelector("#incident").dataset.status === "RESOLVED"`, 30*time.Second) {
		t.Fatalf("the incident did not resolve on its page: %q", p.Text("#incident"))
	}
	if p.Eval(`window.__notReloaded === true`) != true {
		t.Error("the incident page reloaded to show the recovery")
	}
	if !list.WaitText(row, "Up", 20*time.Second) {
		t.Errorf("the list did not show the recovery: %q", list.Text("main"))
	}
	checkPage(t, p, "journey-incident")

	// The replay: from the first event to the last with the buttons.
	p.Navigate(incidentPage + "/replay")
	steps := p.Count("[data-step]")
	if steps < 5 {
		t.Fatalf("the replay has %d steps; want triggered, acknowledged, commented, snoozed, resolved", steps)
	}
	p.SetValue("#replay-range", "0")
	visible := `document.querySelector("[data-step]:not([hidden])").dataset.status`
	if got := p.Eval(visible); got != "TRIGGERED" {
		t.Errorf("the first step's state: %v", got)
	}
	var seen []string
	for i := 0; i < steps; i++ {
		seen = append(seen, p.Eval(visible).(string))
		if i < steps-1 {
			p.ClickButton("Next event")
		}
	}
	if seen[len(seen)-1] != "RESOLVED" || !strings.Contains(strings.Join(seen, " "), "ACKNOWLEDGED") {
		t.Errorf("stepping through the replay showed %v", seen)
	}
	if p.Eval(`document.querySelector("[data-replay-next]").disabled`) != true {
		t.Error("Next event is still enabled on the last step")
	}
	checkPage(t, p, "journey-replay")
}
