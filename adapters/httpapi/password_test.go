package httpapi_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/medialuna/medialuna/commands"
)

// TestBlankPasswordsAreRefused: sign-up and invitation acceptance refuse a
// password of only whitespace or control characters with 422 naming the
// password field, and write nothing.
func TestBlankPasswordsAreRefused(t *testing.T) {
	a := newAPI(t, 1)
	admin, accountID := a.signup("owner@example.com")
	r := a.do(0, "POST", "/api/accounts/users/invite", admin, map[string]string{"email": "new@example.com", "role": "VIEWER"})
	var invite struct{ ID int64 }
	if json.Unmarshal([]byte(r.body), &invite); r.status != 200 || invite.ID == 0 {
		t.Fatalf("invite: %d %s", r.status, r.body)
	}
	token := commands.NewInviteTokens([]byte("secret")).Sign(accountID, invite.ID)
	for _, password := range []string{"          ", "\t\n\r\t\n\r\t\n", "\u00a0\u3000\u00a0\u3000\u00a0\u3000\u00a0\u3000", "\u200b\u200b\u200b\u200b\u200b\u200b\u200b\u200b"} {
		for _, c := range []struct {
			path string
			body map[string]string
		}{
			{"/api/auth/signup", map[string]string{"email": "blank@example.com", "password": password, "account_name": "Blank"}},
			{"/api/auth/accept-invite", map[string]string{"token": token, "password": password}},
		} {
			before := a.events()
			r := a.do(0, "POST", c.path, "", c.body)
			b, _ := json.Marshal(r.detail())
			if r.status != 422 || !strings.Contains(string(b), `"loc":["body","password"]`) || !strings.Contains(string(b), "only whitespace") {
				t.Errorf("%s with password %q: %d %s", c.path, password, r.status, r.body)
			}
			if after := a.events(); after != before {
				t.Errorf("%s with password %q wrote %d events", c.path, password, after-before)
			}
		}
	}
	// The invitation is still open: a real password accepts it.
	if r := a.do(0, "POST", "/api/auth/accept-invite", "", map[string]string{"token": token, "password": "a real password"}); r.status != 200 {
		t.Errorf("accept with a real password: %d %s", r.status, r.body)
	}
}
