// Package postgres is the PostgreSQL adapter: the default event store, the
// migration runner, id sequences, shared rate-limit counters and settings.
// Driver errors are turned into domain error codes here and nowhere else.
package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	neturl "net/url"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/medialuna/medialuna/domain"
	"github.com/medialuna/medialuna/schema"
)

// Open connects to PostgreSQL and checks the connection.
func Open(ctx context.Context, url string) (*sqlx.DB, error) {
	db, err := sqlx.Open("postgres", withSessionSettings(url))
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	db.SetMaxOpenConns(20)
	db.SetMaxIdleConns(20)
	db.SetConnMaxIdleTime(5 * time.Minute)
	pingCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := db.PingContext(pingCtx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	return db, nil
}

// withSessionSettings makes every session report times in UTC and end
// transactions left idle: an open transaction holds back every follower of
// the log (see EventStore).
func withSessionSettings(dsn string) string {
	u, err := neturl.Parse(dsn)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return dsn
	}
	q := u.Query()
	if q.Get("timezone") == "" {
		q.Set("timezone", "UTC")
	}
	if q.Get("idle_in_transaction_session_timeout") == "" {
		q.Set("idle_in_transaction_session_timeout", "60000")
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// migrationLock serialises migrations between processes starting together.
const migrationLock = 7_264_411_001

// Migrate applies pending migrations, each in its own transaction, and
// refuses to run against a database migrated by a newer build.
func Migrate(ctx context.Context, db *sqlx.DB, log *slog.Logger) error {
	migrations, err := schema.Migrations()
	if err != nil {
		return err
	}
	conn, err := db.Connx(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, migrationLock); err != nil {
		return fmt.Errorf("lock migrations: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, migrationLock)
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INT PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	applied := map[int]bool{}
	var versions []int
	if err := conn.SelectContext(ctx, &versions, `SELECT version FROM schema_migrations`); err != nil {
		return err
	}
	known := map[int]bool{}
	for _, m := range migrations {
		known[m.Version] = true
	}
	for _, v := range versions {
		applied[v] = true
		if !known[v] {
			return fmt.Errorf("database has migration %d that this build does not know: run a newer medialuna", v)
		}
	}
	for _, m := range migrations {
		if applied[m.Version] {
			continue
		}
		tx, err := conn.BeginTxx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %s: %w", m.Name, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, m.Version, m.Name); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migration %s: %w", m.Name, err)
		}
		log.Info("applied migration", "name", m.Name)
	}
	return nil
}

// SchemaUpToDate reports whether every migration of this build is applied.
func SchemaUpToDate(ctx context.Context, db *sqlx.DB) (bool, error) {
	migrations, err := schema.Migrations()
	if err != nil {
		return false, err
	}
	var applied []int
	err = db.SelectContext(ctx, &applied, `SELECT version FROM schema_migrations`)
	if err != nil {
		var pqErr *pq.Error
		if errors.As(err, &pqErr) && pqErr.Code == "42P01" {
			return false, nil
		}
		return false, err
	}
	known := map[int]bool{}
	for _, m := range migrations {
		known[m.Version] = true
	}
	for _, v := range applied {
		if !known[v] {
			return false, fmt.Errorf("database has migration %d that this build does not know: run a newer medialuna", v)
		}
	}
	return len(applied) == len(migrations), nil
}

// FormatError turns driver errors into domain errors where they have a
// meaning for callers; other errors pass through and become internal.
func FormatError(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return domain.Errorf(domain.ErrNotFound, "not found")
	}
	var pqErr *pq.Error
	if errors.As(err, &pqErr) {
		switch pqErr.Code {
		case "23505":
			if pqErr.Constraint == "events_stream_version_key" {
				return domain.Errorf(domain.ErrConflict, "the stream was changed concurrently; retry")
			}
			return domain.Errorf(domain.ErrConflict, "already exists")
		}
	}
	return err
}

// IDs hands out integer ids from PostgreSQL sequences.
type IDs struct{ db *sqlx.DB }

// NewIDs returns an id source over db.
func NewIDs(db *sqlx.DB) *IDs { return &IDs{db: db} }

// Next returns a fresh id for kind ("account", "user", "api_key", "invite", ...).
func (s *IDs) Next(ctx context.Context, kind string) (int64, error) {
	var id int64
	// The sequence name is built from a fixed list, never from user input.
	seq, ok := sequenceFor(kind)
	if !ok {
		return 0, fmt.Errorf("no id sequence for %q", kind)
	}
	if err := s.db.GetContext(ctx, &id, `SELECT nextval($1::regclass)`, seq); err != nil {
		return 0, fmt.Errorf("next %s id: %w", kind, err)
	}
	return id, nil
}

// NextN returns n fresh ids for kind in one round trip, for a batch of
// creates (commands.CreateMonitors).
func (s *IDs) NextN(ctx context.Context, kind string, n int) ([]int64, error) {
	seq, ok := sequenceFor(kind)
	if !ok {
		return nil, fmt.Errorf("no id sequence for %q", kind)
	}
	var ids []int64
	if err := s.db.SelectContext(ctx, &ids, `SELECT nextval($1::regclass) FROM generate_series(1, $2)`, seq, n); err != nil {
		return nil, fmt.Errorf("next %d %s ids: %w", n, kind, err)
	}
	return ids, nil
}

func sequenceFor(kind string) (string, bool) {
	switch kind {
	case "account", "user", "api_key", "invite", "monitor", "region", "tag", "incident", "maintenance", "channel", "rule", "status_page":
		return kind + "_ids", true
	}
	return "", false
}
