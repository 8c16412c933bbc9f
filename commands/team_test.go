package commands_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/medialuna/medialuna/adapters/postgres"
	"github.com/medialuna/medialuna/commands"
	"github.com/medialuna/medialuna/domain"
	"github.com/medialuna/medialuna/test/testdb"
)

// TestTeamCommands over a real event store: two ADMINs demoting each other
// at the same moment leave the account with exactly one ADMIN; a removed
// member's address can be invited and accepted again; a resent
// invitation's old token is refused and its new one works.
func TestTeamCommands(t *testing.T) {
	db := testdb.New(t)
	store := postgres.NewEventStore(db.DB, db.URL, testdb.Logger(t))
	ids := postgres.NewIDs(db.DB)
	ctx := context.Background()
	tokens := commands.NewInviteTokens([]byte("test secret"))
	signup := commands.NewSignupHandler(store, ids, time.Now)
	invite := commands.NewInviteMemberHandler(store, ids, time.Now)
	accept := commands.NewAcceptInviteHandler(store, ids, time.Now, tokens)
	change := commands.NewChangeMemberRoleHandler(store, time.Now)
	remove := commands.NewRemoveMemberHandler(store, time.Now, nil)
	resend := commands.NewResendInviteHandler(store, ids, time.Now)
	revoke := commands.NewRevokeInviteHandler(store, time.Now)

	owner, err := signup.Handle(ctx, commands.Signup{Email: "owner@example.com", Password: "long enough pw", AccountName: "Team"})
	if err != nil {
		t.Fatal(err)
	}
	admin := commands.Actor{Type: domain.ActorUser, ID: owner.UserID, AccountID: owner.AccountID}
	join := func(email string) int64 {
		t.Helper()
		id, _, err := invite.Handle(ctx, commands.InviteMember{Actor: admin, Email: email, Role: "EDITOR"})
		if err != nil {
			t.Fatal(err)
		}
		res, err := accept.Handle(ctx, commands.AcceptInvite{Token: tokens.Sign(owner.AccountID, id), Password: "long enough pw"})
		if err != nil {
			t.Fatal(err)
		}
		return res.UserID
	}
	second := join("second@example.com")
	if _, err := change.Handle(ctx, commands.ChangeMemberRole{Actor: admin, UserID: second, Role: "ADMIN"}); err != nil {
		t.Fatal(err)
	}
	other := commands.Actor{Type: domain.ActorUser, ID: second, AccountID: owner.AccountID}

	var wg sync.WaitGroup
	errs := make([]error, 2)
	start := make(chan struct{})
	for i, c := range []commands.ChangeMemberRole{{Actor: admin, UserID: second, Role: "VIEWER"}, {Actor: other, UserID: owner.UserID, Role: "VIEWER"}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, errs[i] = change.Handle(ctx, c)
		}()
	}
	close(start)
	wg.Wait()
	if (errs[0] == nil) == (errs[1] == nil) {
		t.Fatalf("two ADMINs demoting each other: %v, %v; want exactly one winner", errs[0], errs[1])
	}
	acc := domain.NewAccount()
	recs, err := store.ReadStream(ctx, domain.AccountStream(owner.AccountID))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if ev, err := domain.DecodeRecorded(r); err == nil && ev != nil {
			acc.Apply(ev)
		}
	}
	admins := 0
	for _, r := range acc.Members {
		if r == domain.RoleAdmin {
			admins++
		}
	}
	if admins != 1 {
		t.Errorf("ADMINs after the race: %d, want 1 (%v)", admins, acc.Members)
	}

	// Remove the editor, then invite the same address again.
	winner := admin
	if errs[0] != nil {
		winner = other
	}
	third := join("third@example.com")
	if _, err := remove.Handle(ctx, commands.RemoveMember{Actor: winner, UserID: third}); err != nil {
		t.Fatal(err)
	}
	again := join("third@example.com")
	if again == third {
		t.Error("the address came back as the same user")
	}
	if _, err := remove.Handle(ctx, commands.RemoveMember{Actor: winner, UserID: again}); err != nil {
		t.Fatal(err) // the FREE plan's third place, for what follows
	}

	// Resend: the old token is refused, the new one works.
	old, _, err := invite.Handle(ctx, commands.InviteMember{Actor: winner, Email: "fourth@example.com", Role: "VIEWER"})
	if err != nil {
		t.Fatal(err)
	}
	fresh, _, err := resend.Handle(ctx, commands.ResendInvite{Actor: winner, InviteID: old})
	if err != nil || fresh == old {
		t.Fatalf("resend: %d, %v", fresh, err)
	}
	if _, err := accept.Handle(ctx, commands.AcceptInvite{Token: tokens.Sign(owner.AccountID, old), Password: "long enough pw"}); domain.ErrorCode(err) != domain.ErrNotFound {
		t.Errorf("the replaced token: %v", err)
	}
	if _, err := revoke.Handle(ctx, commands.RevokeInvite{Actor: winner, InviteID: fresh}); err != nil {
		t.Fatal(err)
	}
	if _, err := accept.Handle(ctx, commands.AcceptInvite{Token: tokens.Sign(owner.AccountID, fresh), Password: "long enough pw"}); domain.ErrorCode(err) != domain.ErrNotFound {
		t.Errorf("the revoked token: %v", err)
	}
	// A refused token claimed nothing: a new invitation to the address works.
	last, _, err := invite.Handle(ctx, commands.InviteMember{Actor: winner, Email: "fourth@example.com", Role: "VIEWER"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := accept.Handle(ctx, commands.AcceptInvite{Token: tokens.Sign(owner.AccountID, last), Password: "long enough pw"}); err != nil {
		t.Errorf("a new invitation after a revoked one: %v", err)
	}
}
