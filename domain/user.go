package domain

import (
	"strings"
	"time"
)

// UserStream names the stream of user id.
func UserStream(id int64) string { return "user-" + itoa(id) }

// EmailStream names the stream that claims an address, so that two
// sign-ups racing for one address end with exactly one winner: the second
// append to a stream that must not exist fails with a conflict.
func EmailStream(email string) string { return "email-" + strings.ToLower(email) }

// UserRegistered creates a login. The role lives on the account
// (MemberJoined), where membership decisions are made.
type UserRegistered struct {
	UserID       int64  `json:"user_id"`
	AccountID    int64  `json:"account_id"`
	Email        string `json:"email"`
	FullName     string `json:"full_name"`
	PasswordHash string `json:"password_hash"`
}

// EmailClaimed reserves an address for a user.
type EmailClaimed struct {
	UserID int64 `json:"user_id"`
}

func (UserRegistered) EventType() string { return EvUserRegistered }
func (UserRegistered) EventVersion() int { return 1 }

// EmailReleased frees an address whose registration could not complete
// (the account it was joining refused the member), so it can be used again.
type EmailReleased struct {
	UserID int64 `json:"user_id"`
}

func (EmailClaimed) EventType() string  { return EvEmailClaimed }
func (EmailClaimed) EventVersion() int  { return 1 }
func (EmailReleased) EventType() string { return EvEmailReleased }
func (EmailReleased) EventVersion() int { return 1 }

// EmailClaim folds an address's claim stream.
type EmailClaim struct{ Claimed bool }

// Apply folds one event.
func (c *EmailClaim) Apply(e Event) {
	switch e.(type) {
	case *EmailClaimed:
		c.Claimed = true
	case *EmailReleased:
		c.Claimed = false
	}
}

// APIKeyStream names the stream of API key id.
func APIKeyStream(id int64) string { return "apikey-" + itoa(id) }

