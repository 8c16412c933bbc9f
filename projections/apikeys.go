package projections

import (
	"context"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/medialuna/medialuna/domain"
)

// APIKeys projects API keys (hashes only) for authentication and listing.
type APIKeys struct{}

// SettlesWrites is true: a write waits until this model has applied it,
// so the writer's next read sees it.
func (APIKeys) SettlesWrites() bool { return true }

func (APIKeys) Name() string { return "api_keys" }
func (APIKeys) Version() int { return 1 }

// Handles implements EventFilter.
func (APIKeys) Handles(t string) bool {
	switch t {
	case domain.EvAPIKeyCreated, domain.EvAPIKeyRevoked:
		return true
	}
	return false
}

func (APIKeys) Tables() []string { return []string{"api_keys"} }

func (APIKeys) Setup(ctx context.Context, tx *sqlx.Tx) error {
	_, err := tx.ExecContext(ctx, `
		CREATE TABLE api_keys (
			id         BIGINT PRIMARY KEY,
			account_id BIGINT NOT NULL,
			user_id    BIGINT NOT NULL,
			name       TEXT NOT NULL,
			prefix     TEXT NOT NULL,
			key_hash   TEXT NOT NULL UNIQUE,
			scopes     TEXT[] NOT NULL,
			expires_at TIMESTAMPTZ,
			revoked_at TIMESTAMPTZ,
			created_at TIMESTAMPTZ NOT NULL);
		CREATE INDEX api_keys_account ON api_keys (account_id, id);`)
	return err
}

func (APIKeys) Apply(ctx context.Context, tx Exec, rec domain.RecordedEvent, ev domain.Event) error {
	var err error
	switch e := ev.(type) {
	case *domain.APIKeyCreated:
		scopes := make([]string, len(e.Scopes))
		for i, s := range e.Scopes {
			scopes[i] = string(s)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO api_keys (id, account_id, user_id, name, prefix, key_hash, scopes, expires_at, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING`,
			e.KeyID, e.AccountID, e.UserID, e.Name, e.Prefix, e.KeyHash, pq.Array(scopes), e.ExpiresAt, rec.Metadata.OccurredAt)
	case *domain.APIKeyRevoked:
		_, err = tx.ExecContext(ctx, `UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL`, e.KeyID, rec.Metadata.OccurredAt)
	}
	return err
}

// APIKeyRow is a key as listed: never the key itself.
type APIKeyRow struct {
	ID        int64          `db:"id" json:"id"`
	AccountID int64          `db:"account_id" json:"-"`
	UserID    int64          `db:"user_id" json:"user_id"`
	Name      string         `db:"name" json:"name"`
	Prefix    string         `db:"prefix" json:"prefix"`
	KeyHash   string         `db:"key_hash" json:"-"`
	Scopes    pq.StringArray `db:"scopes" json:"scopes"`
	ExpiresAt *time.Time     `db:"expires_at" json:"expires_at"`
	RevokedAt *time.Time     `db:"revoked_at" json:"revoked_at"`
	CreatedAt time.Time      `db:"created_at" json:"created_at"`
	// LastUsedAt is when the key last authenticated a request, to the
	// minute (schema/0012_api_key_use.sql, not the log); nil if never.
	LastUsedAt *time.Time `db:"last_used_at" json:"last_used_at"`
}
