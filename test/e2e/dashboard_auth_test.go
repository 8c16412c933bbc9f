package e2e

import (
	"bufio"
	"context"
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

// TestDashboardSignInPages walks the pages before and around sign-in in
// Chromium: sign up (with a refusal shown next to its field), the overview,
// log out, a wrong password, log in, and an invitation accepted through the
// link in its email.
func TestDashboardSignInPages(t *testing.T) {
	b := browser.New(t)
	s := startServer(t, testdb.New(t), smtpcatcher.Start(t))

	// A refusal is shown next to the field it names, with what was typed kept.
	anon := b.Isolated()
	p := anon.Open(s.URL + "/signup")
	checkPage(t, p, "signup")
	p.Navigate(s.URL + "/signup")
	p.Fill("#account_name", "Short <b>Password</b> Ltd")
	p.Fill("#email", "short@example.com")
	p.Fill("#password", "short")
	p.ClickButton("Create account")
	if got := p.Text("#err-password"); !strings.Contains(got, "at least 8 characters") {
		t.Errorf("password error next to the field = %q", got)
	}
	if v := p.Eval(`document.querySelector("#account_name").value`); v != "Short <b>Password</b> Ltd" {
		t.Errorf("typed account name not kept: %v", v)
	}
	if v := p.Eval(`document.querySelector("#password").getAttribute("aria-invalid")`); v != "true" {
		t.Errorf("password field aria-invalid = %v", v)
	}

	// Sign up for real: the session starts and the overview shows the account.
	person, p := signUpInBrowser(t, b, s, "owner@example.com", `Acme <img src=x onerror=alert(1)>`)
	p.Navigate(s.URL + "/")
	if got := p.Text(".who .account"); got != `Acme <img src=x onerror=alert(1)>` {
		t.Errorf("account name shown = %q", got)
	}
	if got := p.Text(`[data-count="down"]`); got != "0" {
		t.Errorf("down count = %q", got)
	}
	if !p.WaitText("#live-state", "Live updates on", 10*time.Second) {
		t.Errorf("live updates did not connect: %q", p.Text("#live-state"))
	}
	checkPage(t, p, "overview")

	// Log out: the session ends, the overview asks for a login again.
	p = person.Open(s.URL + "/")
	p.ClickButton("Log out Test " + `Acme <img src=x onerror=alert(1)>`)
	if !p.WaitTrue(`location.pathname === "/login"`, 10*time.Second) {
		t.Fatalf("log out landed on %s", p.URL())
	}
	if !strings.Contains(p.Text("main"), "You are logged out.") {
		t.Errorf("no logged-out message: %q", p.Text("main"))
	}
	p.Navigate(s.URL + "/")
	if !strings.HasPrefix(p.Eval(`location.pathname`).(string), "/login") {
		t.Errorf("after log out, / shows %s", p.URL())
	}

	// A wrong password, then the right one.
	p.Fill("#email", "owner@example.com")
	p.Fill("#password", "not the password")
	p.ClickButton("Log in")
	if got := p.Text(".form-error"); got != "Wrong email or password." {
		t.Errorf("wrong password says %q", got)
	}
	checkPage(t, p, "login-error")
	_, p = logInInBrowser(t, b, s, "owner@example.com", dashboardPassword)
	if p.Text("h1") != "Overview" {
		t.Errorf("after login: %s %q", p.URL(), p.Text("h1"))
	}

	// An invitation: the link in the email opens a page that sets the
	// password and signs the new member in.
	var login struct {
		AccessToken string `json:"access_token"`
	}
	s.expect(200, "POST", "/api/auth/login", "", map[string]string{"email": "owner@example.com", "password": dashboardPassword}).json(t, &login)
	s.expect(200, "POST", "/api/accounts/users/invite", login.AccessToken, map[string]string{"email": "new@example.com", "role": "EDITOR"})
	mail := s.Mail.WaitFor(t, "new@example.com", 20*time.Second)
	link := regexp.MustCompile(`(http://\S+/invite\?token=\S+)`).FindStringSubmatch(strings.ReplaceAll(mail.Data, "=\r\n", ""))
	if link == nil {
		t.Fatalf("no invitation link in the email:\n%s", mail.Data)
	}
	invitee := b.Isolated()
	p = invitee.Open(link[1])
	if p.Text("h1") != "Join your team" {
		t.Fatalf("invitation page: %q\n%s", p.Text("h1"), p.Text("main"))
	}
	checkPage(t, p, "invite")
	p.Navigate(link[1])
	p.Fill("#full_name", "New Member")
	p.Fill("#password", "a new members password")
	p.ClickButton("Accept invitation")
	if !p.WaitTrue(`location.pathname === "/"`, 10*time.Second) {
		t.Fatalf("accepting landed on %s: %s", p.URL(), p.Text("main"))
	}
	if got := p.Text(".who .role"); got != "EDITOR" {
		t.Errorf("the new member's role = %q", got)
	}
	// A forged or used link gets a page that says so.
	p.Navigate(s.URL + "/invite?token=forged")
	if !strings.Contains(p.Text("main"), "not valid") {
		t.Errorf("forged invitation: %q", p.Text("main"))
	}
}

// TestDashboardRefusesForgedRequests: a state-changing request without the
// session's CSRF token, or from another site, changes nothing.
func TestDashboardRefusesForgedRequests(t *testing.T) {
	s := startServer(t, testdb.New(t), smtpcatcher.Start(t))
	signup(t, s, "csrf@example.com", "CSRF")
	s.expect(200, "POST", "/api/auth/login", "", map[string]string{"email": "csrf@example.com", "password": "correct horse battery"})

	c := newFormClient(t, s)
	// Log-in form without its token: refused before the password is checked.
	if status, _ := c.post("/login", url.Values{"email": {"csrf@example.com"}, "password": {"correct horse battery"}}); status != http.StatusForbidden {
		t.Errorf("login without a CSRF token: %d", status)
	}
	c.login("csrf@example.com", "correct horse battery")
	_, _, token := c.get("/")
	if token == "" {
		t.Fatal("no CSRF token on the overview")
	}
	// Log out without the token, with another session's token, and from
	// another origin: refused, the session stays.
	other := newFormClient(t, s)
	other.login("csrf@example.com", "correct horse battery")
	_, _, otherToken := other.get("/")
	for name, form := range map[string]url.Values{"no token": {}, "another session's token": {"csrf": {otherToken}}} {
		if status, _ := c.post("/logout", form); status != http.StatusForbidden {
			t.Errorf("logout with %s: %d", name, status)
		}
	}
	req, _ := http.NewRequest("POST", s.URL+"/logout", strings.NewReader(url.Values{"csrf": {token}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if resp, err := c.http.Do(req); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site logout: %v %v", resp.StatusCode, err)
	} else {
		resp.Body.Close()
	}
	if status, body, _ := c.get("/"); status != http.StatusOK || !strings.Contains(body, "Overview") {
		t.Errorf("the session did not survive the forged requests: %d", status)
	}
	// With the token it works.
	if status, _ := c.post("/logout", url.Values{"csrf": {token}}); status != http.StatusSeeOther {
		t.Errorf("logout with the token: %d", status)
	}
	if status, _, _ := c.get("/"); status != http.StatusSeeOther {
		t.Errorf("after logout / answers %d", status)
	}
}

// liveStream is one dashboard's event stream, read line by line.
type liveStream struct {
	cancel context.CancelFunc
	events chan liveEvent
}

type liveEvent struct{ ID, Name, Data string }

func openLive(t testing.TB, c *formClient, lastEventID string) *liveStream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", c.base+"/live", nil)
	if lastEventID != "" {
		req.Header.Set("Last-Event-ID", lastEventID)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		cancel()
		t.Fatalf("/live: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	ls := &liveStream{cancel: cancel, events: make(chan liveEvent, 1000)}
	t.Cleanup(cancel)
	go func() {
		defer resp.Body.Close()
		defer close(ls.events)
		sc := bufio.NewScanner(resp.Body)
		var ev liveEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.Name != "" {
					ls.events <- ev
				}
				ev = liveEvent{}
			case strings.HasPrefix(line, "id: "):
				ev.ID = strings.TrimPrefix(line, "id: ")
			case strings.HasPrefix(line, "event: "):
				ev.Name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				ev.Data = strings.TrimPrefix(line, "data: ")
			}
		}
	}()
	return ls
}

// next returns the next event named name within timeout, and every event
// seen on the way.
func (ls *liveStream) waitFor(name string, timeout time.Duration) (liveEvent, []liveEvent, bool) {
	var seen []liveEvent
	deadline := time.After(timeout)
	for {
		select {
		case ev, ok := <-ls.events:
			if !ok {
				return liveEvent{}, seen, false
			}
			seen = append(seen, ev)
			if ev.Name == name {
				return ev, seen, true
			}
		case <-deadline:
			return liveEvent{}, seen, false
		}
	}
}

// drain returns what has arrived so far without waiting.
func (ls *liveStream) drain() []liveEvent {
	var out []liveEvent
	for {
		select {
		case ev, ok := <-ls.events:
			if !ok {
				return out
			}
			out = append(out, ev)
		default:
			return out
		}
	}
}

// TestDashboardLiveStreamIsPerAccountAndResumable: a dashboard's event
// stream names its own account's changes and none of another's, and a
// client that comes back with Last-Event-ID hears what changed while it was
// away, read from the log.
func TestDashboardLiveStreamIsPerAccountAndResumable(t *testing.T) {
	s := startServer(t, testdb.New(t), smtpcatcher.Start(t), "MEDIALUNA_MIN_CHECK_INTERVAL=1")
	a := signup(t, s, "a@example.com", "A")
	signup(t, s, "b@example.com", "B")
	ca, cb := newFormClient(t, s), newFormClient(t, s)
	ca.login("a@example.com", "correct horse battery")
	cb.login("b@example.com", "correct horse battery")
	if status, _, _ := newFormClient(t, s).get("/live"); status != http.StatusSeeOther {
		t.Errorf("/live without a session: %d", status)
	}

	la, lb := openLive(t, ca, ""), openLive(t, cb, "")
	hello, _, ok := la.waitFor("hello", 10*time.Second)
	if !ok {
		t.Fatal("no hello on A's stream")
	}
	if _, _, ok := lb.waitFor("hello", 10*time.Second); !ok {
		t.Fatal("no hello on B's stream")
	}

	tg := newTarget(t)
	var m monitor
	s.expect(201, "POST", "/api/v1/monitors", a.AccessToken, map[string]any{"name": "A's site", "type": "HTTP", "url": tg.URL, "check_interval": 60}).json(t, &m)
	name := "monitor-" + itoa(m.ID)
	ev, seen, ok := la.waitFor(name, 15*time.Second)
	if !ok {
		t.Fatalf("A's stream did not name %s; saw %v", name, seen)
	}
	if ev.ID == "" || ev.ID == hello.ID {
		t.Errorf("event id %q should be a later log position than %q", ev.ID, hello.ID)
	}
	// The hub hands one batch to every account's clients at once: by now B
	// has had any event it was going to get for it.
	time.Sleep(500 * time.Millisecond)
	for _, e := range lb.drain() {
		if strings.Contains(e.Name, "monitor") {
			t.Errorf("B's stream heard of A's change: %+v", e)
		}
	}

	// A goes away; a change happens; A comes back from where it was.
	la.cancel()
	var m2 monitor
	s.expect(201, "POST", "/api/v1/monitors", a.AccessToken, map[string]any{"name": "While away", "type": "HTTP", "url": tg.URL, "check_interval": 60}).json(t, &m2)
	// The API answered 201 once the read models showed it, so the log
	// position the hub resumes from is already behind it.
	back := openLive(t, ca, ev.ID)
	if _, seen, ok := back.waitFor("monitor-"+itoa(m2.ID), 15*time.Second); !ok {
		t.Errorf("resuming from %s did not name monitor-%d; saw %v", ev.ID, m2.ID, seen)
	}

	// A second replica on the same database serves its own dashboards from
	// the same log: a change made through the first reaches them.
	s2 := startServer(t, s.DB, s.Mail, "MEDIALUNA_MIN_CHECK_INTERVAL=1", "MEDIALUNA_EMBEDDED_PROBE=false")
	c2 := newFormClient(t, s2)
	c2.login("a@example.com", "correct horse battery")
	l2 := openLive(t, c2, "")
	if _, _, ok := l2.waitFor("hello", 10*time.Second); !ok {
		t.Fatal("no hello from the second replica")
	}
	s.expect(204, "DELETE", "/api/v1/monitors/"+itoa(m2.ID), a.AccessToken, nil)
	if _, seen, ok := l2.waitFor("monitor-"+itoa(m2.ID), 15*time.Second); !ok {
		t.Errorf("the second replica's dashboard did not hear of the deletion made through the first; saw %v", seen)
	}
}
