package projections

import (
	"context"
	"time"
)

// RegionActivity is what the operator sees of a probe region: the monitors
// assigned to it and how its results are arriving. Results name their
// region, not the agent that checked, so this is the region's report as a
// whole.
type RegionActivity struct {
	ID        int64     `db:"id"`
	Code      string    `db:"code"`
	Name      string    `db:"name"`
	Active    bool      `db:"active"`
	CreatedAt time.Time `db:"created_at"`
	// Assigned counts the region's monitors that are checked (not paused,
	// not PUSH).
	Assigned int64 `db:"assigned"`
	// LastResultAt is the newest result recorded from the region.
	LastResultAt *time.Time `db:"last_result_at"`
	// Late counts assigned monitors whose last result from the region is
	// older than two of their intervals, or that have none although they
	// were last changed more than two intervals ago.
	Late int64 `db:"late"`
}

// RegionActivity lists every region, active or not, with its assignments
// and results as of now. It reads the monitors and their latest result per
// region once: an operator's page, not a hot path.
func (q *Queries) RegionActivity(ctx context.Context, now time.Time) ([]RegionActivity, error) {
	out := []RegionActivity{}
	err := q.db.SelectContext(ctx, &out, `
		WITH assigned AS (
			SELECT unnest(m.region_ids) AS region_id, m.id, m.check_interval, m.resumed_at, m.updated_at
			FROM monitors m WHERE NOT m.paused AND m.type <> 'PUSH'),
		per_region AS (
			SELECT a.region_id, count(*) AS assigned,
				count(*) FILTER (WHERE coalesce(l.checked_at, greatest(a.resumed_at, a.updated_at))
					< $1::timestamptz - 2 * a.check_interval * interval '1 second') AS late
			FROM assigned a LEFT JOIN monitor_region_latest l ON l.monitor_id = a.id AND l.region_id = a.region_id
			GROUP BY a.region_id),
		latest AS (SELECT region_id, max(checked_at) AS last_result_at FROM monitor_region_latest GROUP BY region_id)
		SELECT r.id, r.code, r.name, r.active, r.created_at, coalesce(p.assigned, 0) AS assigned,
			l.last_result_at, coalesce(p.late, 0) AS late
		FROM regions r LEFT JOIN per_region p ON p.region_id = r.id LEFT JOIN latest l ON l.region_id = r.id
		ORDER BY r.id`, now)
	return out, err
}

// HasAccounts reports whether the server has opened any account yet.
func (q *Queries) HasAccounts(ctx context.Context) (bool, error) {
	var any bool
	err := q.db.GetContext(ctx, &any, `SELECT EXISTS (SELECT 1 FROM accounts)`)
	return any, err
}
