package commands

import (
	"context"
	"fmt"

	"golang.org/x/crypto/bcrypt"

	"github.com/medialuna/medialuna/domain"
)

// A user's own changes to their login: their name and password. The user
// is the actor's (Actor.ID with Type ActorUser): nobody changes someone
// else's profile.

// bcryptPasswords is domain.Passwords with bcrypt, as sign-up hashes.
type bcryptPasswords struct{}

func (bcryptPasswords) Matches(hash, password string) bool {
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) == nil
}

func (bcryptPasswords) Hash(password string) (string, error) {
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return string(h), nil
}

// decideUser runs load-decide-append on the acting user's stream.
func decideUser(ctx context.Context, store domain.EventStore, now Clock, actor Actor, fn func(*domain.User) ([]domain.Event, error)) (domain.Position, error) {
	if actor.Type != domain.ActorUser || actor.ID == 0 {
		return domain.Position{}, domain.Errorf(domain.ErrForbidden, "only a signed-in user changes their own profile")
	}
	res, err := retryOnConflict(ctx, func() (domain.AppendResult, error) {
		var u domain.User
		version, err := load(ctx, store, domain.UserStream(actor.ID), &u)
		if err != nil {
			return domain.AppendResult{}, err
		}
		if !u.Exists() || u.AccountID != actor.AccountID {
			return domain.AppendResult{}, domain.Errorf(domain.ErrNotFound, "user not found")
		}
		events, err := fn(&u)
		if err != nil {
			return domain.AppendResult{}, err
		}
		return save(ctx, store, domain.UserStream(actor.ID), version, actor.metadata(now(), actor.AccountID), events)
	})
	return res.Position, err
}

// RenameUser changes the acting user's name.
type RenameUser struct {
	Actor    Actor
	FullName string
}

// RenameUserHandler handles RenameUser.
type RenameUserHandler struct {
	store domain.EventStore
	now   Clock
}

// NewRenameUserHandler returns a handler.
func NewRenameUserHandler(store domain.EventStore, now Clock) *RenameUserHandler {
	return &RenameUserHandler{store: store, now: now}
}

// Handle records the new name (nothing when it is the same).
func (h *RenameUserHandler) Handle(ctx context.Context, cmd RenameUser) (domain.Position, error) {
	return decideUser(ctx, h.store, h.now, cmd.Actor, func(u *domain.User) ([]domain.Event, error) { return u.Rename(cmd.FullName) })
}

// ChangePassword replaces the acting user's password.
type ChangePassword struct {
	Actor           Actor
	CurrentPassword string
	NewPassword     string
}

// ChangePasswordHandler handles ChangePassword.
type ChangePasswordHandler struct {
	store domain.EventStore
	now   Clock
}

// NewChangePasswordHandler returns a handler.
func NewChangePasswordHandler(store domain.EventStore, now Clock) *ChangePasswordHandler {
	return &ChangePasswordHandler{store: store, now: now}
}

// Handle records the new password's hash. Ending the user's other sessions
// is the caller's (the dashboard's sessions are not in the log); tokens
// issued before the change stop working through the read model.
func (h *ChangePasswordHandler) Handle(ctx context.Context, cmd ChangePassword) (domain.Position, error) {
	return decideUser(ctx, h.store, h.now, cmd.Actor, func(u *domain.User) ([]domain.Event, error) {
		return u.ChangePassword(bcryptPasswords{}, cmd.CurrentPassword, cmd.NewPassword)
	})
}
