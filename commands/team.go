package commands

import (
	"context"
	"fmt"

	"github.com/medialuna/medialuna/domain"
)

// The team commands: an ADMIN changes a member's role, removes a member,
// revokes or resends an invitation. Each decides on the actor's own
// account stream (domain.Account), so another account's member or
// invitation is not found.

// ChangeMemberRole gives member UserID the role Role.
type ChangeMemberRole struct {
	Actor  Actor
	UserID int64
	Role   string
}

// ChangeMemberRoleHandler handles ChangeMemberRole.
type ChangeMemberRoleHandler struct {
	store domain.EventStore
	now   Clock
}

// NewChangeMemberRoleHandler returns a handler.
func NewChangeMemberRoleHandler(store domain.EventStore, now Clock) *ChangeMemberRoleHandler {
	return &ChangeMemberRoleHandler{store: store, now: now}
}

// Handle records the new role; the same role records nothing (a zero position).
func (h *ChangeMemberRoleHandler) Handle(ctx context.Context, cmd ChangeMemberRole) (domain.Position, error) {
	role, err := domain.ParseRole(cmd.Role)
	if err != nil {
		return domain.Position{}, err
	}
	return decideAccount(ctx, h.store, h.now, cmd.Actor, cmd.Actor.AccountID, func(acc *domain.Account) ([]domain.Event, error) {
		return acc.ChangeRole(cmd.Actor.ID, cmd.UserID, role)
	})
}

// RemoveMember takes member UserID out of the actor's account.
type RemoveMember struct {
	Actor  Actor
	UserID int64
}

// MemberKeys finds a member's API keys (projections.Queries).
type MemberKeys interface {
	// MemberAPIKeyIDs returns the ids of the member's keys not revoked.
	MemberAPIKeyIDs(ctx context.Context, accountID, userID int64) ([]int64, error)
}

// RemoveMemberHandler handles RemoveMember.
type RemoveMemberHandler struct {
	store  domain.EventStore
	now    Clock
	keys   MemberKeys
	revoke *RevokeAPIKeyHandler
}

// NewRemoveMemberHandler returns a handler; keys (nil: none) finds the
// member's API keys to revoke.
func NewRemoveMemberHandler(store domain.EventStore, now Clock, keys MemberKeys) *RemoveMemberHandler {
	return &RemoveMemberHandler{store: store, now: now, keys: keys, revoke: NewRevokeAPIKeyHandler(store, now)}
}

// Handle records the removal, then gives the member's address back so it
// can be invited again (or sign up for an account of its own) and revokes
// their API keys, which frees the plan's key slots. The member's
// credentials stop working with the read model's update anyway: every
// request re-reads the member's role; the caller ends dashboard sessions.
// An error after the removal is recorded comes with its position.
func (h *RemoveMemberHandler) Handle(ctx context.Context, cmd RemoveMember) (domain.Position, error) {
	var removed *domain.MemberRemoved
	pos, err := decideAccount(ctx, h.store, h.now, cmd.Actor, cmd.Actor.AccountID, func(acc *domain.Account) ([]domain.Event, error) {
		evs, err := acc.RemoveMember(cmd.Actor.ID, cmd.UserID)
		if err == nil {
			removed = evs[0].(*domain.MemberRemoved)
		}
		return evs, err
	})
	if err != nil {
		return domain.Position{}, err
	}
	ctx = context.WithoutCancel(ctx)
	if removed.Email != "" {
		if err := releaseEmail(ctx, h.store, h.now(), cmd.UserID, removed.Email, cmd.Actor); err != nil {
			return pos, fmt.Errorf("member removed, but releasing %s failed: %w", removed.Email, err)
		}
	}
	if h.keys == nil {
		return pos, nil
	}
	ids, err := h.keys.MemberAPIKeyIDs(ctx, cmd.Actor.AccountID, cmd.UserID)
	if err != nil {
		return pos, fmt.Errorf("member removed, but listing their API keys failed: %w", err)
	}
	for _, id := range ids {
		// The account's ADMIN (the domain checked it) revokes the key.
		kpos, err := h.revoke.Handle(ctx, RevokeAPIKey{Actor: cmd.Actor, Role: domain.RoleAdmin, KeyID: id})
		if err != nil {
			return pos, fmt.Errorf("member removed, but revoking their API key %d failed: %w", id, err)
		}
		if pos.Less(kpos) {
			pos = kpos
		}
	}
	return pos, nil
}

// RevokeInvite withdraws invitation InviteID.
type RevokeInvite struct {
	Actor    Actor
	InviteID int64
}

// RevokeInviteHandler handles RevokeInvite.
type RevokeInviteHandler struct {
	store domain.EventStore
	now   Clock
}

// NewRevokeInviteHandler returns a handler.
func NewRevokeInviteHandler(store domain.EventStore, now Clock) *RevokeInviteHandler {
	return &RevokeInviteHandler{store: store, now: now}
}

// Handle records the revocation; the invitation's token stops working.
func (h *RevokeInviteHandler) Handle(ctx context.Context, cmd RevokeInvite) (domain.Position, error) {
	return decideAccount(ctx, h.store, h.now, cmd.Actor, cmd.Actor.AccountID, func(acc *domain.Account) ([]domain.Event, error) {
		return acc.RevokeInvite(cmd.Actor.ID, cmd.InviteID)
	})
}

// ResendInvite replaces invitation InviteID with a new one, mailed again.
type ResendInvite struct {
	Actor    Actor
	InviteID int64
}

// ResendInviteHandler handles ResendInvite.
type ResendInviteHandler struct {
	store domain.EventStore
	ids   IDs
	now   Clock
}

// NewResendInviteHandler returns a handler.
func NewResendInviteHandler(store domain.EventStore, ids IDs, now Clock) *ResendInviteHandler {
	return &ResendInviteHandler{store: store, ids: ids, now: now}
}

// Handle records the new invitation and returns its id; the invite mailer
// sends it. The old token stops working.
func (h *ResendInviteHandler) Handle(ctx context.Context, cmd ResendInvite) (int64, domain.Position, error) {
	newID, err := h.ids.Next(ctx, "invite")
	if err != nil {
		return 0, domain.Position{}, err
	}
	pos, err := decideAccount(ctx, h.store, h.now, cmd.Actor, cmd.Actor.AccountID, func(acc *domain.Account) ([]domain.Event, error) {
		return acc.ResendInvite(cmd.Actor.ID, cmd.InviteID, newID, h.now())
	})
	return newID, pos, err
}
