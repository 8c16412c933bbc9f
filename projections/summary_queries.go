package projections

import (
	"context"
	"time"

	"github.com/medialuna/medialuna/domain"
)

// CheckSamples returns the checks of existing monitors checked in
// [from, to) that the log's check_events still holds, for the hourly
// summaries. Checks are scheduled before they are checked (by at most a
// timeout and some lateness), so partitions scheduled more than a day
// before from are not read; the BRIN index on checked_at skips the rest.
func (q *Queries) CheckSamples(ctx context.Context, from, to time.Time) ([]domain.CheckSample, error) {
	rows, err := q.db.QueryContext(ctx, `SELECT monitor_id, region_id, account_id, checked_at, up, in_maintenance, response_time_ms
		FROM check_events c
		WHERE checked_at >= $1 AND checked_at < $2 AND scheduled_at >= $1::timestamptz - interval '1 day' AND scheduled_at < $2
		  AND NOT EXISTS (SELECT 1 FROM deleted_monitors d WHERE d.monitor_id = c.monitor_id)`, from, to)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []domain.CheckSample
	for rows.Next() {
		var s domain.CheckSample
		if err := rows.Scan(&s.MonitorID, &s.RegionID, &s.AccountID, &s.CheckedAt, &s.Up, &s.InMaintenance, &s.ResponseTimeMs); err != nil {
			return nil, err
		}
		s.CheckedAt = s.CheckedAt.UTC()
		out = append(out, s)
	}
	return out, rows.Err()
}

// summaryCursor is the settings key of the first hour not summarized yet.
const summaryCursor = "check_summaries_next"

// NextSummaryHour returns the first hour the summarizer has not done yet
// (zero: none recorded).
func (q *Queries) NextSummaryHour(ctx context.Context) (time.Time, error) {
	var v []string
	if err := q.db.SelectContext(ctx, &v, `SELECT value FROM settings WHERE key = $1`, summaryCursor); err != nil || len(v) == 0 {
		return time.Time{}, err
	}
	return time.Parse(time.RFC3339, v[0])
}

// SetNextSummaryHour records the summarizer's progress; it never moves
// back, so replicas running together cannot undo each other.
func (q *Queries) SetNextSummaryHour(ctx context.Context, next time.Time) error {
	_, err := q.db.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES ($1, $2)
		ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value WHERE settings.value::timestamptz < EXCLUDED.value::timestamptz`,
		summaryCursor, next.UTC().Format(time.RFC3339))
	return err
}