// APIKeyCreated records a key. Only the SHA-256 of the key is kept.
type APIKeyCreated struct {
	KeyID     int64      `json:"key_id"`
	AccountID int64      `json:"account_id"`
	UserID    int64      `json:"user_id"`
	Name      string     `json:"name"`
	Scopes    []Scope    `json:"scopes"`
	KeyHash   string     `json:"key_hash"`
	Prefix    string     `json:"prefix"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

// APIKeyRevoked stops a key from working.
type APIKeyRevoked struct {
	KeyID     int64 `json:"key_id"`
	RevokedBy int64 `json:"revoked_by"`
}

func (APIKeyCreated) EventType() string { return EvAPIKeyCreated }
func (APIKeyCreated) EventVersion() int { return 1 }
func (APIKeyRevoked) EventType() string { return EvAPIKeyRevoked }
func (APIKeyRevoked) EventVersion() int { return 1 }

// APIKey is the key aggregate.
type APIKey struct {
	ID        int64
	AccountID int64
	UserID    int64
	Revoked   bool
}

// Apply folds one event into the key.
func (k *APIKey) Apply(e Event) {
	switch e := e.(type) {
	case *APIKeyCreated:
		k.ID, k.AccountID, k.UserID = e.KeyID, e.AccountID, e.UserID
	case *APIKeyRevoked:
		k.Revoked = true
	}
}

// NewAPIKeyRequest is what a user asks for when creating a key.
type NewAPIKeyRequest struct {
	Name      string
	Scopes    []string
	ExpiresAt *time.Time
}

// CreateAPIKey decides an APIKeyCreated. A key can never hold a scope its
// creator's role could not use. The plan's cap on keys is decided by the
// account's quota stream (Quota.Reserve), where concurrent creates meet.
func CreateAPIKey(keyID, accountID, userID int64, role Role, req NewAPIKeyRequest, hash, prefix string, now time.Time) ([]Event, error) {
	var v Validation
	name := strings.TrimSpace(req.Name)
	if err := validateName("name", name, 100); err != nil {
		v.Add("name", "value_error", "%s", ErrorMessage(err))
	}
	if len(req.Scopes) == 0 {
		v.Add("scopes", "value_error", "scopes must list at least one scope")
	}
	seen := map[string]bool{}
	var scopes []Scope
	for _, s := range req.Scopes {
		if !ValidScope(s) {
			v.Add("scopes", "enum", "unknown scope %q; valid scopes: read:monitors, write:monitors, delete:monitors, read:incidents, read:metrics, read:account, write:account, read:maintenance, write:maintenance", s)
			continue
		}
		if seen[s] {
			continue
		}
		seen[s] = true
		if !role.Includes(ScopeRole(Scope(s))) {
			v.Add("scopes", "value_error", "scope %s needs role %s or higher; you are %s", s, ScopeRole(Scope(s)), role)
		}
		scopes = append(scopes, Scope(s))
	}
	if req.ExpiresAt != nil && !req.ExpiresAt.After(now) {
		v.Add("expires_at", "value_error", "expires_at must be in the future")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	var exp *time.Time
	if req.ExpiresAt != nil {
		t := req.ExpiresAt.UTC()
		exp = &t
	}
	return []Event{&APIKeyCreated{KeyID: keyID, AccountID: accountID, UserID: userID, Name: name, Scopes: scopes, KeyHash: hash, Prefix: prefix, ExpiresAt: exp}}, nil
}

// Revoke decides an APIKeyRevoked.
func (k *APIKey) Revoke(by int64) ([]Event, error) {
	if k.ID == 0 {
		return nil, Errorf(ErrNotFound, "API key not found")
	}
	if k.Revoked {
		return nil, nil
	}
	return []Event{&APIKeyRevoked{KeyID: k.ID, RevokedBy: by}}, nil
}

// UserRenamed changes the name a user goes by.
type UserRenamed struct {
	UserID   int64  `json:"user_id"`
	FullName string `json:"full_name"`
}

// PasswordChanged replaces a user's password hash. Access tokens issued
// before it no longer authenticate (the read model's tokens_valid_after,
// the event's time), and the user's other dashboard sessions are ended.
type PasswordChanged struct {
	UserID       int64  `json:"user_id"`
	PasswordHash string `json:"password_hash"`
}

func (UserRenamed) EventType() string     { return EvUserRenamed }
func (UserRenamed) EventVersion() int     { return 1 }
func (PasswordChanged) EventType() string { return EvPasswordChanged }
func (PasswordChanged) EventVersion() int { return 1 }

// User is the login aggregate: who someone is, their password, and their
// second factor. Its stream is user-<id>; a secret in it is sealed in the
// log and opened only by the event store the commands read through.
type User struct {
	ID           int64
	AccountID    int64
	Email        string
	FullName     string
	PasswordHash string
	// TwoFactor is on once an enrolment is confirmed; Secret is then the
	// TOTP secret (base32) and RecoveryHashes the recovery codes' hashes,
	// "" for one already used. PendingSecret is an enrolment not yet
	// confirmed.
	TwoFactor      bool
	Secret         string
	PendingSecret  string
	RecoveryHashes []string
	// LastStep is the latest TOTP time step a code was accepted for: a
	// code of that step or an earlier one is refused (no replay).
	LastStep int64
}

// Apply folds one event into the user.
func (u *User) Apply(e Event) {
	switch e := e.(type) {
	case *UserRegistered:
		u.ID, u.AccountID, u.Email, u.FullName, u.PasswordHash = e.UserID, e.AccountID, e.Email, e.FullName, e.PasswordHash
	case *UserRenamed:
		u.FullName = e.FullName
	case *PasswordChanged:
		u.PasswordHash = e.PasswordHash
	case *TwoFactorEnrolmentStarted:
		u.PendingSecret = e.Secret
	case *TwoFactorEnabled:
		u.TwoFactor, u.Secret, u.PendingSecret = true, e.Secret, ""
		u.RecoveryHashes = append([]string(nil), e.RecoveryCodeHashes...)
		u.LastStep = max(u.LastStep, e.Step)
	case *TwoFactorDisabled:
		u.TwoFactor, u.Secret, u.PendingSecret, u.RecoveryHashes = false, "", "", nil
	case *TwoFactorCodeUsed:
		u.LastStep = max(u.LastStep, e.Step)
	case *RecoveryCodeUsed:
		if e.Index >= 0 && e.Index < len(u.RecoveryHashes) {
			u.RecoveryHashes[e.Index] = ""
		}
	}
}

// Exists reports whether the user was registered.
func (u *User) Exists() bool { return u.ID != 0 }

// Passwords compares and hashes passwords: bcrypt in the commands, a
// stand-in in tests.
type Passwords interface {
	Matches(hash, password string) bool
	Hash(password string) (string, error)
}

// Rename decides a UserRenamed: a name of 1 to 200 characters on one
// line; the same name again changes nothing.
func (u *User) Rename(name string) ([]Event, error) {
	if !u.Exists() {
		return nil, Errorf(ErrNotFound, "user not found")
	}
	name = strings.TrimSpace(name)
	if err := validateName("full_name", name, 200); err != nil {
		return nil, err
	}
	if name == u.FullName {
		return nil, nil
	}
	return []Event{&UserRenamed{UserID: u.ID, FullName: name}}, nil
}

// ChangePassword decides a PasswordChanged: the current password must be
// right, and the new one must pass sign-up's rules and differ from it.
func (u *User) ChangePassword(pw Passwords, current, next string) ([]Event, error) {
	if !u.Exists() {
		return nil, Errorf(ErrNotFound, "user not found")
	}
	var v Validation
	if !pw.Matches(u.PasswordHash, current) {
		v.Add("current_password", "value_error", "your current password is not right")
	}
	if err := ValidatePassword(next); err != nil {
		v.Add("new_password", "value_error", "%s", strings.Replace(ErrorMessage(err), "password", "the new password", 1))
	} else if next == current {
		v.Add("new_password", "value_error", "the new password must differ from the current one")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	hash, err := pw.Hash(next)
	if err != nil {
		return nil, err
	}
	return []Event{&PasswordChanged{UserID: u.ID, PasswordHash: hash}}, nil
}
