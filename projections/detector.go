package projections

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/medialuna/medialuna/domain"
)

// IncidentCommands is what the detector asks of the write side.
type IncidentCommands interface {
	Open(ctx context.Context, accountID, monitorID int64, typ domain.IncidentType, message string, startedAt time.Time) (int64, domain.Position, error)
	Close(ctx context.Context, accountID, monitorID int64, typ domain.IncidentType, reason, message string) (domain.Position, error)
}

// IncidentDetector is the process manager that turns check results into
// incidents: DOWN when a monitor is confirmed down (confirm_from_locations
// regions failing), SSL_EXPIRY when a certificate expires within the
// monitor's ssl_expiry_reminder days, and it resolves them on recovery,
// renewal, pause or deletion.
//
// It keeps its own fold of the log (its tables) and acts through
// IncidentCommands, which are idempotent: the monitor's tracker stream
// allows one open incident per type, so an event applied twice after a
// crash opens nothing twice. Results older than StaleAfter only update
// its state: when it first starts, or is rebuilt, it replays history
// without opening incidents for the past.
type IncidentDetector struct {
	commands   IncidentCommands
	now        func() time.Time
	staleAfter time.Duration
}

// NewIncidentDetector returns the detector.
func NewIncidentDetector(commands IncidentCommands, now func() time.Time) *IncidentDetector {
	return &IncidentDetector{commands: commands, now: now, staleAfter: 10 * time.Minute}
}

func (*IncidentDetector) Name() string { return "incident_detector" }
func (*IncidentDetector) Version() int { return 3 }
func (*IncidentDetector) IsConsumer()  {}
func (*IncidentDetector) Tables() []string {
	return []string{"detector_monitors", "detector_latest"}
}

// Handles implements EventFilter.
func (*IncidentDetector) Handles(t string) bool {
	switch t {
	case "MonitorCreated", "MonitorUpdated", "MonitorPaused", "MonitorResumed", "MonitorDeleted", "CheckRecorded":
		return true
	}
	return false
}

func (*IncidentDetector) Setup(ctx context.Context, tx *sqlx.Tx) error {
	_, err := tx.ExecContext(ctx, `
		CREATE TABLE detector_monitors (
			monitor_id   BIGINT PRIMARY KEY,
			account_id   BIGINT NOT NULL,
			name         TEXT NOT NULL,
			confirm      INT NOT NULL,
			region_ids   BIGINT[] NOT NULL,
			ssl_reminder INT NOT NULL,
			paused       BOOLEAN NOT NULL DEFAULT FALSE,
			down         BOOLEAN NOT NULL DEFAULT FALSE,
			ssl_expiring BOOLEAN NOT NULL DEFAULT FALSE,
			perf_threshold   INT NOT NULL DEFAULT 0,
			perf_consecutive INT NOT NULL DEFAULT 3,
			slow_streak      INT NOT NULL DEFAULT 0,
			fast_streak      INT NOT NULL DEFAULT 0,
			perf_open        BOOLEAN NOT NULL DEFAULT FALSE,
			check_interval   INT NOT NULL DEFAULT 300);
		CREATE TABLE detector_latest (
			monitor_id BIGINT NOT NULL,
			region_id  BIGINT NOT NULL,
			up         BOOLEAN NOT NULL,
			error      TEXT NOT NULL,
			checked_at TIMESTAMPTZ NOT NULL,
			PRIMARY KEY (monitor_id, region_id));`)
	return err
}

type detectorMonitor struct {
	MonitorID       int64         `db:"monitor_id"`
	AccountID       int64         `db:"account_id"`
	Name            string        `db:"name"`
	Confirm         int           `db:"confirm"`
	RegionIDs       pq.Int64Array `db:"region_ids"`
	SSLReminder     int           `db:"ssl_reminder"`
	Paused          bool          `db:"paused"`
	Down            bool          `db:"down"`
	SSLExpiring     bool          `db:"ssl_expiring"`
	PerfThreshold   int           `db:"perf_threshold"`
	PerfConsecutive int           `db:"perf_consecutive"`
	SlowStreak      int           `db:"slow_streak"`
	FastStreak      int           `db:"fast_streak"`
	PerfOpen        bool          `db:"perf_open"`
	CheckInterval   int           `db:"check_interval"`
}

