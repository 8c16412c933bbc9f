package projections

import (
	"context"
	"math"
	"time"

	"github.com/lib/pq"
)

// RawRetention is how long raw check results are kept; older ranges are
// answered from hourly rollups.
const RawRetention = 30 * 24 * time.Hour

// CheckRow is one check result in a monitor's history.
type CheckRow struct {
	RegionID       int64      `db:"region_id" json:"region_id"`
	RegionCode     *string    `db:"region_code" json:"region_code"`
	CheckedAt      time.Time  `db:"checked_at" json:"checked_at"`
	Up             bool       `db:"up" json:"is_up"`
	Status         string     `db:"status" json:"status"`
	ResponseTimeMs float64    `db:"response_time_ms" json:"response_time_ms"`
	StatusCode     *int       `db:"status_code" json:"status_code"`
	Error          string     `db:"error" json:"error"`
	Detail         string     `db:"detail" json:"detail"`
	CertExpiresAt  *time.Time `db:"cert_expires_at" json:"ssl_cert_expires_at"`
}

// History returns a monitor's results since a time, newest first (ties by
// region, so pages do not overlap), skipping skip and at most limit.
func (q *Queries) History(ctx context.Context, monitorID int64, since time.Time, skip, limit int) ([]CheckRow, error) {
	out := []CheckRow{}
	err := q.db.SelectContext(ctx, &out, `SELECT c.region_id, r.code AS region_code, c.checked_at, c.up,
			CASE WHEN c.up THEN 'up' ELSE 'down' END AS status, c.response_time_ms, c.status_code, c.error, c.detail, c.cert_expires_at
		FROM check_results c LEFT JOIN regions r ON r.id = c.region_id
		WHERE c.monitor_id = $1 AND c.checked_at >= $2 ORDER BY c.checked_at DESC, c.region_id DESC OFFSET $3 LIMIT $4`, monitorID, since, skip, limit)
	return out, err
}

// Summary is a monitor's aggregate over a range.
type Summary struct {
	MonitorID   int64     `json:"monitor_id"`
	Start       time.Time `json:"start_time"`
	End         time.Time `json:"end_time"`
	TotalChecks int64     `json:"total_checks"`
	UpChecks    int64     `json:"up_checks"`
	// MaintenanceChecks ran inside maintenance windows; uptime leaves them out.
	MaintenanceChecks int64    `json:"maintenance_checks"`
	UptimePercentage  *float64 `json:"uptime_percentage"`
	AvgResponseTime   *float64 `json:"avg_response_time_ms"`
	MinResponseTime   *float64 `json:"min_response_time_ms"`
	MaxResponseTime   *float64 `json:"max_response_time_ms"`
	P50               *float64 `json:"p50_response_time_ms"`
	P95               *float64 `json:"p95_response_time_ms"`
	P99               *float64 `json:"p99_response_time_ms"`
	// Source says where the figures come from: "raw" results (exact) or
	// hourly "rollups" (percentiles within ~10%).
	Source string `json:"source"`
}

type aggRow struct {
	Checks  int64         `db:"checks"`
	Up      int64         `db:"up_checks"`
	Maint   int64         `db:"maint_checks"`
	MaintUp int64         `db:"maint_up"`
	Avg     *float64      `db:"avg"`
	Min     *float64      `db:"min"`
	Max     *float64      `db:"max"`
	P50     *float64      `db:"p50"`
	P95     *float64      `db:"p95"`
	P99     *float64      `db:"p99"`
	Hist    pq.Int64Array `db:"hist"`
}

func round2(p *float64) *float64 {
	if p == nil {
		return nil
	}
	v := math.Round(*p*100) / 100
	return &v
}

