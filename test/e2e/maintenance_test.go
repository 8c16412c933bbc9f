package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/medialuna/medialuna/test/smtpcatcher"
	"github.com/medialuna/medialuna/test/testdb"
)

type maintenanceWindow struct {
	ID                   int64   `json:"id"`
	Name                 string  `json:"name"`
	IsActive             bool    `json:"is_active"`
	InEffect             bool    `json:"in_effect"`
	IsRecurring          bool    `json:"is_recurring"`
	RecurrencePattern    *string `json:"recurrence_pattern"`
	RecurrenceDays       *string `json:"recurrence_days"`
	TimeZone             string  `json:"time_zone"`
	MonitorIDs           []int64 `json:"monitor_ids"`
	AppliesToAllMonitors bool    `json:"applies_to_all_monitors"`
}

// TestMaintenanceSuppressesIncidents: while a window covers a monitor its
// failing checks are recorded (marked), no incident opens and uptime leaves
// them out; when the window ends the outage opens its incident.
func TestMaintenanceSuppressesIncidents(t *testing.T) {
	db := testdb.New(t)
	s := startServer(t, db, smtpcatcher.Start(t), "MEDIALUNA_MIN_CHECK_INTERVAL=1")
	su := signup(t, s, "maint@example.com", "Maint")
	unlimited(t, s, su.Account.ID)
	jwt := su.AccessToken
	tg := newTarget(t)
	var m, other monitor
	s.expect(201, "POST", "/api/v1/monitors", jwt, map[string]any{"name": "db", "type": "HTTP", "url": tg.URL, "check_interval": 1, "timeout": 2}).json(t, &m)
	s.expect(201, "POST", "/api/v1/monitors", jwt, map[string]any{"name": "uncovered", "type": "HTTP", "url": "https://example.com", "check_interval": 300}).json(t, &other)
	waitStatus(t, s, jwt, m.ID, "up")

	now := time.Now().UTC()
	end := now.Add(6 * time.Second)
	var w maintenanceWindow
	s.expect(201, "POST", "/api/maintenance-windows", jwt, map[string]any{"name": "db upgrade", "start_time": now.Add(-time.Minute).Format(time.RFC3339),
		"end_time": end.Format(time.RFC3339Nano), "monitor_ids": []int64{m.ID}}).json(t, &w)
	if !w.IsActive || !w.InEffect || w.TimeZone != "UTC" {
		t.Fatalf("window = %+v", w)
	}
	var active []maintenanceWindow
	s.expect(200, "GET", "/api/maintenance-windows/active", jwt, nil).json(t, &active)
	if len(active) != 1 || active[0].ID != w.ID {
		t.Errorf("active = %+v", active)
	}

	tg.healthy.Store(false)
	waitStatus(t, s, jwt, m.ID, "down")
	time.Sleep(1500 * time.Millisecond)
	if n := len(incidentsOf(t, s, jwt, "?monitor_id="+itoa(m.ID))); n != 0 && time.Now().Before(end) {
		t.Fatalf("%d incidents opened inside the maintenance window", n)
	}
	var marked int
	db.Get(&marked, `SELECT count(*) FROM check_results WHERE monitor_id = $1 AND in_maintenance AND NOT up`, m.ID)
	if marked == 0 {
		t.Error("failing checks inside the window were not recorded as in maintenance")
	}
	// The window ends: the ongoing outage opens its incident.
	list := waitIncidents(t, s, jwt, "?monitor_id="+itoa(m.ID), 1)
	if list[0].StartedAt.Before(end) {
		t.Errorf("incident started at %s, inside the window ending %s", list[0].StartedAt, end)
	}
	var summary struct {
		Maint  int64    `json:"maintenance_checks"`
		Uptime *float64 `json:"uptime_percentage"`
		Total  int64    `json:"total_checks"`
	}
	s.expect(200, "GET", "/api/metrics/"+itoa(m.ID)+"/summary?hours=1", jwt, nil).json(t, &summary)
	if summary.Maint == 0 || summary.Maint >= summary.Total {
		t.Errorf("summary = %+v", summary)
	}

	// The audit log shows who scheduled it.
	audit := s.expect(200, "GET", "/api/audit/events?type=MaintenanceScheduled", jwt, nil)
	if !strings.Contains(string(audit.Body), `"actor_type":"user","actor_id":`+itoa(su.User.ID)) {
		t.Errorf("audit: %s", audit.Body)
	}
}

