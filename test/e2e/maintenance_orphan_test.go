package e2e

import (
	"testing"

	"github.com/medialuna/medialuna/test/smtpcatcher"
	"github.com/medialuna/medialuna/test/testdb"
)

// TestWindowsGoWithTheirLastMonitor: a window whose every monitor is
// deleted (one by one, or in one bulk request) is deleted with them, so no
// window is left in a state create refuses; windows that still name a
// monitor, or cover every monitor, stay and can still be edited.
func TestWindowsGoWithTheirLastMonitor(t *testing.T) {
	s := startServer(t, testdb.New(t), smtpcatcher.Start(t))
	a := signup(t, s, "orphans@example.com", "Orphans")
	unlimited(t, s, a.Account.ID)
	var ids []int64
	for _, name := range []string{"one", "two", "three", "four"} {
		var m struct {
			ID int64 `json:"id"`
		}
		s.expect(201, "POST", "/api/v1/monitors", a.AccessToken, map[string]any{"name": name, "type": "HTTP", "url": "http://127.0.0.1:9/"}).json(t, &m)
		ids = append(ids, m.ID)
	}
	window := func(name string, body map[string]any) int64 {
		body["name"], body["start_time"], body["end_time"] = name, "2030-01-01T00:00:00Z", "2030-01-01T01:00:00Z"
		var w struct {
			ID int64 `json:"id"`
		}
		s.expect(201, "POST", "/api/maintenance-windows", a.AccessToken, body).json(t, &w)
		return w.ID
	}
	onlyOne := window("only one", map[string]any{"monitor_ids": []int64{ids[0]}})
	oneAndTwo := window("one and two", map[string]any{"monitor_ids": []int64{ids[0], ids[1]}})
	all := window("all", map[string]any{"applies_to_all_monitors": true})
	threeAndFour := window("three and four", map[string]any{"monitor_ids": []int64{ids[2], ids[3]}})

	s.expect(204, "DELETE", "/api/v1/monitors/"+itoa(ids[0]), a.AccessToken, nil)
	s.expect(404, "GET", "/api/maintenance-windows/"+itoa(onlyOne), a.AccessToken, nil)
	var kept struct {
		MonitorIDs []int64 `json:"monitor_ids"`
	}
	s.expect(200, "GET", "/api/maintenance-windows/"+itoa(oneAndTwo), a.AccessToken, nil).json(t, &kept)
	if len(kept.MonitorIDs) != 1 || kept.MonitorIDs[0] != ids[1] {
		t.Errorf("the window naming one and two names %v", kept.MonitorIDs)
	}
	s.expect(200, "PUT", "/api/maintenance-windows/"+itoa(oneAndTwo), a.AccessToken, map[string]any{"name": "two"})

	s.expect(200, "POST", "/api/monitors/bulk", a.AccessToken, map[string]any{"action": "delete", "monitor_ids": []int64{ids[2], ids[3]}})
	waitFor(t, func() bool {
		return s.call("GET", "/api/maintenance-windows/"+itoa(threeAndFour), a.AccessToken, nil).Status == 404
	})
	s.expect(200, "GET", "/api/maintenance-windows/"+itoa(all), a.AccessToken, nil)
	var windows []struct {
		MonitorIDs []int64 `json:"monitor_ids"`
		All        bool    `json:"applies_to_all_monitors"`
	}
	s.expect(200, "GET", "/api/maintenance-windows", a.AccessToken, nil).json(t, &windows)
	for _, w := range windows {
		if !w.All && len(w.MonitorIDs) == 0 {
			t.Errorf("a window covers nothing: %+v", w)
		}
	}
}
