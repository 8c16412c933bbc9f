package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/medialuna/medialuna/adapters/httpapi"
	"github.com/medialuna/medialuna/adapters/postgres"
	"github.com/medialuna/medialuna/commands"
	"github.com/medialuna/medialuna/projections"
	"github.com/medialuna/medialuna/test/testdb"
)

// clock is a settable time source shared by the API and the commands.
type clock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().UTC().Add(c.offset)
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.offset += d
	c.mu.Unlock()
}

type api struct {
	t     *testing.T
	db    *testdb.DB
	clock *clock
	urls  []string // one per replica
}

// newAPI serves the API from `replicas` servers sharing one database, with
// the projectors running, as `medialuna serve` wires it.
func newAPI(t *testing.T, replicas int, opts ...func(*httpapi.Deps)) *api {
	db := testdb.New(t)
	log := testdb.Logger(t)
	store := postgres.NewEventStore(db.DB, db.URL, log)
	c := &clock{}
	// The account's usage counts status pages and reads billing: their
	// models run too.
	models := []projections.Projector{projections.Accounts{}, projections.APIKeys{}, projections.Monitors{}, projections.StatusPages{}, projections.Billing{}}
	runner := projections.NewRunner(db.DB, store, models, log, projections.RunnerConfig{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); runner.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	if err := projections.NewQueries(db.DB).WaitUntilBuilt(ctx, []string{"accounts", "api_keys", "monitors", "status_pages", "billing"}); err != nil {
		t.Fatal(err)
	}
	a := &api{t: t, db: db, clock: c}
	for range replicas {
		queries := projections.NewQueries(db.DB)
		ids := postgres.NewIDs(db.DB)
		deps := httpapi.Deps{
			Log: log, Store: store, Queries: queries, ReadModels: []string{"accounts", "api_keys"}, Projectors: []string{"accounts", "api_keys"},
			Signup:        commands.NewSignupHandler(store, ids, c.Now),
			Invite:        commands.NewInviteMemberHandler(store, ids, c.Now),
			AcceptInvite:  commands.NewAcceptInviteHandler(store, ids, c.Now, commands.NewInviteTokens([]byte("secret"))),
			CreateAPIKey:  commands.NewCreateAPIKeyHandler(store, ids, c.Now, queries),
			RevokeAPIKey:  commands.NewRevokeAPIKeyHandler(store, c.Now),
			UpdateAccount: commands.NewUpdateAccountHandler(store, c.Now),
			RateLimiter:   postgres.NewRateLimiter(db.DB, c.Now), JWTSecret: []byte("jwt-secret"), Now: c.Now,
			AuthRequestsPerMinute: 1000,
		}
		for _, o := range opts {
			o(&deps)
		}
		srv := httpapi.New(deps)
		ts := httptest.NewServer(srv.Handler())
		t.Cleanup(ts.Close)
		a.urls = append(a.urls, ts.URL)
	}
	return a
}

type reply struct {
	status int
	header http.Header
	body   string
}

func (r reply) detail() any {
	var d struct{ Detail any }
	json.Unmarshal([]byte(r.body), &d)
	return d.Detail
}

func (a *api) do(replica int, method, path, auth string, body any) reply {
	a.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		data, _ := json.Marshal(b)
		rd = bytes.NewReader(data)
	}
	req, _ := http.NewRequest(method, a.urls[replica]+path, rd)
	if auth != "" {
		req.Header.Set("Authorization", "Bearer "+auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return reply{status: resp.StatusCode, header: resp.Header, body: string(data)}
}

func (a *api) events() int {
	var n int
	a.db.Get(&n, `SELECT count(*) FROM events`)
	return n
}

func (a *api) signup(email string) (jwt string, accountID int64) {
	a.t.Helper()
	r := a.do(0, "POST", "/api/auth/signup", "", map[string]string{"email": email, "password": "long enough", "account_name": "Team"})
	if r.status != 201 {
		a.t.Fatalf("signup: %d %s", r.status, r.body)
	}
	var out struct {
		AccessToken string `json:"access_token"`
		Account     struct{ ID int64 }
	}
	json.Unmarshal([]byte(r.body), &out)
	return out.AccessToken, out.Account.ID
}

func (a *api) key(jwt string, scopes ...string) (key string, id int64) {
	a.t.Helper()
	r := a.do(0, "POST", "/api/users/api-keys", jwt, map[string]any{"name": "k", "scopes": scopes})
	if r.status != 201 {
		a.t.Fatalf("create key: %d %s", r.status, r.body)
	}
	var out struct {
		Key string
		ID  int64
	}
	json.Unmarshal([]byte(r.body), &out)
	return out.Key, out.ID
}

// TestBadInputIsRefusedAndWritesNothing runs hostile and broken requests
// and checks each gets the contract's status and body, with no event written.
func TestBadInputIsRefusedAndWritesNothing(t *testing.T) {
	a := newAPI(t, 1)
	jwt, _ := a.signup("owner@example.com")
	huge := strings.Repeat("é", 5000)
	cases := []struct {
		name   string
		method string
		path   string
		auth   bool
		body   any
		status int
		detail string // substring of the detail, as JSON for 422 lists
	}{
		{"malformed JSON", "POST", "/api/auth/signup", false, `{"email": "a@b.co",`, 400, "malformed JSON"},
		{"not an object", "POST", "/api/auth/signup", false, `[1,2]`, 400, "JSON object"},
		{"empty body", "POST", "/api/auth/login", false, ``, 400, "JSON object"},
		{"two objects", "POST", "/api/auth/login", false, `{} {}`, 400, "single JSON object"},
		{"wrong type", "POST", "/api/auth/signup", false, `{"email": 5, "password": "long enough", "account_name": "x"}`, 400, `field "email" must be of type string`},
		{"wrong type in array", "POST", "/api/users/api-keys", true, `{"name": "k", "scopes": [1]}`, 400, "must be of type string"},
		{"missing fields", "POST", "/api/auth/signup", false, `{}`, 422, `{"loc":["body","email"],"msg":"field required","type":"missing"}`},
		{"empty strings", "POST", "/api/auth/signup", false, map[string]string{"email": "", "password": "", "account_name": ""}, 422, `"loc":["body","password"]`},
		{"huge name", "POST", "/api/auth/signup", false, map[string]string{"email": "big@example.com", "password": "long enough", "account_name": huge}, 422, "at most 100 characters"},
		{"SQL in email", "POST", "/api/auth/signup", false, map[string]string{"email": "x'; DROP TABLE events;--@example.com", "password": "long enough", "account_name": "x"}, 422, "valid address"},
		{"NUL character", "POST", "/api/auth/signup", false, map[string]string{"email": "ctl@example.com", "password": "long enough", "account_name": "a\u0000b"}, 422, "NUL character"},
		{"control characters", "POST", "/api/auth/signup", false, map[string]string{"email": "ctl@example.com", "password": "long enough", "account_name": "a\u001bb"}, 422, "control characters"},
		{"unknown role", "POST", "/api/accounts/users/invite", true, map[string]string{"email": "x@example.com", "role": "OWNER"}, 422, "ADMIN, EDITOR, VIEWER"},
		{"unknown scope", "POST", "/api/users/api-keys", true, map[string]any{"name": "k", "scopes": []string{"read:everything"}}, 422, "unknown scope"},
		{"no scopes", "POST", "/api/users/api-keys", true, map[string]any{"name": "k", "scopes": []string{}}, 422, "at least one scope"},
		{"expiry in the past", "POST", "/api/users/api-keys", true, map[string]any{"name": "k", "scopes": []string{"read:account"}, "expires_at": "2001-01-01T00:00:00Z"}, 422, "in the future"},
		{"bad time", "POST", "/api/users/api-keys", true, `{"name": "k", "scopes": ["read:account"], "expires_at": "tomorrow"}`, 422, `"loc":["body","expires_at"]`},
		{"two bad times at once", "POST", "/api/maintenance-windows", true, `{"name": "w", "start_time": "soon", "end_time": "2027-13-01"}`, 422, `"loc":["body","end_time"]`},
		{"a time of the wrong type", "POST", "/api/maintenance-windows", true, `{"name": "w", "start_time": 5, "end_time": "2027-02-01"}`, 400, `"start_time" must be of type string`},
		{"bad timezone", "PATCH", "/api/v1/account", true, map[string]string{"timezone": "Mars/Olympus"}, 422, "IANA"},
		{"body over 1 MiB", "POST", "/api/auth/signup", false, `{"email": "` + strings.Repeat("a", 2<<20) + `"}`, 413, "1 MiB"},
		{"a missing field and a bad one, both named", "POST", "/api/maintenance-windows", true, map[string]any{"start_time": "2027-02-01T02:00:00Z", "end_time": "2027-02-01T01:00:00Z"}, 422,
			`[{"loc":["body","name"],"msg":"field required","type":"missing"},{"loc":["body","end_time"]`},
		{"bad limit", "GET", "/api/accounts/users?limit=5000", true, nil, 400, "between 1 and 1000"},
		{"negative skip", "GET", "/api/accounts/users?skip=-1", true, nil, 400, "skip"},
		{"non-numeric limit", "GET", "/api/accounts/users?limit=ten", true, nil, 400, "integer"},
		{"tags: limit over 1000", "GET", "/api/tags?limit=1001", true, nil, 400, "between 1 and 1000"},
		{"API keys: negative skip", "GET", "/api/users/api-keys?skip=-1", true, nil, 400, "skip"},
		{"invitations: limit over 1000", "GET", "/api/accounts/invites?limit=1001", true, nil, 400, "between 1 and 1000"},
		{"regions: non-numeric skip", "GET", "/api/regions/public?skip=x", false, nil, 400, "integer"},
		{"plans: limit 0", "GET", "/api/plans?limit=0", false, nil, 400, "between 1 and 1000"},
		{"bad audit format", "GET", "/api/audit/events?format=xml", true, nil, 400, "ndjson or csv"},
		{"bad audit time", "GET", "/api/audit/events?since=yesterday", true, nil, 400, "ISO 8601"},
		{"non-numeric id", "DELETE", "/api/users/api-keys/abc", true, nil, 404, "not found"},
		{"unknown route", "GET", "/api/nothing-here", false, nil, 404, "no such endpoint"},
		{"wrong method", "PUT", "/api/auth/login", false, nil, 405, "not allowed"},
		{"no credentials", "GET", "/api/users/me", false, nil, 401, "Authorization"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := a.events()
			auth := ""
			if c.auth {
				auth = jwt
			}
			r := a.do(0, c.method, c.path, auth, c.body)
			if r.status != c.status {
				t.Fatalf("status %d, want %d; body %s", r.status, c.status, r.body)
			}
			d := r.detail()
			text, ok := d.(string)
			if !ok {
				b, _ := json.Marshal(d)
				text = string(b)
			}
			if !strings.Contains(text, c.detail) {
				t.Errorf("detail %s does not mention %q", text, c.detail)
			}
			if ct := r.header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			if after := a.events(); after != before {
				t.Errorf("a refused request wrote %d events", after-before)
			}
		})
	}
	// SQL metacharacters in free text are data, stored verbatim.
	r := a.do(0, "PATCH", "/api/v1/account", jwt, map[string]string{"name": `Robert'); DROP TABLE accounts;--`})
	if r.status != 200 || !strings.Contains(r.body, `Robert'); DROP TABLE accounts;--`) {
		t.Errorf("metacharacters: %d %s", r.status, r.body)
	}
}

func TestCredentialsThatNoLongerWork(t *testing.T) {
	a := newAPI(t, 1)
	jwt, _ := a.signup("owner@example.com")
	otherJWT, _ := a.signup("other@example.com")
	key, keyID := a.key(jwt, "read:account")
	r := a.do(0, "POST", "/api/users/api-keys", jwt, map[string]any{"name": "short", "scopes": []string{"read:account"},
		"expires_at": a.clock.Now().Add(time.Hour).Format(time.RFC3339)})
	var expiring struct{ Key string }
	json.Unmarshal([]byte(r.body), &expiring)

	for _, c := range []struct {
		name string
		auth string
		want int
	}{
		{"valid key", key, 200},
		{"expiring key before expiry", expiring.Key, 200},
		{"garbage key", "sk_live_nope", 401},
		{"tampered JWT", jwt[:len(jwt)-2] + "xx", 401},
		{"not a JWT", "hello", 401},
	} {
		if r := a.do(0, "GET", "/api/v1/account", c.auth, nil); r.status != c.want {
			t.Errorf("%s: %d, want %d (%s)", c.name, r.status, c.want, r.body)
		}
	}
	// Another account cannot touch the key; its id looks missing.
	if r := a.do(0, "DELETE", "/api/users/api-keys/"+itoa(keyID), otherJWT, nil); r.status != 404 {
		t.Errorf("other account's revoke: %d", r.status)
	}
	if r := a.do(0, "DELETE", "/api/users/api-keys/"+itoa(keyID), jwt, nil); r.status != 204 {
		t.Fatalf("revoke: %d %s", r.status, r.body)
	}
	if r := a.do(0, "GET", "/api/v1/account", key, nil); r.status != 401 {
		t.Errorf("revoked key: %d", r.status)
	}
	a.clock.Advance(2 * time.Hour)
	if r := a.do(0, "GET", "/api/v1/account", expiring.Key, nil); r.status != 401 || !strings.Contains(r.body, "expired") {
		t.Errorf("expired key: %d %s", r.status, r.body)
	}
	a.clock.Advance(23 * time.Hour)
	if r := a.do(0, "GET", "/api/users/me", jwt, nil); r.status != 401 {
		t.Errorf("expired JWT: %d", r.status)
	}
}

// TestRateLimitIsSharedAcrossReplicas alternates requests between two API
// servers on one database: the 61st request of the minute is refused.
func TestRateLimitIsSharedAcrossReplicas(t *testing.T) {
	a := newAPI(t, 2)
	// Start at the beginning of a minute so the window cannot roll over
	// in the middle of the test.
	now := a.clock.Now()
	a.clock.Advance(now.Truncate(time.Minute).Add(time.Minute).Sub(now) + time.Second)
	jwt, _ := a.signup("owner@example.com")
	var remaining []string
	for i := range 60 {
		r := a.do(i%2, "GET", "/api/users/me", jwt, nil)
		if r.status != 200 {
			t.Fatalf("request %d: %d %s", i+1, r.status, r.body)
		}
		remaining = append(remaining, r.header.Get("X-RateLimit-Remaining"))
	}
	if diff := cmp.Diff([]string{"59", "58", "57"}, remaining[:3]); diff != "" {
		t.Errorf("remaining (-want +got):\n%s", diff)
	}
	r := a.do(1, "GET", "/api/users/me", jwt, nil)
	if r.status != 429 || r.header.Get("Retry-After") == "" || r.header.Get("X-RateLimit-Remaining") != "0" {
		t.Fatalf("61st request: %d, Retry-After %q, headers %v", r.status, r.header.Get("Retry-After"), r.header)
	}
	// A new window opens a minute later; other accounts were never limited.
	other, _ := a.signup("other@example.com")
	if r := a.do(0, "GET", "/api/users/me", other, nil); r.status != 200 {
		t.Errorf("another account: %d", r.status)
	}
	a.clock.Advance(time.Minute)
	if r := a.do(0, "GET", "/api/users/me", jwt, nil); r.status != 200 {
		t.Errorf("next minute: %d", r.status)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestAuthLimitPerClientBehindAProxy: with proxy headers trusted, the
// sign-in limit counts each forwarded client separately.
func TestAuthLimitPerClientBehindAProxy(t *testing.T) {
	a := newAPI(t, 1, func(d *httpapi.Deps) { d.TrustProxyHeaders, d.AuthRequestsPerMinute = true, 2 })
	login := func(client string) int {
		req, _ := http.NewRequest("POST", a.urls[0]+"/api/auth/login", strings.NewReader(`{"email": "x@example.com", "password": "wrong password"}`))
		req.Header.Set("X-Forwarded-For", client+", 10.0.0.1")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := []int{login("198.51.100.7"), login("198.51.100.7"), login("198.51.100.7"), login("203.0.113.9")}; !cmp.Equal(got, []int{401, 401, 429, 401}) {
		t.Errorf("statuses = %v, want [401 401 429 401]", got)
	}
}
