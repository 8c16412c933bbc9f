package e2e

import (
	"slices"
	"strings"
	"testing"

	"github.com/medialuna/medialuna/test/smtpcatcher"
	"github.com/medialuna/medialuna/test/testdb"
)

// TestMonitorsEchoWhatTheyWereGiven: a monitor reads back as it was sent,
// with the reference's defaults spelled out: an HTTP monitor's codes 200 to
// 299 and method GET, a TCP monitor's url as host:port; and it is checked
// as it reads (the closed port goes down, the page comes up).
func TestMonitorsEchoWhatTheyWereGiven(t *testing.T) {
	s := startServer(t, testdb.New(t), smtpcatcher.Start(t), "MEDIALUNA_MIN_CHECK_INTERVAL=1")
	a := signup(t, s, "echo@example.com", "Echo")
	unlimited(t, s, a.Account.ID)
	type monitor struct {
		ID     int64  `json:"id"`
		URL    string `json:"url"`
		Port   int    `json:"port"`
		Method string `json:"http_method"`
		Codes  []int  `json:"expected_status_codes"`
		Status string `json:"status"`
	}
	var web, tcp, smtp monitor
	s.expect(201, "POST", "/api/v1/monitors", a.AccessToken, map[string]any{"name": "web", "type": "HTTP", "url": s.URL + "/healthz", "check_interval": 1}).json(t, &web)
	s.expect(201, "POST", "/api/v1/monitors", a.AccessToken, map[string]any{"name": "db", "type": "TCP", "url": "127.0.0.1:9", "check_interval": 1}).json(t, &tcp)
	s.expect(201, "POST", "/api/v1/monitors", a.AccessToken, map[string]any{"name": "mail", "type": "SMTP", "url": "mail.example.com", "check_interval": 300}).json(t, &smtp)
	want := make([]int, 0, 100)
	for c := 200; c <= 299; c++ {
		want = append(want, c)
	}
	if web.Method != "GET" || !slices.Equal(web.Codes, want) {
		t.Errorf("HTTP defaults: method %q, codes %v", web.Method, web.Codes)
	}
	if tcp.URL != "127.0.0.1:9" || tcp.Port != 9 {
		t.Errorf("TCP target: url %q port %d, want the url as sent and its port", tcp.URL, tcp.Port)
	}
	if smtp.URL != "mail.example.com" || smtp.Port != 25 {
		t.Errorf("SMTP target: url %q port %d", smtp.URL, smtp.Port)
	}
	var again monitor
	s.expect(200, "GET", "/api/v1/monitors/"+itoa(tcp.ID), a.AccessToken, nil).json(t, &again)
	if again.URL != "127.0.0.1:9" {
		t.Errorf("read back: %q", again.URL)
	}
	conflict := s.expect(422, "POST", "/api/v1/monitors", a.AccessToken, map[string]any{"name": "x", "type": "TCP", "url": "127.0.0.1:9", "port": 10})
	if !strings.Contains(string(conflict.Body), `"port"`) {
		t.Errorf("a port that differs from the url's: %s", conflict.Body)
	}
	waitFor(t, func() bool {
		var w, c monitor
		s.expect(200, "GET", "/api/v1/monitors/"+itoa(web.ID), a.AccessToken, nil).json(t, &w)
		s.expect(200, "GET", "/api/v1/monitors/"+itoa(tcp.ID), a.AccessToken, nil).json(t, &c)
		return w.Status == "up" && c.Status == "down"
	})
}
