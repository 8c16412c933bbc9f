package httpapi_test

import (
	"strings"
	"testing"

	"github.com/medialuna/medialuna/adapters/httpapi"
)

// TestProjectionStatusIsTheOperators: GET /api/admin/projections shows
// server-wide figures, so an account's ADMIN gets 403 and only the
// operator token gets 200; with no operator token configured nobody does.
func TestProjectionStatusIsTheOperators(t *testing.T) {
	const token = "operator-secret-0123456789"
	a := newAPI(t, 1, func(d *httpapi.Deps) { d.OperatorToken = token })
	admin, _ := a.signup("owner@example.com")
	key, _ := a.key(admin, "read:account")
	for _, c := range []struct {
		name string
		auth string
		want int
	}{
		{"account ADMIN", admin, 403},
		{"API key", key, 401},
		{"nothing", "", 401},
		{"wrong token", token + "x", 401},
		{"operator token", token, 200},
	} {
		r := a.do(0, "GET", "/api/admin/projections", c.auth, nil)
		if r.status != c.want {
			t.Errorf("%s: %d, want %d (%s)", c.name, r.status, c.want, r.body)
		}
		if c.want == 200 && !strings.Contains(r.body, `"name":"accounts"`) {
			t.Errorf("operator's status: %s", r.body)
		}
	}

	off := newAPI(t, 1)
	admin, _ = off.signup("owner@example.com")
	if r := off.do(0, "GET", "/api/admin/projections", admin, nil); r.status != 403 || !strings.Contains(r.body, "--operator-token") {
		t.Errorf("no operator token configured, ADMIN: %d %s", r.status, r.body)
	}
	if r := off.do(0, "GET", "/api/admin/projections", "", nil); r.status != 401 {
		t.Errorf("no operator token configured, no credentials: %d %s", r.status, r.body)
	}
}
