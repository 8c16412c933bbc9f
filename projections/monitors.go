package projections

import (
	"context"
	"encoding/json"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/medialuna/medialuna/domain"
)

// Monitors projects monitors with their live status, tags and probe regions.
type Monitors struct{}

// SettlesWrites is true: a write waits until this model has applied it,
// so the writer's next read sees it.
func (Monitors) SettlesWrites() bool { return true }

func (Monitors) Name() string { return "monitors" }
func (Monitors) Version() int { return 3 }

// Handles implements EventFilter.
func (Monitors) Handles(t string) bool {
	switch t {
	case domain.EvMonitorCreated, domain.EvMonitorUpdated, domain.EvMonitorPaused, domain.EvMonitorResumed, domain.EvMonitorDeleted, domain.EvCheckRecorded, domain.EvTagCreated, domain.EvTagDeleted, domain.EvRegionRegistered, domain.EvRegionDeactivated:
		return true
	}
	return false
}

func (Monitors) Tables() []string {
	return []string{"monitors", "monitor_state", "monitor_region_latest", "tags", "regions"}
}

func (Monitors) Setup(ctx context.Context, tx *sqlx.Tx) error {
	_, err := tx.ExecContext(ctx, `
		CREATE TABLE monitors (
			id              BIGINT PRIMARY KEY,
			account_id      BIGINT NOT NULL,
			name            TEXT NOT NULL,
			type            TEXT NOT NULL,
			url             TEXT NOT NULL,
			config          JSONB NOT NULL,
			tag_ids         BIGINT[] NOT NULL DEFAULT '{}',
			region_ids      BIGINT[] NOT NULL DEFAULT '{}',
			confirm         INT NOT NULL DEFAULT 1,
			check_interval  INT NOT NULL,
			paused          BOOLEAN NOT NULL DEFAULT FALSE,
			push_token      TEXT UNIQUE,
			created_at      TIMESTAMPTZ NOT NULL,
			updated_at      TIMESTAMPTZ NOT NULL,
			resumed_at      TIMESTAMPTZ NOT NULL);
		CREATE INDEX monitors_account ON monitors (account_id, id);
		CREATE INDEX monitors_active ON monitors (id) WHERE NOT paused;
		-- What the probes' and the push watchdog's once-a-second polls read
		-- (AssignmentsVersion, ActivePushMonitors), without the configuration
		-- rows: 84 index pages instead of 2,500 table pages at 10,000
		-- monitors. schema/0014 adds them to an existing database.
		CREATE INDEX monitors_polled ON monitors (id) INCLUDE (updated_at, region_ids) WHERE NOT paused AND type <> 'PUSH';
		CREATE INDEX monitors_push ON monitors (id) WHERE type = 'PUSH';
		-- What every check changes lives in its own narrow table, so the
		-- configuration rows above are written only when a user changes them.
		CREATE TABLE monitor_state (
			monitor_id      BIGINT PRIMARY KEY,
			status          TEXT NOT NULL DEFAULT 'pending',
			last_checked_at TIMESTAMPTZ,
			last_up_at      TIMESTAMPTZ,
			last_response_time_ms DOUBLE PRECISION,
			cert_expires_at TIMESTAMPTZ) WITH (fillfactor = 70);
		CREATE TABLE monitor_region_latest (
			monitor_id BIGINT NOT NULL,
			region_id  BIGINT NOT NULL,
			up         BOOLEAN NOT NULL,
			checked_at TIMESTAMPTZ NOT NULL,
			PRIMARY KEY (monitor_id, region_id));
		CREATE TABLE tags (
			id         BIGINT PRIMARY KEY,
			account_id BIGINT NOT NULL,
			name       TEXT NOT NULL,
			color      TEXT NOT NULL,
			created_at TIMESTAMPTZ NOT NULL);
		CREATE INDEX tags_account ON tags (account_id, lower(name));
		CREATE TABLE regions (
			id         BIGINT PRIMARY KEY,
			code       TEXT NOT NULL UNIQUE,
			name       TEXT NOT NULL,
			lat        DOUBLE PRECISION NOT NULL,
			lng        DOUBLE PRECISION NOT NULL,
			active     BOOLEAN NOT NULL DEFAULT TRUE,
			created_at TIMESTAMPTZ NOT NULL);`)
	return err
}

