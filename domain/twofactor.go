package domain

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"strings"
)

// Two-factor sign-in with TOTP (RFC 6238). The secret is a credential: it
// is sealed in the log (SecretBearer) like a channel's, so neither the log,
// an export nor a backup can produce codes. Recovery codes are kept as
// their SHA-256 only, and those hashes are sealed too.

// RecoveryCodeCount is how many recovery codes an enrolment hands out.
const RecoveryCodeCount = 10

// TwoFactorEnrolmentStarted holds a secret the user has been shown but not
// yet confirmed with a code: two-factor sign-in is not on yet.
type TwoFactorEnrolmentStarted struct {
	UserID int64  `json:"user_id"`
	Secret string `json:"secret"`
}

// TwoFactorEnabled turns two-factor sign-in on, with the secret the user
// confirmed, the hashes of their recovery codes and the time step of the
// confirming code (which cannot be used again).
type TwoFactorEnabled struct {
	UserID             int64    `json:"user_id"`
	Secret             string   `json:"secret"`
	RecoveryCodeHashes []string `json:"recovery_code_hashes"`
	Step               int64    `json:"step"`
}

// TwoFactorDisabled turns it off; the secret and recovery codes are gone.
type TwoFactorDisabled struct {
	UserID int64 `json:"user_id"`
}

// TwoFactorCodeUsed records the time step of a code that signed someone
// in, so the same code cannot sign anyone in again.
type TwoFactorCodeUsed struct {
	UserID int64 `json:"user_id"`
	Step   int64 `json:"step"`
}

// RecoveryCodeUsed spends one recovery code (its position in the list).
type RecoveryCodeUsed struct {
	UserID int64 `json:"user_id"`
	Index  int   `json:"index"`
}

func (TwoFactorEnrolmentStarted) EventType() string { return EvTwoFactorEnrolmentStarted }
func (TwoFactorEnrolmentStarted) EventVersion() int { return 1 }
func (TwoFactorEnabled) EventType() string          { return EvTwoFactorEnabled }
func (TwoFactorEnabled) EventVersion() int          { return 1 }
func (TwoFactorDisabled) EventType() string         { return EvTwoFactorDisabled }
func (TwoFactorDisabled) EventVersion() int         { return 1 }
func (TwoFactorCodeUsed) EventType() string         { return EvTwoFactorCodeUsed }
func (TwoFactorCodeUsed) EventVersion() int         { return 1 }
func (RecoveryCodeUsed) EventType() string          { return EvRecoveryCodeUsed }
func (RecoveryCodeUsed) EventVersion() int          { return 1 }

// MapSecrets implements SecretBearer: the pending secret.
func (e *TwoFactorEnrolmentStarted) MapSecrets(f func(string) (string, error)) error {
	return mapString(&e.Secret, f)
}

// MapSecrets implements SecretBearer: the secret and every recovery code
// hash. The slice is replaced, never changed in place.
func (e *TwoFactorEnabled) MapSecrets(f func(string) (string, error)) error {
	if err := mapString(&e.Secret, f); err != nil {
		return err
	}
	hashes := append([]string(nil), e.RecoveryCodeHashes...)
	for i := range hashes {
		if err := mapString(&hashes[i], f); err != nil {
			return err
		}
	}
	e.RecoveryCodeHashes = hashes
	return nil
}

// CodeMatcher checks a TOTP code against a secret (pquerna/otp in the
// commands): the time step it is the code of, within the accepted skew.
type CodeMatcher interface {
	MatchCode(secret, code string) (step int64, ok bool)
}

// NormalizeCode drops the spaces and dashes people type in codes and
// upper-cases recovery codes.
func NormalizeCode(code string) string {
	return strings.ToUpper(strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '\t' {
			return -1
		}
		return r
	}, code))
}

// HashRecoveryCode is what is kept of a recovery code.
func HashRecoveryCode(code string) string {
	sum := sha256.Sum256([]byte("medialuna recovery code:" + NormalizeCode(code)))
	return hex.EncodeToString(sum[:])
}

