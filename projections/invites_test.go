package projections_test

import (
	"context"
	"testing"
	"time"

	"github.com/medialuna/medialuna/commands"
	"github.com/medialuna/medialuna/domain"
	"github.com/medialuna/medialuna/projections"
)

// TestInvitesKeepWhatBecameOfThem: a withdrawn invitation and one replaced
// by a resend stay in the read model, marked, so an old link can say why
// it no longer works; neither is pending, the replacement is.
func TestInvitesKeepWhatBecameOfThem(t *testing.T) {
	f := newFixture(t)
	f.run(t, projections.Accounts{})
	ctx := context.Background()
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	res, err := commands.NewSignupHandler(f.store, f.ids, clock).Handle(ctx, commands.Signup{Email: "admin@example.com", Password: "correct horse", AccountName: "A"})
	if err != nil {
		t.Fatal(err)
	}
	admin := commands.Actor{Type: domain.ActorUser, ID: res.UserID, AccountID: res.AccountID}
	invite := commands.NewInviteMemberHandler(f.store, f.ids, clock)
	gone, _, err := invite.Handle(ctx, commands.InviteMember{Actor: admin, Email: "gone@example.com", Role: "VIEWER"})
	if err != nil {
		t.Fatal(err)
	}
	old, _, err := invite.Handle(ctx, commands.InviteMember{Actor: admin, Email: "again@example.com", Role: "EDITOR"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := commands.NewRevokeInviteHandler(f.store, clock).Handle(ctx, commands.RevokeInvite{Actor: admin, InviteID: gone}); err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Hour)
	fresh, pos, err := commands.NewResendInviteHandler(f.store, f.ids, clock).Handle(ctx, commands.ResendInvite{Actor: admin, InviteID: old})
	if err != nil {
		t.Fatal(err)
	}
	f.wait(t, []string{"accounts"}, pos)

	revoked, err := f.queries.Invite(ctx, res.AccountID, gone)
	if err != nil || revoked.RevokedAt == nil || revoked.ReplacedBy != nil {
		t.Errorf("the withdrawn invitation: %+v %v", revoked, err)
	}
	replaced, err := f.queries.Invite(ctx, res.AccountID, old)
	if err != nil || replaced.RevokedAt == nil || replaced.ReplacedBy == nil || *replaced.ReplacedBy != fresh {
		t.Errorf("the replaced invitation: %+v %v", replaced, err)
	}
	if _, err := f.queries.Invite(ctx, res.AccountID+1, gone); domain.ErrorCode(err) != domain.ErrNotFound {
		t.Errorf("another account's read of the invitation: %v", err)
	}
	pending, err := f.queries.PendingInvites(ctx, res.AccountID, now)
	if err != nil || len(pending) != 1 || pending[0].ID != fresh || pending[0].RevokedAt != nil {
		t.Errorf("pending invitations: %+v %v", pending, err)
	}
}
