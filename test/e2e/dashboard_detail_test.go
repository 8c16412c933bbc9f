package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/medialuna/medialuna/test/browser"
	"github.com/medialuna/medialuna/test/smtpcatcher"
	"github.com/medialuna/medialuna/test/testdb"
)

// chartJSON is what /monitors/{id}/chart.json answers.
type chartJSON struct {
	X      []int64 `json:"x"`
	Series []struct {
		Label  string     `json:"label"`
		Values []*float64 `json:"values"`
	} `json:"series"`
}

// checkChart holds chart data to its shape: every series as long as the x
// axis, the axis rising, p95 never below p50 of the same region, and at
// least one value of region "local".
func checkChart(t *testing.T, c chartJSON) {
	t.Helper()
	if len(c.X) == 0 {
		t.Fatal("chart.json has no buckets")
	}
	for i := 1; i < len(c.X); i++ {
		if c.X[i] <= c.X[i-1] {
			t.Fatalf("x is not rising at %d: %v", i, c.X[i-1:i+1])
		}
	}
	lines := map[string][]*float64{}
	for _, s := range c.Series {
		if len(s.Values) != len(c.X) {
			t.Errorf("%s: %d values for %d buckets", s.Label, len(s.Values), len(c.X))
		}
		lines[s.Label] = s.Values
	}
	p50, p95 := lines["p50 local"], lines["p95 local"]
	if p50 == nil || p95 == nil {
		t.Fatalf("series %v; want p50 local and p95 local", func() []string {
			var l []string
			for _, s := range c.Series {
				l = append(l, s.Label)
			}
			return l
		}())
	}
	values := 0
	for i := range c.X {
		if (p50[i] == nil) != (p95[i] == nil) {
			t.Errorf("bucket %d: p50 %v, p95 %v", i, p50[i], p95[i])
			continue
		}
		if p50[i] == nil {
			continue
		}
		values++
		if *p50[i] > *p95[i] || *p50[i] < 0 {
			t.Errorf("bucket %d: p50 %.2f, p95 %.2f", i, *p50[i], *p95[i])
		}
	}
	if values == 0 {
		t.Error("no bucket has a value")
	}
}

