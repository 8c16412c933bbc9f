package e2e

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/medialuna/medialuna/test/browser"
	"github.com/medialuna/medialuna/test/smtpcatcher"
	"github.com/medialuna/medialuna/test/testdb"
)

type keysListed struct {
	ID         int64      `json:"id"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"`
	Scopes     []string   `json:"scopes"`
	ExpiresAt  *time.Time `json:"expires_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
}

func keysFromAPI(t *testing.T, s *server, jwt string) []keysListed {
	t.Helper()
	var out []keysListed
	s.expect(200, "GET", "/api/users/api-keys", jwt, nil).json(t, &out)
	return out
}

// keysOnPage reads the list on /settings/api-keys as the API shows it (the
// fields the page shows as data: id, name, prefix, scopes, last use or not).
func keysOnPage(t *testing.T, s *server, p *browser.Page) []keysListed {
	t.Helper()
	p.Navigate(s.URL + "/settings/api-keys")
	var out []keysListed
	rows := p.Eval(`[...document.querySelectorAll(".apikey")].map(li => [li.dataset.key, li.querySelector("strong").textContent,
		li.querySelector(".team-who code").textContent.replace("…", ""), [...li.querySelectorAll("p code")].map(c => c.textContent).join(" "),
		li.querySelector(".apikey-used").textContent.trim()])`).([]any)
	for _, row := range rows {
		r := row.([]any)
		id, _ := strconv.ParseInt(r[0].(string), 10, 64)
		k := keysListed{ID: id, Name: r[1].(string), Prefix: r[2].(string), Scopes: strings.Fields(r[3].(string))}
		if r[4].(string) != "never" {
			k.LastUsedAt = &time.Time{}
		}
		out = append(out, k)
	}
	return out
}

// keysSame compares the page's list with the API's.
func keysSame(t *testing.T, s *server, p *browser.Page, jwt, step string) []keysListed {
	t.Helper()
	api := keysFromAPI(t, s, jwt)
	var want []keysListed
	for _, k := range api {
		w := keysListed{ID: k.ID, Name: k.Name, Prefix: k.Prefix, Scopes: k.Scopes}
		if k.LastUsedAt != nil {
			w.LastUsedAt = &time.Time{}
		}
		want = append(want, w)
	}
	if diff := cmp.Diff(want, keysOnPage(t, s, p)); diff != "" {
		t.Errorf("%s: keys (-API +page):\n%s", step, diff)
	}
	return api
}

// TestDashboardAPIKeys: a key created with scopes and an expiry, its name
// hostile; the full key shown once with a copy button (a reload shows it
// no more); the key works on /api/v1/monitors within its scopes; the list
// shows its last use, as the API does; bad input is refused next to its
// field with nothing created; revoked, the key gets 401.
func TestDashboardAPIKeys(t *testing.T) {
	b := browser.New(t)
	s := startServer(t, testdb.New(t), smtpcatcher.Start(t))
	owner := signup(t, s, "keys@example.com", "Keys")
	unlimited(t, s, owner.Account.ID)
	jwt := owner.AccessToken
	_, p := logInInBrowser(t, b, s, "keys@example.com", dashboardPassword)

	p.Navigate(s.URL + "/settings/api-keys")
	if got := p.Count(`input[name="scopes"]`); got != 9 {
		t.Errorf("an ADMIN is offered %d scopes, want all 9", got)
	}
	checkPage(t, p, "api-keys")

	// Bad input: no scope, no name, a past day. Nothing created.
	p.Fill("#name", "")
	p.Check(`input[value="read:monitors"]`, false)
	p.ClickButton("Create key")
	if !p.WaitText("#err-scopes", "at least one scope", 5*time.Second) || !strings.Contains(p.Text("#err-name"), "must not be empty") {
		t.Errorf("no messages next to the fields: %s", p.Text("main"))
	}
	p.Fill("#name", "past")
	p.Check(`input[value="read:monitors"]`, true)
	p.SetValue("#expires_at", "2020-01-01")
	p.ClickButton("Create key")
	if !p.WaitText("#err-expires_at", "future", 5*time.Second) {
		t.Errorf("no message next to the expiry: %s", p.Text("main"))
	}
	checkPage(t, p, "api-keys-errors")
	if n := len(keysFromAPI(t, s, jwt)); n != 0 {
		t.Fatalf("refused forms created %d keys", n)
	}

	// Create: hostile name, two scopes, an expiry a month away.
	expiry := time.Now().UTC().AddDate(0, 1, 0).Format("2006-01-02")
	p.Fill("#name", teamHostile)
	p.Check(`input[value="write:monitors"]`, true)
	p.SetValue("#expires_at", expiry)
	p.ClickButton("Create key")
	if !p.WaitTrue(`location.pathname.endsWith("/created")`, 10*time.Second) {
		t.Fatalf("after create the browser is at %s: %s", p.URL(), p.Text("main"))
	}
	key, _ := p.Eval(`document.querySelector("#new-key").value`).(string)
	if !strings.HasPrefix(key, "sk_live_") || p.Count(`button[data-copy="#new-key"]`) != 1 {
		t.Fatalf("the created page shows %q (copy button %d)", key, p.Count(`button[data-copy="#new-key"]`))
	}
	checkPage(t, p, "api-key-created")
	created := p.URL()
	p.Navigate(created)
	html := p.Eval(`document.documentElement.outerHTML`).(string)
	if strings.Contains(html, key) || strings.Contains(html, key[len("sk_live_")+4:]) || p.Count("#key-gone") != 1 {
		t.Error("the key is shown again on reload")
	}
	keys := keysSame(t, s, p, jwt, "created")
	if len(keys) != 1 || keys[0].Name != teamHostile || !cmp.Equal(keys[0].Scopes, []string{"read:monitors", "write:monitors"}) ||
		keys[0].ExpiresAt == nil || keys[0].ExpiresAt.Format("2006-01-02") != time.Now().UTC().AddDate(0, 1, 1).Format("2006-01-02") ||
		keys[0].LastUsedAt != nil || !strings.HasPrefix(key, keys[0].Prefix) {
		t.Fatalf("the API's keys after create: %+v", keys)
	}
	html = p.Eval(`document.documentElement.outerHTML`).(string)
	if strings.Contains(html, key) {
		t.Error("the list shows the full key")
	}

	// The key works, within its scopes; its use shows on the list.
	s.expect(200, "GET", "/api/v1/monitors", key, nil)
	s.expect(201, "POST", "/api/v1/monitors", key, map[string]any{"name": "By key", "type": "HTTP", "url": "http://127.0.0.1:9/", "check_interval": 300})
	var listed []struct {
		ID int64 `json:"id"`
	}
	s.expect(200, "GET", "/api/v1/monitors", key, nil).json(t, &listed)
	s.expect(403, "DELETE", "/api/v1/monitors/"+strconv.FormatInt(listed[0].ID, 10), key, nil)
	s.expect(401, "GET", "/api/users/me", key, nil) // a JWT-only endpoint
	keys = keysSame(t, s, p, jwt, "used")
	if keys[0].LastUsedAt == nil || time.Since(*keys[0].LastUsedAt) > time.Minute {
		t.Errorf("last use after the calls: %v", keys[0].LastUsedAt)
	}
	if got := p.Text(".apikey-used"); got == "never" {
		t.Errorf("the page's last use: %q", got)
	}
	checkPage(t, p, "api-keys-list")

	// Revoke, with a confirmation: 401 from then on.
	p.Click("#revoke-key-" + strconv.FormatInt(keys[0].ID, 10))
	if !strings.Contains(p.Text("h1"), teamHostile) {
		t.Errorf("the confirmation names %q", p.Text("h1"))
	}
	checkPage(t, p, "api-key-revoke")
	p.ClickButton("Revoke " + teamHostile)
	p.WaitTrue(`location.pathname === "/settings/api-keys"`, 5*time.Second)
	if r := s.call("GET", "/api/v1/monitors", key, nil); r.Status != http.StatusUnauthorized {
		t.Errorf("the revoked key: %d", r.Status)
	}
	if keys := keysSame(t, s, p, jwt, "revoked"); len(keys) != 0 {
		t.Errorf("keys after the revocation: %+v", keys)
	}

	// Another member's key is not theirs to see or revoke.
	other := signup(t, s, "otherkeys@example.com", "Other keys")
	var theirs struct {
		ID  int64  `json:"id"`
		Key string `json:"key"`
	}
	s.expect(201, "POST", "/api/users/api-keys", other.AccessToken, map[string]any{"name": "theirs", "scopes": []string{"read:monitors"}}).json(t, &theirs)
	c := newFormClient(t, s)
	c.login("keys@example.com", dashboardPassword)
	if status, _, _ := c.get("/settings/api-keys/" + strconv.FormatInt(theirs.ID, 10) + "/revoke"); status != http.StatusNotFound {
		t.Errorf("another account's key's revoke page: %d", status)
	}
	_, _, csrf := c.get("/settings/api-keys")
	if status, _ := c.post("/settings/api-keys/"+strconv.FormatInt(theirs.ID, 10)+"/revoke", url.Values{"csrf": {csrf}}); status != http.StatusNotFound {
		t.Errorf("a posted revocation of another account's key: %d", status)
	}
	s.expect(200, "GET", "/api/v1/monitors", theirs.Key, nil)
}
