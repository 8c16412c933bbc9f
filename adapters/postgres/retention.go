package postgres

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/medialuna/medialuna/domain"
)

// The check retention: check_events is partitioned by day of scheduled
// time (UTC), check_events_YYYYMMDD, plus check_events_default for days not
// created yet. Days are created ahead and dropped whole once past the
// retention; every other event stays in events forever.

// partitionLock serializes partition maintenance among replicas.
const partitionLock = 7264411013

const partitionPrefix = "check_events_"

func dayOf(t time.Time) time.Time { return t.UTC().Truncate(24 * time.Hour) }

func partitionName(day time.Time) string { return partitionPrefix + day.Format("20060102") }

// CheckPartition is one day of check events.
type CheckPartition struct {
	Name string
	Day  time.Time // its first instant; it holds scheduled times in [Day, Day+24h)
}

// CheckPartitions lists the day partitions of check_events, oldest first.
func (s *EventStore) CheckPartitions(ctx context.Context) ([]CheckPartition, error) {
	var names []string
	if err := s.db.SelectContext(ctx, &names, `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
		WHERE i.inhparent = 'check_events'::regclass`); err != nil {
		return nil, err
	}
	var out []CheckPartition
	for _, n := range names {
		day, err := time.Parse("20060102", strings.TrimPrefix(n, partitionPrefix))
		if err != nil || !strings.HasPrefix(n, partitionPrefix) {
			continue // the default partition
		}
		out = append(out, CheckPartition{Name: n, Day: day})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Day.Before(out[j].Day) })
	return out, nil
}

// EnsureCheckPartitions creates the day partitions from the day of from to
// the day of to that do not exist yet. Rows the default partition already
// holds for such a day move into it in the same transaction, with their
// positions and transaction ids: the log does not change.
func (s *EventStore) EnsureCheckPartitions(ctx context.Context, from, to time.Time) error {
	have, err := s.CheckPartitions(ctx)
	if err != nil {
		return err
	}
	exists := map[string]bool{}
	for _, p := range have {
		exists[p.Name] = true
	}
	for day := dayOf(from); !day.After(dayOf(to)); day = day.Add(24 * time.Hour) {
		if exists[partitionName(day)] {
			continue
		}
		if err := s.inTx(ctx, func(tx *sqlx.Tx) error { return createPartition(ctx, tx, day) }); err != nil {
			return fmt.Errorf("create %s: %w", partitionName(day), err)
		}
	}
	return nil
}

func createPartition(ctx context.Context, tx *sqlx.Tx, day time.Time) error {
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, partitionLock); err != nil {
		return err
	}
	name := partitionName(day)
	var found bool
	if err := tx.GetContext(ctx, &found, `SELECT to_regclass($1) IS NOT NULL`, name); err != nil || found {
		return err
	}
	lo, hi := pgTimestamp(day), pgTimestamp(day.Add(24*time.Hour))
	stmts := []string{
		`CREATE TEMP TABLE check_events_moving ON COMMIT DROP AS
			WITH moved AS (DELETE FROM check_events_default WHERE scheduled_at >= '` + lo + `' AND scheduled_at < '` + hi + `' RETURNING *)
			SELECT * FROM moved`,
		`CREATE TABLE ` + name + ` PARTITION OF check_events FOR VALUES FROM ('` + lo + `') TO ('` + hi + `')`,
		`INSERT INTO check_events SELECT * FROM check_events_moving`,
	}
	for _, q := range stmts {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	return nil
}

// DropCheckPartitions drops the day partitions that end at or before cut,
// and deletes the default partition's rows scheduled before it. It returns
// the partitions dropped. Check events are gone from the log afterwards;
// their hours' ChecksSummarized events stay.
func (s *EventStore) DropCheckPartitions(ctx context.Context, cut time.Time) ([]string, error) {
	parts, err := s.CheckPartitions(ctx)
	if err != nil {
		return nil, err
	}
	var dropped []string
	for _, p := range parts {
		if p.Day.Add(24 * time.Hour).After(cut) {
			break
		}
		err := s.inTx(ctx, func(tx *sqlx.Tx) error {
			if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, partitionLock); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `ALTER TABLE check_events DETACH PARTITION `+p.Name); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `DROP TABLE `+p.Name)
			return err
		})
		if err != nil {
			return dropped, fmt.Errorf("drop %s: %w", p.Name, err)
		}
		dropped = append(dropped, p.Name)
	}
	_, err = s.db.ExecContext(ctx, `DELETE FROM check_events_default WHERE scheduled_at < $1`, cut)
	return dropped, err
}

// ReadCheckPartition calls fn with every event of one day partition, in
// log order, a page at a time: what `medialuna events archive` writes
// before the day is dropped.
func (s *EventStore) ReadCheckPartition(ctx context.Context, p CheckPartition, fn func(domain.RecordedEvent) error) error {
	from := domain.Position{}
	for {
		page, err := s.queryMerged(ctx, `SELECT `+mergedColumns+` FROM (`+checksHalf+`
			WHERE scheduled_at >= $1 AND scheduled_at < $2 AND (transaction_id, position) > ($3::text::xid8, $4)) u
			ORDER BY transaction_id, position LIMIT 5000`, p.Day, p.Day.Add(24*time.Hour), fmt.Sprint(from.Commit), from.Prepare)
		if err != nil {
			return err
		}
		for _, e := range page {
			if err := fn(e); err != nil {
				return err
			}
		}
		if len(page) < 5000 {
			return nil
		}
		from = page[len(page)-1].Position
	}
}

// StorageBytes is what the check pipeline keeps at rest.
type StorageBytes struct {
	Events, CheckEvents, CheckRollups int64
}

// MeasureStorage returns the on-disk size, with indexes, of the log's two
// tables and the rollups: for the storage benchmark and operators.
func (s *EventStore) MeasureStorage(ctx context.Context) (StorageBytes, error) {
	var b StorageBytes
	err := s.db.GetContext(ctx, &b.Events, `SELECT pg_total_relation_size('events')`)
	if err != nil {
		return b, err
	}
	if err := s.db.GetContext(ctx, &b.CheckEvents, `SELECT coalesce(sum(pg_total_relation_size(i.inhrelid)), 0)
		FROM pg_inherits i WHERE i.inhparent = 'check_events'::regclass`); err != nil {
		return b, err
	}
	err = s.db.GetContext(ctx, &b.CheckRollups, `SELECT coalesce(pg_total_relation_size(to_regclass('check_rollups')), 0)`)
	return b, err
}

// DropChecksBefore implements eventstoretest.CheckRetention.
func (s *EventStore) DropChecksBefore(ctx context.Context, cut time.Time) error {
	_, err := s.DropCheckPartitions(ctx, cut)
	return err
}
