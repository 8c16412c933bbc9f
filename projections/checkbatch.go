package projections

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/lib/pq"

	"github.com/medialuna/medialuna/domain"
)

// eachRun walks events in order, handing each maximal run of consecutive
// CheckRecorded events to checks and every other event to other.
func eachRun(recs []domain.RecordedEvent, evs []domain.Event,
	checks func([]*domain.CheckRecorded) error, other func(domain.RecordedEvent, domain.Event) error) error {
	var run []*domain.CheckRecorded
	flush := func() error {
		if len(run) == 0 {
			return nil
		}
		err := checks(run)
		run = run[:0]
		return err
	}
	for i, ev := range evs {
		if c, ok := ev.(*domain.CheckRecorded); ok {
			run = append(run, c)
			continue
		}
		if err := flush(); err != nil {
			return err
		}
		if err := other(recs[i], ev); err != nil {
			return err
		}
	}
	return flush()
}

// ApplyBatch implements BatchProjector: a run of check results becomes
// three statements whatever its length.
func (m Monitors) ApplyBatch(ctx context.Context, tx Exec, recs []domain.RecordedEvent, evs []domain.Event) error {
	return eachRun(recs, evs, func(run []*domain.CheckRecorded) error {
		type key struct{ monitor, region int64 }
		latest := map[key]*domain.CheckRecorded{}
		perMonitor := map[int64]*domain.CheckRecorded{}
		lastUp := map[int64]time.Time{}
		lastCert := map[int64]*domain.CheckRecorded{} // the latest check that saw a certificate
		for _, c := range run {
			if c.CertExpiresAt != nil {
				if l := lastCert[c.MonitorID]; l == nil || !c.CheckedAt.Before(l.CheckedAt) {
					lastCert[c.MonitorID] = c
				}
			}
			k := key{c.MonitorID, c.RegionID}
			if l := latest[k]; l == nil || !c.CheckedAt.Before(l.CheckedAt) {
				latest[k] = c
			}
			if l := perMonitor[c.MonitorID]; l == nil || !c.CheckedAt.Before(l.CheckedAt) {
				perMonitor[c.MonitorID] = c
			}
			if c.Up && c.CheckedAt.After(lastUp[c.MonitorID]) {
				lastUp[c.MonitorID] = c.CheckedAt
			}
		}
		var lm, lr []int64
		var lup []bool
		var lat []time.Time
		for k, c := range latest {
			lm, lr, lup, lat = append(lm, k.monitor), append(lr, k.region), append(lup, c.Up), append(lat, c.CheckedAt)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO monitor_region_latest (monitor_id, region_id, up, checked_at)
			SELECT u.m, u.r, u.up, u.t FROM unnest($1::bigint[], $2::bigint[], $3::bool[], $4::timestamptz[]) AS u(m, r, up, t)
			WHERE EXISTS (SELECT 1 FROM monitors WHERE id = u.m)
			ON CONFLICT (monitor_id, region_id) DO UPDATE SET up = EXCLUDED.up, checked_at = EXCLUDED.checked_at
			WHERE monitor_region_latest.checked_at <= EXCLUDED.checked_at`,
			pq.Array(lm), pq.Array(lr), pq.Array(lup), pq.Array(times(lat))); err != nil {
			return err
		}
		var ids []int64
		var at, ups, certs []string
		var rts []float64
		for id, c := range perMonitor {
			ids, at, rts = append(ids, id), append(at, ts(c.CheckedAt)), append(rts, c.ResponseTimeMs)
			up := ""
			if t, ok := lastUp[id]; ok {
				up = ts(t)
			}
			ups = append(ups, up)
			cert := ""
			if lc := lastCert[id]; lc != nil {
				cert = ts(*lc.CertExpiresAt)
			}
			certs = append(certs, cert)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE monitor_state m SET last_checked_at = u.t::timestamptz, last_response_time_ms = u.rt,
				last_up_at = greatest(m.last_up_at, NULLIF(u.up, '')::timestamptz),
				cert_expires_at = coalesce(NULLIF(u.cert, '')::timestamptz, m.cert_expires_at)
			FROM unnest($1::bigint[], $2::text[], $3::float8[], $4::text[], $5::text[]) AS u(id, t, rt, up, cert)
			WHERE m.monitor_id = u.id AND (m.last_checked_at IS NULL OR m.last_checked_at <= u.t::timestamptz)`,
			pq.Array(ids), pq.Array(at), pq.Array(rts), pq.Array(ups), pq.Array(certs)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, statusSQL, pq.Array(ids))
		return err
	}, func(rec domain.RecordedEvent, ev domain.Event) error {
		return m.Apply(ctx, tx, rec, ev)
	})
}

