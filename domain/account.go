package domain

import (
	"net/mail"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// AccountStream names the stream of account id.
func AccountStream(id int64) string { return "account-" + itoa(id) }

// AccountOpened starts an account. v2 added Plan (v1 accounts were FREE).
type AccountOpened struct {
	AccountID   int64  `json:"account_id"`
	Name        string `json:"name"`
	Plan        Plan   `json:"plan"`
	OwnerUserID int64  `json:"owner_user_id"`
}

// AccountUpdated records new account settings (the full new values).
type AccountUpdated struct {
	Name     string `json:"name"`
	Timezone string `json:"timezone"`
}

// PlanChanged moves an account to another plan.
type PlanChanged struct {
	From   Plan   `json:"from"`
	To     Plan   `json:"to"`
	Reason string `json:"reason"`
}

// MemberInvited records an invitation; the token mailed out is derived from
// InviteID and a server secret, so the log never holds a usable token.
type MemberInvited struct {
	InviteID  int64     `json:"invite_id"`
	Email     string    `json:"email"`
	Role      Role      `json:"role"`
	InvitedBy int64     `json:"invited_by"`
	ExpiresAt time.Time `json:"expires_at"`
}

// MemberJoined adds a user to the account, as its owner at signup
// (InviteID 0) or by accepting an invite.
type MemberJoined struct {
	UserID   int64  `json:"user_id"`
	Email    string `json:"email"`
	Role     Role   `json:"role"`
	InviteID int64  `json:"invite_id,omitempty"`
}

func (AccountOpened) EventType() string  { return EvAccountOpened }
func (AccountOpened) EventVersion() int  { return 2 }
func (AccountUpdated) EventType() string { return EvAccountUpdated }
func (AccountUpdated) EventVersion() int { return 1 }
func (PlanChanged) EventType() string    { return EvPlanChanged }
func (PlanChanged) EventVersion() int    { return 1 }
func (MemberInvited) EventType() string  { return EvMemberInvited }
func (MemberInvited) EventVersion() int  { return 1 }
func (MemberJoined) EventType() string   { return EvMemberJoined }
func (MemberJoined) EventVersion() int   { return 1 }

// Invite is a pending or used invitation.
type Invite struct {
	ID        int64
	Email     string
	Role      Role
	ExpiresAt time.Time
	Accepted  bool
	// Revoked: withdrawn by an ADMIN, or replaced by a resent invitation;
	// its token no longer works.
	Revoked bool
}

// Account is the team aggregate: its plan, its members and their roles.
type Account struct {
	ID       int64
	Name     string
	Timezone string
	Plan     Plan
	Members  map[int64]Role
	Emails   map[string]int64 // member email -> user id
	Invites  map[int64]*Invite
	Billing  Billing
}

// NewAccount returns an empty account ready to fold events into.
func NewAccount() *Account {
	return &Account{Members: map[int64]Role{}, Emails: map[string]int64{}, Invites: map[int64]*Invite{}}
}

// Apply folds one event into the account.
func (a *Account) Apply(e Event) {
	switch e := e.(type) {
	case *AccountOpened:
		a.ID, a.Name, a.Plan, a.Timezone = e.AccountID, e.Name, e.Plan, "UTC"
	case *AccountUpdated:
		a.Name, a.Timezone = e.Name, e.Timezone
	case *PlanChanged:
		a.Plan = e.To
	case *MemberInvited:
		a.Invites[e.InviteID] = &Invite{ID: e.InviteID, Email: e.Email, Role: e.Role, ExpiresAt: e.ExpiresAt}
	case *MemberJoined:
		a.Members[e.UserID] = e.Role
		a.Emails[e.Email] = e.UserID
		if inv := a.Invites[e.InviteID]; inv != nil {
			inv.Accepted = true
		}
	case *MemberRoleChanged:
		a.Members[e.UserID] = e.To
	case *MemberRemoved:
		delete(a.Members, e.UserID)
		for email, id := range a.Emails {
			if id == e.UserID {
				delete(a.Emails, email)
			}
		}
	case *InviteRevoked:
		if inv := a.Invites[e.InviteID]; inv != nil {
			inv.Revoked = true
		}
	case *InviteResent:
		if inv := a.Invites[e.InviteID]; inv != nil {
			inv.Revoked = true
		}
		a.Invites[e.NewInviteID] = &Invite{ID: e.NewInviteID, Email: e.Email, Role: e.Role, ExpiresAt: e.ExpiresAt}
	case *BillingCustomerLinked, *SubscriptionChanged:
		a.Billing.apply(e)
	}
}

// Exists reports whether the account has been opened.
func (a *Account) Exists() bool { return a.ID != 0 }

// Limits returns the limits of the account's plan.
func (a *Account) Limits() PlanLimits {
	l, _ := LimitsOf(a.Plan)
	return l
}

// pendingInvites counts invitations that may still be accepted.
func (a *Account) pendingInvites(now time.Time) int {
	n := 0
	for _, inv := range a.Invites {
		if !inv.Accepted && !inv.Revoked && now.Before(inv.ExpiresAt) {
			n++
		}
	}
	return n
}

// InviteTTL is how long an invitation stays valid.
const InviteTTL = 7 * 24 * time.Hour

// Open decides the events that open a new account owned by a new user.
func OpenAccount(accountID, ownerID int64, name, ownerEmail string) ([]Event, error) {
	name = strings.TrimSpace(name)
	if err := validateName("account_name", name, 100); err != nil {
		return nil, err
	}
	return []Event{
		&AccountOpened{AccountID: accountID, Name: name, Plan: PlanFree, OwnerUserID: ownerID},
		&MemberJoined{UserID: ownerID, Email: ownerEmail, Role: RoleAdmin},
	}, nil
}

// Update decides an AccountUpdated from optional new values.
func (a *Account) Update(name, timezone *string, validZone func(string) bool) ([]Event, error) {
	next := AccountUpdated{Name: a.Name, Timezone: a.Timezone}
	var v Validation
	if name != nil {
		next.Name = strings.TrimSpace(*name)
		if err := validateName("name", next.Name, 100); err != nil {
			v.Add("name", "value_error", "%s", ErrorMessage(err))
		}
	}
	if timezone != nil {
		next.Timezone = *timezone
		if !validZone(next.Timezone) {
			v.Add("timezone", "value_error", "timezone must be an IANA time zone such as Europe/Madrid")
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if next.Name == a.Name && next.Timezone == a.Timezone {
		return nil, nil
	}
	return []Event{&next}, nil
}

// ChangePlan decides a plan change. Downgrades keep every resource; the
// limits only stop new creations.
func (a *Account) ChangePlan(to Plan, reason string) ([]Event, error) {
	if _, ok := LimitsOf(to); !ok {
		return nil, Invalid("plan", "enum", "plan must be one of FREE, STARTER, PRO, ENTERPRISE")
	}
	if to == a.Plan {
		return nil, nil
	}
	return []Event{&PlanChanged{From: a.Plan, To: to, Reason: reason}}, nil
}

// Invite decides an invitation for email with role.
func (a *Account) Invite(inviteID, by int64, email string, role Role, now time.Time) ([]Event, error) {
	email, err := NormalizeEmail(email)
	if err != nil {
		return nil, err
	}
	if role.rank() == 0 {
		return nil, Invalid("role", "enum", "role must be one of ADMIN, EDITOR, VIEWER")
	}
	if _, member := a.Emails[email]; member {
		return nil, Errorf(ErrConflict, "%s is already a member of this account", email)
	}
	if !WithinLimit(a.Limits().MaxUsers, len(a.Members)+a.pendingInvites(now)) {
		return nil, Errorf(ErrLimit, "plan %s allows %d users (members plus pending invites); upgrade to invite more", a.Plan, a.Limits().MaxUsers)
	}
	return []Event{&MemberInvited{InviteID: inviteID, Email: email, Role: role, InvitedBy: by, ExpiresAt: now.Add(InviteTTL)}}, nil
}

// AcceptInvite decides that userID joins through invite inviteID.
func (a *Account) AcceptInvite(inviteID, userID int64, now time.Time) ([]Event, error) {
	inv := a.Invites[inviteID]
	switch {
	case inv == nil:
		return nil, Errorf(ErrNotFound, "invitation not found")
	case inv.Revoked:
		return nil, Errorf(ErrNotFound, "this invitation was withdrawn or replaced by a newer one; use the link in the latest invitation email, or ask for a new one")
	case inv.Accepted:
		return nil, Errorf(ErrConflict, "invitation has already been accepted")
	case !now.Before(inv.ExpiresAt):
		return nil, Errorf(ErrInvalid, "invitation expired on %s; ask for a new one", inv.ExpiresAt.UTC().Format(time.RFC3339))
	}
	if !WithinLimit(a.Limits().MaxUsers, len(a.Members)) {
		return nil, Errorf(ErrLimit, "plan %s allows %d users", a.Plan, a.Limits().MaxUsers)
	}
	return []Event{&MemberJoined{UserID: userID, Email: inv.Email, Role: inv.Role, InviteID: inviteID}}, nil
}

// NormalizeEmail validates an address and returns it lower-cased.
func NormalizeEmail(s string) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Address != s || len(s) > 254 || !strings.Contains(s[strings.LastIndex(s, "@")+1:], ".") {
		return "", Invalid("email", "value_error.email", "email must be a valid address such as ana@example.com")
	}
	return s, nil
}

// ValidatePassword checks the rules a password must meet. A password made
// only of whitespace, control or invisible formatting characters is
// refused: it is a paste gone wrong, or one a person cannot type again.
func ValidatePassword(p string) error {
	switch {
	case utf8.RuneCountInString(p) < 8:
		return Invalid("password", "value_error", "password must be at least 8 characters")
	case len(p) > 72:
		return Invalid("password", "value_error", "password must be at most 72 bytes")
	case onlyBlank(p):
		return Invalid("password", "value_error", "password must not be only whitespace or control characters")
	}
	return nil
}

// onlyBlank reports whether s holds nothing visible: whitespace, control
// characters, invisible format characters (zero-width space, BOM) or
// invalid UTF-8.
func onlyBlank(s string) bool {
	for _, r := range s {
		if !unicode.IsSpace(r) && !unicode.IsControl(r) && !unicode.Is(unicode.Cf, r) && r != utf8.RuneError {
			return false
		}
	}
	return true
}

func validateName(field, s string, max int) error {
	n := utf8.RuneCountInString(s)
	if n == 0 {
		return Invalid(field, "value_error", "%s must not be empty", field)
	}
	if n > max {
		return Invalid(field, "value_error", "%s must be at most %d characters", field, max)
	}
	if strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return Invalid(field, "value_error", "%s must not contain control characters", field)
	}
	return nil
}

// itoa formats an id for stream names and messages.
func itoa(n int64) string { return strconv.FormatInt(n, 10) }
