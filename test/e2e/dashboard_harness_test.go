package e2e

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/medialuna/medialuna/test/browser"
)

// Helpers for the dashboard's tests, in real headless Chromium against the
// real binary.

// dashboardPassword is the password every dashboard test user has.
const dashboardPassword = "correct horse battery"

// signUpInBrowser creates an account through the sign-up page, in a
// browser context of its own (its own cookies), and returns that browser
// with the page it landed on.
func signUpInBrowser(t *testing.T, b *browser.Browser, s *server, email, account string) (*browser.Browser, *browser.Page) {
	t.Helper()
	person := b.Isolated()
	p := person.Open(s.URL + "/signup")
	p.Fill("#account_name", account)
	p.Fill("#full_name", "Test "+account)
	p.Fill("#email", email)
	p.Fill("#password", dashboardPassword)
	p.ClickButton("Create account")
	if !p.WaitTrue(`!location.pathname.startsWith("/signup")`, 10*time.Second) {
		t.Fatalf("sign-up did not leave the form: %s\n%s", p.URL(), p.Text("main"))
	}
	return person, p
}

// logInInBrowser signs an existing user in, in a browser context of its own.
func logInInBrowser(t *testing.T, b *browser.Browser, s *server, email, password string) (*browser.Browser, *browser.Page) {
	t.Helper()
	person := b.Isolated()
	p := person.Open(s.URL + "/login")
	p.Fill("#email", email)
	p.Fill("#password", password)
	p.ClickButton("Log in")
	if !p.WaitTrue(`!location.pathname.startsWith("/login")`, 10*time.Second) {
		t.Fatalf("login did not leave the form: %s\n%s", p.URL(), p.Text("main"))
	}
	return person, p
}

// checkPage holds a dashboard page to the bar every page must meet: no
// console error or uncaught exception, no request off this machine, no
// injected script run, every control labelled and every button and link
// with words; on a 390 px phone, no sideways scrolling. It saves full-page
// screenshots (desktop and phone) under artifacts/dashboard/.
func checkPage(t *testing.T, p *browser.Page, name string) {
	t.Helper()
	for _, m := range p.Console() {
		if m.Type == "error" || m.Type == "assert" {
			t.Errorf("%s: console %s", name, m)
		}
	}
	if errs := p.Errors(); len(errs) > 0 {
		t.Errorf("%s: uncaught exceptions: %v", name, errs)
	}
	if ext := p.ExternalRequests(); len(ext) > 0 {
		t.Errorf("%s: requests left the machine: %v", name, ext)
	}
	if p.ScriptRan() {
		t.Errorf("%s: injected script ran (dialogs %v)", name, p.Dialogs())
	}
	if bad := p.UnlabelledControls(); len(bad) > 0 {
		t.Errorf("%s: controls without a label or words: %v", name, bad)
	}
	p.Screenshot("dashboard/" + name + ".png")
	p.EmulatePhone()
	if over := p.HorizontalOverflow(); over > 0 {
		t.Errorf("%s: %d px of horizontal overflow at 390 px wide", name, over)
	}
	p.Screenshot("dashboard/" + name + "-phone.png")
	p.EmulateDesktop()
}

// formClient is a plain HTTP client with a cookie jar, for requests a
// browser page would not make: forged posts, missing CSRF tokens.
type formClient struct {
	t    testing.TB
	base string
	http *http.Client
}

func newFormClient(t testing.TB, s *server) *formClient {
	jar, _ := cookiejar.New(nil)
	return &formClient{t: t, base: s.URL, http: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

var csrfInput = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// get fetches a page and returns its status, body and CSRF token.
func (c *formClient) get(path string) (int, string, string) {
	c.t.Helper()
	resp, err := c.http.Get(c.base + path)
	if err != nil {
		c.t.Fatal(err)
	}
	body := readBody(c.t, resp)
	token := ""
	if m := csrfInput.FindStringSubmatch(body); m != nil {
		token = m[1]
	}
	return resp.StatusCode, body, token
}

// post sends a form as a same-origin browser would (Origin set).
func (c *formClient) post(path string, form url.Values) (int, string) {
	c.t.Helper()
	req, _ := http.NewRequest("POST", c.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", c.base)
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	return resp.StatusCode, readBody(c.t, resp)
}

func readBody(t testing.TB, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// login signs the client in through the login form.
func (c *formClient) login(email, password string) {
	c.t.Helper()
	_, _, token := c.get("/login")
	status, body := c.post("/login", url.Values{"csrf": {token}, "email": {email}, "password": {password}})
	if status != http.StatusSeeOther {
		c.t.Fatalf("login as %s: %d\n%s", email, status, body)
	}
}

var invitationToken = regexp.MustCompile(`Token: (\S+)`)

// inviteToken is the token in an invitation email.
func inviteToken(t testing.TB, mail string) string {
	t.Helper()
	m := invitationToken.FindStringSubmatch(mail)
	if m == nil {
		t.Fatalf("no token in the invitation:\n%s", mail)
	}
	return m[1]
}
