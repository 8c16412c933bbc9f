package projections

import (
	"context"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/medialuna/medialuna/domain"
)

// Metrics projects check results into two tables sized for a year of
// one-minute checks on thousands of monitors:
//
//   - check_results (a view over the log's check_events, schema/0013) has
//     every result of the check retention window: history, exact
//     percentiles and fine-grained time series come from here.
//   - check_rollups keeps one row per monitor, region and hour forever:
//     counts, sums, min/max and a latency histogram with log-spaced buckets,
//     from which uptime and percentiles of any longer range are computed.
//
// A monitor checked every minute from one region writes 525,600 raw rows a
// year but only 8,760 rollup rows (about 3 GB a year for 1,000 monitors);
// every query of a range longer than the raw window reads rollups.
type Metrics struct{}

// SettlesWrites is false: no write's answer reads the metrics, and under
// heavy check load they may trail by a moment, which writes need not wait
// out.
func (Metrics) SettlesWrites() bool { return false }

func (Metrics) Name() string { return "metrics" }
func (Metrics) Version() int { return 1 }

// Handles implements EventFilter.
func (Metrics) Handles(t string) bool {
	switch t {
	case domain.EvCheckRecorded, domain.EvChecksSummarized, domain.EvMonitorDeleted:
		return true
	}
	return false
}

// Tables leaves out check_results: since schema/0013 it is a view over the
// log's check_events (and the rows projected before, check_results_legacy),
// which holds every raw result of the retention window already; a second
// copy would double a check's bytes at rest.
func (Metrics) Tables() []string { return []string{"check_rollups", "monitor_uptime"} }

// uptimeSQL recomputes the 24-hour uptime of the monitors in $1 from their
// rollups, each monitor's window ending at its latest check applied ($2):
// a fold of the log, not of the clock, so a rebuild gives the same values.
// The dashboard sorts 10,000 monitors by it with one index lookup each,
// where summing their rollups at read time takes 150 ms or more. (Added
// without a version change: schema/0011 creates and fills the table in an
// existing database.)
const uptimeSQL = `INSERT INTO monitor_uptime AS u (monitor_id, window_end, uptime_24h)
	SELECT x.id, x.t, (SELECT round(100.0 * sum(r.up_checks - r.maint_up) / nullif(sum(r.checks - r.maint_checks), 0), 2)::float8
		FROM check_rollups r WHERE r.monitor_id = x.id AND r.hour >= date_trunc('hour', x.t - interval '24 hours'))
	FROM unnest($1::bigint[], $2::timestamptz[]) AS x(id, t)
	ON CONFLICT (monitor_id) DO UPDATE SET window_end = EXCLUDED.window_end, uptime_24h = EXCLUDED.uptime_24h
	WHERE u.window_end <= EXCLUDED.window_end`

// HistogramBuckets is the number of latency buckets in a rollup. Bucket i
// (0-based) holds response times up to BucketUpperMs(i); each bucket is
// 2^(1/4) ≈ 19% wider than the last, so percentiles from rollups are within
// about 10% of the exact value.
const HistogramBuckets = 72

// BucketUpperMs is the upper bound of bucket i in milliseconds.
func BucketUpperMs(i int) float64 { return math.Pow(2, float64(i)/4) }

// bucketOf returns the 1-based PostgreSQL array index for a response time.
func bucketOf(ms float64) int {
	if ms <= 1 {
		return 1
	}
	i := int(math.Ceil(4 * math.Log2(ms)))
	return min(max(i, 0), HistogramBuckets-1) + 1
}

