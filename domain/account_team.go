package domain

import "time"

// The team's decisions: an ADMIN changes a member's role, removes a
// member, withdraws or resends an invitation. Every decision is made on the
// account's own stream, so a member or invitation of another account is
// simply not found, and the last ADMIN is counted on the state the append
// is checked against (two admins demoting each other at once: one wins).

// MemberRoleChanged gives a member another role.
type MemberRoleChanged struct {
	UserID    int64 `json:"user_id"`
	From      Role  `json:"from"`
	To        Role  `json:"to"`
	ChangedBy int64 `json:"changed_by"`
}

// MemberRemoved takes a member out of the account: their logins, sessions
// and API keys stop working at once (authentication re-reads the member's
// role on every request), and their address is free to be invited again.
type MemberRemoved struct {
	UserID    int64  `json:"user_id"`
	Email     string `json:"email"`
	Role      Role   `json:"role"`
	RemovedBy int64  `json:"removed_by"`
}

// InviteRevoked withdraws a pending invitation; its token stops working.
type InviteRevoked struct {
	InviteID  int64  `json:"invite_id"`
	Email     string `json:"email"`
	RevokedBy int64  `json:"revoked_by"`
}

// InviteResent replaces a pending (or expired) invitation with a new one
// to the same address and role: a new invitation id, so a new token (the
// token is derived from the id), and a new expiry. The old token stops
// working, so only the latest email's link is good.
type InviteResent struct {
	InviteID    int64     `json:"invite_id"`
	NewInviteID int64     `json:"new_invite_id"`
	Email       string    `json:"email"`
	Role        Role      `json:"role"`
	ResentBy    int64     `json:"resent_by"`
	ExpiresAt   time.Time `json:"expires_at"`
}

func (MemberRoleChanged) EventType() string { return EvMemberRoleChanged }
func (MemberRoleChanged) EventVersion() int { return 1 }
func (MemberRemoved) EventType() string     { return EvMemberRemoved }
func (MemberRemoved) EventVersion() int     { return 1 }
func (InviteRevoked) EventType() string     { return EvInviteRevoked }
func (InviteRevoked) EventVersion() int     { return 1 }
func (InviteResent) EventType() string      { return EvInviteResent }
func (InviteResent) EventVersion() int      { return 1 }

// Email returns the address of member userID, or "".
func (a *Account) Email(userID int64) string {
	for email, id := range a.Emails {
		if id == userID {
			return email
		}
	}
	return ""
}

// admins counts the account's ADMINs.
func (a *Account) admins() int {
	n := 0
	for _, r := range a.Members {
		if r == RoleAdmin {
			n++
		}
	}
	return n
}

// requireAdmin checks that by is one of the account's ADMINs, as the log
// says (not only as the caller's credentials said a moment ago).
func (a *Account) requireAdmin(by int64) error {
	if a.Members[by] != RoleAdmin {
		return Errorf(ErrForbidden, "only the account's ADMINs manage the team")
	}
	return nil
}

// member returns the role of userID, or ErrNotFound: a user of another
// account is indistinguishable from none.
func (a *Account) member(userID int64) (Role, error) {
	role, ok := a.Members[userID]
	if !ok {
		return "", Errorf(ErrNotFound, "member not found")
	}
	return role, nil
}

// lastAdmin is the refusal to leave the account without an ADMIN.
func lastAdmin(what string) error {
	return Errorf(ErrConflict, "this is the account's only ADMIN, who cannot be %s: make another member ADMIN first", what)
}

// ChangeRole decides that member userID gets role.
func (a *Account) ChangeRole(by, userID int64, role Role) ([]Event, error) {
	if err := a.requireAdmin(by); err != nil {
		return nil, err
	}
	if role.rank() == 0 {
		return nil, Invalid("role", "enum", "role must be one of ADMIN, EDITOR, VIEWER")
	}
	from, err := a.member(userID)
	if err != nil {
		return nil, err
	}
	if from == role {
		return nil, nil
	}
	if from == RoleAdmin && a.admins() == 1 {
		return nil, lastAdmin("demoted")
	}
	return []Event{&MemberRoleChanged{UserID: userID, From: from, To: role, ChangedBy: by}}, nil
}

// RemoveMember decides that member userID leaves the account.
func (a *Account) RemoveMember(by, userID int64) ([]Event, error) {
	if err := a.requireAdmin(by); err != nil {
		return nil, err
	}
	role, err := a.member(userID)
	if err != nil {
		return nil, err
	}
	if role == RoleAdmin && a.admins() == 1 {
		return nil, lastAdmin("removed")
	}
	return []Event{&MemberRemoved{UserID: userID, Email: a.Email(userID), Role: role, RemovedBy: by}}, nil
}

// openInvite returns invitation id if it can still be revoked or resent.
func (a *Account) openInvite(id int64) (*Invite, error) {
	inv := a.Invites[id]
	switch {
	case inv == nil || inv.Revoked:
		return nil, Errorf(ErrNotFound, "invitation not found")
	case inv.Accepted:
		return nil, Errorf(ErrConflict, "%s has already accepted this invitation; manage them as a member", inv.Email)
	}
	return inv, nil
}

// RevokeInvite decides that invitation inviteID is withdrawn. An expired
// one may be withdrawn too (it then leaves the list).
func (a *Account) RevokeInvite(by, inviteID int64) ([]Event, error) {
	if err := a.requireAdmin(by); err != nil {
		return nil, err
	}
	inv, err := a.openInvite(inviteID)
	if err != nil {
		return nil, err
	}
	return []Event{&InviteRevoked{InviteID: inviteID, Email: inv.Email, RevokedBy: by}}, nil
}

// ResendInvite decides that invitation inviteID is replaced by newID, with
// a fresh expiry from now. An expired invitation can be resent, if the
// plan has room for it again.
func (a *Account) ResendInvite(by, inviteID, newID int64, now time.Time) ([]Event, error) {
	if err := a.requireAdmin(by); err != nil {
		return nil, err
	}
	inv, err := a.openInvite(inviteID)
	if err != nil {
		return nil, err
	}
	if _, member := a.Emails[inv.Email]; member {
		return nil, Errorf(ErrConflict, "%s is already a member of this account", inv.Email)
	}
	used := len(a.Members) + a.pendingInvites(now)
	if now.Before(inv.ExpiresAt) {
		used-- // it replaces itself
	}
	if !WithinLimit(a.Limits().MaxUsers, used) {
		return nil, Errorf(ErrLimit, "plan %s allows %d users (members plus pending invites); upgrade to invite more", a.Plan, a.Limits().MaxUsers)
	}
	return []Event{&InviteResent{InviteID: inviteID, NewInviteID: newID, Email: inv.Email, Role: inv.Role, ResentBy: by, ExpiresAt: now.Add(InviteTTL)}}, nil
}
