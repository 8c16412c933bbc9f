package e2e

import (
	"fmt"
	"testing"

	"github.com/medialuna/medialuna/test/smtpcatcher"
	"github.com/medialuna/medialuna/test/testdb"
)

// TestAPIKeyFollowsOwnersRole: a key made by an EDITOR with write scopes
// stops writing when its owner is demoted to VIEWER (its read scopes still
// work), and writes again once they are an EDITOR again.
func TestAPIKeyFollowsOwnersRole(t *testing.T) {
	s := startServer(t, testdb.New(t), smtpcatcher.Start(t))
	owner := signup(t, s, "owner@example.com", "Roles")
	unlimited(t, s, owner.Account.ID)
	s.expect(200, "POST", "/api/accounts/users/invite", owner.AccessToken, map[string]string{"email": "editor@example.com", "role": "EDITOR"})
	var joined struct {
		AccessToken string `json:"access_token"`
	}
	s.expect(200, "POST", "/api/auth/accept-invite", "", map[string]string{"token": teamInviteToken(t, s, "editor@example.com", 1),
		"password": "editor password 1"}).json(t, &joined)
	var me struct {
		ID int64 `json:"id"`
	}
	s.expect(200, "GET", "/api/users/me", joined.AccessToken, nil).json(t, &me)
	var key struct {
		Key string `json:"key"`
	}
	s.expect(201, "POST", "/api/users/api-keys", joined.AccessToken, map[string]any{"name": "editor key",
		"scopes": []string{"read:monitors", "delete:monitors"}}).json(t, &key)

	// As an EDITOR the key gets past authentication: no such monitor.
	s.expect(404, "DELETE", "/api/v1/monitors/999999", key.Key, nil)

	s.expect(200, "PATCH", fmt.Sprintf("/api/accounts/users/%d", me.ID), owner.AccessToken, map[string]string{"role": "VIEWER"})
	if r := s.expect(403, "DELETE", "/api/v1/monitors/999999", key.Key, nil); r.detail() == "" {
		t.Errorf("the demoted member's key refused without a reason: %s", r.Body)
	}
	s.expect(200, "GET", "/api/v1/monitors", key.Key, nil)

	s.expect(200, "PATCH", fmt.Sprintf("/api/accounts/users/%d", me.ID), owner.AccessToken, map[string]string{"role": "EDITOR"})
	s.expect(404, "DELETE", "/api/v1/monitors/999999", key.Key, nil)
}