// Summary aggregates a monitor's checks between start and end.
func (q *Queries) Summary(ctx context.Context, monitorID int64, start, end, now time.Time) (Summary, error) {
	s := Summary{MonitorID: monitorID, Start: start, End: end}
	var a aggRow
	var err error
	if !start.Before(now.Add(-RawRetention)) {
		s.Source = "raw"
		err = q.db.GetContext(ctx, &a, `SELECT count(*) AS checks, count(*) FILTER (WHERE up) AS up_checks,
				count(*) FILTER (WHERE in_maintenance) AS maint_checks, count(*) FILTER (WHERE in_maintenance AND up) AS maint_up,
				avg(response_time_ms) AS avg, min(response_time_ms) AS min, max(response_time_ms) AS max,
				percentile_cont(0.5) WITHIN GROUP (ORDER BY response_time_ms) AS p50,
				percentile_cont(0.95) WITHIN GROUP (ORDER BY response_time_ms) AS p95,
				percentile_cont(0.99) WITHIN GROUP (ORDER BY response_time_ms) AS p99,
				'{}'::bigint[] AS hist
			FROM check_results WHERE monitor_id = $1 AND checked_at >= $2 AND checked_at < $3`, monitorID, start, end)
	} else {
		s.Source = "rollups"
		err = q.db.GetContext(ctx, &a, `SELECT coalesce(sum(checks), 0) AS checks, coalesce(sum(up_checks), 0) AS up_checks,
				coalesce(sum(maint_checks), 0) AS maint_checks, coalesce(sum(maint_up), 0) AS maint_up,
				sum(rt_sum) / nullif(sum(checks), 0) AS avg, min(rt_min) AS min, max(rt_max) AS max,
				NULL::float8 AS p50, NULL::float8 AS p95, NULL::float8 AS p99,
				coalesce((SELECT array_agg(s ORDER BY i) FROM (SELECT i, sum(h) AS s FROM check_rollups r2,
					unnest(r2.rt_histogram) WITH ORDINALITY AS u(h, i)
					WHERE r2.monitor_id = $1 AND r2.hour >= date_trunc('hour', $2::timestamptz) AND r2.hour < $3 GROUP BY i) AS b), '{}') AS hist
			FROM check_rollups WHERE monitor_id = $1 AND hour >= date_trunc('hour', $2::timestamptz) AND hour < $3`, monitorID, start, end)
		a.P50, a.P95, a.P99 = histogramPercentile(a.Hist, 0.5), histogramPercentile(a.Hist, 0.95), histogramPercentile(a.Hist, 0.99)
	}
	if err != nil {
		return s, err
	}
	s.TotalChecks, s.UpChecks, s.MaintenanceChecks = a.Checks, a.Up, a.Maint
	if counted := a.Checks - a.Maint; counted > 0 {
		u := float64(a.Up-a.MaintUp) * 100 / float64(counted)
		s.UptimePercentage = round2(&u)
	}
	s.AvgResponseTime, s.MinResponseTime, s.MaxResponseTime = round2(a.Avg), round2(a.Min), round2(a.Max)
	s.P50, s.P95, s.P99 = round2(a.P50), round2(a.P95), round2(a.P99)
	return s, nil
}

// histogramPercentile estimates a percentile from rollup buckets: the
// geometric middle of the bucket where the percentile falls.
func histogramPercentile(hist []int64, p float64) *float64 {
	var total int64
	for _, n := range hist {
		total += n
	}
	if total == 0 {
		return nil
	}
	rank := int64(math.Ceil(p * float64(total)))
	var seen int64
	for i, n := range hist {
		seen += n
		if seen >= rank {
			upper := BucketUpperMs(i)
			v := upper
			if i > 0 {
				v = math.Sqrt(upper * BucketUpperMs(i-1))
			}
			return &v
		}
	}
	return nil
}

// Point is one bucket of a time series.
type Point struct {
	Timestamp        time.Time `db:"ts" json:"timestamp"`
	Checks           int64     `db:"checks" json:"checks"`
	UptimePercentage *float64  `db:"uptime" json:"uptime_percentage"` // null when every check ran in maintenance
	AvgResponseTime  *float64  `db:"avg" json:"avg_response_time_ms"`
	MinResponseTime  *float64  `db:"min" json:"min_response_time_ms"`
	MaxResponseTime  *float64  `db:"max" json:"max_response_time_ms"`
}

// Timeseries buckets a monitor's checks; buckets without checks are absent.
func (q *Queries) Timeseries(ctx context.Context, monitorID int64, start, end, now time.Time, bucket time.Duration) ([]Point, error) {
	out := []Point{}
	secs := int64(bucket.Seconds())
	var err error
	if !start.Before(now.Add(-RawRetention)) {
		err = q.db.SelectContext(ctx, &out, `SELECT to_timestamp(floor(extract(epoch FROM checked_at) / $4) * $4) AS ts,
				count(*) AS checks, round(100.0 * count(*) FILTER (WHERE up AND NOT in_maintenance)
					/ nullif(count(*) FILTER (WHERE NOT in_maintenance), 0), 2)::float8 AS uptime,
				round(avg(response_time_ms)::numeric, 2)::float8 AS avg, min(response_time_ms) AS min, max(response_time_ms) AS max
			FROM check_results WHERE monitor_id = $1 AND checked_at >= $2 AND checked_at < $3
			GROUP BY 1 ORDER BY 1`, monitorID, start, end, secs)
	} else {
		err = q.db.SelectContext(ctx, &out, `SELECT to_timestamp(floor(extract(epoch FROM hour) / $4) * $4) AS ts,
				sum(checks) AS checks, round(100.0 * sum(up_checks - maint_up) / nullif(sum(checks - maint_checks), 0), 2)::float8 AS uptime,
				round((sum(rt_sum) / sum(checks))::numeric, 2)::float8 AS avg, min(rt_min) AS min, max(rt_max) AS max
			FROM check_rollups WHERE monitor_id = $1 AND hour >= date_trunc('hour', $2::timestamptz) AND hour < $3
			GROUP BY 1 ORDER BY 1`, monitorID, start, end, max(secs, 3600))
	}
	for i := range out {
		out[i].Timestamp = out[i].Timestamp.UTC()
	}
	return out, err
}