// statusSQL recomputes the status of the monitors in $1 from their
// regions' latest results (domain.FreshResults and domain.MonitorStatus in
// SQL): only fresh results from regions a monitor is currently assigned
// count, and push heartbeats (region 0) always do. Rows whose status does not change are not written.
const statusSQL = `UPDATE monitor_state m SET status = s.status
	FROM (SELECT mm.id, CASE
			WHEN mm.paused THEN 'paused'
			WHEN count(l.monitor_id) = 0 THEN 'pending'
			WHEN count(l.monitor_id) FILTER (WHERE NOT l.up) >= least(greatest(mm.confirm, 1), count(l.monitor_id)) THEN 'down'
			ELSE 'up' END AS status
		FROM monitors mm LEFT JOIN monitor_region_latest l
			ON l.monitor_id = mm.id AND (l.region_id = ANY(mm.region_ids) OR l.region_id = 0)
			AND l.checked_at >= (SELECT max(f.checked_at) FROM monitor_region_latest f WHERE f.monitor_id = mm.id
				AND (f.region_id = ANY(mm.region_ids) OR f.region_id = 0))
				- make_interval(secs => 3 * greatest(mm.check_interval, 1) + 60)
		WHERE mm.id = ANY($1::bigint[]) GROUP BY mm.id) AS s
	WHERE m.monitor_id = s.id AND m.status IS DISTINCT FROM s.status`

