package commands

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base32"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/medialuna/medialuna/domain"
)

// Two-factor sign-in with TOTP (RFC 6238: SHA-1, six digits, 30-second
// steps, which every authenticator app reads from an otpauth:// URL).

// totpPeriod is the length of a time step, in seconds.
const totpPeriod = 30

// TOTPIssuer names the service in authenticator apps.
const TOTPIssuer = "Media Luna"

var totpOpts = totp.ValidateOpts{Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// totpMatcher is domain.CodeMatcher with pquerna/otp: a code is accepted
// for the current step and one step either side (pquerna's default skew),
// and the step it matched is returned so that it cannot be used twice.
type totpMatcher struct{ now time.Time }

func (m totpMatcher) MatchCode(secret, code string) (int64, bool) {
	step := m.now.Unix() / totpPeriod
	for _, s := range []int64{step, step - 1, step + 1} {
		want, err := totp.GenerateCodeCustom(secret, time.Unix(s*totpPeriod, 0), totpOpts)
		if err == nil && subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			return s, true
		}
	}
	return 0, false
}

// StartTwoFactor generates a secret for the acting user and keeps it
// pending until a code confirms it.
type StartTwoFactor struct {
	Actor Actor
	// Email names the login in authenticator apps.
	Email string
}

// TwoFactorEnrolment is the secret to show, once: as text for manual
// entry and as the otpauth:// URL a QR code carries.
type TwoFactorEnrolment struct {
	Secret   string
	URL      string
	Position domain.Position
}

// StartTwoFactorHandler handles StartTwoFactor.
type StartTwoFactorHandler struct {
	store domain.EventStore
	now   Clock
}

// NewStartTwoFactorHandler returns a handler.
func NewStartTwoFactorHandler(store domain.EventStore, now Clock) *StartTwoFactorHandler {
	return &StartTwoFactorHandler{store: store, now: now}
}

// Handle records the pending secret (sealed in the log) and returns it.
func (h *StartTwoFactorHandler) Handle(ctx context.Context, cmd StartTwoFactor) (TwoFactorEnrolment, error) {
	key, err := totp.Generate(totp.GenerateOpts{Issuer: TOTPIssuer, AccountName: cmd.Email, Period: totpPeriod,
		Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		return TwoFactorEnrolment{}, err
	}
	pos, err := decideUser(ctx, h.store, h.now, cmd.Actor, func(u *domain.User) ([]domain.Event, error) {
		return u.StartTwoFactor(key.Secret())
	})
	if err != nil {
		return TwoFactorEnrolment{}, err
	}
	return TwoFactorEnrolment{Secret: key.Secret(), URL: key.URL(), Position: pos}, nil
}

// ConfirmTwoFactor turns two-factor sign-in on with a code of the pending
// secret.
type ConfirmTwoFactor struct {
	Actor Actor
	Code  string
}

// RecoveryCodes are shown once, when two-factor sign-in is turned on;
// only their hashes are kept.
type RecoveryCodes struct {
	Codes    []string
	Position domain.Position
}

// ConfirmTwoFactorHandler handles ConfirmTwoFactor.
type ConfirmTwoFactorHandler struct {
	store domain.EventStore
	now   Clock
}

// NewConfirmTwoFactorHandler returns a handler.
func NewConfirmTwoFactorHandler(store domain.EventStore, now Clock) *ConfirmTwoFactorHandler {
	return &ConfirmTwoFactorHandler{store: store, now: now}
}

// newRecoveryCode is 50 random bits as ten base32 letters and digits,
// written XXXXX-XXXXX.
func newRecoveryCode() string {
	var b [10]byte
	rand.Read(b[:])
	s := base32.StdEncoding.EncodeToString(b[:])[:10]
	return s[:5] + "-" + s[5:]
}

// Handle checks the code and records TwoFactorEnabled with the hashes of
// ten fresh recovery codes, which it returns.
func (h *ConfirmTwoFactorHandler) Handle(ctx context.Context, cmd ConfirmTwoFactor) (RecoveryCodes, error) {
	codes := make([]string, domain.RecoveryCodeCount)
	hashes := make([]string, len(codes))
	for i := range codes {
		codes[i] = newRecoveryCode()
		hashes[i] = domain.HashRecoveryCode(codes[i])
	}
	pos, err := decideUser(ctx, h.store, h.now, cmd.Actor, func(u *domain.User) ([]domain.Event, error) {
		return u.ConfirmTwoFactor(totpMatcher{now: h.now()}, cmd.Code, hashes)
	})
	if err != nil {
		return RecoveryCodes{}, err
	}
	return RecoveryCodes{Codes: codes, Position: pos}, nil
}

// DisableTwoFactor turns two-factor sign-in off; it takes the password and
// a current code (or a recovery code).
type DisableTwoFactor struct {
	Actor    Actor
	Password string
	Code     string
}

// DisableTwoFactorHandler handles DisableTwoFactor.
type DisableTwoFactorHandler struct {
	store domain.EventStore
	now   Clock
}

// NewDisableTwoFactorHandler returns a handler.
func NewDisableTwoFactorHandler(store domain.EventStore, now Clock) *DisableTwoFactorHandler {
	return &DisableTwoFactorHandler{store: store, now: now}
}

// Handle records TwoFactorDisabled.
func (h *DisableTwoFactorHandler) Handle(ctx context.Context, cmd DisableTwoFactor) (domain.Position, error) {
	return decideUser(ctx, h.store, h.now, cmd.Actor, func(u *domain.User) ([]domain.Event, error) {
		return u.DisableTwoFactor(bcryptPasswords{}, totpMatcher{now: h.now()}, cmd.Password, cmd.Code)
	})
}

// UseSecondFactor is the second step of a sign-in whose password was
// right: a TOTP code or a recovery code of that user.
type UseSecondFactor struct {
	CorrelationID string
	UserID        int64
	AccountID     int64
	Code          string
}

// UseSecondFactorHandler handles UseSecondFactor.
type UseSecondFactorHandler struct {
	store domain.EventStore
	now   Clock
}

// NewUseSecondFactorHandler returns a handler.
func NewUseSecondFactorHandler(store domain.EventStore, now Clock) *UseSecondFactorHandler {
	return &UseSecondFactorHandler{store: store, now: now}
}

// Handle spends the code: TwoFactorCodeUsed with its time step, or
// RecoveryCodeUsed. Two sign-ins racing with one code meet on the user
// stream's version: the loser decides again and finds the code spent.
// A wrong code is ErrUnauthorized.
func (h *UseSecondFactorHandler) Handle(ctx context.Context, cmd UseSecondFactor) (domain.Position, error) {
	actor := Actor{Type: domain.ActorUser, ID: cmd.UserID, AccountID: cmd.AccountID, CorrelationID: cmd.CorrelationID}
	return decideUser(ctx, h.store, h.now, actor, func(u *domain.User) ([]domain.Event, error) {
		return u.UseSecondFactor(totpMatcher{now: h.now()}, cmd.Code)
	})
}