func (Metrics) Setup(ctx context.Context, tx *sqlx.Tx) error {
	_, err := tx.ExecContext(ctx, `
		CREATE TABLE check_rollups (
			monitor_id   BIGINT NOT NULL,
			region_id    BIGINT NOT NULL,
			hour         TIMESTAMPTZ NOT NULL,
			checks       INT NOT NULL,
			up_checks    INT NOT NULL,
			maint_checks INT NOT NULL DEFAULT 0, -- of checks, those inside a maintenance window
			maint_up     INT NOT NULL DEFAULT 0,
			rt_sum       DOUBLE PRECISION NOT NULL,
			rt_min       DOUBLE PRECISION NOT NULL,
			rt_max       DOUBLE PRECISION NOT NULL,
			rt_histogram INT[] NOT NULL,
			summarized   BOOLEAN NOT NULL DEFAULT FALSE, -- SET by ChecksSummarized; later results of the hour are not counted
			PRIMARY KEY (monitor_id, hour, region_id));
		CREATE TABLE monitor_uptime (
			monitor_id BIGINT PRIMARY KEY,
			window_end TIMESTAMPTZ NOT NULL, -- the latest check counted
			uptime_24h DOUBLE PRECISION);    -- NULL when every check ran in maintenance`)
	return err
}