// detailSignup signs up through the API like signup, and also takes the
// 202 a loaded machine may answer (recorded, read models behind): it then
// waits until the account can be read.
func detailSignup(t *testing.T, s *server, email, account string) (jwt string, accountID int64) {
	t.Helper()
	r := s.call("POST", "/api/auth/signup", "", map[string]string{"email": email, "password": dashboardPassword, "account_name": account})
	var out struct {
		AccessToken string `json:"access_token"`
		AccountID   int64  `json:"account_id"`
		Account     struct {
			ID int64 `json:"id"`
		} `json:"account"`
	}
	if r.Status != http.StatusCreated && r.Status != http.StatusAccepted {
		t.Fatalf("sign-up: %d %s", r.Status, r.Body)
	}
	r.json(t, &out)
	if out.Account.ID != 0 {
		out.AccountID = out.Account.ID
	}
	deadline := time.Now().Add(30 * time.Second)
	for s.call("GET", "/api/v1/account", out.AccessToken, nil).Status != http.StatusOK {
		if time.Now().After(deadline) {
			t.Fatalf("the account of %s never showed", email)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return out.AccessToken, out.AccountID
}

// detailAction sends a write to the API, taking its success or the 202 of
// a write whose read models lag (the test then waits for what it
// expects).
func detailAction(t *testing.T, s *server, path, jwt string, body any) response {
	t.Helper()
	r := s.call("POST", path, jwt, body)
	if r.Status != http.StatusOK && r.Status != http.StatusCreated && r.Status != http.StatusAccepted {
		t.Fatalf("POST %s: %d %s", path, r.Status, r.Body)
	}
	return r
}

// detailCreateMonitor creates a monitor through the API and returns it as
// the API reads it once its read model has it.
func detailCreateMonitor(t *testing.T, s *server, jwt string, body map[string]any) monitor {
	t.Helper()
	var created struct {
		ID int64 `json:"id"`
	}
	detailAction(t, s, "/api/v1/monitors", jwt, body).json(t, &created)
	var m monitor
	deadline := time.Now().Add(30 * time.Second)
	for {
		r := s.call("GET", "/api/v1/monitors/"+itoa(created.ID), jwt, nil)
		if r.Status == http.StatusOK {
			r.json(t, &m)
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("monitor %d never showed: %d", created.ID, r.Status)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestDashboardDetailHTTP follows an HTTP monitor's detail page in
// Chromium: it turns Up without a reload, draws its response-time chart
// from chart.json, lists its checks; when the target answers 503 it turns
// Down and its incident appears, still without a reload. Its hostile name
// is text. Another account's session gets 404s, a VIEWER sees no actions.
func TestDashboardDetailHTTP(t *testing.T) {
	b := browser.New(t)
	s := startServer(t, testdb.New(t), smtpcatcher.Start(t), "MEDIALUNA_MIN_CHECK_INTERVAL=1")
	jwt, accountID := detailSignup(t, s, "detail@example.com", "Detail")
	unlimited(t, s, accountID)
	tg := newTarget(t)
	hostile := `<img src=x onerror=alert(1)>API <script>window.__pwned=1</script>`
	m := detailCreateMonitor(t, s, jwt, map[string]any{"name": hostile, "type": "HTTP", "url": tg.URL + "/health",
		"check_interval": 1, "timeout": 2})
	page := "/monitors/" + itoa(m.ID)
	// Paused until the page is open, so that it sees the monitor turn up.
	detailAction(t, s, "/api/monitors/"+itoa(m.ID)+"/pause", jwt, nil)
	waitStatus(t, s, jwt, m.ID, "paused")

	_, p := logInInBrowser(t, b, s, "detail@example.com", dashboardPassword)
	p.Navigate(s.URL + page)
	if got := p.Text("#m-status"); got != "Paused" || !strings.Contains(p.Text("#m-now"), "no checks run") {
		t.Errorf("a paused monitor: status %q: %s", got, p.Text("#m-now"))
	}
	if !strings.Contains(p.Text("#m-actions"), "Resume") {
		t.Errorf("a paused monitor's actions: %q; want Resume", p.Text("#m-actions"))
	}
	if got := p.Text("#m-name"); got != hostile {
		t.Errorf("name shows as %q, want the text %q", got, hostile)
	}
	if n := p.Count("#m-name *, main script, main img"); n != 0 {
		t.Errorf("%d elements injected by the name", n)
	}
	if got := p.Text("#m-target"); got != tg.URL+"/health" {
		t.Errorf("target %q", got)
	}
	if n := p.Count(`#m-actions a, #m-actions button`); n != 4 {
		t.Errorf("%d actions for the ADMIN, want Edit, Clone, Pause, Delete", n)
	}

	// Up, live: the page is the one loaded (its marker survives).
	p.Eval(`window.__loaded = "still here"`)
	detailAction(t, s, "/api/monitors/"+itoa(m.ID)+"/resume", jwt, nil)
	if !p.WaitTrue(`document.querySelector("#m-status").dataset.status === "up"`, 20*time.Second) {
		t.Fatalf("status did not turn up without a reload: %s", p.Text("#m-now"))
	}
	if !p.WaitTrue(`document.querySelectorAll("#m-history tr.m-check").length >= 2`, 20*time.Second) {
		t.Errorf("the history did not list the checks live: %s", p.Text("#m-history"))
	}
	if p.Eval(`window.__loaded`) != "still here" {
		t.Error("the page reloaded")
	}
	if got := p.Text("#m-status"); got != "Up" {
		t.Errorf("status says %q", got)
	}

	// A fresh load shows the actions of an active monitor.
	p.Navigate(s.URL + page)
	for _, action := range []string{"Edit", "Clone", "Pause", "Delete"} {
		if !strings.Contains(p.Text("#m-actions"), action) {
			t.Errorf("no %s action for the ADMIN", action)
		}
	}

	// The fresh load drew the chart from the checks so far (the history
	// has shown them: they are in the raw results the chart reads).
	if !p.WaitTrue(`!!document.querySelector(".chart canvas")`, 15*time.Second) {
		t.Fatalf("no chart drawn: %q", p.Text(".chart"))
	}
	if legend := p.Text(".chart"); !strings.Contains(legend, "p50 local") || !strings.Contains(legend, "p95 local") {
		t.Errorf("chart legend %q; want p50 local and p95 local", legend)
	}
	history := p.Text("#m-history")
	if !strings.Contains(history, "Up") || !strings.Contains(history, "200") || !strings.Contains(history, "local") {
		t.Errorf("history %q; want Up checks from local with code 200", history)
	}
	if n := p.Count("#m-regions tbody tr"); n != 1 || !strings.Contains(p.Text("#m-regions"), "local") {
		t.Errorf("region table: %d rows: %q", n, p.Text("#m-regions"))
	}
	if got := p.Text("#m-uptime"); !strings.Contains(got, "100.00%") {
		t.Errorf("uptime cards %q; want 100.00%% so far", got)
	}
	for _, rng := range []string{"24h", "7d", "30d", "90d"} {
		raw := p.Eval(`fetch("/monitors/` + itoa(m.ID) + `/chart.json?range=` + rng + `").then(r => r.text())`)
		var c chartJSON
		if err := json.Unmarshal([]byte(raw.(string)), &c); err != nil {
			t.Fatalf("chart.json?range=%s: %v: %s", rng, err, raw)
		}
		t.Run("chart "+rng, func(t *testing.T) { checkChart(t, c) })
	}
	p.Click(`#m-chart a[href="?range=7d"]`)
	if !p.WaitTrue(`!!document.querySelector(".chart canvas") && location.search === "?range=7d"`, 15*time.Second) {
		t.Errorf("the 7 day range did not draw: %s %q", p.URL(), p.Text(".chart"))
	}
	checkPage(t, p, "monitor-detail-http")

	// Down, live: the status turns, the incident appears.
	p.Navigate(s.URL + page)
	p.Eval(`window.__loaded = "still here"`)
	tg.healthy.Store(false)
	if !p.WaitTrue(`document.querySelector("#m-status").dataset.status === "down"`, 20*time.Second) {
		t.Fatalf("status did not turn down without a reload: %s", p.Text("#m-now"))
	}
	if !p.WaitTrue(`document.querySelectorAll("#m-incidents [data-incident]").length === 1`, 20*time.Second) {
		t.Fatalf("the incident did not appear without a reload: %s", p.Text("#m-incidents"))
	}
	if !p.WaitTrue(`document.querySelector("#m-history").innerText.includes("503")`, 20*time.Second) {
		t.Errorf("the history does not show the 503: %s", p.Text("#m-history"))
	}
	if p.Eval(`window.__loaded`) != "still here" {
		t.Error("the page reloaded")
	}
	href := p.Eval(`document.querySelector("#m-incidents a").getAttribute("href")`)
	if h, _ := href.(string); !regexp.MustCompile(`^/incidents/[0-9]+$`).MatchString(h) {
		t.Errorf("incident link %v", href)
	}
	if got := p.Text("#m-incidents"); !strings.Contains(got, "DOWN") || !strings.Contains(got, "Open") {
		t.Errorf("incidents section %q", got)
	}
	checkPage(t, p, "monitor-detail-http-down")

	// Another account sees neither the page nor its data.
	detailSignup(t, s, "other@example.com", "Other")
	other := newFormClient(t, s)
	other.login("other@example.com", dashboardPassword)
	for _, path := range []string{page, page + "/chart.json", page + "/chart.json?range=90d"} {
		status, body, _ := other.get(path)
		if status != http.StatusNotFound {
			t.Errorf("another account: GET %s = %d, want 404", path, status)
		}
		if strings.Contains(body, "onerror") || strings.Contains(body, "health") {
			t.Errorf("another account: GET %s shows the monitor: %s", path, body)
		}
	}
	owner := newFormClient(t, s)
	owner.login("detail@example.com", dashboardPassword)
	if status, _, _ := owner.get(page + "/chart.json"); status != http.StatusOK {
		t.Errorf("the owner's chart.json: %d", status)
	}
	if status, _, _ := owner.get(page + "/chart.json?range=1y"); status != http.StatusBadRequest {
		t.Errorf("an unknown range: %d, want 400", status)
	}
	// The history pages back by time: before the first check there is
	// nothing, and a link back to the newest.
	status, body, _ := owner.get(page + "?range=7d&before=" + time.Now().Add(-time.Hour).UTC().Format(time.RFC3339Nano) + "&before_region=1")
	if status != http.StatusOK || !strings.Contains(body, "No older checks.") || !strings.Contains(body, `href="?range=7d">Newest checks`) {
		t.Errorf("an hour before the first check: %d, want no checks and a link to the newest", status)
	}
	if status, _, _ := owner.get(page + "?before=yesterday"); status != http.StatusBadRequest {
		t.Errorf("a bad history cursor: %d, want 400", status)
	}

	// A VIEWER of the account sees the page without its actions.
	detailAction(t, s, "/api/accounts/users/invite", jwt, map[string]string{"email": "viewer@example.com", "role": "VIEWER"})
	mail := s.Mail.WaitFor(t, "viewer@example.com", 20*time.Second)
	token := regexp.MustCompile(`Token: (\S+)`).FindStringSubmatch(mail.Data)
	if token == nil {
		t.Fatalf("no token in the invitation:\n%s", mail.Data)
	}
	detailAction(t, s, "/api/auth/accept-invite", "", map[string]string{"token": token[1], "password": "viewer password"})
	waitFor(t, func() bool {
		return s.call("POST", "/api/auth/login", "", map[string]string{"email": "viewer@example.com", "password": "viewer password"}).Status == http.StatusOK
	})
	viewer := newFormClient(t, s)
	viewer.login("viewer@example.com", "viewer password")
	status, body, _ = viewer.get(page)
	if status != http.StatusOK || !strings.Contains(body, `id="m-status"`) {
		t.Fatalf("the VIEWER's page: %d", status)
	}
	for _, action := range []string{"/edit", "?clone=", "/pause", "/resume", "/delete"} {
		if strings.Contains(body, action) {
			t.Errorf("the VIEWER's page links to %s", action)
		}
	}
}

// TestDashboardDetailPush shows a PUSH monitor's push URL, with its real
// token, in a field a button copies, and a curl example; a ping through
// that URL turns the monitor Up on the open page.
func TestDashboardDetailPush(t *testing.T) {
	b := browser.New(t)
	s := startServer(t, testdb.New(t), smtpcatcher.Start(t), "MEDIALUNA_MIN_CHECK_INTERVAL=1")
	jwt, _ := detailSignup(t, s, "push@example.com", "Push")
	m := detailCreateMonitor(t, s, jwt, map[string]any{"name": "nightly backup", "type": "PUSH", "check_interval": 3600})
	if m.PushToken == "" {
		t.Fatalf("no push token: %+v", m)
	}
	pushURL := s.URL + "/api/push/" + m.PushToken

	_, p := logInInBrowser(t, b, s, "push@example.com", dashboardPassword)
	p.Navigate(s.URL + "/monitors/" + itoa(m.ID))
	if got := p.Eval(`document.querySelector("#push-url").value`); got != pushURL {
		t.Errorf("push URL field %v, want %s", got, pushURL)
	}
	if got := p.Eval(`document.querySelector("#push-url").readOnly`); got != true {
		t.Error("the push URL field is editable")
	}
	if got := p.Text("#push-curl"); !strings.Contains(got, "curl") || !strings.Contains(got, pushURL) {
		t.Errorf("curl example %q; want a curl of %s", got, pushURL)
	}
	if got := p.Text("#m-target"); strings.Contains(got, m.PushToken) {
		t.Errorf("target line %q", got)
	}

	// The copy button copies (or, where the clipboard is refused, selects
	// the whole URL for the person to copy).
	// "Copied" shows for 1.5 s, which a busy machine can spend inside
	// the click: an observer remembers that it showed.
	p.Eval(`(() => { const b = document.querySelector("[data-copy]"); window.__copied = false;
		new MutationObserver(() => { if (b.textContent === "Copied") window.__copied = true })
			.observe(b, {childList: true, characterData: true, subtree: true}) })()`)
	p.ClickButton("Copy push URL")
	copied := p.WaitTrue(`window.__copied ||
		(document.activeElement === document.querySelector("#push-url") &&
		 document.querySelector("#push-url").selectionStart === 0 &&
		 document.querySelector("#push-url").selectionEnd === document.querySelector("#push-url").value.length)`, 5*time.Second)
	if !copied {
		t.Errorf("the copy button neither copied nor selected the URL: %q", p.Text("[data-copy]"))
	}

	// A ping through the URL shown turns it Up on the open page.
	p.Eval(`window.__loaded = "still here"`)
	resp, err := http.Post(pushURL, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("ping: %d", resp.StatusCode)
	}
	if !p.WaitTrue(`document.querySelector("#m-status").dataset.status === "up"`, 20*time.Second) {
		t.Errorf("the ping did not turn the page up: %s", p.Text("#m-now"))
	}
	if !p.WaitTrue(`document.querySelector("#m-history").innerText.includes("heartbeat")`, 20*time.Second) {
		t.Errorf("the history does not show the heartbeat: %s", p.Text("#m-history"))
	}
	if p.Eval(`window.__loaded`) != "still here" {
		t.Error("the page reloaded")
	}
	checkPage(t, p, "monitor-detail-push")
}

// soonExpiringTLSServer is an HTTPS target whose certificate expires in
// days.
func soonExpiringTLSServer(t *testing.T, days int) (*httptest.Server, time.Time) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	notAfter := time.Now().Add(time.Duration(days)*24*time.Hour + time.Hour).Truncate(time.Second)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: notAfter, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) }))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv, notAfter
}

