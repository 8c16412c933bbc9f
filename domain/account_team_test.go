package domain_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/medialuna/medialuna/domain"
)

var teamNow = time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)

// team is account 1: user 1 ADMIN, 2 EDITOR, 3 VIEWER; invitation 10
// pending, 11 accepted by user 3, 12 expired, 13 revoked. extra folds more
// events on top (a second ADMIN, say).
func team(extra ...domain.Event) *domain.Account {
	a := domain.NewAccount()
	evs := []domain.Event{
		&domain.AccountOpened{AccountID: 1, Name: "Team", Plan: domain.PlanEnterprise, OwnerUserID: 1},
		&domain.MemberJoined{UserID: 1, Email: "owner@example.com", Role: domain.RoleAdmin},
		&domain.MemberInvited{InviteID: 10, Email: "new@example.com", Role: domain.RoleViewer, InvitedBy: 1, ExpiresAt: teamNow.Add(time.Hour)},
		&domain.MemberInvited{InviteID: 11, Email: "viewer@example.com", Role: domain.RoleViewer, InvitedBy: 1, ExpiresAt: teamNow.Add(time.Hour)},
		&domain.MemberInvited{InviteID: 12, Email: "late@example.com", Role: domain.RoleEditor, InvitedBy: 1, ExpiresAt: teamNow.Add(-time.Hour)},
		&domain.MemberInvited{InviteID: 13, Email: "gone@example.com", Role: domain.RoleEditor, InvitedBy: 1, ExpiresAt: teamNow.Add(time.Hour)},
		&domain.InviteRevoked{InviteID: 13, Email: "gone@example.com", RevokedBy: 1},
		&domain.MemberJoined{UserID: 2, Email: "editor@example.com", Role: domain.RoleEditor},
		&domain.MemberJoined{UserID: 3, Email: "viewer@example.com", Role: domain.RoleViewer, InviteID: 11},
	}
	for _, e := range append(evs, extra...) {
		a.Apply(e)
	}
	return a
}

