package e2e

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/medialuna/medialuna/test/browser"
	"github.com/medialuna/medialuna/test/smtpcatcher"
	"github.com/medialuna/medialuna/test/testdb"
)

// teamHostile is a member's name that would run script if the page
// rendered it as HTML.
const teamHostile = `<img src=x onerror=alert(1)>"><script>alert(1)</script>`

// teamInviteToken waits for the n-th invitation email to rcpt (1-based) and
// returns its token.
func teamInviteToken(t *testing.T, s *server, rcpt string, n int) string {
	t.Helper()
	var mails []string
	deadline := time.Now().Add(20 * time.Second)
	for {
		mails = mails[:0]
		for _, m := range s.Mail.Messages() {
			for _, to := range m.To {
				if strings.EqualFold(to, rcpt) {
					mails = append(mails, m.Data)
				}
			}
		}
		if len(mails) >= n {
			return inviteToken(t, mails[n-1])
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d invitation emails to %s, want %d", len(mails), rcpt, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

type teamMemberRow struct {
	ID       int64  `json:"id"`
	Email    string `json:"email"`
	FullName string `json:"full_name"`
	Role     string `json:"role"`
}

type teamInviteRow struct {
	ID    int64  `json:"id"`
	Email string `json:"email"`
	Role  string `json:"role"`
}

func teamAPIMembers(t *testing.T, s *server, jwt string) []teamMemberRow {
	t.Helper()
	var out []teamMemberRow
	s.expect(200, "GET", "/api/accounts/users", jwt, nil).json(t, &out)
	return out
}

func teamAPIInvites(t *testing.T, s *server, jwt string) []teamInviteRow {
	t.Helper()
	var out []teamInviteRow
	s.expect(200, "GET", "/api/accounts/invites", jwt, nil).json(t, &out)
	return out
}

// teamPageMembers reads the team page's members as the API shows them.
func teamPageMembers(t *testing.T, p *browser.Page) []teamMemberRow {
	t.Helper()
	var out []teamMemberRow
	for _, row := range p.Eval(`[...document.querySelectorAll(".team-member")].map(li => [li.dataset.user, li.dataset.role, li.querySelector(".team-who").innerText])`).([]any) {
		r := row.([]any)
		var id int64
		fmt.Sscan(r[0].(string), &id)
		out = append(out, teamMemberRow{ID: id, Role: r[1].(string), Email: r[2].(string)})
	}
	return out
}

func teamPageInvites(p *browser.Page) []int64 {
	var out []int64
	for _, v := range p.Eval(`[...document.querySelectorAll(".team-invite-row")].map(li => li.dataset.invite)`).([]any) {
		var id int64
		fmt.Sscan(v.(string), &id)
		out = append(out, id)
	}
	return out
}

func teamInviteIDs(invs []teamInviteRow) []int64 {
	var out []int64
	for _, i := range invs {
		out = append(out, i.ID)
	}
	return out
}

// teamSame checks the team page against the API: the same members with the
// same roles, the same pending invitations.
func teamSame(t *testing.T, s *server, p *browser.Page, jwt, step string) []teamMemberRow {
	t.Helper()
	p.Navigate(s.URL + "/settings/team")
	api := teamAPIMembers(t, s, jwt)
	page := teamPageMembers(t, p)
	if len(page) != len(api) {
		t.Fatalf("%s: page members %+v, API %+v", step, page, api)
	}
	for i := range api {
		if page[i].ID != api[i].ID || page[i].Role != api[i].Role || !strings.Contains(page[i].Email, api[i].Email) {
			t.Errorf("%s: member %d on the page %+v, API %+v", step, i, page[i], api[i])
		}
	}
	if diff := cmp.Diff(teamInviteIDs(teamAPIInvites(t, s, jwt)), teamPageInvites(p)); diff != "" {
		t.Errorf("%s: pending invitations (-API +page):\n%s", step, diff)
	}
	return api
}

// TestDashboardTeam: an ADMIN invites a VIEWER, resends (the old link is
// refused, the new one works) and the invitation is accepted in a second
// browser; the VIEWER sees only what the role allows and a forged post is
// refused; a revoked invitation's link is refused; VIEWER → EDITOR lets
// them create a monitor; the last ADMIN can be neither demoted nor removed
// (nothing appended); removing the member signs them out at once and
// their API key gets 401. The page and the API agree at each step.
func TestDashboardTeam(t *testing.T) {
	b := browser.New(t)
	s := startServer(t, testdb.New(t), smtpcatcher.Start(t))
	owner := signup(t, s, "owner@example.com", "Team")
	unlimited(t, s, owner.Account.ID)
	jwt := owner.AccessToken
	_, p := logInInBrowser(t, b, s, "owner@example.com", dashboardPassword)

	p.Navigate(s.URL + "/settings/team")
	if !strings.Contains(p.Text("main"), "Send invitation") {
		t.Fatalf("an ADMIN's team page has no invitation form:\n%s", p.Text("main"))
	}
	checkPage(t, p, "team")

	// A bad address: a message next to the field, nothing recorded.
	before := accountEvents(t, s.DB, owner.Account.ID)
	p.Fill("#email", "not an address")
	p.ClickButton("Send invitation")
	if !p.WaitText("#err-email", "valid address", 5*time.Second) {
		t.Errorf("no message next to the email field: %s", p.Text("main"))
	}
	if got := accountEvents(t, s.DB, owner.Account.ID); got != before {
		t.Errorf("a refused invitation appended %d events", got-before)
	}

	// Invite a VIEWER.
	p.Fill("#email", "viewer@example.com")
	p.SetValue("#role", "VIEWER")
	p.ClickButton("Send invitation")
	if !p.WaitText("main", "viewer@example.com", 5*time.Second) {
		t.Fatalf("the invitation is not listed: %s", p.Text("main"))
	}
	invs := teamAPIInvites(t, s, jwt)
	if len(invs) != 1 || invs[0].Email != "viewer@example.com" || invs[0].Role != "VIEWER" {
		t.Fatalf("invitations after the invite: %+v", invs)
	}
	teamSame(t, s, p, jwt, "invited")
	first := teamInviteToken(t, s, "viewer@example.com", 1)

	// Resend: a new email with a new token; the old one is refused.
	p.Click(fmt.Sprintf("#resend-%d", invs[0].ID))
	p.WaitTrue(fmt.Sprintf(`!document.querySelector("#resend-%d")`, invs[0].ID), 5*time.Second)
	resent := teamAPIInvites(t, s, jwt)
	if len(resent) != 1 || resent[0].ID == invs[0].ID || resent[0].Email != "viewer@example.com" || resent[0].Role != "VIEWER" {
		t.Fatalf("invitations after the resend: %+v (before %+v)", resent, invs)
	}
	teamSame(t, s, p, jwt, "resent")
	second := teamInviteToken(t, s, "viewer@example.com", 2)
	if second == first {
		t.Fatal("the resent invitation has the old token")
	}
	if r := s.call("POST", "/api/auth/accept-invite", "", map[string]string{"token": first, "password": "viewer password 1"}); r.Status != http.StatusNotFound {
		t.Errorf("the replaced token: %d %s", r.Status, r.Body)
	}

	// Accepted in a second browser, with a hostile name.
	member := b.Isolated()
	vp := member.Open(s.URL + "/invite?token=" + url.QueryEscape(second))
	vp.Fill("#full_name", teamHostile)
	vp.Fill("#password", "viewer password 1")
	vp.ClickButton("Accept invitation")
	if !vp.WaitTrue(`!location.pathname.startsWith("/invite")`, 10*time.Second) {
		t.Fatalf("accepting did not leave the form: %s", vp.Text("main"))
	}
	var viewer teamMemberRow
	for _, m := range teamSame(t, s, p, jwt, "accepted") {
		if m.Email == "viewer@example.com" {
			viewer = m
		}
	}
	if viewer.Role != "VIEWER" || viewer.FullName != teamHostile {
		t.Fatalf("the new member: %+v", viewer)
	}
	if len(teamAPIInvites(t, s, jwt)) != 0 {
		t.Error("the accepted invitation is still pending")
	}
	checkPage(t, p, "team-members") // the hostile name, as text

	// The VIEWER sees no write actions and no admin controls.
	vp.Navigate(s.URL + "/monitors")
	if vp.Count(`a[href="/monitors/new"]`) != 0 {
		t.Error("a VIEWER is offered Add monitor")
	}
	vp.Navigate(s.URL + "/settings/team")
	if vp.Count(`form[action*="/settings/team/"]`) != 0 || strings.Contains(vp.Text("main"), "Send invitation") || vp.Count(".team-invite-row") != 0 {
		t.Error("a VIEWER's team page has admin controls")
	}
	if len(teamPageMembers(t, vp)) != 2 {
		t.Errorf("a VIEWER sees %d members, want 2", len(teamPageMembers(t, vp)))
	}
	checkPage(t, vp, "team-viewer")
	vp.Navigate(s.URL + "/settings/api-keys")
	if got := vp.Count(`input[name="scopes"]`); got != 5 || vp.Count(`input[value="write:monitors"]`) != 0 {
		t.Errorf("a VIEWER is offered %d scopes (write:monitors %d), want the 5 read scopes", got, vp.Count(`input[value="write:monitors"]`))
	}
	var viewerLogin struct {
		AccessToken string `json:"access_token"`
	}
	s.expect(200, "POST", "/api/auth/login", "", map[string]string{"email": "viewer@example.com", "password": "viewer password 1"}).json(t, &viewerLogin)
	// Forged posts, with the VIEWER's own valid CSRF token: 403.
	vc := newFormClient(t, s)
	vc.login("viewer@example.com", "viewer password 1")
	_, _, csrf := vc.get("/settings/team")
	before = accountEvents(t, s.DB, owner.Account.ID)
	if status, _ := vc.post("/settings/team/invite", url.Values{"csrf": {csrf}, "email": {"friend@example.com"}, "role": {"ADMIN"}}); status != http.StatusForbidden {
		t.Errorf("a VIEWER's forged invitation: %d", status)
	}
	if status, _ := vc.post(fmt.Sprintf("/settings/team/members/%d/role", viewer.ID), url.Values{"csrf": {csrf}, "role": {"ADMIN"}}); status != http.StatusForbidden {
		t.Errorf("a VIEWER's forged promotion of themselves: %d", status)
	}
	s.expect(403, "PATCH", fmt.Sprintf("/api/accounts/users/%d", viewer.ID), viewerLogin.AccessToken, map[string]string{"role": "ADMIN"})
	if got := accountEvents(t, s.DB, owner.Account.ID); got != before {
		t.Errorf("forged posts appended %d events", got-before)
	}

	// Revoke: the link stops working.
	s.expect(200, "POST", "/api/accounts/users/invite", jwt, map[string]string{"email": "gone@example.com", "role": "EDITOR"})
	gone := teamInviteToken(t, s, "gone@example.com", 1)
	p.Navigate(s.URL + "/settings/team")
	goneInv := teamAPIInvites(t, s, jwt)
	if len(goneInv) != 1 {
		t.Fatalf("invitations: %+v", goneInv)
	}
	p.Click(fmt.Sprintf("#revoke-%d", goneInv[0].ID))
	p.WaitTrue(fmt.Sprintf(`!document.querySelector("#revoke-%d")`, goneInv[0].ID), 5*time.Second)
	teamSame(t, s, p, jwt, "revoked")
	if len(teamAPIInvites(t, s, jwt)) != 0 {
		t.Error("the revoked invitation is still pending")
	}
	if r := s.call("POST", "/api/auth/accept-invite", "", map[string]string{"token": gone, "password": "gone password 1"}); r.Status != http.StatusNotFound {
		t.Errorf("the revoked token: %d %s", r.Status, r.Body)
	}

	// VIEWER → EDITOR: the member can now create a monitor.
	p.SetValue(fmt.Sprintf("#role-%d", viewer.ID), "EDITOR")
	p.Click(fmt.Sprintf("#change-role-%d", viewer.ID))
	for _, m := range teamSame(t, s, p, jwt, "promoted") {
		if m.ID == viewer.ID && m.Role != "EDITOR" {
			t.Fatalf("role after the change: %s", m.Role)
		}
	}
	vp.Navigate(s.URL + "/monitors")
	if vp.Count(`a[href="/monitors/new"]`) == 0 {
		t.Error("an EDITOR is not offered Add monitor")
	}
	vp.Navigate(s.URL + "/monitors/new")
	vp.Fill("#name", "Made by the editor")
	vp.Fill("#url", "http://127.0.0.1:9/")
	vp.Fill("#check_interval", "300")
	vp.ClickButton("Create monitor")
	vp.WaitTrue(`!location.pathname.startsWith("/monitors/new")`, 10*time.Second)
	if monitorPath.FindStringSubmatch(strings.SplitN(vp.URL(), "?", 2)[0]) == nil {
		t.Fatalf("the EDITOR's monitor was not created: %s\n%s", vp.URL(), vp.Text("main"))
	}

	// The last ADMIN: neither demoted nor removed, with a clear message,
	// and nothing appended.
	before = accountEvents(t, s.DB, owner.Account.ID)
	p.Navigate(s.URL + "/settings/team")
	p.SetValue(fmt.Sprintf("#role-%d", owner.User.ID), "VIEWER")
	p.Click(fmt.Sprintf("#change-role-%d", owner.User.ID))
	if !p.WaitText(fmt.Sprintf("#err-m%d", owner.User.ID), "only ADMIN", 5*time.Second) {
		t.Errorf("no message on demoting the last ADMIN: %s", p.Text("main"))
	}
	checkPage(t, p, "team-last-admin")
	p.Navigate(fmt.Sprintf("%s/settings/team/members/%d/remove", s.URL, owner.User.ID))
	p.ClickButton("Remove owner@example.com")
	if !p.WaitText(fmt.Sprintf("#err-m%d", owner.User.ID), "only ADMIN", 5*time.Second) {
		t.Errorf("no message on removing the last ADMIN: %s", p.Text("main"))
	}
	if r := s.call("PATCH", fmt.Sprintf("/api/accounts/users/%d", owner.User.ID), jwt, map[string]string{"role": "EDITOR"}); r.Status != http.StatusConflict || !strings.Contains(r.detail(), "only ADMIN") {
		t.Errorf("the API's demotion of the last ADMIN: %d %s", r.Status, r.Body)
	}
	s.expect(409, "DELETE", fmt.Sprintf("/api/accounts/users/%d", owner.User.ID), jwt, nil)
	if got := accountEvents(t, s.DB, owner.Account.ID); got != before {
		t.Errorf("refusals appended %d events", got-before)
	}
	teamSame(t, s, p, jwt, "refused")

	// Another account's member is not found.
	other := signup(t, s, "other@example.com", "Other")
	s.expect(404, "PATCH", fmt.Sprintf("/api/accounts/users/%d", other.User.ID), jwt, map[string]string{"role": "VIEWER"})
	s.expect(404, "DELETE", fmt.Sprintf("/api/accounts/users/%d", other.User.ID), jwt, nil)
	s.expect(404, "DELETE", fmt.Sprintf("/api/accounts/users/%d", viewer.ID), other.AccessToken, nil)

	// Remove the member: their next page load goes to the login page;
	// their access token and API key get 401.
	var key struct {
		Key string `json:"key"`
	}
	s.expect(201, "POST", "/api/users/api-keys", viewerLogin.AccessToken, map[string]any{"name": "member key", "scopes": []string{"read:monitors"}}).json(t, &key)
	s.expect(200, "GET", "/api/v1/monitors", key.Key, nil)
	p.Navigate(s.URL + "/settings/team")
	p.Click(fmt.Sprintf("#remove-%d", viewer.ID))
	checkPage(t, p, "team-remove")
	p.ClickButton("Remove viewer@example.com")
	p.WaitTrue(`location.pathname === "/settings/team"`, 5*time.Second)
	after := teamSame(t, s, p, jwt, "removed")
	if len(after) != 1 || after[0].ID != owner.User.ID {
		t.Errorf("members after the removal: %+v", after)
	}
	vp.Navigate(s.URL + "/monitors")
	if !strings.HasPrefix(strings.TrimPrefix(vp.URL(), s.URL), "/login") {
		t.Errorf("the removed member's next page load is at %s", vp.URL())
	}
	s.expect(401, "GET", "/api/v1/monitors", key.Key, nil)
	var liveKeys int
	if err := s.DB.Get(&liveKeys, `SELECT count(*) FROM api_keys WHERE user_id = $1 AND revoked_at IS NULL`, viewer.ID); err != nil || liveKeys != 0 {
		t.Errorf("the removed member's keys not revoked: %d (%v)", liveKeys, err)
	}
	s.expect(401, "GET", "/api/users/me", viewerLogin.AccessToken, nil)
	s.expect(401, "POST", "/api/auth/login", "", map[string]string{"email": "viewer@example.com", "password": "viewer password 1"})

	// The address can be invited again, through the API this time.
	s.expect(200, "POST", "/api/accounts/users/invite", jwt, map[string]string{"email": "viewer@example.com", "role": "VIEWER"})
	again := teamInviteToken(t, s, "viewer@example.com", 3)
	var reinv []teamInviteRow
	s.expect(200, "GET", "/api/accounts/invites", jwt, nil).json(t, &reinv)
	var resentAPI teamInviteRow
	s.expect(200, "POST", fmt.Sprintf("/api/accounts/invites/%d/resend", reinv[0].ID), jwt, nil).json(t, &resentAPI)
	if resentAPI.ID == reinv[0].ID || resentAPI.Email != "viewer@example.com" {
		t.Errorf("the API's resend: %+v", resentAPI)
	}
	s.expect(404, "POST", "/api/auth/accept-invite", "", map[string]string{"token": again, "password": "viewer password 2"})
	s.expect(404, "DELETE", fmt.Sprintf("/api/accounts/invites/%d", reinv[0].ID), jwt, nil)
	s.expect(204, "DELETE", fmt.Sprintf("/api/accounts/invites/%d", resentAPI.ID), jwt, nil)
	s.expect(404, "POST", "/api/auth/accept-invite", "", map[string]string{"token": teamInviteToken(t, s, "viewer@example.com", 4), "password": "viewer password 2"})
	teamSame(t, s, p, jwt, "end")

	// The log is the truth: the members, invitations and keys rebuild to
	// what they were.
	s.expect(200, "POST", "/api/accounts/users/invite", jwt, map[string]string{"email": "later@example.com", "role": "EDITOR"})
	members, invites := teamAPIMembers(t, s, jwt), teamAPIInvites(t, s, jwt)
	if _, errOut, err := medialuna(t, s.DB, "projections", "rebuild", "accounts", "api_keys"); err != nil {
		t.Fatal(errOut)
	}
	if diff := cmp.Diff(members, teamAPIMembers(t, s, jwt)); diff != "" {
		t.Errorf("members after a rebuild (-before +after):\n%s", diff)
	}
	if diff := cmp.Diff(invites, teamAPIInvites(t, s, jwt)); diff != "" {
		t.Errorf("invitations after a rebuild (-before +after):\n%s", diff)
	}
	var live int
	if err := s.DB.Get(&live, `SELECT count(*) FROM api_keys WHERE user_id = $1 AND revoked_at IS NULL`, viewer.ID); err != nil || live != 0 {
		t.Errorf("after a rebuild, the removed member's live keys: %d (%v)", live, err)
	}
}
