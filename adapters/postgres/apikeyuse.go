package postgres

import (
	"context"
	"time"

	"github.com/jmoiron/sqlx"
)

// APIKeyUse records when API keys were last used (schema/0012): telemetry,
// not events, written at most once a minute per key.
type APIKeyUse struct{ db *sqlx.DB }

// NewAPIKeyUse returns the recorder over db.
func NewAPIKeyUse(db *sqlx.DB) *APIKeyUse { return &APIKeyUse{db: db} }

// Touch records that key keyID was used at at, unless a use less than a
// minute before at is already recorded: one write a minute per busy key,
// decided by the row itself, so every replica shares the throttle.
func (u *APIKeyUse) Touch(ctx context.Context, keyID int64, at time.Time) error {
	_, err := u.db.ExecContext(ctx, `INSERT INTO api_key_use (key_id, last_used_at) VALUES ($1, $2)
		ON CONFLICT (key_id) DO UPDATE SET last_used_at = EXCLUDED.last_used_at
		WHERE api_key_use.last_used_at < EXCLUDED.last_used_at - interval '1 minute'`, keyID, at.UTC())
	return err
}