func (Monitors) Apply(ctx context.Context, tx Exec, rec domain.RecordedEvent, ev domain.Event) error {
	at := rec.Metadata.OccurredAt
	exec := func(q string, args ...any) error {
		_, err := tx.ExecContext(ctx, q, args...)
		return err
	}
	switch e := ev.(type) {
	case *domain.MonitorCreated:
		cfg, err := json.Marshal(e.Config)
		if err != nil {
			return err
		}
		var token any
		if e.PushToken != "" {
			token = e.PushToken
		}
		if err := exec(`INSERT INTO monitors (id, account_id, name, type, url, config, tag_ids, region_ids, confirm, check_interval,
				push_token, created_at, updated_at, resumed_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12, $12) ON CONFLICT (id) DO NOTHING`,
			e.MonitorID, e.AccountID, e.Config.Name, e.Config.Type, e.Config.URL, string(cfg), pq.Array(e.Config.TagIDs),
			pq.Array(e.Config.RegionIDs), e.Config.ConfirmFromLocations, e.Config.CheckInterval, token, at); err != nil {
			return err
		}
		return exec(`INSERT INTO monitor_state (monitor_id) VALUES ($1) ON CONFLICT DO NOTHING`, e.MonitorID)
	case *domain.MonitorUpdated:
		id := monitorID(rec)
		cfg, err := json.Marshal(e.Config)
		if err != nil {
			return err
		}
		if err := exec(`UPDATE monitors SET name = $2, type = $3, url = $4, config = $5, tag_ids = $6, region_ids = $7,
				confirm = $8, check_interval = $9, updated_at = $10 WHERE id = $1`,
			id, e.Config.Name, e.Config.Type, e.Config.URL, string(cfg), pq.Array(e.Config.TagIDs), pq.Array(e.Config.RegionIDs),
			e.Config.ConfirmFromLocations, e.Config.CheckInterval, at); err != nil {
			return err
		}
		return exec(statusSQL, pq.Array([]int64{id}))
	case *domain.MonitorPaused:
		if err := exec(`UPDATE monitors SET paused = TRUE, updated_at = $2 WHERE id = $1`, monitorID(rec), at); err != nil {
			return err
		}
		return exec(`UPDATE monitor_state SET status = 'paused' WHERE monitor_id = $1`, monitorID(rec))
	case *domain.MonitorResumed:
		// Old results say nothing about the target now: start again as pending.
		id := monitorID(rec)
		if err := exec(`DELETE FROM monitor_region_latest WHERE monitor_id = $1`, id); err != nil {
			return err
		}
		if err := exec(`UPDATE monitors SET paused = FALSE, updated_at = $2, resumed_at = $2 WHERE id = $1`, id, at); err != nil {
			return err
		}
		return exec(`UPDATE monitor_state SET status = 'pending' WHERE monitor_id = $1`, id)
	case *domain.MonitorDeleted:
		id := monitorID(rec)
		if err := exec(`DELETE FROM monitor_region_latest WHERE monitor_id = $1`, id); err != nil {
			return err
		}
		if err := exec(`DELETE FROM monitor_state WHERE monitor_id = $1`, id); err != nil {
			return err
		}
		return exec(`DELETE FROM monitors WHERE id = $1`, id)
	case *domain.CheckRecorded:
		if err := exec(`INSERT INTO monitor_region_latest (monitor_id, region_id, up, checked_at)
			SELECT $1, $2, $3, $4 WHERE EXISTS (SELECT 1 FROM monitors WHERE id = $1)
			ON CONFLICT (monitor_id, region_id) DO UPDATE SET up = EXCLUDED.up, checked_at = EXCLUDED.checked_at
			WHERE monitor_region_latest.checked_at <= EXCLUDED.checked_at`, e.MonitorID, e.RegionID, e.Up, e.CheckedAt); err != nil {
			return err
		}
		if err := exec(`UPDATE monitor_state SET last_checked_at = $2, last_response_time_ms = $4,
				last_up_at = CASE WHEN $3 THEN $2 ELSE last_up_at END, cert_expires_at = coalesce($5, cert_expires_at)
			WHERE monitor_id = $1 AND (last_checked_at IS NULL OR last_checked_at <= $2)`, e.MonitorID, e.CheckedAt, e.Up, e.ResponseTimeMs, e.CertExpiresAt); err != nil {
			return err
		}
		return exec(statusSQL, pq.Array([]int64{e.MonitorID}))
	case *domain.TagCreated:
		return exec(`INSERT INTO tags (id, account_id, name, color, created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING`,
			e.TagID, e.AccountID, e.Name, e.Color, at)
	case *domain.TagDeleted:
		id := tagID(rec)
		if err := exec(`DELETE FROM tags WHERE id = $1`, id); err != nil {
			return err
		}
		return exec(`UPDATE monitors SET tag_ids = array_remove(tag_ids, $1::bigint),
			config = jsonb_set(config, '{tag_ids}', to_jsonb(array_remove(tag_ids, $1::bigint))) WHERE $1 = ANY(tag_ids)`, id)
	case *domain.RegionRegistered:
		if rec.StreamID != domain.RegionStream(e.RegionID) {
			return nil // the code claim carries the same event
		}
		return exec(`INSERT INTO regions (id, code, name, lat, lng, created_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING`,
			e.RegionID, e.Code, e.Name, e.Lat, e.Lng, at)
	case *domain.RegionDeactivated:
		return exec(`UPDATE regions SET active = FALSE WHERE id = $1`, streamID(rec, "region-"))
	}
	return nil
}

func monitorID(rec domain.RecordedEvent) int64 { return streamID(rec, "monitor-") }

// dropMonitorID takes a deleted monitor out of the monitor_ids of every
// config in table (maintenance_windows, status_pages) that names it,
// keeping the order of the others. table is one of this package's own.
func dropMonitorID(ctx context.Context, tx Exec, table string, monitorID int64) error {
	_, err := tx.ExecContext(ctx, `UPDATE `+table+` SET config = jsonb_set(config, '{monitor_ids}',
		coalesce((SELECT jsonb_agg(x ORDER BY n) FROM jsonb_array_elements(config->'monitor_ids') WITH ORDINALITY AS a(x, n)
			WHERE x <> to_jsonb($1::bigint)), '[]'))
		WHERE config->'monitor_ids' @> to_jsonb(ARRAY[$1::bigint])`, monitorID)
	return err
}
func tagID(rec domain.RecordedEvent) int64 { return streamID(rec, "tag-") }

// streamID reads the numeric id at the end of a stream name.
func streamID(rec domain.RecordedEvent, prefix string) int64 {
	s := rec.StreamID
	if len(s) <= len(prefix) || s[:len(prefix)] != prefix {
		return 0
	}
	var n int64
	for _, c := range s[len(prefix):] {
		if c < '0' || c > '9' {
			return 0
		}
		n = n*10 + int64(c-'0')
	}
	return n
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
