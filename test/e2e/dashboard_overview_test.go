package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/medialuna/medialuna/test/browser"
	"github.com/medialuna/medialuna/test/smtpcatcher"
	"github.com/medialuna/medialuna/test/testdb"
)

// TestDashboardOverviewShowsMaintenanceAndUsage: the overview counts the
// monitors a window in effect covers and names them, says "every monitor"
// for a window over all of them instead of listing thousands, and shows
// the plan's usage; a new window shows up without a reload.
func TestDashboardOverviewShowsMaintenanceAndUsage(t *testing.T) {
	b := browser.New(t)
	s := startServer(t, testdb.New(t), smtpcatcher.Start(t))
	su := signup(t, s, "overview@example.com", "Overview")
	var db, web monitor
	s.expect(201, "POST", "/api/v1/monitors", su.AccessToken, map[string]any{"name": "Database", "type": "TCP", "url": "127.0.0.1", "port": 9}).json(t, &db)
	s.expect(201, "POST", "/api/v1/monitors", su.AccessToken, map[string]any{"name": "Web", "type": "HTTP", "url": "http://127.0.0.1:9/"}).json(t, &web)

	_, p := logInInBrowser(t, b, s, "overview@example.com", "correct horse battery")
	if got := p.Text(`[data-count="maintenance"]`); got != "0" {
		t.Errorf("in maintenance before any window: %q", got)
	}
	if got := p.Text(".usage"); !strings.Contains(got, "2 of 10") {
		t.Errorf("monitor usage: %q", got)
	}
	p.Eval(`window.__notReloaded = true`)
	now := time.Now().UTC()
	s.expect(201, "POST", "/api/maintenance-windows", su.AccessToken, map[string]any{"name": "db upgrade",
		"start_time": now.Add(-time.Minute).Format(time.RFC3339), "end_time": now.Add(time.Hour).Format(time.RFC3339), "monitor_ids": []int64{db.ID}})
	if !p.WaitText(`[data-count="maintenance"]`, "1", 15*time.Second) || !p.WaitText("#maint-h + ul + p", "Database", 5*time.Second) {
		t.Fatalf("the window did not show live: %q", p.Text("#overview"))
	}
	if p.Eval(`window.__notReloaded === true`) != true {
		t.Error("the overview reloaded")
	}
	s.expect(201, "POST", "/api/maintenance-windows", su.AccessToken, map[string]any{"name": "everything", "applies_to_all_monitors": true,
		"start_time": now.Add(-time.Minute).Format(time.RFC3339), "end_time": now.Add(time.Hour).Format(time.RFC3339)})
	if !p.WaitText("#overview", "Covering every monitor.", 15*time.Second) || p.Text(`[data-count="maintenance"]`) != "2" {
		t.Errorf("a window over every monitor: %q", p.Text("#overview"))
	}
	checkPage(t, p, "overview-maintenance")
}