func (d *IncidentDetector) Apply(ctx context.Context, tx Exec, rec domain.RecordedEvent, ev domain.Event) error {
	switch e := ev.(type) {
	case *domain.MonitorCreated:
		c := e.Config
		_, err := tx.ExecContext(ctx, `INSERT INTO detector_monitors (monitor_id, account_id, name, confirm, region_ids, ssl_reminder,
				perf_threshold, perf_consecutive, check_interval)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (monitor_id) DO NOTHING`,
			e.MonitorID, e.AccountID, c.Name, max(c.ConfirmFromLocations, 1), pq.Array(c.RegionIDs), c.SSLExpiryReminder,
			c.PerformanceThresholdMs, max(c.PerformanceConsecutiveChecks, 1), c.CheckInterval)
		return err
	case *domain.MonitorUpdated:
		c := e.Config
		if c.PerformanceThresholdMs == 0 {
			// Turning the threshold off resolves a PERFORMANCE incident it opened.
			if m, ok, err := d.monitor(ctx, tx, monitorID(rec)); err != nil {
				return err
			} else if ok && m.PerfOpen && d.now().Sub(rec.Metadata.OccurredAt) < d.staleAfter {
				if _, err := d.commands.Close(ctx, m.AccountID, m.MonitorID, domain.IncidentPerformance, "threshold_removed",
					"Resolved: the monitor's performance threshold was turned off"); err != nil {
					return err
				}
				if _, err := tx.ExecContext(ctx, `UPDATE detector_monitors SET perf_open = FALSE, slow_streak = 0, fast_streak = 0 WHERE monitor_id = $1`, m.MonitorID); err != nil {
					return err
				}
			}
		}
		_, err := tx.ExecContext(ctx, `UPDATE detector_monitors SET name = $2, confirm = $3, region_ids = $4, ssl_reminder = $5,
				perf_threshold = $6, perf_consecutive = $7, check_interval = $8 WHERE monitor_id = $1`, monitorID(rec), c.Name,
			max(c.ConfirmFromLocations, 1), pq.Array(c.RegionIDs), c.SSLExpiryReminder, c.PerformanceThresholdMs,
			max(c.PerformanceConsecutiveChecks, 1), c.CheckInterval)
		return err
	case *domain.MonitorPaused, *domain.MonitorDeleted:
		id := monitorID(rec)
		m, ok, err := d.monitor(ctx, tx, id)
		if err != nil || !ok {
			return err
		}
		reason, verb := "monitor_paused", "paused"
		if _, deleted := ev.(*domain.MonitorDeleted); deleted {
			reason, verb = "monitor_deleted", "deleted"
		}
		for _, typ := range []domain.IncidentType{domain.IncidentDown, domain.IncidentSSLExpiry, domain.IncidentPerformance} {
			if _, err := d.commands.Close(ctx, m.AccountID, id, typ, reason, "Resolved automatically: the monitor was "+verb); err != nil {
				return err
			}
		}
		if reason == "monitor_deleted" {
			if _, err := tx.ExecContext(ctx, `DELETE FROM detector_latest WHERE monitor_id = $1`, id); err != nil {
				return err
			}
			_, err = tx.ExecContext(ctx, `DELETE FROM detector_monitors WHERE monitor_id = $1`, id)
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE detector_monitors SET paused = TRUE, down = FALSE, ssl_expiring = FALSE, perf_open = FALSE,
			slow_streak = 0, fast_streak = 0 WHERE monitor_id = $1`, id)
		return err
	case *domain.MonitorResumed:
		id := monitorID(rec)
		if _, err := tx.ExecContext(ctx, `DELETE FROM detector_latest WHERE monitor_id = $1`, id); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE detector_monitors SET paused = FALSE, down = FALSE, ssl_expiring = FALSE, perf_open = FALSE,
			slow_streak = 0, fast_streak = 0 WHERE monitor_id = $1`, id)
		return err
	case *domain.CheckRecorded:
		return d.check(ctx, tx, e)
	}
	return nil
}

