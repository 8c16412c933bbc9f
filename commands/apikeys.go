package commands

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/medialuna/medialuna/domain"
)

// APIKeyPrefix starts every key, as the hosted product's keys do.
const APIKeyPrefix = "sk_live_"

// HashAPIKey is how keys are stored and looked up. Keys carry 256 random
// bits, so a fast hash is enough: there is nothing to brute-force.
func HashAPIKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// CreateAPIKey creates a key for the acting user.
type CreateAPIKey struct {
	Actor     Actor
	Role      domain.Role
	Plan      domain.Plan
	Name      string
	Scopes    []string
	ExpiresAt *time.Time
}

// CreatedAPIKey is the new key; Key is shown once and never stored.
type CreatedAPIKey struct {
	ID       int64
	Key      string
	Event    domain.APIKeyCreated
	Position domain.Position
}

// CreateAPIKeyHandler handles CreateAPIKey.
type CreateAPIKeyHandler struct {
	store  domain.EventStore
	ids    IDs
	now    Clock
	quotas quotas
}

// NewCreateAPIKeyHandler returns a handler. seeds counts the keys of
// accounts older than their quota stream.
func NewCreateAPIKeyHandler(store domain.EventStore, ids IDs, now Clock, seeds QuotaSeeds) *CreateAPIKeyHandler {
	return &CreateAPIKeyHandler{store: store, ids: ids, now: now, quotas: quotas{store: store, now: now, seeds: seeds}}
}

// Handle creates the key.
func (h *CreateAPIKeyHandler) Handle(ctx context.Context, cmd CreateAPIKey) (CreatedAPIKey, error) {
	now := h.now()
	var secret [32]byte
	if _, err := rand.Read(secret[:]); err != nil {
		return CreatedAPIKey{}, err
	}
	key := APIKeyPrefix + hex.EncodeToString(secret[:])
	limits, _ := domain.LimitsOf(cmd.Plan)
	req := domain.NewAPIKeyRequest{Name: cmd.Name, Scopes: cmd.Scopes, ExpiresAt: cmd.ExpiresAt}
	// Validate before taking a slot and an id, so bad input consumes nothing.
	if _, err := domain.CreateAPIKey(0, cmd.Actor.AccountID, cmd.Actor.ID, cmd.Role, req, "", "", now); err != nil {
		return CreatedAPIKey{}, err
	}
	// The plan's count is decided on the account's key quota stream; an
	// expiring key's slot frees itself when it expires.
	var slot domain.Slot
	if cmd.ExpiresAt != nil {
		exp := cmd.ExpiresAt.UTC()
		slot.ExpiresAt = &exp
	}
	id, err := h.quotas.reserve(ctx, cmd.Actor, domain.QuotaAPIKeys, limits, slot,
		func() (int64, error) { return h.ids.Next(ctx, "api_key") }, h.gone)
	if err != nil {
		return CreatedAPIKey{}, err
	}
	events, err := domain.CreateAPIKey(id, cmd.Actor.AccountID, cmd.Actor.ID, cmd.Role, req, HashAPIKey(key), key[:len(APIKeyPrefix)+4], now)
	if err != nil {
		h.quotas.release(ctx, cmd.Actor, cmd.Actor.AccountID, domain.QuotaAPIKeys, id)
		return CreatedAPIKey{}, err
	}
	res, err := save(ctx, h.store, domain.APIKeyStream(id), domain.NoStream, cmd.Actor.metadata(now, 0), events)
	if err != nil {
		h.quotas.release(ctx, cmd.Actor, cmd.Actor.AccountID, domain.QuotaAPIKeys, id)
		return CreatedAPIKey{}, err
	}
	return CreatedAPIKey{ID: id, Key: key, Event: *events[0].(*domain.APIKeyCreated), Position: res.Position}, nil
}

// liveKey is a key that exists until it is revoked.
type liveKey struct{ domain.APIKey }

func (k *liveKey) Exists() bool { return k.ID != 0 && !k.Revoked }

// gone reports whether a key holding a quota slot is gone.
func (h *CreateAPIKeyHandler) gone(ctx context.Context, s domain.Slot) (bool, error) {
	return goneFrom(ctx, h.store, h.now, domain.APIKeyStream(s.ID), &liveKey{}, s)
}

// RevokeAPIKey revokes a key of the actor's account. Members revoke their
// own keys; admins revoke anyone's.
type RevokeAPIKey struct {
	Actor Actor
	Role  domain.Role
	KeyID int64
}

// RevokeAPIKeyHandler handles RevokeAPIKey.
type RevokeAPIKeyHandler struct {
	store  domain.EventStore
	now    Clock
	quotas quotas
}

// NewRevokeAPIKeyHandler returns a handler.
func NewRevokeAPIKeyHandler(store domain.EventStore, now Clock) *RevokeAPIKeyHandler {
	return &RevokeAPIKeyHandler{store: store, now: now, quotas: quotas{store: store, now: now}}
}

// Handle revokes the key.
func (h *RevokeAPIKeyHandler) Handle(ctx context.Context, cmd RevokeAPIKey) (domain.Position, error) {
	res, err := retryOnConflict(ctx, func() (domain.AppendResult, error) {
		var key domain.APIKey
		version, err := load(ctx, h.store, domain.APIKeyStream(cmd.KeyID), &key)
		if err != nil {
			return domain.AppendResult{}, err
		}
		if key.AccountID != cmd.Actor.AccountID {
			return domain.AppendResult{}, domain.Errorf(domain.ErrNotFound, "API key not found")
		}
		if key.UserID != cmd.Actor.ID && !cmd.Role.Includes(domain.RoleAdmin) {
			return domain.AppendResult{}, domain.Errorf(domain.ErrForbidden, "only admins can revoke other members' keys")
		}
		events, err := key.Revoke(cmd.Actor.ID)
		if err != nil {
			return domain.AppendResult{}, err
		}
		return save(ctx, h.store, domain.APIKeyStream(cmd.KeyID), version, cmd.Actor.metadata(h.now(), 0), events)
	})
	if err != nil {
		return domain.Position{}, err
	}
	// After the revocation is recorded (also when it already was: a
	// release lost earlier is repaired).
	h.quotas.release(ctx, cmd.Actor, cmd.Actor.AccountID, domain.QuotaAPIKeys, cmd.KeyID)
	return res.Position, nil
}
