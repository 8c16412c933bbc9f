package e2e

import (
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/medialuna/medialuna/test/browser"
	"github.com/medialuna/medialuna/test/smtpcatcher"
	"github.com/medialuna/medialuna/test/testdb"
)

// totpCodes computes the codes an authenticator app would show, in the
// test. The server accepts a step's code once, from one step before the
// current one to one after, so each code is for a step after the last one
// used; when that step is more than one ahead, next waits for the clock
// to catch up (the wait is not an assertion: nothing is measured).
type totpCodes struct {
	t      *testing.T
	secret string
	last   int64
}

func (c *totpCodes) next() string {
	c.t.Helper()
	for {
		now := time.Now()
		cur := now.Unix() / 30
		lowest := cur
		if now.Unix()%30 < 20 {
			lowest = cur - 1 // safe with time to spare before the step ends
		}
		step := max(c.last+1, lowest)
		if step <= cur+1 {
			c.last = step
			code, err := totp.GenerateCode(c.secret, time.Unix(step*30, 0))
			if err != nil {
				c.t.Fatal(err)
			}
			return code
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// TestTwoFactorSignIn: enrolment shows a QR code and the secret as text;
// a code computed here from that text turns two-factor sign-in on and ten
// recovery codes show once; signing in then asks for a code, refuses a
// wrong one, takes the right one; a recovery code signs in once; the API's
// login says a second factor is needed and takes totp_code; turning it
// off needs the password and a code; the log never holds the secret.
func TestTwoFactorSignIn(t *testing.T) {
	b := browser.New(t)
	s := startServer(t, testdb.New(t), smtpcatcher.Start(t))
	const email = "twofactor@example.com"
	a := signup(t, s, email, "Two Factor")
	unlimited(t, s, a.Account.ID)
	_, p := logInInBrowser(t, b, s, email, dashboardPassword)

	// Enrolment.
	p.Navigate(s.URL + "/settings/profile")
	p.ClickButton("Set up two-factor sign-in")
	if !strings.HasPrefix(p.Eval(`document.querySelector("img.totp-qr").src`).(string), "data:image/png;base64,") ||
		p.Eval(`document.querySelector("img.totp-qr").naturalWidth`).(float64) < 100 {
		t.Fatalf("no QR code on the enrolment page: %s", p.Text("main"))
	}
	secret := strings.ReplaceAll(p.Eval(`document.querySelector("#totp-secret").value`).(string), " ", "")
	if len(secret) < 16 {
		t.Fatalf("the secret shown: %q", secret)
	}
	checkPage(t, p, "profile-2fa-enrol")
	codes := &totpCodes{t: t, secret: secret}

	// A wrong code leaves it off, says so next to the field, and does not
	// show the secret again.
	p.Fill("#code", "000000")
	p.ClickButton("Turn on two-factor sign-in")
	if !strings.Contains(p.Text("#err-code"), "not right") {
		t.Errorf("a wrong confirming code: %q", p.Text("main"))
	}
	if html := p.Eval(`document.documentElement.outerHTML`).(string); strings.Contains(html, secret[:16]) || strings.Contains(html, "totp-qr") {
		t.Error("the secret is shown again after a wrong code")
	}
	if getMe(t, s, a.AccessToken).TwoFactorEnabled {
		t.Error("a wrong code turned two-factor sign-in on")
	}
	p.Fill("#code", codes.next())
	p.ClickButton("Turn on two-factor sign-in")
	on := p.WaitText(".flash", "Two-factor sign-in is on", 10*time.Second)
	recovery := strings.Fields(p.Text("#recovery-codes"))
	if len(recovery) != 10 || !on {
		t.Fatalf("recovery codes: %q\n%s", recovery, p.Text("main"))
	}
	checkPage(t, p, "profile-2fa-recovery-codes")
	if !getMe(t, s, a.AccessToken).TwoFactorEnabled {
		t.Error("GET /api/users/me: two_factor_enabled is false")
	}
	// Neither the secret nor a recovery code is shown again.
	p.Navigate(s.URL + "/settings/profile")
	if html := p.Eval(`document.documentElement.outerHTML`).(string); strings.Contains(html, recovery[0]) || strings.Contains(html, secret[:16]) {
		t.Error("the profile page shows a recovery code or the secret")
	}
	if !strings.Contains(p.Text("#two-factor-heading + p"), "On") {
		t.Errorf("the profile says: %q", p.Text("#two-factor-heading + p"))
	}
	checkPage(t, p, "profile-2fa-on")

	// Sign out; signing in asks for the code after the password.
	p.ClickButton("Log out " + email)
	login := func() *browser.Page {
		t.Helper()
		lp := b.Isolated().Open(s.URL + "/login?next=/settings/profile")
		lp.Fill("#email", email)
		lp.Fill("#password", dashboardPassword)
		lp.ClickButton("Log in")
		if !lp.WaitTrue(`location.pathname == "/login/2fa"`, 10*time.Second) {
			t.Fatalf("the password step did not ask for a code: %s\n%s", lp.URL(), lp.Text("main"))
		}
		return lp
	}
	lp := login()
	// Without the code, nothing is signed in: the browser holding the
	// pending sign-in is sent to the login page.
	lp.Navigate(s.URL + "/settings/profile")
	if !strings.HasPrefix(strings.TrimPrefix(lp.URL(), s.URL), "/login?") {
		t.Errorf("the password step alone reaches the profile: %s", lp.URL())
	}
	lp.Navigate(s.URL + "/login/2fa")
	checkPage(t, lp, "login-2fa")
	lp.Fill("#code", "123456")
	lp.ClickButton("Sign in")
	if !strings.Contains(lp.Text("#err-code"), "Wrong code") || !strings.HasSuffix(lp.Eval(`location.pathname`).(string), "/login/2fa") {
		t.Errorf("a wrong code: %s\n%s", lp.URL(), lp.Text("main"))
	}
	checkPage(t, lp, "login-2fa-wrong")
	lp.Fill("#code", codes.next())
	lp.ClickButton("Sign in")
	if !lp.WaitTrue(`location.pathname == "/settings/profile"`, 10*time.Second) {
		t.Errorf("the right code did not sign in: %s\n%s", lp.URL(), lp.Text("main"))
	}

	// A recovery code signs in once.
	rp := login()
	rp.Fill("#code", strings.ToLower(recovery[4]))
	rp.ClickButton("Sign in")
	if !rp.WaitTrue(`location.pathname == "/settings/profile"`, 10*time.Second) {
		t.Errorf("a recovery code did not sign in: %s\n%s", rp.URL(), rp.Text("main"))
	}
	rp = login()
	rp.Fill("#code", recovery[4])
	rp.ClickButton("Sign in")
	if !strings.Contains(rp.Text("#err-code"), "Wrong code") {
		t.Errorf("a recovery code used twice: %s\n%s", rp.URL(), rp.Text("main"))
	}

	// The API's login.
	body := map[string]string{"email": email, "password": dashboardPassword}
	r := s.call("POST", "/api/auth/login", "", body)
	var need struct {
		Detail            string `json:"detail"`
		TwoFactorRequired bool   `json:"two_factor_required"`
		AccessToken       string `json:"access_token"`
	}
	r.json(t, &need)
	if r.Status != 401 || !need.TwoFactorRequired || !strings.Contains(need.Detail, "totp_code") || need.AccessToken != "" {
		t.Errorf("API login without a code: %d %s", r.Status, r.Body)
	}
	body["totp_code"] = "999999"
	if r := s.call("POST", "/api/auth/login", "", body); r.Status != 401 || !strings.Contains(string(r.Body), `"two_factor_required":true`) {
		t.Errorf("API login with a wrong code: %d %s", r.Status, r.Body)
	}
	body["totp_code"] = codes.next()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	s.expect(200, "POST", "/api/auth/login", "", body).json(t, &tok)
	if me := getMe(t, s, tok.AccessToken); me.Email != email || !me.TwoFactorEnabled {
		t.Errorf("GET /api/users/me with the token: %+v", me)
	}
	// The same code again is refused: it was used.
	if r := s.call("POST", "/api/auth/login", "", body); r.Status != 401 || !strings.Contains(r.detail(), "used already") {
		t.Errorf("API login with a used code: %d %s", r.Status, r.Body)
	}

	// Turning it off: the password and a code.
	lp.Navigate(s.URL + "/settings/profile")
	lp.Fill("#password", "not the password")
	lp.Fill("#code", "111111")
	lp.ClickButton("Turn off two-factor sign-in")
	if !strings.Contains(lp.Text("#err-password"), "not right") || !strings.Contains(lp.Text("#err-code"), "wrong code") {
		t.Errorf("turning off with a wrong password and code: %q", lp.Text("main"))
	}
	checkPage(t, lp, "profile-2fa-disable-errors")
	if !getMe(t, s, tok.AccessToken).TwoFactorEnabled {
		t.Error("a refused disable turned it off")
	}
	lp.Fill("#password", dashboardPassword)
	lp.Fill("#code", codes.next())
	lp.ClickButton("Turn off two-factor sign-in")
	if !lp.WaitText(".flash", "Two-factor sign-in is off", 10*time.Second) {
		t.Errorf("turning off: %q", lp.Text("main"))
	}
	if getMe(t, s, tok.AccessToken).TwoFactorEnabled {
		t.Error("GET /api/users/me: still on after turning off")
	}
	delete(body, "totp_code")
	s.expect(200, "POST", "/api/auth/login", "", body)
	_, again := logInInBrowser(t, b, s, email, dashboardPassword)
	if strings.Contains(again.URL(), "/login") {
		t.Errorf("signing in after turning it off: %s", again.URL())
	}

	// The log holds the secret only sealed, and no recovery code.
	var n int
	if err := s.DB.DB.Get(&n, `SELECT count(*) FROM events WHERE data::text LIKE '%' || $1 || '%' OR data::text LIKE '%' || $2 || '%'`,
		secret, recovery[0]); err != nil || n != 0 {
		t.Errorf("events holding the secret or a recovery code: %d %v", n, err)
	}
	if err := s.DB.DB.Get(&n, `SELECT count(*) FROM events WHERE event_type = 'TwoFactorEnabled' AND data::text LIKE '%enc:v1:%'`); err != nil || n != 1 {
		t.Errorf("sealed TwoFactorEnabled events: %d %v", n, err)
	}
	// Nor does the audit export, nor the server's log.
	if strings.Contains(s.logs.String(), secret) {
		t.Error("the server's log holds the secret")
	}
	export := s.call("GET", "/api/audit/events?format=ndjson", tok.AccessToken, nil)
	if export.Status != 200 || strings.Contains(string(export.Body), secret) || !strings.Contains(string(export.Body), "TwoFactorEnabled") {
		t.Errorf("audit export: %d, holds the secret: %v", export.Status, strings.Contains(string(export.Body), secret))
	}
}

var totpSecretInput = regexp.MustCompile(`id="totp-secret" type="text" readonly value="([A-Z2-7 ]+)"`)

// TestTwoFactorCodesAreLimited: wrong codes count against the email's
// failed-login limit like wrong passwords, so a known password gives no
// unlimited guesses; once it is reached even the right code is refused,
// in the dashboard and the API. A forged post turns nothing on.
func TestTwoFactorCodesAreLimited(t *testing.T) {
	s := startServer(t, testdb.New(t), smtpcatcher.Start(t))
	const email = "limited@example.com"
	a := signup(t, s, email, "Limited")
	unlimited(t, s, a.Account.ID)
	c := newFormClient(t, s)
	c.login(email, dashboardPassword)
	_, _, token := c.get("/settings/profile")
	if st, _ := c.post("/settings/profile/two-factor", url.Values{}); st != 403 {
		t.Errorf("a post without the CSRF token: %d", st)
	}
	st, page := c.post("/settings/profile/two-factor", url.Values{"csrf": {token}})
	m := totpSecretInput.FindStringSubmatch(page)
	if st != 200 || m == nil {
		t.Fatalf("enrolment: %d\n%s", st, page)
	}
	codes := &totpCodes{t: t, secret: strings.ReplaceAll(m[1], " ", "")}
	if st, page := c.post("/settings/profile/two-factor/confirm", url.Values{"csrf": {token}, "code": {codes.next()}}); st != 200 || !strings.Contains(page, "recovery-codes") {
		t.Fatalf("confirm: %d\n%s", st, page)
	}

	guesser := newFormClient(t, s)
	_, _, pre := guesser.get("/login")
	if st, _ := guesser.post("/login", url.Values{"csrf": {pre}, "email": {email}, "password": {dashboardPassword}}); st != 303 {
		t.Fatalf("password step: %d", st)
	}
	// The pending sign-in's cookie is no session.
	if st, body, _ := guesser.get("/settings/profile"); st != 303 || strings.Contains(body, "Your profile") {
		t.Errorf("the password step alone reaches the profile: %d", st)
	}
	refusedAt := 0
	for i := 1; i <= 12; i++ {
		st, _ := guesser.post("/login/2fa", url.Values{"csrf": {pre}, "code": {"000000"}})
		if st == 429 {
			refusedAt = i
			break
		}
		if st != 401 {
			t.Fatalf("wrong code %d: %d", i, st)
		}
	}
	if refusedAt == 0 || refusedAt > 10 {
		t.Fatalf("wrong codes were refused with 429 from attempt %d, want within the limit of 10", refusedAt)
	}
	if st, page := guesser.post("/login/2fa", url.Values{"csrf": {pre}, "code": {codes.next()}}); st != 429 || !strings.Contains(page, "Too many failed logins") {
		t.Errorf("the right code past the limit: %d", st)
	}
	r := s.call("POST", "/api/auth/login", "", map[string]string{"email": email, "password": dashboardPassword, "totp_code": codes.next()})
	if r.Status != 429 {
		t.Errorf("the API past the limit: %d %s", r.Status, r.Body)
	}
}
