package e2e

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/medialuna/medialuna/test/browser"
	"github.com/medialuna/medialuna/test/smtpcatcher"
	"github.com/medialuna/medialuna/test/testdb"
)

// TestDashboardOperatorView: the operator view takes the operator token,
// not a user's session; it shows every read model with the figures the
// API's GET /api/admin/projections reports, parked events with their
// errors, and each probe region with its monitors; a wrong token is
// refused, and leaving the view ends it.
func TestDashboardOperatorView(t *testing.T) {
	const operatorToken = "e2e-operator-view-token-0123456789"
	b := browser.New(t)
	s := startServer(t, testdb.New(t), smtpcatcher.Start(t), "MEDIALUNA_OPERATOR_TOKEN="+operatorToken)
	a := signup(t, s, "ops@example.com", "Ops")
	for i := range 3 {
		s.expect(201, "POST", "/api/v1/monitors", a.AccessToken, map[string]any{"name": "svc-" + strconv.Itoa(i), "type": "HTTP",
			"url": "http://127.0.0.1:9/", "check_interval": 300})
	}
	// A parked event, with an error text a hostile event could carry.
	if _, err := s.DB.Exec(`INSERT INTO parked_events (projector, event_id, stream_id, event_type, commit_position, prepare_position, error)
		VALUES ('monitors', '00000000-0000-0000-0000-000000000001', 'monitor-999', 'MonitorCreated', 1, 1, '<img src=x onerror=alert(1)> bad data')`); err != nil {
		t.Fatal(err)
	}

	// A user's session is not the operator's.
	_, p := logInInBrowser(t, b, s, "ops@example.com", dashboardPassword)
	p.Navigate(s.URL + "/operator")
	if p.Count("#token") != 1 || p.Count("#op-projections") != 0 {
		t.Fatalf("a signed-in user sees the operator view without the token:\n%s", p.Text("main"))
	}
	checkPage(t, p, "operator-login")
	p.Fill("#token", "not-the-token")
	p.ClickButton("Open the operator view")
	if !p.WaitText("main", "not the server's operator token", 5*time.Second) {
		t.Fatalf("a wrong token: %s", p.Text("main"))
	}
	p.Fill("#token", operatorToken)
	p.ClickButton("Open the operator view")
	if !p.WaitTrue(`document.querySelector("#op-projections") !== null`, 10*time.Second) {
		t.Fatalf("the right token did not open the view:\n%s", p.Text("main"))
	}

	// Every read model the API reports, with its figures.
	var api []struct {
		Name    string `json:"name"`
		Version int    `json:"version"`
		Parked  int64  `json:"parked_events"`
	}
	s.expect(200, "GET", "/api/admin/projections", operatorToken, nil).json(t, &api)
	if len(api) == 0 {
		t.Fatal("the API reports no read models")
	}
	for _, pr := range api {
		row := p.Text(`tr[data-projector="` + pr.Name + `"]`)
		if row == "" {
			t.Errorf("read model %s is not on the page", pr.Name)
			continue
		}
		cells := p.Eval(`[...document.querySelectorAll('tr[data-projector="` + pr.Name + `"] td')].map(c => c.innerText.trim())`).([]any)
		if cells[0] != strconv.Itoa(pr.Version) || cells[5] != strconv.FormatInt(pr.Parked, 10) {
			t.Errorf("%s: page %v, API version %d parked %d", pr.Name, cells, pr.Version, pr.Parked)
		}
	}
	if got := p.Text("#op-parked"); got != "1" {
		t.Errorf("parked events in the summary: %q", got)
	}
	if !strings.Contains(p.Text("#parked-monitors"), "monitors") || !strings.Contains(p.Text("main"), "<img src=x onerror=alert(1)> bad data") {
		t.Errorf("the parked event and its error are not shown as text:\n%s", p.Text("main"))
	}
	// The embedded probe's region, with the account's three monitors.
	local := p.Eval(`[...document.querySelectorAll('tr[data-region="local"] td')].map(c => c.innerText.trim())`).([]any)
	if len(local) < 2 || local[1] != "3" {
		t.Errorf("the local region's row: %v", local)
	}
	checkPage(t, p, "operator")

	// The view refreshes itself: a fourth monitor shows without a reload.
	s.expect(201, "POST", "/api/v1/monitors", a.AccessToken, map[string]any{"name": "svc-3", "type": "HTTP", "url": "http://127.0.0.1:9/", "check_interval": 300})
	if !p.WaitTrue(`(document.querySelectorAll('tr[data-region="local"] td')[1] || {}).innerText === "4"`, 20*time.Second) {
		t.Errorf("the view did not refresh: %s", p.Text(`tr[data-region="local"]`))
	}

	p.ClickButton("Leave the operator view")
	if !p.WaitTrue(`document.querySelector("#token") !== null`, 5*time.Second) {
		t.Errorf("leaving did not end the view:\n%s", p.Text("main"))
	}

	// Without the browser: the cookie the login sets opens the view; the
	// same cookie with its signature or its expiry changed does not; a
	// post without the CSRF token is refused.
	c := newFormClient(t, s)
	u, _ := url.Parse(s.URL + "/operator")
	if status, _ := c.post("/operator/login", url.Values{"token": {operatorToken}}); status != http.StatusForbidden {
		t.Errorf("operator login without the CSRF token: %d", status)
	}
	_, _, csrf := c.get("/operator")
	if status, body := c.post("/operator/login", url.Values{"csrf": {csrf}, "token": {operatorToken}}); status != http.StatusSeeOther {
		t.Fatalf("operator login through the form: %d\n%s", status, body)
	}
	var issued string
	for _, ck := range c.http.Jar.Cookies(u) {
		if ck.Name == "medialuna_operator" {
			issued = ck.Value
		}
	}
	opened := func(value string) bool {
		t.Helper()
		c.http.Jar.SetCookies(u, []*http.Cookie{{Name: "medialuna_operator", Value: value, Path: "/operator"}})
		_, body, _ := c.get("/operator")
		return strings.Contains(body, `id="op-projections"`)
	}
	if issued == "" || !opened(issued) {
		t.Fatalf("the cookie the operator login set (%q) does not open the view", issued)
	}
	expires, sig, _ := strings.Cut(issued, ".")
	unix, _ := strconv.ParseInt(expires, 10, 64)
	for name, value := range map[string]string{
		"a forged signature":               expires + ".forged",
		"the signature of another expiry":  strconv.FormatInt(unix+30*24*3600, 10) + "." + sig,
		"an expiry without a signature":    expires,
		"an expired cookie, signed or not": strconv.FormatInt(time.Now().Add(-time.Minute).Unix(), 10) + "." + sig,
	} {
		if opened(value) {
			t.Errorf("%s opened the operator view", name)
		}
	}
}

// TestDashboardOperatorViewOff: without an operator token the view says
// how to turn it on, and no token opens it.
func TestDashboardOperatorViewOff(t *testing.T) {
	s := startServer(t, testdb.New(t), smtpcatcher.Start(t))
	c := newFormClient(t, s)
	status, body, _ := c.get("/operator")
	if status != http.StatusOK || !strings.Contains(body, "--operator-token") || strings.Contains(body, `id="token"`) {
		t.Fatalf("operator view without a token: %d\n%s", status, body)
	}
	_, _, token := c.get("/login") // a form's CSRF token for this client
	if status, body := c.post("/operator/login", url.Values{"csrf": {token}, "token": {""}}); status != http.StatusNotFound || strings.Contains(body, "op-projections") {
		t.Errorf("operator login on a server without a token: %d", status)
	}
}
