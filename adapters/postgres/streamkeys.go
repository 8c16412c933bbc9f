package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/medialuna/medialuna/domain"
)

// StreamKeys keeps the wrapped data keys of streams that hold secrets, in
// the mutable stream_keys table, outside the log.
type StreamKeys struct{ db *sqlx.DB }

// NewStreamKeys returns the key store over db.
func NewStreamKeys(db *sqlx.DB) *StreamKeys { return &StreamKeys{db: db} }

type streamKeyRow struct {
	Stream      string `db:"stream_id"`
	Wrapped     []byte `db:"wrapped_key"`
	MasterKeyID string `db:"master_key_id"`
}

// Get returns the stream's key; ErrNotFound when it has none (never had
// one, or its stream was deleted).
func (s *StreamKeys) Get(ctx context.Context, stream string) (domain.StreamKey, error) {
	var r streamKeyRow
	err := s.db.GetContext(ctx, &r, `SELECT stream_id, wrapped_key, master_key_id FROM stream_keys WHERE stream_id = $1`, stream)
	if errors.Is(err, sql.ErrNoRows) {
		return domain.StreamKey{}, domain.Errorf(domain.ErrNotFound, "no data key for stream %s", stream)
	}
	return domain.StreamKey(r), err
}

// Create stores k unless its stream already has a key, and returns the
// key the stream has: concurrent creators all end up with the first one.
func (s *StreamKeys) Create(ctx context.Context, k domain.StreamKey) (domain.StreamKey, error) {
	if _, err := s.db.ExecContext(ctx, `INSERT INTO stream_keys (stream_id, wrapped_key, master_key_id) VALUES ($1, $2, $3)
		ON CONFLICT (stream_id) DO NOTHING`, k.Stream, k.Wrapped, k.MasterKeyID); err != nil {
		return domain.StreamKey{}, fmt.Errorf("store data key: %w", err)
	}
	return s.Get(ctx, k.Stream)
}

// Delete destroys the stream's key; a missing key is no error.
func (s *StreamKeys) Delete(ctx context.Context, stream string) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM stream_keys WHERE stream_id = $1`, stream)
	return err
}

// MasterKeyIDs returns the ids of the master keys that wrapped the stored keys.
func (s *StreamKeys) MasterKeyIDs(ctx context.Context) ([]string, error) {
	ids := []string{}
	err := s.db.SelectContext(ctx, &ids, `SELECT DISTINCT master_key_id FROM stream_keys ORDER BY 1`)
	return ids, err
}

// Rewrap replaces every stored key by fn's result and sets the given
// settings, all in one transaction: a rotation that fails half-way leaves
// every key (and the stored master key) as it was.
func (s *StreamKeys) Rewrap(ctx context.Context, fn func(domain.StreamKey) (domain.StreamKey, error), settings map[string]string) (int, error) {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	var rows []streamKeyRow
	if err := tx.SelectContext(ctx, &rows, `SELECT stream_id, wrapped_key, master_key_id FROM stream_keys ORDER BY stream_id FOR UPDATE`); err != nil {
		return 0, err
	}
	for _, r := range rows {
		k, err := fn(domain.StreamKey(r))
		if err != nil {
			return 0, err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE stream_keys SET wrapped_key = $2, master_key_id = $3 WHERE stream_id = $1`,
			r.Stream, k.Wrapped, k.MasterKeyID); err != nil {
			return 0, err
		}
	}
	for k, v := range settings {
		if _, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`, k, v); err != nil {
			return 0, err
		}
	}
	return len(rows), tx.Commit()
}

// SetSetting stores a server setting, replacing any value it had.
func SetSetting(ctx context.Context, db *sqlx.DB, key, value string) error {
	_, err := db.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`, key, value)
	return err
}

// Setting returns a server setting; ok is false when it is not set.
func Setting(ctx context.Context, db *sqlx.DB, key string) (value string, ok bool, err error) {
	err = db.GetContext(ctx, &value, `SELECT value FROM settings WHERE key = $1`, key)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	return value, err == nil, err
}

// RewriteEvents pages through the events of the given types in log order
// and replaces the payload, with its schema version, of each one fn changes. It is the one place
// where payloads in the log are rewritten: `medialuna secrets seal-log`
// sealing credentials that builds before the sealing wrote in plaintext.
// progress, when set, hears after each page how many events were read
// and how many rewritten.
func (s *EventStore) RewriteEvents(ctx context.Context, types []string, fn func(domain.RecordedEvent) (rewritten domain.EventData, changed bool, err error),
	progress func(read, rewritten int)) error {
	var after uint64
	read, rewritten := 0, 0
	for {
		batch, err := s.query(ctx, selectEvents+`WHERE event_type = ANY($1) AND position > $2 ORDER BY position LIMIT 500`,
			pq.Array(types), after)
		if err != nil {
			return err
		}
		for _, rec := range batch {
			after = rec.Position.Prepare
			d, changed, err := fn(rec)
			if err != nil {
				return fmt.Errorf("event %s (%s, stream %s): %w", rec.ID, rec.Type, rec.StreamID, err)
			}
			read++
			if !changed {
				continue
			}
			// The version goes with the payload: sealing re-encodes an event
			// at its current schema version.
			if _, err := s.db.ExecContext(ctx, `UPDATE events SET data = $2, event_version = $3 WHERE position = $1`,
				rec.Position.Prepare, string(d.Data), d.Version); err != nil {
				return err
			}
			rewritten++
		}
		if progress != nil {
			progress(read, rewritten)
		}
		if len(batch) < 500 {
			return nil
		}
	}
}