func (Metrics) Apply(ctx context.Context, tx Exec, rec domain.RecordedEvent, ev domain.Event) error {
	switch e := ev.(type) {
	case *domain.CheckRecorded:
		up, maint, maintUp := 0, 0, 0
		if e.Up {
			up = 1
		}
		if e.InMaintenance {
			maint, maintUp = 1, up
		}
		b := bucketOf(e.ResponseTimeMs)
		_, err := tx.ExecContext(ctx, `INSERT INTO check_rollups AS r (monitor_id, region_id, hour, checks, up_checks, maint_checks, maint_up,
				rt_sum, rt_min, rt_max, rt_histogram)
			VALUES ($1, $2, date_trunc('hour', $3::timestamptz), 1, $4, $7, $8, $5, $5, $5,
				(SELECT array_agg(CASE WHEN i = $6 THEN 1 ELSE 0 END ORDER BY i) FROM generate_series(1, `+strconv.Itoa(HistogramBuckets)+`) AS i))
			ON CONFLICT (monitor_id, hour, region_id) DO UPDATE SET checks = r.checks + 1, up_checks = r.up_checks + $4,
				maint_checks = r.maint_checks + $7, maint_up = r.maint_up + $8,
				rt_sum = r.rt_sum + $5, rt_min = least(r.rt_min, $5), rt_max = greatest(r.rt_max, $5),
				rt_histogram[$6] = r.rt_histogram[$6] + 1
			WHERE NOT r.summarized`,
			e.MonitorID, e.RegionID, e.CheckedAt, up, e.ResponseTimeMs, b, maint, maintUp)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, uptimeSQL, pq.Array([]int64{e.MonitorID}), pq.Array([]string{ts(e.CheckedAt)}))
		return err
	case *domain.ChecksSummarized:
		return applySummary(ctx, tx, e)
	case *domain.MonitorDeleted:
		id := monitorID(rec)
		// Raw results in the log (check_events) stay until their day is
		// dropped; deleted_monitors hides them from check_results.
		if _, err := tx.ExecContext(ctx, `INSERT INTO deleted_monitors (monitor_id) VALUES ($1) ON CONFLICT DO NOTHING`, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM check_results_legacy WHERE monitor_id = $1`, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM check_rollups WHERE monitor_id = $1`, id); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM monitor_uptime WHERE monitor_id = $1`, id)
		return err
	}
	return nil
}

// ApplyBatch implements BatchProjector: rollups pre-aggregated per monitor,
// region and hour in one upsert (raw rows are the log's check_events).
func (m Metrics) ApplyBatch(ctx context.Context, tx Exec, recs []domain.RecordedEvent, evs []domain.Event) error {
	return eachRun(recs, evs, func(run []*domain.CheckRecorded) error {
		type key struct {
			monitor, region int64
			hour            time.Time
		}
		type agg struct {
			checks, up     int64
			maint, maintUp int64
			sum, min, max  float64
			hist           [HistogramBuckets]int64
		}
		rollups := map[key]*agg{}
		var order []key
		for _, c := range run {
			k := key{c.MonitorID, c.RegionID, c.CheckedAt.UTC().Truncate(time.Hour)}
			a := rollups[k]
			if a == nil {
				a = &agg{min: c.ResponseTimeMs, max: c.ResponseTimeMs}
				rollups[k] = a
				order = append(order, k)
			}
			a.checks++
			if c.Up {
				a.up++
			}
			if c.InMaintenance {
				a.maint++
				if c.Up {
					a.maintUp++
				}
			}
			a.sum += c.ResponseTimeMs
			a.min, a.max = min(a.min, c.ResponseTimeMs), max(a.max, c.ResponseTimeMs)
			a.hist[bucketOf(c.ResponseTimeMs)-1]++
		}
		// A key with one check in the run (the usual case: a run rarely
		// holds two checks of a monitor in the same hour) adds one to one
		// histogram bucket in place; merging whole arrays costs PostgreSQL
		// about four times as much a row (docs/architecture.md, "Metrics
		// storage").
		var singles, multis []key
		for _, key := range order {
			if rollups[key].checks == 1 {
				singles = append(singles, key)
			} else {
				multis = append(multis, key)
			}
		}
		if len(singles) > 0 {
			k := len(singles)
			sm, sr, sb := make([]int64, k), make([]int64, k), make([]int64, k)
			sh := make([]string, k)
			su, smt, smu := make([]int64, k), make([]int64, k), make([]int64, k)
			srt := make([]float64, k)
			for i, key := range singles {
				a := rollups[key]
				sm[i], sr[i], sh[i], su[i], smt[i], smu[i], srt[i] = key.monitor, key.region, ts(key.hour), a.up, a.maint, a.maintUp, a.sum
				for j, n := range a.hist {
					if n > 0 {
						sb[i] = int64(j + 1)
					}
				}
			}
			// One statement: the UPDATE adds to the rows that exist and are
			// not summarized; the INSERT creates the missing ones (its NOT
			// EXISTS sees the table as it was before the UPDATE, so a row
			// the UPDATE touched, or a summarized one, is not inserted).
			if _, err := tx.ExecContext(ctx, `WITH x AS (
					SELECT m, reg, h::timestamptz AS h, u, rt, b, mc, mu
					FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::int[], $5::float8[], $6::int[], $7::int[], $8::int[]) AS x(m, reg, h, u, rt, b, mc, mu)),
				added AS (
					UPDATE check_rollups r SET checks = r.checks + 1, up_checks = r.up_checks + x.u,
						maint_checks = r.maint_checks + x.mc, maint_up = r.maint_up + x.mu,
						rt_sum = r.rt_sum + x.rt, rt_min = least(r.rt_min, x.rt), rt_max = greatest(r.rt_max, x.rt),
						rt_histogram[x.b] = r.rt_histogram[x.b] + 1
					FROM x WHERE r.monitor_id = x.m AND r.hour = x.h AND r.region_id = x.reg AND NOT r.summarized)
				INSERT INTO check_rollups (monitor_id, region_id, hour, checks, up_checks, maint_checks, maint_up, rt_sum, rt_min, rt_max, rt_histogram)
				SELECT x.m, x.reg, x.h, 1, x.u, x.mc, x.mu, x.rt, x.rt, x.rt,
					(SELECT array_agg((i = x.b)::int ORDER BY i) FROM generate_series(1, `+strconv.Itoa(HistogramBuckets)+`) AS i)
				FROM x WHERE NOT EXISTS (SELECT 1 FROM check_rollups r WHERE r.monitor_id = x.m AND r.hour = x.h AND r.region_id = x.reg)
				ON CONFLICT (monitor_id, hour, region_id) DO NOTHING`,
				pq.Array(sm), pq.Array(sr), pq.Array(sh), pq.Array(su), pq.Array(srt), pq.Array(sb), pq.Array(smt), pq.Array(smu)); err != nil {
				return err
			}
		}
		if len(multis) > 0 {
			k := len(multis)
			rm, rr := make([]int64, k), make([]int64, k)
			rh, hists := make([]string, k), make([]string, k)
			rc, ru, rmt, rmu := make([]int64, k), make([]int64, k), make([]int64, k), make([]int64, k)
			rs, rmin, rmax := make([]float64, k), make([]float64, k), make([]float64, k)
			for i, key := range multis {
				a := rollups[key]
				rm[i], rr[i], rh[i], rc[i], ru[i], rs[i], rmin[i], rmax[i] = key.monitor, key.region, ts(key.hour), a.checks, a.up, a.sum, a.min, a.max
				rmt[i], rmu[i] = a.maint, a.maintUp
				var b strings.Builder
				b.WriteByte('{')
				for j, n := range a.hist {
					if j > 0 {
						b.WriteByte(',')
					}
					b.WriteString(strconv.FormatInt(n, 10))
				}
				b.WriteByte('}')
				hists[i] = b.String()
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO check_rollups AS r (monitor_id, region_id, hour, checks, up_checks, maint_checks, maint_up,
					rt_sum, rt_min, rt_max, rt_histogram)
				SELECT m, reg, h::timestamptz, c, u, mc, mu, s, mn, mx, hist::int[]
				FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::int[], $5::int[], $6::float8[], $7::float8[], $8::float8[], $9::text[], $10::int[], $11::int[])
					AS x(m, reg, h, c, u, s, mn, mx, hist, mc, mu)
				ON CONFLICT (monitor_id, hour, region_id) DO UPDATE SET checks = r.checks + EXCLUDED.checks,
					up_checks = r.up_checks + EXCLUDED.up_checks, rt_sum = r.rt_sum + EXCLUDED.rt_sum,
					maint_checks = r.maint_checks + EXCLUDED.maint_checks, maint_up = r.maint_up + EXCLUDED.maint_up,
					rt_min = least(r.rt_min, EXCLUDED.rt_min), rt_max = greatest(r.rt_max, EXCLUDED.rt_max),
					rt_histogram = (SELECT array_agg(a + b ORDER BY i) FROM unnest(r.rt_histogram, EXCLUDED.rt_histogram) WITH ORDINALITY AS y(a, b, i))
				WHERE NOT r.summarized`,
				pq.Array(rm), pq.Array(rr), pq.Array(rh), pq.Array(rc), pq.Array(ru), pq.Array(rs), pq.Array(rmin), pq.Array(rmax), pq.Array(hists),
				pq.Array(rmt), pq.Array(rmu)); err != nil {
				return err
			}
		}
		latest := map[int64]time.Time{}
		for _, c := range run {
			if c.CheckedAt.After(latest[c.MonitorID]) {
				latest[c.MonitorID] = c.CheckedAt
			}
		}
		ids, at := make([]int64, 0, len(latest)), make([]string, 0, len(latest))
		for id, t := range latest {
			ids, at = append(ids, id), append(at, ts(t))
		}
		_, err := tx.ExecContext(ctx, uptimeSQL, pq.Array(ids), pq.Array(at))
		return err
	}, func(rec domain.RecordedEvent, ev domain.Event) error {
		return m.Apply(ctx, tx, rec, ev)
	})
}