func (d *IncidentDetector) monitor(ctx context.Context, tx Exec, id int64) (detectorMonitor, bool, error) {
	var m detectorMonitor
	err := tx.GetContext(ctx, &m, `SELECT `+detectorColumns+` FROM detector_monitors WHERE monitor_id = $1`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return m, false, nil
	}
	return m, err == nil, err
}

const detectorColumns = `monitor_id, account_id, name, confirm, region_ids, ssl_reminder, paused, down, ssl_expiring,
	perf_threshold, perf_consecutive, slow_streak, fast_streak, perf_open, check_interval`

// latestResult is a region's latest result as the detector keeps it.
type latestResult struct {
	MonitorID int64     `db:"monitor_id"`
	RegionID  int64     `db:"region_id"`
	Up        bool      `db:"up"`
	Error     string    `db:"error"`
	CheckedAt time.Time `db:"checked_at"`
}

// detectorState is what evaluating a run of checks reads and writes.
type detectorState struct {
	monitors map[int64]*detectorMonitor
	latest   map[int64]map[int64]latestResult // monitor -> region -> result
}

func (d *IncidentDetector) loadState(ctx context.Context, tx Exec, ids []int64) (detectorState, error) {
	st := detectorState{monitors: map[int64]*detectorMonitor{}, latest: map[int64]map[int64]latestResult{}}
	var ms []detectorMonitor
	if err := tx.SelectContext(ctx, &ms, `SELECT `+detectorColumns+` FROM detector_monitors WHERE monitor_id = ANY($1)`, pq.Array(ids)); err != nil {
		return st, err
	}
	for i := range ms {
		st.monitors[ms[i].MonitorID] = &ms[i]
	}
	var ls []latestResult
	if err := tx.SelectContext(ctx, &ls, `SELECT monitor_id, region_id, up, error, checked_at FROM detector_latest WHERE monitor_id = ANY($1)`,
		pq.Array(ids)); err != nil {
		return st, err
	}
	for _, l := range ls {
		if st.latest[l.MonitorID] == nil {
			st.latest[l.MonitorID] = map[int64]latestResult{}
		}
		st.latest[l.MonitorID][l.RegionID] = l
	}
	return st, nil
}

