package postgres

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/medialuna/medialuna/domain"
)

// Sessions stores dashboard sessions in PostgreSQL, shared by every
// replica. A session is keyed by the SHA-256 of the secret in its cookie
// (schema/0010_web_sessions.sql).
type Sessions struct {
	db  *sqlx.DB
	now func() time.Time
}

// NewSessions returns the store over db.
func NewSessions(db *sqlx.DB, now func() time.Time) *Sessions {
	return &Sessions{db: db, now: now}
}

// Create stores a new session that lasts idle unless it is used.
func (s *Sessions) Create(ctx context.Context, idHash string, userID, accountID int64, idle time.Duration) error {
	now := s.now().UTC()
	_, err := s.db.ExecContext(ctx, `INSERT INTO web_sessions (id_hash, user_id, account_id, created_at, last_seen_at, expires_at)
		VALUES ($1, $2, $3, $4, $4, $5)`, idHash, userID, accountID, now, now.Add(idle))
	return err
}

// Lookup returns the user and account of the unexpired session idHash,
// sliding its expiry to idle from now when it was last seen more than a
// minute ago (one write a minute per active session, not one per request).
// Errors: ErrNotFound.
func (s *Sessions) Lookup(ctx context.Context, idHash string, idle time.Duration) (userID, accountID int64, err error) {
	now := s.now().UTC()
	var row struct {
		UserID    int64     `db:"user_id"`
		AccountID int64     `db:"account_id"`
		LastSeen  time.Time `db:"last_seen_at"`
	}
	err = s.db.GetContext(ctx, &row, `SELECT user_id, account_id, last_seen_at FROM web_sessions
		WHERE id_hash = $1 AND expires_at > $2`, idHash, now)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, 0, domain.Errorf(domain.ErrNotFound, "no such session")
	}
	if err != nil {
		return 0, 0, err
	}
	if now.Sub(row.LastSeen) > time.Minute {
		if _, err := s.db.ExecContext(ctx, `UPDATE web_sessions SET last_seen_at = $2, expires_at = $3 WHERE id_hash = $1`,
			idHash, now, now.Add(idle)); err != nil {
			return 0, 0, err
		}
	}
	return row.UserID, row.AccountID, nil
}

// Delete ends one session; ending an unknown one is not an error.
func (s *Sessions) Delete(ctx context.Context, idHash string) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM web_sessions WHERE id_hash = $1`, idHash)
	return err
}

// DeleteUser ends every session of a user but keep (the caller's own, when
// a password change signs the others out; "" ends them all).
func (s *Sessions) DeleteUser(ctx context.Context, userID int64, keep string) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM web_sessions WHERE user_id = $1 AND id_hash <> $2`, userID, keep)
	return err
}

// Prune deletes expired sessions.
func (s *Sessions) Prune(ctx context.Context) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM web_sessions WHERE expires_at <= $1`, s.now().UTC())
	return err
}