// RegionLatency is one region's figures for a monitor.
type RegionLatency struct {
	RegionID         int64    `db:"region_id" json:"region_id"`
	RegionCode       *string  `db:"region_code" json:"region_code"`
	RegionName       *string  `db:"region_name" json:"region_name"`
	Checks           int64    `db:"checks" json:"checks"`
	UptimePercentage *float64 `db:"uptime" json:"uptime_percentage"` // null when every check ran in maintenance
	AvgResponseTime  *float64 `db:"avg" json:"avg_response_time_ms"`
	MinResponseTime  *float64 `db:"min" json:"min_response_time_ms"`
	MaxResponseTime  *float64 `db:"max" json:"max_response_time_ms"`
	P95              *float64 `db:"p95" json:"p95_response_time_ms"`
}

// RegionLatencies breaks a monitor's recent checks down by region.
func (q *Queries) RegionLatencies(ctx context.Context, monitorID int64, since, until time.Time) ([]RegionLatency, error) {
	out := []RegionLatency{}
	err := q.db.SelectContext(ctx, &out, `SELECT c.region_id, r.code AS region_code, r.name AS region_name, count(*) AS checks,
			round(100.0 * count(*) FILTER (WHERE c.up AND NOT c.in_maintenance) / nullif(count(*) FILTER (WHERE NOT c.in_maintenance), 0), 2)::float8 AS uptime,
			round(avg(c.response_time_ms)::numeric, 2)::float8 AS avg, min(c.response_time_ms) AS min, max(c.response_time_ms) AS max,
			round(percentile_cont(0.95) WITHIN GROUP (ORDER BY c.response_time_ms)::numeric, 2)::float8 AS p95
		FROM check_results c LEFT JOIN regions r ON r.id = c.region_id
		WHERE c.monitor_id = $1 AND c.checked_at >= $2 AND c.checked_at < $3 GROUP BY c.region_id, r.code, r.name ORDER BY c.region_id`, monitorID, since, until)
	return out, err
}

// Overview is an account's health at a glance.
type Overview struct {
	TotalMonitors   int      `db:"total" json:"total_monitors"`
	Up              int      `db:"up" json:"up"`
	Down            int      `db:"down" json:"down"`
	Paused          int      `db:"paused" json:"paused"`
	Pending         int      `db:"pending" json:"pending"`
	Checks24h       int64    `db:"checks" json:"checks_24h"`
	Uptime24h       *float64 `db:"uptime" json:"uptime_percentage_24h"`
	AvgResponseTime *float64 `db:"avg" json:"avg_response_time_ms_24h"`
}

// Overview summarises an account's monitors over the last 24 hours.
func (q *Queries) Overview(ctx context.Context, accountID int64, now time.Time) (Overview, error) {
	var o Overview
	// The rollups of the last 24 hours are read once, over the account's
	// monitor ids (a bitmap scan of the primary key): joining them to
	// monitors let the planner scan every rollup of every account.
	err := q.db.GetContext(ctx, &o, `WITH mine AS (
			SELECT m.id, coalesce(st.status, 'pending') AS status FROM monitors m
			LEFT JOIN monitor_state st ON st.monitor_id = m.id WHERE m.account_id = $1),
		day AS (
			SELECT sum(r.checks) AS checks, sum(r.up_checks - r.maint_up) AS up, sum(r.checks - r.maint_checks) AS counted, sum(r.rt_sum) AS rt
			FROM check_rollups r WHERE r.monitor_id = ANY(ARRAY(SELECT id FROM mine)) AND r.hour >= date_trunc('hour', $2::timestamptz))
		SELECT (SELECT count(*) FROM mine) AS total,
			(SELECT count(*) FROM mine WHERE status = 'up') AS up, (SELECT count(*) FROM mine WHERE status = 'down') AS down,
			(SELECT count(*) FROM mine WHERE status = 'paused') AS paused, (SELECT count(*) FROM mine WHERE status = 'pending') AS pending,
			coalesce(day.checks, 0) AS checks,
			round(100.0 * day.up / nullif(day.counted, 0), 2)::float8 AS uptime,
			round((day.rt / nullif(day.checks, 0))::numeric, 2)::float8 AS avg
		FROM day`, accountID, now.Add(-24*time.Hour))
	return o, err
}

// PruneRawResults deletes raw results projected before schema/0013
// (check_results_legacy) older than the retention window, a batch at a
// time so it never holds long locks. Results since are the log's
// check_events, which the check retention drops a day at a time.
func (q *Queries) PruneRawResults(ctx context.Context, now time.Time) (int64, error) {
	res, err := q.db.ExecContext(ctx, `DELETE FROM check_results_legacy WHERE ctid = ANY (ARRAY(
		SELECT ctid FROM check_results_legacy WHERE checked_at < $1 LIMIT 10000))`, now.Add(-RawRetention))
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
