package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/medialuna/medialuna/test/browser"
	"github.com/medialuna/medialuna/test/smtpcatcher"
	"github.com/medialuna/medialuna/test/testdb"
)

// me reads GET /api/users/me.
type meView struct {
	ID               int64  `json:"id"`
	Email            string `json:"email"`
	FullName         string `json:"full_name"`
	Role             string `json:"role"`
	TwoFactorEnabled bool   `json:"two_factor_enabled"`
}

func getMe(t *testing.T, s *server, token string) meView {
	t.Helper()
	var me meView
	s.expect(200, "GET", "/api/users/me", token, nil).json(t, &me)
	return me
}

// TestDashboardProfile: the name changes (hostile text shown as text) and
// the API reports it; a bad name is refused next to its field and changes
// nothing; a password change needs the current password and sign-up's
// rules, signs out the user's other browser and ends the access tokens
// issued before it; the old password is refused after, the new one works.
func TestDashboardProfile(t *testing.T) {
	b := browser.New(t)
	s := startServer(t, testdb.New(t), smtpcatcher.Start(t))
	const email = "profile@example.com"
	a := signup(t, s, email, "Profile")
	unlimited(t, s, a.Account.ID)
	_, p := logInInBrowser(t, b, s, email, dashboardPassword)
	_, other := logInInBrowser(t, b, s, email, dashboardPassword)

	p.Navigate(s.URL + "/settings/profile")
	if got := p.Eval(`document.querySelector('.subnav a[aria-current="page"]').innerText`); got != "Your profile" {
		t.Errorf("the settings menu marks %v", got)
	}
	if !strings.Contains(p.Text("main"), email) || !strings.Contains(p.Text("#two-factor-heading + p"), "Off") {
		t.Errorf("the profile page: %s", p.Text("main"))
	}
	checkPage(t, p, "profile")

	// Name: a bad one is refused next to its field, nothing recorded.
	p.Fill("#full_name", "   ")
	p.ClickButton("Save name")
	if !strings.Contains(p.Text("#err-full_name"), "must not be empty") {
		t.Errorf("an empty name: %q", p.Text("main"))
	}
	if got := getMe(t, s, a.AccessToken).FullName; got != "" {
		t.Errorf("a refused name was recorded: %q", got)
	}
	const hostile = `<img src=x onerror=alert(1)>"><script>alert(1)</script>`
	p.Fill("#full_name", hostile)
	p.ClickButton("Save name")
	if !p.WaitText(".flash", "Your name is changed", 10*time.Second) {
		t.Errorf("after renaming: %q", p.Text("main"))
	}
	if got := p.Eval(`document.querySelector("#full_name").value`); got != hostile {
		t.Errorf("the form shows %v", got)
	}
	want := meView{ID: a.User.ID, Email: email, FullName: hostile, Role: "ADMIN"}
	if diff := cmp.Diff(want, getMe(t, s, a.AccessToken)); diff != "" {
		t.Errorf("GET /api/users/me after renaming (-want +got):\n%s", diff)
	}
	checkPage(t, p, "profile-renamed")

	// Password: the current one is required, the new one checked.
	p.Fill("#current_password", "not my password")
	p.Fill("#new_password", "short")
	p.ClickButton("Change password")
	if !strings.Contains(p.Text("#err-current_password"), "not right") || !strings.Contains(p.Text("#err-new_password"), "at least 8") {
		t.Errorf("a wrong password change: %q", p.Text("main"))
	}
	checkPage(t, p, "profile-password-errors")
	s.expect(200, "POST", "/api/auth/login", "", map[string]string{"email": email, "password": dashboardPassword})

	// The signup's token is at least a second older than the change (iat
	// has whole seconds).
	time.Sleep(1100 * time.Millisecond)
	const newPassword = "a new and better passphrase"
	p.Fill("#current_password", dashboardPassword)
	p.Fill("#new_password", newPassword)
	p.ClickButton("Change password")
	if !p.WaitText(".flash", "signed out everywhere else", 10*time.Second) {
		t.Fatalf("after changing the password: %q", p.Text("main"))
	}
	// This browser stays signed in; the other is signed out.
	p.Navigate(s.URL + "/settings/profile")
	if !strings.HasSuffix(p.URL(), "/settings/profile") {
		t.Errorf("the browser that changed the password was signed out: %s", p.URL())
	}
	other.Navigate(s.URL + "/settings/profile")
	if !strings.Contains(other.URL(), "/login") {
		t.Errorf("the other browser is still signed in: %s", other.URL())
	}
	// Tokens issued before the change no longer work.
	if r := s.call("GET", "/api/users/me", a.AccessToken, nil); r.Status != 401 || !strings.Contains(r.detail(), "password was changed") {
		t.Errorf("an old token after the password change: %d %s", r.Status, r.Body)
	}
	// The old password is refused, in the browser and the API; the new works.
	login := b.Isolated().Open(s.URL + "/login")
	login.Fill("#email", email)
	login.Fill("#password", dashboardPassword)
	login.ClickButton("Log in")
	if !login.WaitText(".form-error", "Wrong email or password", 10*time.Second) {
		t.Errorf("the old password in the browser: %q", login.Text("main"))
	}
	s.expect(401, "POST", "/api/auth/login", "", map[string]string{"email": email, "password": dashboardPassword})
	_, again := logInInBrowser(t, b, s, email, newPassword)
	if strings.Contains(again.URL(), "/login") {
		t.Errorf("the new password did not sign in: %s", again.URL())
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	s.expect(200, "POST", "/api/auth/login", "", map[string]string{"email": email, "password": newPassword}).json(t, &tok)
	if diff := cmp.Diff(want, getMe(t, s, tok.AccessToken)); diff != "" {
		t.Errorf("GET /api/users/me with the new password (-want +got):\n%s", diff)
	}
	// The hash in the log's PasswordChanged is not the audit's to show.
	var n int
	if err := s.DB.DB.Get(&n, `SELECT count(*) FROM events WHERE event_type = 'PasswordChanged'`); err != nil || n != 1 {
		t.Errorf("PasswordChanged events: %d %v", n, err)
	}
}
