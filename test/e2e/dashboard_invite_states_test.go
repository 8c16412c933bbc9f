package e2e

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/medialuna/medialuna/test/browser"
	"github.com/medialuna/medialuna/test/smtpcatcher"
	"github.com/medialuna/medialuna/test/testdb"
)

// TestDashboardInviteLinkStates: an invitation link that no longer works
// says why (withdrawn, replaced by a newer one, accepted, expired) with
// the status the API's accept would answer, and offers no password form;
// a pending invitation's link shows the form.
func TestDashboardInviteLinkStates(t *testing.T) {
	s := startServer(t, testdb.New(t), smtpcatcher.Start(t))
	owner := signup(t, s, "owner@example.com", "Links")
	unlimited(t, s, owner.Account.ID)
	jwt := owner.AccessToken
	c := newFormClient(t, s)

	page := func(token string, wantStatus int, want string) {
		t.Helper()
		status, body, _ := c.get("/invite?token=" + url.QueryEscape(token))
		if status != wantStatus {
			t.Errorf("invite page (want %q): status %d, want %d", want, status, wantStatus)
		}
		if !strings.Contains(body, want) {
			t.Errorf("invite page: no %q in\n%s", want, body)
		}
		form := strings.Contains(body, `name="password"`)
		if open := wantStatus == http.StatusOK; form != open {
			t.Errorf("invite page (want %q): password form shown %v, want %v", want, form, open)
		}
	}
	inviteID := func(email string) int64 {
		t.Helper()
		for _, inv := range teamAPIInvites(t, s, jwt) {
			if inv.Email == email {
				return inv.ID
			}
		}
		t.Fatalf("no pending invitation to %s", email)
		return 0
	}

	// Pending: the form.
	s.expect(200, "POST", "/api/accounts/users/invite", jwt, map[string]string{"email": "gone@example.com", "role": "VIEWER"})
	gone := teamInviteToken(t, s, "gone@example.com", 1)
	page(gone, http.StatusOK, "Choose a password")

	// Withdrawn.
	s.expect(204, "DELETE", fmt.Sprintf("/api/accounts/invites/%d", inviteID("gone@example.com")), jwt, nil)
	page(gone, http.StatusNotFound, "withdrawn")

	// Replaced by a resend; the new link is the one that works.
	s.expect(200, "POST", "/api/accounts/users/invite", jwt, map[string]string{"email": "again@example.com", "role": "EDITOR"})
	first := teamInviteToken(t, s, "again@example.com", 1)
	s.expect(200, "POST", fmt.Sprintf("/api/accounts/invites/%d/resend", inviteID("again@example.com")), jwt, nil)
	second := teamInviteToken(t, s, "again@example.com", 2)
	page(first, http.StatusNotFound, "replaced by a newer one")
	page(second, http.StatusOK, "Choose a password")

	// Accepted.
	s.expect(200, "POST", "/api/auth/accept-invite", "", map[string]string{"token": second, "password": "again password 1"})
	page(second, http.StatusConflict, "already been accepted")

	// Expired: the read model's row, as the page reads it, past its end.
	s.expect(200, "POST", "/api/accounts/users/invite", jwt, map[string]string{"email": "late@example.com", "role": "VIEWER"})
	late := teamInviteToken(t, s, "late@example.com", 1)
	if _, err := s.DB.Exec(`UPDATE invites SET expires_at = now() - interval '1 hour' WHERE email = 'late@example.com'`); err != nil {
		t.Fatal(err)
	}
	page(late, http.StatusGone, "expired on")

	// A forged token is still "not valid".
	page("1.2.forged", http.StatusNotFound, "not valid")

	// In the browser: the message, and the page meets the bar.
	b := browser.New(t)
	p := b.Isolated().Open(s.URL + "/invite?token=" + url.QueryEscape(first))
	if !p.WaitText("#invite-closed", "replaced by a newer one", 5*time.Second) || p.Count(`input[type="password"]`) != 0 {
		t.Errorf("the replaced link in the browser:\n%s", p.Text("main"))
	}
	checkPage(t, p, "invite-closed")
}