func TestTeamDecisions(t *testing.T) {
	secondAdmin := &domain.MemberRoleChanged{UserID: 2, From: domain.RoleEditor, To: domain.RoleAdmin, ChangedBy: 1}
	cases := []struct {
		name   string
		acc    *domain.Account
		decide func(a *domain.Account) ([]domain.Event, error)
		want   []domain.Event
		code   string
	}{
		{"promote a viewer", team(), func(a *domain.Account) ([]domain.Event, error) { return a.ChangeRole(1, 3, domain.RoleEditor) },
			[]domain.Event{&domain.MemberRoleChanged{UserID: 3, From: domain.RoleViewer, To: domain.RoleEditor, ChangedBy: 1}}, ""},
		{"the same role decides nothing", team(), func(a *domain.Account) ([]domain.Event, error) { return a.ChangeRole(1, 3, domain.RoleViewer) },
			nil, ""},
		{"an unknown role", team(), func(a *domain.Account) ([]domain.Event, error) { return a.ChangeRole(1, 3, "OWNER") },
			nil, domain.ErrInvalid},
		{"demote the last ADMIN", team(), func(a *domain.Account) ([]domain.Event, error) { return a.ChangeRole(1, 1, domain.RoleEditor) },
			nil, domain.ErrConflict},
		{"demote an ADMIN when another remains", team(secondAdmin), func(a *domain.Account) ([]domain.Event, error) { return a.ChangeRole(2, 1, domain.RoleViewer) },
			[]domain.Event{&domain.MemberRoleChanged{UserID: 1, From: domain.RoleAdmin, To: domain.RoleViewer, ChangedBy: 2}}, ""},
		{"another account's user", team(), func(a *domain.Account) ([]domain.Event, error) { return a.ChangeRole(1, 99, domain.RoleEditor) },
			nil, domain.ErrNotFound},
		{"an EDITOR changes roles", team(), func(a *domain.Account) ([]domain.Event, error) { return a.ChangeRole(2, 3, domain.RoleEditor) },
			nil, domain.ErrForbidden},
		{"someone outside the account changes roles", team(), func(a *domain.Account) ([]domain.Event, error) { return a.ChangeRole(99, 3, domain.RoleEditor) },
			nil, domain.ErrForbidden},
		{"an ADMIN demoted a moment ago changes roles", team(secondAdmin, &domain.MemberRoleChanged{UserID: 1, From: domain.RoleAdmin, To: domain.RoleViewer, ChangedBy: 2}),
			func(a *domain.Account) ([]domain.Event, error) { return a.ChangeRole(1, 3, domain.RoleAdmin) }, nil, domain.ErrForbidden},

		{"remove a member", team(), func(a *domain.Account) ([]domain.Event, error) { return a.RemoveMember(1, 3) },
			[]domain.Event{&domain.MemberRemoved{UserID: 3, Email: "viewer@example.com", Role: domain.RoleViewer, RemovedBy: 1}}, ""},
		{"remove the last ADMIN", team(), func(a *domain.Account) ([]domain.Event, error) { return a.RemoveMember(1, 1) },
			nil, domain.ErrConflict},
		{"an ADMIN leaves when another remains", team(secondAdmin), func(a *domain.Account) ([]domain.Event, error) { return a.RemoveMember(1, 1) },
			[]domain.Event{&domain.MemberRemoved{UserID: 1, Email: "owner@example.com", Role: domain.RoleAdmin, RemovedBy: 1}}, ""},
		{"remove another account's user", team(), func(a *domain.Account) ([]domain.Event, error) { return a.RemoveMember(1, 99) },
			nil, domain.ErrNotFound},
		{"remove a removed member", team(&domain.MemberRemoved{UserID: 3, Email: "viewer@example.com", RemovedBy: 1}),
			func(a *domain.Account) ([]domain.Event, error) { return a.RemoveMember(1, 3) }, nil, domain.ErrNotFound},
		{"a VIEWER removes someone", team(), func(a *domain.Account) ([]domain.Event, error) { return a.RemoveMember(3, 2) },
			nil, domain.ErrForbidden},

		{"revoke a pending invitation", team(), func(a *domain.Account) ([]domain.Event, error) { return a.RevokeInvite(1, 10) },
			[]domain.Event{&domain.InviteRevoked{InviteID: 10, Email: "new@example.com", RevokedBy: 1}}, ""},
		{"revoke an expired invitation", team(), func(a *domain.Account) ([]domain.Event, error) { return a.RevokeInvite(1, 12) },
			[]domain.Event{&domain.InviteRevoked{InviteID: 12, Email: "late@example.com", RevokedBy: 1}}, ""},
		{"revoke a revoked invitation", team(), func(a *domain.Account) ([]domain.Event, error) { return a.RevokeInvite(1, 13) },
			nil, domain.ErrNotFound},
		{"revoke an accepted invitation", team(), func(a *domain.Account) ([]domain.Event, error) { return a.RevokeInvite(1, 11) },
			nil, domain.ErrConflict},
		{"revoke another account's invitation", team(), func(a *domain.Account) ([]domain.Event, error) { return a.RevokeInvite(1, 99) },
			nil, domain.ErrNotFound},
		{"an EDITOR revokes", team(), func(a *domain.Account) ([]domain.Event, error) { return a.RevokeInvite(2, 10) },
			nil, domain.ErrForbidden},

		{"resend a pending invitation", team(), func(a *domain.Account) ([]domain.Event, error) { return a.ResendInvite(1, 10, 20, teamNow) },
			[]domain.Event{&domain.InviteResent{InviteID: 10, NewInviteID: 20, Email: "new@example.com", Role: domain.RoleViewer, ResentBy: 1, ExpiresAt: teamNow.Add(domain.InviteTTL)}}, ""},
		{"resend an expired invitation", team(), func(a *domain.Account) ([]domain.Event, error) { return a.ResendInvite(1, 12, 20, teamNow) },
			[]domain.Event{&domain.InviteResent{InviteID: 12, NewInviteID: 20, Email: "late@example.com", Role: domain.RoleEditor, ResentBy: 1, ExpiresAt: teamNow.Add(domain.InviteTTL)}}, ""},
		{"resend a replaced invitation", team(&domain.InviteResent{InviteID: 10, NewInviteID: 20, Email: "new@example.com", Role: domain.RoleViewer, ResentBy: 1, ExpiresAt: teamNow.Add(time.Hour)}),
			func(a *domain.Account) ([]domain.Event, error) { return a.ResendInvite(1, 10, 21, teamNow) }, nil, domain.ErrNotFound},
		{"resend an accepted invitation", team(), func(a *domain.Account) ([]domain.Event, error) { return a.ResendInvite(1, 11, 20, teamNow) },
			nil, domain.ErrConflict},
		{"an EDITOR resends", team(), func(a *domain.Account) ([]domain.Event, error) { return a.ResendInvite(2, 10, 20, teamNow) },
			nil, domain.ErrForbidden},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := c.decide(c.acc)
			if domain.ErrorCode(err) != c.code && !(c.code == "" && err == nil) {
				t.Fatalf("error %v (code %q), want code %q", err, domain.ErrorCode(err), c.code)
			}
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
		})
	}
}

