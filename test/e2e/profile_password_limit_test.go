package e2e

import (
	"net/url"
	"strings"
	"testing"

	"github.com/medialuna/medialuna/test/smtpcatcher"
	"github.com/medialuna/medialuna/test/testdb"
)

// TestProfilePasswordGuessesAreLimited: the current password typed on the
// profile (to change it, or to turn two-factor sign-in off) counts against
// the email's failed-login limit, so a signed-in browser left open gives
// no unlimited guesses at it; past the limit even the right one is
// refused, there and at the login, and nothing is recorded.
func TestProfilePasswordGuessesAreLimited(t *testing.T) {
	s := startServer(t, testdb.New(t), smtpcatcher.Start(t))
	const email = "guessed@example.com"
	a := signup(t, s, email, "Guessed")
	unlimited(t, s, a.Account.ID)
	c := newFormClient(t, s)
	c.login(email, dashboardPassword)
	_, _, csrf := c.get("/settings/profile")
	userEvents := func() int {
		t.Helper()
		var n int
		if err := s.DB.Get(&n, `SELECT count(*) FROM events WHERE stream_id = $1`, "user-"+itoa(a.User.ID)); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := userEvents()

	refusedAt := 0
	for i := 1; i <= 12; i++ {
		st, page := c.post("/settings/profile/password", url.Values{"csrf": {csrf}, "current_password": {"guess number " + strings.Repeat("x", i)},
			"new_password": {"a brand new passphrase"}})
		if st == 429 {
			if !strings.Contains(page, "Too many failed password attempts") {
				t.Errorf("the refusal says: %s", page)
			}
			refusedAt = i
			break
		}
		if st != 422 {
			t.Fatalf("wrong current password %d: %d", i, st)
		}
	}
	if refusedAt == 0 || refusedAt > 11 {
		t.Fatalf("wrong current passwords were refused with 429 from attempt %d, want past the limit of 10", refusedAt)
	}
	if st, _ := c.post("/settings/profile/password", url.Values{"csrf": {csrf}, "current_password": {dashboardPassword},
		"new_password": {"a brand new passphrase"}}); st != 429 {
		t.Errorf("the right password past the limit: %d", st)
	}
	if st, _ := c.post("/settings/profile/two-factor/disable", url.Values{"csrf": {csrf}, "password": {dashboardPassword}, "code": {"123456"}}); st != 429 {
		t.Errorf("turning two-factor off past the limit: %d", st)
	}
	s.expect(429, "POST", "/api/auth/login", "", map[string]string{"email": email, "password": dashboardPassword})
	if got := userEvents(); got != before {
		t.Errorf("refused attempts appended %d events to the user's stream", got-before)
	}
}
