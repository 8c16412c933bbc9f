package e2e

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/medialuna/medialuna/test/smtpcatcher"
	"github.com/medialuna/medialuna/test/testdb"
)

type signupResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int    `json:"expires_in"`
	User        struct {
		ID    int64  `json:"id"`
		Email string `json:"email"`
		Role  string `json:"role"`
	} `json:"user"`
	Account struct {
		ID   int64  `json:"id"`
		Plan string `json:"plan"`
	} `json:"account"`
}

func signup(t testing.TB, s *server, email, account string) signupResponse {
	t.Helper()
	var out signupResponse
	s.expect(201, "POST", "/api/auth/signup", "", map[string]string{"email": email, "password": "correct horse battery", "account_name": account}).json(t, &out)
	return out
}

// TestUserJourney walks sign-up → login → API key → scoped calls → revoke → 401,
// and the invitation flow through a real SMTP server.
func TestUserJourney(t *testing.T) {
	const operatorToken = "e2e-operator-token-0123456789"
	s := startServer(t, testdb.New(t), smtpcatcher.Start(t), "MEDIALUNA_OPERATOR_TOKEN="+operatorToken)

	su := signup(t, s, "Owner@Example.com", "Acme")
	if su.TokenType != "bearer" || su.ExpiresIn <= 0 || su.User.Role != "ADMIN" || su.Account.Plan != "FREE" || su.User.Email != "owner@example.com" {
		t.Fatalf("signup response: %+v", su)
	}
	s.expect(409, "POST", "/api/auth/signup", "", map[string]string{"email": "owner@example.com", "password": "another password", "account_name": "Dup"})

	var login struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
	}
	s.expect(200, "POST", "/api/auth/login", "", map[string]string{"email": "owner@example.com", "password": "correct horse battery"}).json(t, &login)
	s.expect(401, "POST", "/api/auth/login", "", map[string]string{"email": "owner@example.com", "password": "wrong password"})
	s.expect(401, "POST", "/api/auth/login", "", map[string]string{"email": "nobody@example.com", "password": "wrong password"})
	jwt := login.AccessToken

	var me struct {
		ID    int64  `json:"id"`
		Email string `json:"email"`
		Role  string `json:"role"`
	}
	s.expect(200, "GET", "/api/users/me", jwt, nil).json(t, &me)
	if me.ID != su.User.ID || me.Role != "ADMIN" {
		t.Errorf("me = %+v", me)
	}

	// An API key with one scope.
	var key struct {
		ID     int64    `json:"id"`
		Key    string   `json:"key"`
		Prefix string   `json:"prefix"`
		Scopes []string `json:"scopes"`
	}
	s.expect(201, "POST", "/api/users/api-keys", jwt, map[string]any{"name": "ci", "scopes": []string{"read:account"}}).json(t, &key)
	if !strings.HasPrefix(key.Key, "sk_live_") || len(key.Key) < 40 || !strings.HasPrefix(key.Key, key.Prefix) {
		t.Fatalf("key = %+v", key)
	}
	list := s.expect(200, "GET", "/api/users/api-keys", jwt, nil)
	if strings.Contains(string(list.Body), key.Key) || !strings.Contains(string(list.Body), key.Prefix) {
		t.Errorf("key list leaks the key or misses it: %s", list.Body)
	}
	var stored int
	s.DB.Get(&stored, `SELECT count(*) FROM events WHERE data::text LIKE '%' || $1 || '%'`, key.Key[8:])
	if stored != 0 {
		t.Error("the full key is stored in the event log")
	}

	acc := s.expect(200, "GET", "/api/v1/account", key.Key, nil)
	for _, h := range []string{"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"} {
		if acc.Header.Get(h) == "" {
			t.Errorf("missing %s", h)
		}
	}
	if acc.Header.Get("X-RateLimit-Limit") != "60" {
		t.Errorf("FREE rate limit header = %q", acc.Header.Get("X-RateLimit-Limit"))
	}
	// Scope checks: write:account is missing, JWT-only endpoints refuse keys.
	s.expect(403, "PATCH", "/api/v1/account", key.Key, map[string]string{"name": "New"})
	s.expect(401, "GET", "/api/users/me", key.Key, nil)
	s.expect(401, "GET", "/api/accounts/users", key.Key, nil)

	var writer struct {
		ID  int64  `json:"id"`
		Key string `json:"key"`
	}
	s.expect(201, "POST", "/api/users/api-keys", jwt, map[string]any{"name": "writer", "scopes": []string{"read:account", "write:account"}}).json(t, &writer)
	var patched struct {
		Name     string `json:"name"`
		Timezone string `json:"timezone"`
	}
	s.expect(200, "PATCH", "/api/v1/account", writer.Key, map[string]string{"name": "Acme Corp", "timezone": "Europe/Madrid"}).json(t, &patched)
	if patched.Name != "Acme Corp" || patched.Timezone != "Europe/Madrid" {
		t.Errorf("patched = %+v", patched)
	}

	// Revoke: the key stops working at once.
	s.expect(204, "DELETE", "/api/users/api-keys/"+itoa(key.ID), jwt, nil)
	r := s.expect(401, "GET", "/api/v1/account", key.Key, nil)
	if !strings.Contains(r.detail(), "revoked") {
		t.Errorf("revoked key detail = %q", r.detail())
	}
	s.expect(200, "GET", "/api/v1/account", writer.Key, nil)

	// Invite a teammate: the email arrives through SMTP with a token.
	s.expect(200, "POST", "/api/accounts/users/invite", jwt, map[string]string{"email": "viewer@example.com", "role": "VIEWER"})
	mail := s.Mail.WaitFor(t, "viewer@example.com", 20*time.Second)
	token := regexp.MustCompile(`Token: (\S+)`).FindStringSubmatch(mail.Data)
	if token == nil {
		t.Fatalf("no token in the invitation:\n%s", mail.Data)
	}
	s.expect(404, "POST", "/api/auth/accept-invite", "", map[string]string{"token": token[1] + "x", "password": "viewer password"})
	var accepted struct {
		AccessToken string `json:"access_token"`
	}
	s.expect(200, "POST", "/api/auth/accept-invite", "", map[string]string{"token": token[1], "password": "viewer password"}).json(t, &accepted)
	s.expect(409, "POST", "/api/auth/accept-invite", "", map[string]string{"token": token[1], "password": "viewer password"})
	s.expect(200, "POST", "/api/auth/login", "", map[string]string{"email": "viewer@example.com", "password": "viewer password"})

	var team []struct {
		Email string `json:"email"`
		Role  string `json:"role"`
	}
	s.expect(200, "GET", "/api/accounts/users", accepted.AccessToken, nil).json(t, &team)
	if diff := cmp.Diff(`[{owner@example.com ADMIN} {viewer@example.com VIEWER}]`, fmtTeam(team)); diff != "" {
		t.Errorf("team (-want +got):\n%s", diff)
	}
	// Roles: a VIEWER cannot invite, cannot make write keys, cannot see the audit log.
	s.expect(403, "POST", "/api/accounts/users/invite", accepted.AccessToken, map[string]string{"email": "x@example.com", "role": "ADMIN"})
	s.expect(422, "POST", "/api/users/api-keys", accepted.AccessToken, map[string]any{"name": "w", "scopes": []string{"write:account"}})
	s.expect(403, "GET", "/api/audit/events", accepted.AccessToken, nil)
	s.expect(403, "GET", "/api/admin/projections", accepted.AccessToken, nil)

	// Audit export shows who did what, with secrets redacted.
	audit := s.expect(200, "GET", "/api/audit/events?format=ndjson", jwt, nil)
	lines := strings.Split(strings.TrimSpace(string(audit.Body)), "\n")
	if len(lines) < 8 || !strings.Contains(string(audit.Body), `"type":"MemberInvited"`) || strings.Contains(string(audit.Body), "$2a$") {
		t.Errorf("audit export (%d lines):\n%s", len(lines), audit.Body)
	}
	csv := s.expect(200, "GET", "/api/audit/events?format=csv&type=APIKeyRevoked", jwt, nil)
	if rows := strings.Split(strings.TrimSpace(string(csv.Body)), "\n"); len(rows) != 2 || !strings.HasPrefix(rows[0], "sequence,recorded_at,stream") {
		t.Errorf("csv export:\n%s", csv.Body)
	}
	var status []struct {
		Name      string `json:"name"`
		LagEvents int    `json:"lag_events"`
	}
	// Server-wide figures are the operator's: an account's ADMIN is refused.
	s.expect(403, "GET", "/api/admin/projections", jwt, nil)
	s.expect(401, "GET", "/api/admin/projections", "", nil)
	s.expect(200, "GET", "/api/admin/projections", operatorToken, nil).json(t, &status)
	names := map[string]bool{}
	for _, st := range status {
		names[st.Name] = true
	}
	for _, want := range []string{"accounts", "api_keys", "invite_mailer", "monitors", "metrics"} {
		if !names[want] {
			t.Errorf("projector status lacks %s: %+v", want, status)
		}
	}

	// Another account's ids are indistinguishable from missing ones.
	other := signup(t, s, "other@example.com", "Other")
	s.expect(404, "DELETE", "/api/users/api-keys/"+itoa(writer.ID), other.AccessToken, nil)
	s.expect(200, "GET", "/api/v1/account", writer.Key, nil)

	if err := s.stop(); err != nil {
		t.Fatalf("SIGTERM: %v", err)
	}
}

func fmtTeam(team []struct {
	Email string `json:"email"`
	Role  string `json:"role"`
}) string {
	var b strings.Builder
	b.WriteString("[")
	for i, m := range team {
		if i > 0 {
			b.WriteString(" ")
		}
		b.WriteString("{" + m.Email + " " + m.Role + "}")
	}
	return b.String() + "]"
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
