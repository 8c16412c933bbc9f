package commands

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/bcrypt"

	"github.com/medialuna/medialuna/domain"
)

// InviteTokens signs and checks invitation tokens. A token is
// "<account>.<invite>.<mac>": the log stores no secret, and the mailer can
// derive the token again from the event after a restart.
type InviteTokens struct{ secret []byte }

// NewInviteTokens returns tokens signed with secret.
func NewInviteTokens(secret []byte) InviteTokens { return InviteTokens{secret: secret} }

func (t InviteTokens) mac(accountID, inviteID int64) string {
	m := hmac.New(sha256.New, t.secret)
	fmt.Fprintf(m, "invite:%d:%d", accountID, inviteID)
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// Sign returns the token for an invitation.
func (t InviteTokens) Sign(accountID, inviteID int64) string {
	return fmt.Sprintf("%d.%d.%s", accountID, inviteID, t.mac(accountID, inviteID))
}

// Verify returns the account and invitation a token names.
func (t InviteTokens) Verify(token string) (accountID, inviteID int64, err error) {
	bad := domain.Errorf(domain.ErrNotFound, "invitation not found; check the link in your email")
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return 0, 0, bad
	}
	accountID, err1 := strconv.ParseInt(parts[0], 10, 64)
	inviteID, err2 := strconv.ParseInt(parts[1], 10, 64)
	if err1 != nil || err2 != nil || !hmac.Equal([]byte(parts[2]), []byte(t.mac(accountID, inviteID))) {
		return 0, 0, bad
	}
	return accountID, inviteID, nil
}

// InviteMember invites someone to the actor's account.
type InviteMember struct {
	Actor Actor
	Email string
	Role  string
}

// InviteMemberHandler handles InviteMember.
type InviteMemberHandler struct {
	store domain.EventStore
	ids   IDs
	now   Clock
}

// NewInviteMemberHandler returns a handler.
func NewInviteMemberHandler(store domain.EventStore, ids IDs, now Clock) *InviteMemberHandler {
	return &InviteMemberHandler{store: store, ids: ids, now: now}
}

// Handle records the invitation; the invite mailer sends the email from the event.
func (h *InviteMemberHandler) Handle(ctx context.Context, cmd InviteMember) (int64, domain.Position, error) {
	role, err := domain.ParseRole(cmd.Role)
	if err != nil {
		return 0, domain.Position{}, err
	}
	if _, err := domain.NormalizeEmail(cmd.Email); err != nil {
		return 0, domain.Position{}, err
	}
	inviteID, err := h.ids.Next(ctx, "invite")
	if err != nil {
		return 0, domain.Position{}, err
	}
	pos, err := decideAccount(ctx, h.store, h.now, cmd.Actor, cmd.Actor.AccountID, func(acc *domain.Account) ([]domain.Event, error) {
		return acc.Invite(inviteID, cmd.Actor.ID, cmd.Email, role, h.now())
	})
	return inviteID, pos, err
}

// AcceptInvite turns an invitation into a login.
type AcceptInvite struct {
	CorrelationID string
	Token         string
	Password      string
	FullName      string
}

// AcceptInviteResult names the new member.
type AcceptInviteResult struct {
	UserID    int64
	AccountID int64
	Position  domain.Position
}

// AcceptInviteHandler handles AcceptInvite.
type AcceptInviteHandler struct {
	store  domain.EventStore
	ids    IDs
	now    Clock
	tokens InviteTokens
}

// NewAcceptInviteHandler returns a handler.
func NewAcceptInviteHandler(store domain.EventStore, ids IDs, now Clock, tokens InviteTokens) *AcceptInviteHandler {
	return &AcceptInviteHandler{store: store, ids: ids, now: now, tokens: tokens}
}

// Handle checks the invitation, registers the user and adds them to the account.
func (h *AcceptInviteHandler) Handle(ctx context.Context, cmd AcceptInvite) (AcceptInviteResult, error) {
	accountID, inviteID, err := h.tokens.Verify(cmd.Token)
	if err != nil {
		return AcceptInviteResult{}, err
	}
	if err := domain.ValidatePassword(cmd.Password); err != nil {
		return AcceptInviteResult{}, err
	}
	acc := domain.NewAccount()
	if _, err := load(ctx, h.store, domain.AccountStream(accountID), acc); err != nil {
		return AcceptInviteResult{}, err
	}
	userID, err := h.ids.Next(ctx, "user")
	if err != nil {
		return AcceptInviteResult{}, err
	}
	events, err := acc.AcceptInvite(inviteID, userID, h.now())
	if err != nil {
		return AcceptInviteResult{}, err
	}
	joined := events[0].(*domain.MemberJoined)
	hash, err := bcrypt.GenerateFromPassword([]byte(cmd.Password), bcrypt.DefaultCost)
	if err != nil {
		return AcceptInviteResult{}, err
	}
	actor := Actor{Type: domain.ActorUser, ID: userID, AccountID: accountID, CorrelationID: cmd.CorrelationID}
	if err := registerUser(ctx, h.store, h.now(), userID, accountID, joined.Email, strings.TrimSpace(cmd.FullName), string(hash), actor); err != nil {
		return AcceptInviteResult{}, err
	}
	// A concurrent change to the account (another invite, say) is harmless:
	// decide again on the fresh state instead of failing the user.
	pos, err := decideAccount(ctx, h.store, h.now, actor, accountID, func(acc *domain.Account) ([]domain.Event, error) {
		return acc.AcceptInvite(inviteID, userID, h.now())
	})
	if err != nil {
		// The account refused the member after the address was claimed
		// (the plan filled up meanwhile): give the address back.
		if relErr := releaseEmail(context.WithoutCancel(ctx), h.store, h.now(), userID, joined.Email, actor); relErr != nil {
			return AcceptInviteResult{}, fmt.Errorf("%w (and releasing %s failed: %v)", err, joined.Email, relErr)
		}
		return AcceptInviteResult{}, err
	}
	return AcceptInviteResult{UserID: userID, AccountID: accountID, Position: pos}, nil
}
