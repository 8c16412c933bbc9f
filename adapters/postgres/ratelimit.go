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

// Prune deletes windows that ended before the current one, and login
// windows older than MaxLoginWindow.
func (r *RateLimiter) Prune(ctx context.Context) error {
	if _, err := r.db.ExecContext(ctx, `DELETE FROM rate_limit_windows WHERE window_start < $1`, r.now().UTC().Truncate(time.Minute)); err != nil {
		return err
	}
	_, err := r.db.ExecContext(ctx, `DELETE FROM login_failures WHERE window_start < $1`, r.now().UTC().Add(-MaxLoginWindow))
	return err
}

// MaxLoginWindow is the longest login window Prune keeps.
const MaxLoginWindow = 24 * time.Hour

// TakeLoginAttempt counts one login attempt for login (a normalised email
// address), whoever makes it, and returns the count in its window and when
// that window ends. A window opens at the first attempt counted and lasts
// window (at most MaxLoginWindow); an attempt after it opens a new one.
// The attempt is counted before the password is checked, so concurrent
// attempts on several replicas cannot slip past the limit; ClearLogin after
// a successful login leaves only failures counted.
func (r *RateLimiter) TakeLoginAttempt(ctx context.Context, login string, window time.Duration) (count int, reset time.Time, err error) {
	window = min(window, MaxLoginWindow)
	now := r.now().UTC()
	var row struct {
		Failures int       `db:"failures"`
		Start    time.Time `db:"window_start"`
	}
	err = r.db.GetContext(ctx, &row, `
		INSERT INTO login_failures (login, window_start, failures) VALUES ($1, $2, 1)
		ON CONFLICT (login) DO UPDATE SET
			failures = CASE WHEN login_failures.window_start <= $3 THEN 1 ELSE login_failures.failures + 1 END,
			window_start = CASE WHEN login_failures.window_start <= $3 THEN $2 ELSE login_failures.window_start END
		RETURNING failures, window_start`, login, now, now.Add(-window))
	return row.Failures, row.Start.Add(window), err
}

// ClearLogin forgets the attempts counted for login.
func (r *RateLimiter) ClearLogin(ctx context.Context, login string) error {
	_, err := r.db.ExecContext(ctx, `DELETE FROM login_failures WHERE login = $1`, login)
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