// ApplyBatch implements BatchProjector: raw rows in one insert, rollups
// pre-aggregated per monitor, region and hour in one upsert.
func (m Metrics) ApplyBatch(ctx context.Context, tx Exec, recs []domain.RecordedEvent, evs []domain.Event) error {
	return eachRun(recs, evs, func(run []*domain.CheckRecorded) error {
		n := len(run)
		mon, reg := make([]int64, n), make([]int64, n)
		at, certs, errs, details := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		up, maint := make([]bool, n), make([]bool, n)
		rt := make([]float64, n)
		codes := make([]string, n)
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
		for i, c := range run {
			mon[i], reg[i], at[i], up[i], rt[i], maint[i] = c.MonitorID, c.RegionID, ts(c.CheckedAt), c.Up, c.ResponseTimeMs, c.InMaintenance
			errs[i], details[i] = c.Error, domain.TruncateBytes(c.Detail, maxDetail, "")
			if c.StatusCode != 0 {
				codes[i] = strconv.Itoa(c.StatusCode)
			}
			if c.CertExpiresAt != nil {
				certs[i] = ts(*c.CertExpiresAt)
			}
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
		if _, err := tx.ExecContext(ctx, `INSERT INTO check_results (monitor_id, region_id, checked_at, up, response_time_ms,
				status_code, error, detail, cert_expires_at, in_maintenance)
			SELECT m, r, t::timestamptz, up, rt, NULLIF(code, '')::int, e, d, NULLIF(cert, '')::timestamptz, mt
			FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::bool[], $5::float8[], $6::text[], $7::text[], $8::text[], $9::text[], $10::bool[])
				AS u(m, r, t, up, rt, code, e, d, cert, mt)`,
			pq.Array(mon), pq.Array(reg), pq.Array(at), pq.Array(up), pq.Array(rt), pq.Array(codes), pq.Array(errs),
			pq.Array(details), pq.Array(certs), pq.Array(maint)); err != nil {
			return err
		}
		k := len(order)
		rm, rr := make([]int64, k), make([]int64, k)
		rh, hists := make([]string, k), make([]string, k)
		rc, ru, rmt, rmu := make([]int64, k), make([]int64, k), make([]int64, k), make([]int64, k)
		rs, rmin, rmax := make([]float64, k), make([]float64, k), make([]float64, k)
		for i, key := range order {
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
		_, err := tx.ExecContext(ctx, `INSERT INTO check_rollups AS r (monitor_id, region_id, hour, checks, up_checks, maint_checks, maint_up,
				rt_sum, rt_min, rt_max, rt_histogram)
			SELECT m, reg, h::timestamptz, c, u, mc, mu, s, mn, mx, hist::int[]
			FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::int[], $5::int[], $6::float8[], $7::float8[], $8::float8[], $9::text[], $10::int[], $11::int[])
				AS x(m, reg, h, c, u, s, mn, mx, hist, mc, mu)
			ON CONFLICT (monitor_id, hour, region_id) DO UPDATE SET checks = r.checks + EXCLUDED.checks,
				up_checks = r.up_checks + EXCLUDED.up_checks, rt_sum = r.rt_sum + EXCLUDED.rt_sum,
				maint_checks = r.maint_checks + EXCLUDED.maint_checks, maint_up = r.maint_up + EXCLUDED.maint_up,
				rt_min = least(r.rt_min, EXCLUDED.rt_min), rt_max = greatest(r.rt_max, EXCLUDED.rt_max),
				rt_histogram = (SELECT array_agg(a + b ORDER BY i) FROM unnest(r.rt_histogram, EXCLUDED.rt_histogram) WITH ORDINALITY AS y(a, b, i))`,
			pq.Array(rm), pq.Array(rr), pq.Array(rh), pq.Array(rc), pq.Array(ru), pq.Array(rs), pq.Array(rmin), pq.Array(rmax), pq.Array(hists),
			pq.Array(rmt), pq.Array(rmu))
		return err
	}, func(rec domain.RecordedEvent, ev domain.Event) error {
		return m.Apply(ctx, tx, rec, ev)
	})
}

func ts(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func times(ts []time.Time) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.UTC().Format(time.RFC3339Nano)
	}
	return out
}