// The fold: what a decision records is what the next decision sees.
func TestTeamFold(t *testing.T) {
	a := team(&domain.InviteResent{InviteID: 10, NewInviteID: 20, Email: "new@example.com", Role: domain.RoleViewer, ResentBy: 1, ExpiresAt: teamNow.Add(domain.InviteTTL)})
	if _, err := a.AcceptInvite(10, 50, teamNow); domain.ErrorCode(err) != domain.ErrNotFound {
		t.Errorf("the replaced invitation accepted: %v", err)
	}
	if _, err := a.AcceptInvite(13, 50, teamNow); domain.ErrorCode(err) != domain.ErrNotFound {
		t.Errorf("the revoked invitation accepted: %v", err)
	}
	evs, err := a.AcceptInvite(20, 50, teamNow)
	if err != nil {
		t.Fatalf("the new invitation: %v", err)
	}
	if j := evs[0].(*domain.MemberJoined); j.Email != "new@example.com" || j.Role != domain.RoleViewer {
		t.Errorf("joined as %+v", j)
	}

	a = team(&domain.MemberRemoved{UserID: 3, Email: "viewer@example.com", Role: domain.RoleViewer, RemovedBy: 1})
	if _, ok := a.Members[3]; ok {
		t.Error("a removed member is still a member")
	}
	// The address can be invited again.
	if _, err := a.Invite(30, 1, "viewer@example.com", domain.RoleEditor, teamNow); err != nil {
		t.Errorf("invite a removed member again: %v", err)
	}
	a = team(&domain.MemberRoleChanged{UserID: 3, From: domain.RoleViewer, To: domain.RoleAdmin, ChangedBy: 1})
	if a.Members[3] != domain.RoleAdmin {
		t.Errorf("role after the change: %s", a.Members[3])
	}
	// Now two ADMINs: the owner may be demoted.
	if _, err := a.ChangeRole(3, 1, domain.RoleEditor); err != nil {
		t.Errorf("demote one of two ADMINs: %v", err)
	}
}

// Revoked and replaced invitations do not count against the plan's users.
func TestTeamInvitesCountAgainstPlan(t *testing.T) {
	a := domain.NewAccount()
	a.Apply(&domain.AccountOpened{AccountID: 1, Name: "Free", Plan: domain.PlanFree, OwnerUserID: 1})
	a.Apply(&domain.MemberJoined{UserID: 1, Email: "owner@example.com", Role: domain.RoleAdmin})
	max := a.Limits().MaxUsers
	for i := 1; i < max; i++ {
		a.Apply(&domain.MemberInvited{InviteID: int64(i), Email: "p" + string(rune('a'+i)) + "@example.com", Role: domain.RoleViewer, ExpiresAt: teamNow.Add(time.Hour)})
	}
	if _, err := a.Invite(100, 1, "full@example.com", domain.RoleViewer, teamNow); domain.ErrorCode(err) != domain.ErrLimit {
		t.Fatalf("invite past the plan: %v", err)
	}
	if max > 1 {
		if _, err := a.ResendInvite(1, 1, 101, teamNow); err != nil {
			t.Errorf("resend on a full plan (it replaces itself): %v", err)
		}
		a.Apply(&domain.InviteRevoked{InviteID: 1, RevokedBy: 1})
		if _, err := a.Invite(100, 1, "full@example.com", domain.RoleViewer, teamNow); err != nil {
			t.Errorf("invite after a revocation freed a place: %v", err)
		}
	}
}

// ScopesFor offers exactly the scopes CreateAPIKey accepts for the role.
func TestScopesFor(t *testing.T) {
	for _, role := range []domain.Role{domain.RoleAdmin, domain.RoleEditor, domain.RoleViewer} {
		offered := map[domain.Scope]bool{}
		for _, s := range domain.ScopesFor(role) {
			offered[s] = true
		}
		for _, s := range domain.Scopes() {
			_, err := domain.CreateAPIKey(1, 1, 1, role, domain.NewAPIKeyRequest{Name: "k", Scopes: []string{string(s)}}, "h", "p", teamNow)
			if (err == nil) != offered[s] {
				t.Errorf("%s, scope %s: offered %v, CreateAPIKey error %v", role, s, offered[s], err)
			}
		}
	}
	if n := len(domain.ScopesFor(domain.RoleViewer)); n != 5 {
		t.Errorf("a VIEWER is offered %d scopes, want the 5 read scopes", n)
	}
}
