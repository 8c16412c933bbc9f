package commands

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"golang.org/x/crypto/bcrypt"

	"github.com/medialuna/medialuna/domain"
)

// Signup opens an account with its first user, an ADMIN.
type Signup struct {
	CorrelationID string
	Email         string
	Password      string
	FullName      string
	AccountName   string
	// ByOperator is an account the server's operator creates (medialuna
	// accounts create): the sign-up policy does not apply.
	ByOperator bool
}

// SignupResult names what was created.
type SignupResult struct {
	UserID    int64
	AccountID int64
	Position  domain.Position
}

// SignupHandler handles Signup.
type SignupHandler struct {
	store  domain.EventStore
	ids    IDs
	now    Clock
	policy domain.SignupPolicy
}

// NewSignupHandler returns a handler.
func NewSignupHandler(store domain.EventStore, ids IDs, now Clock) *SignupHandler {
	return &SignupHandler{store: store, ids: ids, now: now}
}

// WithPolicy returns the handler deciding sign-ups by policy (the zero
// policy is open).
func (h *SignupHandler) WithPolicy(policy domain.SignupPolicy) *SignupHandler {
	c := *h
	c.policy = policy
	return &c
}

// Handle validates, claims the address, registers the user and opens the
// account. The address claim comes first: it is what makes two sign-ups with
// one address end with one winner.
func (h *SignupHandler) Handle(ctx context.Context, cmd Signup) (SignupResult, error) {
	if !cmd.ByOperator && h.policy == domain.SignupClosed {
		return SignupResult{}, h.policy.MaySignUp(false)
	}
	var v domain.Validation
	email, err := domain.NormalizeEmail(cmd.Email)
	if err != nil {
		v.Add("email", "value_error.email", "%s", domain.ErrorMessage(err))
	}
	if err := domain.ValidatePassword(cmd.Password); err != nil {
		v.Add("password", "value_error", "%s", domain.ErrorMessage(err))
	}
	if _, err := domain.OpenAccount(1, 1, cmd.AccountName, email); err != nil {
		v.Add("account_name", "value_error", "%s", domain.ErrorMessage(err))
	}
	if len(cmd.FullName) > 200 {
		v.Add("full_name", "value_error", "full_name must be at most 200 characters")
	}
	if err := v.Err(); err != nil {
		return SignupResult{}, err
	}
	// The account's id comes first: the first account ever is id 1, and
	// ids are handed out once, so of two people racing to be a server's
	// first user exactly one is.
	accountID, err := h.ids.Next(ctx, "account")
	if err != nil {
		return SignupResult{}, err
	}
	if !cmd.ByOperator {
		if err := h.policy.MaySignUp(accountID == 1); err != nil {
			return SignupResult{}, err
		}
	}
	userID, err := h.ids.Next(ctx, "user")
	if err != nil {
		return SignupResult{}, err
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(cmd.Password), bcrypt.DefaultCost)
	if err != nil {
		return SignupResult{}, fmt.Errorf("hash password: %w", err)
	}
	if err := registerUser(ctx, h.store, h.now(), userID, accountID, email, strings.TrimSpace(cmd.FullName), string(hash),
		Actor{Type: domain.ActorUser, ID: userID, AccountID: accountID, CorrelationID: cmd.CorrelationID}); err != nil {
		return SignupResult{}, err
	}
	events, err := domain.OpenAccount(accountID, userID, cmd.AccountName, email)
	if err != nil {
		return SignupResult{}, err
	}
	meta := Actor{Type: domain.ActorUser, ID: userID, AccountID: accountID, CorrelationID: cmd.CorrelationID}.metadata(h.now(), accountID)
	res, err := save(ctx, h.store, domain.AccountStream(accountID), domain.NoStream, meta, events)
	if err != nil {
		return SignupResult{}, err
	}
	if pos, err := beginQuotas(ctx, h.store, accountID, meta); err == nil && res.Position.Less(pos) {
		res.Position = pos
	}
	return SignupResult{UserID: userID, AccountID: accountID, Position: res.Position}, nil
}

// beginQuotas starts a new account's quota streams empty, so its first
// creates need not wait for read models to seed them (see quotas.seed).
// Nothing else can write to them yet: the account was opened a moment ago
// and nobody holds its credentials. Best effort: without them, the first
// create of each kind seeds its stream from the read model.
func beginQuotas(ctx context.Context, store domain.EventStore, accountID int64, meta domain.Metadata) (domain.Position, error) {
	var batch []domain.StreamEvent
	for _, kind := range []domain.QuotaKind{domain.QuotaMonitors, domain.QuotaAPIKeys, domain.QuotaStatusPages, domain.QuotaTags} {
		d, err := domain.Encode(&domain.QuotaSeeded{Kind: kind, Slots: []domain.Slot{}}, meta, uuid.NewString())
		if err != nil {
			return domain.Position{}, err
		}
		batch = append(batch, domain.StreamEvent{Stream: domain.QuotaStream(accountID, kind), Event: d})
	}
	return store.AppendBatch(ctx, batch)
}

// releaseEmail gives an address back after a registration that could not
// finish, so the person can try again.
func releaseEmail(ctx context.Context, store domain.EventStore, now time.Time, userID int64, email string, actor Actor) error {
	var claim domain.EmailClaim
	version, err := load(ctx, store, domain.EmailStream(email), &claim)
	if err != nil || !claim.Claimed {
		return err
	}
	_, err = save(ctx, store, domain.EmailStream(email), version, actor.metadata(now, 0), []domain.Event{&domain.EmailReleased{UserID: userID}})
	return err
}

// registerUser claims email for the user and records the login.
func registerUser(ctx context.Context, store domain.EventStore, now time.Time, userID, accountID int64, email, fullName, hash string, actor Actor) error {
	meta := actor.metadata(now, accountID)
	var claim domain.EmailClaim
	version, err := load(ctx, store, domain.EmailStream(email), &claim)
	if err != nil {
		return err
	}
	if claim.Claimed {
		return domain.Errorf(domain.ErrConflict, "%s is already registered; log in instead", email)
	}
	_, err = save(ctx, store, domain.EmailStream(email), version, meta, []domain.Event{&domain.EmailClaimed{UserID: userID}})
	if domain.ErrorCode(err) == domain.ErrConflict {
		return domain.Errorf(domain.ErrConflict, "%s is already registered; log in instead", email)
	}
	if err != nil {
		return err
	}
	_, err = save(ctx, store, domain.UserStream(userID), domain.NoStream, meta, []domain.Event{&domain.UserRegistered{
		UserID: userID, AccountID: accountID, Email: email, FullName: fullName, PasswordHash: hash}})
	return err
}