// TestDashboardDetailCertificate: an HTTPS monitor's page says when its
// certificate expires, and warns inside the monitor's reminder window.
func TestDashboardDetailCertificate(t *testing.T) {
	s := startServer(t, testdb.New(t), smtpcatcher.Start(t), "MEDIALUNA_MIN_CHECK_INTERVAL=1")
	jwt, accountID := detailSignup(t, s, "cert@example.com", "Cert")
	unlimited(t, s, accountID)
	soon, soonAt := soonExpiringTLSServer(t, 10)
	later, laterAt := soonExpiringTLSServer(t, 200)
	client := newFormClient(t, s)
	client.login("cert@example.com", dashboardPassword)
	for _, c := range []struct {
		name     string
		url      string
		notAfter time.Time
		reminder int
		warn     bool
	}{
		{"soon", soon.URL, soonAt, 30, true},
		{"later", later.URL, laterAt, 30, false},
	} {
		m := detailCreateMonitor(t, s, jwt, map[string]any{"name": c.name, "type": "HTTP", "url": c.url,
			"check_interval": 1, "timeout": 2, "verify_ssl": false, "ssl_expiry_reminder": c.reminder})
		waitStatus(t, s, jwt, m.ID, "up")
		days := int(time.Until(c.notAfter) / (24 * time.Hour))
		var body string
		waitFor(t, func() bool {
			_, body, _ = client.get("/monitors/" + itoa(m.ID))
			return strings.Contains(body, `id="m-cert"`) && !strings.Contains(body, "No TLS certificate seen yet")
		})
		want := "The TLS certificate expires in " + strconv.Itoa(days) + " days"
		if !strings.Contains(body, want) && !strings.Contains(body, "The TLS certificate expires in "+strconv.Itoa(days-1)+" days") {
			t.Errorf("%s: page says %q; want %q", c.name, regexp.MustCompile(`(?s)<p id="m-cert">.*?</p>`).FindString(body), want)
		}
		if warned := strings.Contains(body, `<strong class="m-warn">The TLS certificate expires`); warned != c.warn {
			t.Errorf("%s: warned %v, want %v (%d days left, reminder %d)", c.name, warned, c.warn, days, c.reminder)
		}
	}
}
