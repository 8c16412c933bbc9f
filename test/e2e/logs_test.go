package e2e

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/medialuna/medialuna/test/smtpcatcher"
	"github.com/medialuna/medialuna/test/testdb"
)

// TestLogsAreQuietAtInfo: a first start on a fresh database, a sign-up, a
// monitor checked by the embedded probe and a refused request write, at
// the info level, what the server did and the refusal, and nothing about
// tables that do not exist yet, the router's wiring or each successful
// request.
func TestLogsAreQuietAtInfo(t *testing.T) {
	s := startServer(t, testdb.New(t), smtpcatcher.Start(t), "MEDIALUNA_LOG_LEVEL=info", "MEDIALUNA_MIN_CHECK_INTERVAL=1")
	a := signup(t, s, "quiet@example.com", "Quiet")
	tg := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(tg.Close)
	target := tg.URL
	m := s.expect(201, "POST", "/api/v1/monitors", a.AccessToken, map[string]any{"name": "web", "type": "HTTP", "url": target, "check_interval": 1})
	var mon struct {
		ID int64 `json:"id"`
	}
	m.json(t, &mon)
	waitFor(t, func() bool {
		var n int
		s.DB.Get(&n, `SELECT count(*) FROM check_results WHERE monitor_id = $1`, mon.ID)
		return n > 0
	})
	s.expect(422, "POST", "/api/v1/monitors", a.AccessToken, map[string]any{"name": "", "type": "HTTP", "url": target})
	if err := s.stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	logs := s.logs.String()
	for _, line := range strings.Split(logs, "\n") {
		switch {
		case strings.Contains(line, "level=WARN"), strings.Contains(line, "level=ERROR"):
			t.Errorf("a warning on a clean first start: %s", line)
		case strings.Contains(line, "Adding handler"), strings.Contains(line, "Starting handler"):
			t.Errorf("the router's wiring at info: %s", line)
		case strings.Contains(line, "msg=request") && !strings.Contains(line, "status=4"):
			t.Errorf("a successful request at info: %s", line)
		}
	}
	if !strings.Contains(logs, "msg=request") || !strings.Contains(logs, "status=422") {
		t.Errorf("the refused request is not logged:\n%s", logs)
	}
	if !strings.Contains(logs, "Media Luna is serving") {
		t.Errorf("the start is not logged:\n%s", logs)
	}
}
