package projections_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"golang.org/x/crypto/bcrypt"

	"github.com/medialuna/medialuna/commands"
	"github.com/medialuna/medialuna/domain"
	"github.com/medialuna/medialuna/projections"
)

// TestUsersFollowProfileChanges: the users read model takes a rename, a
// password change (its hash, and the time before which tokens are
// refused) and two-factor on and off from the log.
func TestUsersFollowProfileChanges(t *testing.T) {
	f := newFixture(t)
	f.run(t, projections.Accounts{})
	ctx := context.Background()
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	res, err := commands.NewSignupHandler(f.store, f.ids, clock).Handle(ctx, commands.Signup{Email: "u@example.com", Password: "correct horse", AccountName: "A"})
	if err != nil {
		t.Fatal(err)
	}
	actor := commands.Actor{Type: domain.ActorUser, ID: res.UserID, AccountID: res.AccountID}
	if _, err := commands.NewRenameUserHandler(f.store, clock).Handle(ctx, commands.RenameUser{Actor: actor, FullName: "Una"}); err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Minute)
	pos, err := commands.NewChangePasswordHandler(f.store, clock).Handle(ctx, commands.ChangePassword{Actor: actor,
		CurrentPassword: "correct horse", NewPassword: "battery staple"})
	if err != nil {
		t.Fatal(err)
	}
	// Two-factor on, written as the commands would (the code check is
	// theirs, tested with them).
	on, err := f.store.Append(ctx, domain.UserStream(res.UserID), domain.AnyVersion, mustEncode(t, &domain.TwoFactorEnabled{UserID: res.UserID, Secret: "S", Step: 1}, res.AccountID, now))
	if err != nil {
		t.Fatal(err)
	}
	if on.Position.Less(pos) {
		t.Fatal("positions out of order")
	}
	f.wait(t, []string{"accounts"}, on.Position)
	u, err := f.queries.User(ctx, res.AccountID, res.UserID)
	if err != nil {
		t.Fatal(err)
	}
	if u.FullName != "Una" || !u.TwoFactor || u.TokensValidAfter == nil || !u.TokensValidAfter.Equal(now) ||
		bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte("battery staple")) != nil {
		t.Errorf("user row: %+v", u)
	}
	off, err := f.store.Append(ctx, domain.UserStream(res.UserID), domain.AnyVersion, mustEncode(t, &domain.TwoFactorDisabled{UserID: res.UserID}, res.AccountID, now))
	if err != nil {
		t.Fatal(err)
	}
	f.wait(t, []string{"accounts"}, off.Position)
	if u, _ := f.queries.User(ctx, res.AccountID, res.UserID); u.TwoFactor {
		t.Error("two-factor still on after TwoFactorDisabled")
	}
}

func mustEncode(t *testing.T, e domain.Event, accountID int64, at time.Time) domain.EventData {
	t.Helper()
	d, err := domain.Encode(e, domain.Metadata{ActorType: domain.ActorUser, AccountID: accountID, OccurredAt: at}, uuid.NewString())
	if err != nil {
		t.Fatal(err)
	}
	return d
}
