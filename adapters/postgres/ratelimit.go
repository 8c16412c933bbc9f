package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"time"

	"github.com/jmoiron/sqlx"
)

// RateLimiter counts requests per key in fixed one-minute windows stored in
// PostgreSQL, so every API replica sharing the database enforces one limit.
type RateLimiter struct {
	db  *sqlx.DB
	now func() time.Time
}

// NewRateLimiter returns a limiter over db.
func NewRateLimiter(db *sqlx.DB, now func() time.Time) *RateLimiter {
	return &RateLimiter{db: db, now: now}
}

// Take counts one request for key and reports the window's count and when
// it resets. The caller decides what limit applies.
func (r *RateLimiter) Take(ctx context.Context, key int64) (count int, reset time.Time, err error) {
	window := r.now().UTC().Truncate(time.Minute)
	err = r.db.GetContext(ctx, &count, `
		INSERT INTO rate_limit_windows (account_id, window_start, requests) VALUES ($1, $2, 1)
		ON CONFLICT (account_id, window_start) DO UPDATE SET requests = rate_limit_windows.requests + 1
		RETURNING requests`, key, window)
	return count, window.Add(time.Minute), err
}

// Prune deletes windows that ended before the current one.
func (r *RateLimiter) Prune(ctx context.Context) error {
	_, err := r.db.ExecContext(ctx, `DELETE FROM rate_limit_windows WHERE window_start < $1`, r.now().UTC().Truncate(time.Minute))
	return err
}

// Secret returns the named server secret, generating and storing a random
// one the first time; replicas racing here all end up with the same value.
func Secret(ctx context.Context, db *sqlx.DB, name string) (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING`, name, hex.EncodeToString(b[:])); err != nil {
		return "", err
	}
	var v string
	err := db.GetContext(ctx, &v, `SELECT value FROM settings WHERE key = $1`, name)
	return v, err
}