// saveState writes back the monitors and latest results a run touched, in
// two statements whatever the run's length.
func (d *IncidentDetector) saveState(ctx context.Context, tx Exec, st detectorState, touched []int64) error {
	var lm, lr []int64
	var lup []bool
	var lerr, lat []string
	var ids, slow, fast []int64
	var down, ssl, perf []bool
	for _, id := range touched {
		m := st.monitors[id]
		if m == nil {
			continue
		}
		ids, slow, fast = append(ids, id), append(slow, int64(m.SlowStreak)), append(fast, int64(m.FastStreak))
		down, ssl, perf = append(down, m.Down), append(ssl, m.SSLExpiring), append(perf, m.PerfOpen)
		for _, l := range st.latest[id] {
			lm, lr, lup, lerr, lat = append(lm, l.MonitorID), append(lr, l.RegionID), append(lup, l.Up), append(lerr, l.Error), append(lat, ts(l.CheckedAt))
		}
	}
	if len(ids) == 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO detector_latest (monitor_id, region_id, up, error, checked_at)
		SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bool[], $4::text[], $5::text[]::timestamptz[])
		ON CONFLICT (monitor_id, region_id) DO UPDATE SET up = EXCLUDED.up, error = EXCLUDED.error, checked_at = EXCLUDED.checked_at`,
		pq.Array(lm), pq.Array(lr), pq.Array(lup), pq.Array(lerr), pq.Array(lat)); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `UPDATE detector_monitors m SET down = u.down, ssl_expiring = u.ssl, perf_open = u.perf,
			slow_streak = u.slow, fast_streak = u.fast
		FROM unnest($1::bigint[], $2::bool[], $3::bool[], $4::bool[], $5::int[], $6::int[]) AS u(id, down, ssl, perf, slow, fast)
		WHERE m.monitor_id = u.id`, pq.Array(ids), pq.Array(down), pq.Array(ssl), pq.Array(perf), pq.Array(slow), pq.Array(fast))
	return err
}

// checks evaluates a run of check results against loaded state.
func (d *IncidentDetector) checks(ctx context.Context, tx Exec, run []*domain.CheckRecorded) error {
	var ids []int64
	seen := map[int64]bool{}
	for _, c := range run {
		if !seen[c.MonitorID] {
			seen[c.MonitorID] = true
			ids = append(ids, c.MonitorID)
		}
	}
	st, err := d.loadState(ctx, tx, ids)
	if err != nil {
		return err
	}
	for _, c := range run {
		if err := d.evaluate(ctx, st, c); err != nil {
			return err
		}
	}
	return d.saveState(ctx, tx, st, ids)
}

// check is the one-event path: a run of one.
func (d *IncidentDetector) check(ctx context.Context, tx Exec, c *domain.CheckRecorded) error {
	return d.checks(ctx, tx, []*domain.CheckRecorded{c})
}

// ApplyBatch implements BatchProjector.
func (d *IncidentDetector) ApplyBatch(ctx context.Context, tx Exec, recs []domain.RecordedEvent, evs []domain.Event) error {
	return eachRun(recs, evs, func(run []*domain.CheckRecorded) error {
		return d.checks(ctx, tx, run)
	}, func(rec domain.RecordedEvent, ev domain.Event) error {
		return d.Apply(ctx, tx, rec, ev)
	})
}

// evaluate folds one result into the state and acts on the transitions it
// causes.
func (d *IncidentDetector) evaluate(ctx context.Context, st detectorState, c *domain.CheckRecorded) error {
	m := st.monitors[c.MonitorID]
	if m == nil || m.Paused {
		return nil
	}
	byRegion := st.latest[c.MonitorID]
	if byRegion == nil {
		byRegion = map[int64]latestResult{}
		st.latest[c.MonitorID] = byRegion
	}
	if prev, ok := byRegion[c.RegionID]; !ok || !c.CheckedAt.Before(prev.CheckedAt) {
		byRegion[c.RegionID] = latestResult{MonitorID: c.MonitorID, RegionID: c.RegionID, Up: c.Up, Error: c.Error, CheckedAt: c.CheckedAt}
	}
	var results []domain.RegionResult
	var errs []string
	regions := make([]int64, 0, len(byRegion))
	for r := range byRegion {
		regions = append(regions, r)
	}
	sort.Slice(regions, func(i, j int) bool { return regions[i] < regions[j] })
	for _, r := range regions {
		l := byRegion[r]
		if r != 0 && !slices.Contains(m.RegionIDs, r) {
			continue
		}
		results = append(results, domain.RegionResult{RegionID: r, Up: l.Up, CheckedAt: l.CheckedAt})
	}
	results = domain.FreshResults(results, m.CheckInterval)
	for _, r := range results {
		if l := byRegion[r.RegionID]; !l.Up && l.Error != "" {
			errs = append(errs, l.Error)
		}
	}
	down := domain.MonitorStatus(false, m.Confirm, results) == domain.StatusDown
	if err := d.performance(ctx, c, m); err != nil {
		return err
	}
	// History replayed on a first start or a rebuild only updates state;
	// the flags below say which incidents this detector has open, so the
	// first fresh result of an outage that began in the past opens one.
	if d.now().Sub(c.CheckedAt) >= d.staleAfter {
		return nil
	}
	// Inside a maintenance window no incident opens; one that was open
	// still resolves when the monitor recovers. After the window, the next
	// failing result opens it.
	if down != m.Down && !(down && c.InMaintenance) {
		if down {
			msg := fmt.Sprintf("%s is down", m.Name)
			if len(errs) > 0 {
				msg += ": " + strings.Join(dedupeStrings(errs), "; ")
			}
			if _, _, err := d.commands.Open(ctx, m.AccountID, c.MonitorID, domain.IncidentDown, msg, c.CheckedAt); err != nil {
				return err
			}
		} else if _, err := d.commands.Close(ctx, m.AccountID, c.MonitorID, domain.IncidentDown, "recovered",
			fmt.Sprintf("Resolved automatically: %s is up again", m.Name)); err != nil {
			return err
		}
		m.Down = down
	}
	if c.CertExpiresAt == nil || m.SSLReminder <= 0 {
		return nil
	}
	left := c.CertExpiresAt.Sub(c.CheckedAt)
	expiring := left < time.Duration(m.SSLReminder)*24*time.Hour
	if expiring == m.SSLExpiring || (expiring && c.InMaintenance) {
		return nil
	}
	if expiring {
		msg := fmt.Sprintf("The TLS certificate of %s expires on %s (in %d days)", m.Name,
			c.CertExpiresAt.UTC().Format("2006-01-02 15:04 MST"), int(left.Hours()/24))
		if left <= 0 {
			msg = fmt.Sprintf("The TLS certificate of %s expired on %s", m.Name, c.CertExpiresAt.UTC().Format("2006-01-02 15:04 MST"))
		}
		if _, _, err := d.commands.Open(ctx, m.AccountID, c.MonitorID, domain.IncidentSSLExpiry, msg, c.CheckedAt); err != nil {
			return err
		}
	} else if _, err := d.commands.Close(ctx, m.AccountID, c.MonitorID, domain.IncidentSSLExpiry, "certificate_renewed",
		"Resolved automatically: the certificate was renewed"); err != nil {
		return err
	}
	m.SSLExpiring = expiring
	return nil
}

// performance tracks streaks of slow and fast successful checks and opens
// or resolves a PERFORMANCE incident when a streak reaches the monitor's
// performance_consecutive_checks.
func (d *IncidentDetector) performance(ctx context.Context, c *domain.CheckRecorded, m *detectorMonitor) error {
	if m.PerfThreshold <= 0 || !c.Up {
		return nil
	}
	slow := c.ResponseTimeMs > float64(m.PerfThreshold)
	if slow {
		m.SlowStreak, m.FastStreak = m.SlowStreak+1, 0
	} else {
		m.SlowStreak, m.FastStreak = 0, m.FastStreak+1
	}
	if d.now().Sub(c.CheckedAt) >= d.staleAfter {
		return nil
	}
	switch {
	case !m.PerfOpen && slow && m.SlowStreak >= m.PerfConsecutive && !c.InMaintenance:
		msg := fmt.Sprintf("%s is slow: %d consecutive checks over %d ms (last %.0f ms)", m.Name, m.SlowStreak, m.PerfThreshold, c.ResponseTimeMs)
		if _, _, err := d.commands.Open(ctx, m.AccountID, c.MonitorID, domain.IncidentPerformance, msg, c.CheckedAt); err != nil {
			return err
		}
		m.PerfOpen = true
	case m.PerfOpen && !slow && m.FastStreak >= m.PerfConsecutive:
		if _, err := d.commands.Close(ctx, m.AccountID, c.MonitorID, domain.IncidentPerformance, "performance_recovered",
			fmt.Sprintf("Resolved automatically: %s answered within %d ms %d times in a row", m.Name, m.PerfThreshold, m.FastStreak)); err != nil {
			return err
		}
		m.PerfOpen = false
	}
	return nil
}

func dedupeStrings(in []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
