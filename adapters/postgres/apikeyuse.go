package postgres

import (
	"context"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
)

// APIKeyUse records when API keys were last used (schema/0012): telemetry,
// not events, written at most once a minute per key.
type APIKeyUse struct {
	db *sqlx.DB
	mu sync.Mutex
	// recent is each key's use as last recorded, as this process saw
	// it, so a busy key costs no round trip until a minute after it; the
	// conditional upsert keeps replicas from writing more often than once
	// a minute between them.
	recent map[int64]time.Time
}

// NewAPIKeyUse returns the recorder over db.
func NewAPIKeyUse(db *sqlx.DB) *APIKeyUse { return &APIKeyUse{db: db, recent: map[int64]time.Time{}} }

// useInterval is how stale a recorded last use may be.
const useInterval = time.Minute

// Touch records that key keyID was used at at, unless a use less than a
// minute before at is already recorded: one write a minute per busy key.
func (u *APIKeyUse) Touch(ctx context.Context, keyID int64, at time.Time) error {
	u.mu.Lock()
	if last, ok := u.recent[keyID]; ok && at.Sub(last) <= useInterval {
		u.mu.Unlock()
		return nil
	}
	if len(u.recent) > 100_000 {
		u.recent = map[int64]time.Time{} // bounded: forgetting only costs a write
	}
	u.mu.Unlock()
	// The upsert writes only past the minute; either way the statement
	// returns the use now recorded, which this process remembers.
	var recorded time.Time
	err := u.db.GetContext(ctx, &recorded, `WITH up AS (
			INSERT INTO api_key_use (key_id, last_used_at) VALUES ($1, $2)
			ON CONFLICT (key_id) DO UPDATE SET last_used_at = EXCLUDED.last_used_at
			WHERE api_key_use.last_used_at < EXCLUDED.last_used_at - interval '1 minute'
			RETURNING last_used_at)
		SELECT last_used_at FROM up
		UNION ALL SELECT last_used_at FROM api_key_use WHERE key_id = $1 AND NOT EXISTS (SELECT 1 FROM up)`, keyID, at.UTC())
	if err != nil {
		return err
	}
	u.mu.Lock()
	u.recent[keyID] = recorded
	u.mu.Unlock()
	return nil
}