// TestMaintenanceWindowsAPI covers CRUD, toggle, filters, validation and
// the API key scopes.
func TestMaintenanceWindowsAPI(t *testing.T) {
	db := testdb.New(t)
	s := startServer(t, db, smtpcatcher.Start(t))
	su := signup(t, s, "mw@example.com", "MW")
	jwt := su.AccessToken
	var m monitor
	s.expect(201, "POST", "/api/v1/monitors", jwt, map[string]any{"name": "api", "type": "HTTP", "url": "https://example.com"}).json(t, &m)
	var keys struct {
		Key string `json:"key"`
	}
	s.expect(201, "POST", "/api/users/api-keys", jwt, map[string]any{"name": "ops", "scopes": []string{"read:maintenance", "write:maintenance"}}).json(t, &keys)
	var readOnly struct {
		Key string `json:"key"`
	}
	s.expect(201, "POST", "/api/users/api-keys", jwt, map[string]any{"name": "ro", "scopes": []string{"read:maintenance"}}).json(t, &readOnly)

	var w maintenanceWindow
	s.expect(201, "POST", "/api/maintenance-windows", keys.Key, map[string]any{"name": "nightly", "start_time": "2026-01-05T22:00:00Z",
		"end_time": "2026-01-06T01:00:00Z", "is_recurring": true, "recurrence_pattern": "weekly", "recurrence_days": "1,3,5",
		"time_zone": "Europe/Madrid", "applies_to_all_monitors": true}).json(t, &w)
	if !w.IsRecurring || *w.RecurrencePattern != "weekly" || *w.RecurrenceDays != "1,3,5" || w.TimeZone != "Europe/Madrid" || !w.AppliesToAllMonitors {
		t.Errorf("created = %+v", w)
	}
	s.expect(403, "POST", "/api/maintenance-windows", readOnly.Key, map[string]any{"name": "x"})
	s.expect(200, "GET", "/api/maintenance-windows/"+itoa(w.ID), readOnly.Key, nil)

	var toggled maintenanceWindow
	s.expect(200, "POST", "/api/maintenance-windows/"+itoa(w.ID)+"/toggle", jwt, nil).json(t, &toggled)
	if toggled.IsActive {
		t.Error("toggle did not disable the window")
	}
	var list []maintenanceWindow
	s.expect(200, "GET", "/api/maintenance-windows?active_only=true", jwt, nil).json(t, &list)
	if len(list) != 0 {
		t.Errorf("active_only listed a disabled window: %+v", list)
	}
	var updated maintenanceWindow
	s.expect(200, "PUT", "/api/maintenance-windows/"+itoa(w.ID), jwt, map[string]any{"name": "renamed", "applies_to_all_monitors": false, "monitor_ids": []int64{m.ID}}).json(t, &updated)
	if updated.Name != "renamed" || updated.AppliesToAllMonitors || len(updated.MonitorIDs) != 1 || *updated.RecurrenceDays != "1,3,5" {
		t.Errorf("updated = %+v", updated)
	}

	// A monitor deleted after the window named it drops out; the window
	// still takes changes that leave monitor_ids alone.
	var m2 monitor
	s.expect(201, "POST", "/api/v1/monitors", jwt, map[string]any{"name": "api 2", "type": "HTTP", "url": "https://example.org"}).json(t, &m2)
	s.expect(200, "PUT", "/api/maintenance-windows/"+itoa(w.ID), jwt, map[string]any{"monitor_ids": []int64{m.ID, m2.ID}})
	s.expect(204, "DELETE", "/api/v1/monitors/"+itoa(m2.ID), jwt, nil)
	var renamed maintenanceWindow
	s.expect(200, "PUT", "/api/maintenance-windows/"+itoa(w.ID), jwt, map[string]any{"name": "renamed again"}).json(t, &renamed)
	if len(renamed.MonitorIDs) != 1 || renamed.MonitorIDs[0] != m.ID {
		t.Errorf("after deleting a covered monitor: %+v", renamed)
	}

	var before int
	db.Get(&before, `SELECT count(*) FROM events`)
	for _, c := range []struct {
		body  string
		want  int
		field string
	}{
		{`{"start_time": "2026-01-01T00:00:00Z", "end_time": "2026-01-01T01:00:00Z", "applies_to_all_monitors": true}`, 422, "name"},
		{`{"name": "x", "start_time": "2026-01-01T02:00:00Z", "end_time": "2026-01-01T01:00:00Z", "applies_to_all_monitors": true}`, 422, "end_time"},
		{`{"name": "x", "start_time": "2026-01-01T00:00:00Z", "end_time": "2026-01-01T01:00:00Z", "is_recurring": true, "recurrence_pattern": "hourly", "applies_to_all_monitors": true}`, 422, "recurrence_pattern"},
		{`{"name": "x", "start_time": "2026-01-01T00:00:00Z", "end_time": "2026-01-01T01:00:00Z", "is_recurring": true, "recurrence_pattern": "weekly", "recurrence_days": "7", "applies_to_all_monitors": true}`, 422, "recurrence_days"},
		{`{"name": "x", "start_time": "2026-01-01T00:00:00Z", "end_time": "2026-01-01T01:00:00Z", "monitor_ids": [999999]}`, 422, "monitor_ids"},
		{`{"name": "x", "start_time": "2026-01-01T00:00:00Z", "end_time": "2026-01-01T01:00:00Z", "time_zone": "Nowhere/City", "applies_to_all_monitors": true}`, 422, "time_zone"},
		{`{"name": "` + strings.Repeat("n", 201) + `", "start_time": "2026-01-01T00:00:00Z", "end_time": "2026-01-01T01:00:00Z", "applies_to_all_monitors": true}`, 422, "name"},
		{`{"name": "x", "start_time": "yesterday", "end_time": "2026-01-01T01:00:00Z"}`, 422, `"loc":["body","start_time"]`},
	} {
		r := s.call("POST", "/api/maintenance-windows", jwt, c.body)
		if r.Status != c.want || !strings.Contains(string(r.Body), c.field) {
			t.Errorf("%s: %d %s", c.body, r.Status, r.Body)
		}
	}
	var after int
	db.Get(&after, `SELECT count(*) FROM events`)
	if after != before {
		t.Errorf("refused windows wrote %d events", after-before)
	}
	other := signup(t, s, "other-mw@example.com", "Other").AccessToken
	s.expect(404, "GET", "/api/maintenance-windows/"+itoa(w.ID), other, nil)
	s.expect(404, "DELETE", "/api/maintenance-windows/"+itoa(w.ID), other, nil)
	s.expect(204, "DELETE", "/api/maintenance-windows/"+itoa(w.ID), jwt, nil)
	s.expect(404, "GET", "/api/maintenance-windows/"+itoa(w.ID), jwt, nil)
}