func isTOTPCode(code string) bool {
	if len(code) != 6 {
		return false
	}
	for _, r := range code {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// StartTwoFactor decides a TwoFactorEnrolmentStarted with a fresh secret.
// Starting again replaces an unconfirmed enrolment.
func (u *User) StartTwoFactor(secret string) ([]Event, error) {
	if !u.Exists() {
		return nil, Errorf(ErrNotFound, "user not found")
	}
	if u.TwoFactor {
		return nil, Errorf(ErrConflict, "two-factor sign-in is already on; turn it off first to set it up again")
	}
	if secret == "" {
		return nil, Errorf(ErrInvalid, "no secret")
	}
	return []Event{&TwoFactorEnrolmentStarted{UserID: u.ID, Secret: secret}}, nil
}

// ConfirmTwoFactor decides a TwoFactorEnabled: the code must be the
// pending secret's, and there must be RecoveryCodeCount recovery codes.
func (u *User) ConfirmTwoFactor(m CodeMatcher, code string, recoveryHashes []string) ([]Event, error) {
	if !u.Exists() {
		return nil, Errorf(ErrNotFound, "user not found")
	}
	if u.TwoFactor {
		return nil, Errorf(ErrConflict, "two-factor sign-in is already on")
	}
	if u.PendingSecret == "" {
		return nil, Errorf(ErrConflict, "start setting up two-factor sign-in first")
	}
	if len(recoveryHashes) != RecoveryCodeCount {
		return nil, Errorf(ErrInternal, "want %d recovery codes, have %d", RecoveryCodeCount, len(recoveryHashes))
	}
	code = NormalizeCode(code)
	if !isTOTPCode(code) {
		return nil, Invalid("code", "value_error", "enter the 6-digit code your authenticator app shows")
	}
	step, ok := m.MatchCode(u.PendingSecret, code)
	if !ok {
		return nil, Invalid("code", "value_error", "that code is not right: check that your phone's clock is right and enter the code shown now")
	}
	return []Event{&TwoFactorEnabled{UserID: u.ID, Secret: u.PendingSecret, RecoveryCodeHashes: recoveryHashes, Step: step}}, nil
}

// secondFactor decides what a code spends: the TOTP step it matches (once
// only) or one unused recovery code. why says what was wrong.
func (u *User) secondFactor(m CodeMatcher, code string) (ev Event, why string) {
	code = NormalizeCode(code)
	if code == "" {
		return nil, "enter the code from your authenticator app, or a recovery code"
	}
	if isTOTPCode(code) {
		step, ok := m.MatchCode(u.Secret, code)
		if !ok {
			return nil, "wrong code: enter the code your authenticator app shows now"
		}
		if step <= u.LastStep {
			return nil, "this code was used already: wait for the next one"
		}
		return &TwoFactorCodeUsed{UserID: u.ID, Step: step}, ""
	}
	hash := HashRecoveryCode(code)
	for i, h := range u.RecoveryHashes {
		if h != "" && subtle.ConstantTimeCompare([]byte(h), []byte(hash)) == 1 {
			return &RecoveryCodeUsed{UserID: u.ID, Index: i}, ""
		}
	}
	return nil, "wrong code: that is not a code from your app nor an unused recovery code"
}

// UseSecondFactor decides the second step of a sign-in: a TOTP code not
// used before, or an unused recovery code. Anything else is
// ErrUnauthorized.
func (u *User) UseSecondFactor(m CodeMatcher, code string) ([]Event, error) {
	if !u.Exists() || !u.TwoFactor {
		return nil, Errorf(ErrUnauthorized, "wrong email or password")
	}
	ev, why := u.secondFactor(m, code)
	if ev == nil {
		return nil, Errorf(ErrUnauthorized, "%s", why)
	}
	return []Event{ev}, nil
}

// DisableTwoFactor decides a TwoFactorDisabled: it takes the password and
// a current code (or a recovery code, for a lost phone).
func (u *User) DisableTwoFactor(pw Passwords, m CodeMatcher, password, code string) ([]Event, error) {
	if !u.Exists() {
		return nil, Errorf(ErrNotFound, "user not found")
	}
	if !u.TwoFactor {
		return nil, Errorf(ErrConflict, "two-factor sign-in is already off")
	}
	var v Validation
	if !pw.Matches(u.PasswordHash, password) {
		v.Add("password", "value_error", "your password is not right")
	}
	ev, why := u.secondFactor(m, code)
	if ev == nil {
		v.Add("code", "value_error", "%s", why)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	return []Event{ev, &TwoFactorDisabled{UserID: u.ID}}, nil
}
