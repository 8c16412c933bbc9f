package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/medialuna/medialuna/test/browser"
	"github.com/medialuna/medialuna/test/smtpcatcher"
	"github.com/medialuna/medialuna/test/testdb"
)

// TestDashboardSignupPolicy: under --signup invite the sign-up page takes
// the server's first person; after that it says sign-up is by invitation
// instead of offering a form, the login page stops offering it, and a
// posted form is refused with the reason and creates nothing.
func TestDashboardSignupPolicy(t *testing.T) {
	b := browser.New(t)
	s := startServer(t, testdb.New(t), smtpcatcher.Start(t), "MEDIALUNA_SIGNUP=invite")
	signUpInBrowser(t, b, s, "first@example.com", "First")

	p := b.Isolated().Open(s.URL + "/signup")
	if p.Count("#signup-closed") != 1 || p.Count("form[action='/signup']") != 0 || !strings.Contains(p.Text("#signup-closed"), "by invitation") {
		t.Fatalf("the sign-up page after the first account:\n%s", p.Text("main"))
	}
	checkPage(t, p, "signup-by-invitation")
	p.Navigate(s.URL + "/login")
	if strings.Contains(p.Text("main"), "Create an account") {
		t.Error("the login page offers sign-up on an invitation-only server")
	}

	c := newFormClient(t, s)
	_, _, token := c.get("/login")
	var before int
	s.DB.Get(&before, `SELECT count(*) FROM events`)
	status, body := c.post("/signup", url.Values{"csrf": {token}, "email": {"second@example.com"}, "password": {dashboardPassword}, "account_name": {"Second"}})
	if status != http.StatusForbidden || !strings.Contains(body, "by invitation") {
		t.Errorf("a posted sign-up: %d\n%s", status, body)
	}
	var after int
	s.DB.Get(&after, `SELECT count(*) FROM events`)
	if after != before {
		t.Errorf("a refused sign-up appended %d events", after-before)
	}
}