// applySummary SETs the hour's rollup to the summary and marks it
// summarized: raw results of the hour applied before it are replaced, and
// those applied after it are not counted (the upserts above skip marked
// rows). Live folding and a rebuild therefore give the same rollup whether
// the hour's raw events are all in the log, partly dropped or gone.
// monitor_uptime is left alone: it follows the checks.
func applySummary(ctx context.Context, tx Exec, e *domain.ChecksSummarized) error {
	var b strings.Builder
	b.WriteByte('{')
	for i := range HistogramBuckets {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatInt(e.Histogram[i], 10))
	}
	b.WriteByte('}')
	_, err := tx.ExecContext(ctx, `INSERT INTO check_rollups AS r (monitor_id, region_id, hour, checks, up_checks, maint_checks, maint_up,
			rt_sum, rt_min, rt_max, rt_histogram, summarized)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::int[], TRUE)
		ON CONFLICT (monitor_id, hour, region_id) DO UPDATE SET checks = EXCLUDED.checks, up_checks = EXCLUDED.up_checks,
			maint_checks = EXCLUDED.maint_checks, maint_up = EXCLUDED.maint_up, rt_sum = EXCLUDED.rt_sum,
			rt_min = EXCLUDED.rt_min, rt_max = EXCLUDED.rt_max, rt_histogram = EXCLUDED.rt_histogram, summarized = TRUE`,
		e.MonitorID, e.RegionID, e.Hour.UTC(), e.Checks, e.UpChecks, e.MaintChecks, e.MaintUp, e.RTSum, e.RTMin, e.RTMax, b.String())
	return err
}
