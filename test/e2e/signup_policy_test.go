package e2e

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/medialuna/medialuna/test/smtpcatcher"
	"github.com/medialuna/medialuna/test/testdb"
)

var oneTimePassword = regexp.MustCompile(`One-time password: (\S+)`)

// TestSignupPolicies: --signup invite (the default) lets the server's
// first person open an account and then only invitations bring people in;
// --signup closed lets nobody sign up, and the operator creates an account
// with its first ADMIN from the command line; refusals append nothing.
func TestSignupPolicies(t *testing.T) {
	body := func(email string) map[string]string {
		return map[string]string{"email": email, "password": dashboardPassword, "account_name": "Team " + email}
	}
	t.Run("invite, the default", func(t *testing.T) {
		// An empty value is unset: the default applies.
		s := startServer(t, testdb.New(t), smtpcatcher.Start(t), "MEDIALUNA_SIGNUP=")
		first := signup(t, s, "first@example.com", "First")
		if first.User.Role != "ADMIN" {
			t.Errorf("the first person is %s", first.User.Role)
		}
		var before int
		s.DB.Get(&before, `SELECT count(*) FROM events`)
		refused := s.expect(403, "POST", "/api/auth/signup", "", body("second@example.com"))
		if !strings.Contains(refused.detail(), "invitation") {
			t.Errorf("the refusal does not say why: %s", refused.detail())
		}
		var after int
		s.DB.Get(&after, `SELECT count(*) FROM events`)
		if after != before {
			t.Errorf("a refused sign-up appended %d events", after-before)
		}
		// Invitations still bring people in.
		s.expect(200, "POST", "/api/accounts/users/invite", first.AccessToken, map[string]string{"email": "invited@example.com", "role": "EDITOR"})
		token := inviteToken(t, s.Mail.WaitFor(t, "invited@example.com", 20*time.Second).Data)
		s.expect(200, "POST", "/api/auth/accept-invite", "", map[string]string{"token": token, "password": dashboardPassword})
	})
	t.Run("closed", func(t *testing.T) {
		db := testdb.New(t)
		s := startServer(t, db, smtpcatcher.Start(t), "MEDIALUNA_SIGNUP=closed")
		if d := s.expect(403, "POST", "/api/auth/signup", "", body("first@example.com")).detail(); !strings.Contains(d, "closed") {
			t.Errorf("the refusal does not say why: %s", d)
		}
		out, errOut, err := medialuna(t, db, "accounts", "create", "--email", "boss@example.com", "--plan", "pro", "--name", "The Boss",
			"--base-url", s.URL)
		if err != nil {
			t.Fatalf("accounts create: %v\n%s%s", err, out, errOut)
		}
		m := oneTimePassword.FindStringSubmatch(out)
		if m == nil || !strings.Contains(out, s.URL+"/login") {
			t.Fatalf("accounts create printed no password or link:\n%s", out)
		}
		var login struct {
			AccessToken string `json:"access_token"`
		}
		s.expect(200, "POST", "/api/auth/login", "", map[string]string{"email": "boss@example.com", "password": m[1]}).json(t, &login)
		var me struct {
			Role     string `json:"role"`
			FullName string `json:"full_name"`
		}
		s.expect(200, "GET", "/api/users/me", login.AccessToken, nil).json(t, &me)
		var account struct {
			Name string `json:"name"`
			Plan string `json:"plan"`
		}
		s.expect(200, "GET", "/api/v1/account", login.AccessToken, nil).json(t, &account)
		if me.Role != "ADMIN" || account.Plan != "PRO" || account.Name != "boss" {
			t.Errorf("created: me %+v, account %+v", me, account)
		}
		// The password is in no event and no log line.
		var stored int
		db.Get(&stored, `SELECT count(*) FROM events WHERE data::text LIKE '%' || $1 || '%'`, m[1])
		if stored != 0 || strings.Contains(s.logs.String(), m[1]) {
			t.Error("the one-time password is stored in the log or a log line")
		}
		if _, errOut, err := medialuna(t, db, "accounts", "create", "--email", "boss@example.com"); err == nil || !strings.Contains(errOut, "already") {
			t.Errorf("a second account for the same address: %v %s", err, errOut)
		}
		if _, errOut, err := medialuna(t, db, "accounts", "create", "--email", "x@example.com", "--plan", "GOLD"); err == nil || !strings.Contains(errOut, "--plan") {
			t.Errorf("an unknown plan: %v %s", err, errOut)
		}
	})
}
