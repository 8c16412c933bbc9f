package processes

import (
	"context"
	"database/sql"
	"errors"
	"maps"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/medialuna/medialuna/commands"
	"github.com/medialuna/medialuna/domain"
	"github.com/medialuna/medialuna/projections"
)

// IncidentOpener opens incidents (*commands.OpenIncidentHandler); opening
// one already open returns it.
type IncidentOpener interface {
	Handle(ctx context.Context, cmd commands.OpenIncident) (int64, domain.Position, error)
}

// IncidentCloser resolves incidents (*commands.CloseIncidentHandler);
// closing one that is not open does nothing.
type IncidentCloser interface {
	Handle(ctx context.Context, cmd commands.CloseIncident) (domain.Position, error)
}

// IncidentDetector is the process manager that turns check results into
// incidents: DOWN when a monitor is confirmed down (confirm_from_locations
// regions failing), SSL_EXPIRY when a certificate expires within the
// monitor's ssl_expiry_reminder days, and it resolves them on recovery,
// renewal, pause or deletion.
//
// What to open or resolve is decided by domain.DetectorMonitor (Check,
// Reconfigure, Stop, Resume); the detector loads that state from its
// tables, asks, acts through the open and close commands and saves the
// state.
//
// It keeps its own fold of the log (its tables) and acts through those
// commands, which are idempotent: the monitor's tracker stream allows one
// open incident per type, so an event applied twice after a crash opens
// nothing twice. Results older than StaleAfter only update
// its state: when it first starts, or is rebuilt, it replays history
// without opening incidents for the past.
type IncidentDetector struct {
	openIncident  IncidentOpener
	closeIncident IncidentCloser
	now           func() time.Time
	staleAfter    time.Duration
}

// NewIncidentDetector returns the detector.
func NewIncidentDetector(open IncidentOpener, resolve IncidentCloser, now func() time.Time) *IncidentDetector {
	return &IncidentDetector{openIncident: open, closeIncident: resolve, now: now, staleAfter: 10 * time.Minute}
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
	case domain.EvMonitorCreated, domain.EvMonitorUpdated, domain.EvMonitorPaused, domain.EvMonitorResumed, domain.EvMonitorDeleted, domain.EvCheckRecorded:
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

func (r detectorMonitor) domain() domain.DetectorMonitor {
	return domain.DetectorMonitor{MonitorID: r.MonitorID, AccountID: r.AccountID, Name: r.Name, Confirm: r.Confirm, RegionIDs: r.RegionIDs,
		SSLReminder: r.SSLReminder, Paused: r.Paused, Down: r.Down, SSLExpiring: r.SSLExpiring, PerfThreshold: r.PerfThreshold,
		PerfConsecutive: r.PerfConsecutive, SlowStreak: r.SlowStreak, FastStreak: r.FastStreak, PerfOpen: r.PerfOpen, CheckInterval: r.CheckInterval}
}

// live says an event is recent enough to act on.
func (d *IncidentDetector) live(at time.Time) bool { return d.now().Sub(at) < d.staleAfter }

// act carries out the detector's decisions for a monitor, in order.
func (d *IncidentDetector) act(ctx context.Context, m *domain.DetectorMonitor, decisions []domain.IncidentDecision) error {
	for _, dec := range decisions {
		var err error
		if dec.Open {
			_, _, err = d.openIncident.Handle(ctx, commands.OpenIncident{AccountID: m.AccountID, MonitorID: m.MonitorID, Type: dec.Type,
				Message: dec.Message, StartedAt: dec.StartedAt})
		} else {
			_, err = d.closeIncident.Handle(ctx, commands.CloseIncident{AccountID: m.AccountID, MonitorID: m.MonitorID, Type: dec.Type,
				Reason: dec.Reason, Message: dec.Message})
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// saveMonitor writes back a monitor's settings and flags.
func saveMonitor(ctx context.Context, tx projections.Exec, m domain.DetectorMonitor) error {
	_, err := tx.ExecContext(ctx, `UPDATE detector_monitors SET name = $2, confirm = $3, region_ids = $4, ssl_reminder = $5,
			perf_threshold = $6, perf_consecutive = $7, check_interval = $8, paused = $9, down = $10, ssl_expiring = $11, perf_open = $12,
			slow_streak = $13, fast_streak = $14 WHERE monitor_id = $1`, m.MonitorID, m.Name, m.Confirm, pq.Array(m.RegionIDs), m.SSLReminder,
		m.PerfThreshold, m.PerfConsecutive, m.CheckInterval, m.Paused, m.Down, m.SSLExpiring, m.PerfOpen, m.SlowStreak, m.FastStreak)
	return err
}

func (d *IncidentDetector) Apply(ctx context.Context, tx projections.Exec, rec domain.RecordedEvent, ev domain.Event) error {
	if c, ok := ev.(*domain.CheckRecorded); ok {
		return d.checks(ctx, tx, []*domain.CheckRecorded{c})
	}
	id := projections.StreamID(rec, "monitor-")
	if e, ok := ev.(*domain.MonitorCreated); ok {
		m := domain.NewDetectorMonitor(e.AccountID, e.MonitorID, e.Config)
		_, err := tx.ExecContext(ctx, `INSERT INTO detector_monitors (monitor_id, account_id, name, confirm, region_ids, ssl_reminder,
				perf_threshold, perf_consecutive, check_interval)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (monitor_id) DO NOTHING`,
			m.MonitorID, m.AccountID, m.Name, m.Confirm, pq.Array(m.RegionIDs), m.SSLReminder, m.PerfThreshold, m.PerfConsecutive, m.CheckInterval)
		return err
	}
	row, ok, err := d.monitor(ctx, tx, id)
	if err != nil || !ok {
		return err
	}
	m := row.domain()
	switch e := ev.(type) {
	case *domain.MonitorUpdated:
		if err := d.act(ctx, &m, m.Reconfigure(e.Config, d.live(rec.Metadata.OccurredAt))); err != nil {
			return err
		}
		return saveMonitor(ctx, tx, m)
	case *domain.MonitorPaused:
		if err := d.act(ctx, &m, m.Stop(false)); err != nil {
			return err
		}
		return saveMonitor(ctx, tx, m)
	case *domain.MonitorDeleted:
		if err := d.act(ctx, &m, m.Stop(true)); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM detector_latest WHERE monitor_id = $1`, id); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM detector_monitors WHERE monitor_id = $1`, id)
		return err
	case *domain.MonitorResumed:
		m.Resume()
		if _, err := tx.ExecContext(ctx, `DELETE FROM detector_latest WHERE monitor_id = $1`, id); err != nil {
			return err
		}
		return saveMonitor(ctx, tx, m)
	}
	return nil
}

func (d *IncidentDetector) monitor(ctx context.Context, tx projections.Exec, id int64) (detectorMonitor, bool, error) {
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

// loadState reads the monitors of a run of checks, with their latest results.
func (d *IncidentDetector) loadState(ctx context.Context, tx projections.Exec, ids []int64) (map[int64]*domain.DetectorMonitor, error) {
	st := map[int64]*domain.DetectorMonitor{}
	var ms []detectorMonitor
	if err := tx.SelectContext(ctx, &ms, `SELECT `+detectorColumns+` FROM detector_monitors WHERE monitor_id = ANY($1)`, pq.Array(ids)); err != nil {
		return st, err
	}
	for _, r := range ms {
		m := r.domain()
		m.Latest = map[int64]domain.LatestResult{}
		st[r.MonitorID] = &m
	}
	var ls []latestResult
	if err := tx.SelectContext(ctx, &ls, `SELECT monitor_id, region_id, up, error, checked_at FROM detector_latest WHERE monitor_id = ANY($1)`,
		pq.Array(ids)); err != nil {
		return st, err
	}
	for _, l := range ls {
		if m := st[l.MonitorID]; m != nil {
			m.Latest[l.RegionID] = domain.LatestResult{Up: l.Up, Error: l.Error, CheckedAt: l.CheckedAt}
		}
	}
	return st, nil
}

// detectorFlags is the part of a monitor's state that changes only when
// an incident opens or closes or a performance streak moves.
type detectorFlags struct {
	down, ssl, perf bool
	slow, fast      int
}

func flagsOf(m *domain.DetectorMonitor) detectorFlags {
	return detectorFlags{m.Down, m.SSLExpiring, m.PerfOpen, m.SlowStreak, m.FastStreak}
}

// saveState writes back what a run changed, in at most two statements
// whatever the run's length: the latest results that moved, and the
// monitors whose flags differ from before (as loaded, in before). Almost
// every check moves a latest result and changes no flag, so writing only
// changes spares a row update per check.
func (d *IncidentDetector) saveState(ctx context.Context, tx projections.Exec, st map[int64]*domain.DetectorMonitor, touched []int64,
	before map[int64]detectorFlags, beforeLatest map[int64]map[int64]domain.LatestResult) error {
	var lm, lr []int64
	var lup []bool
	var lerr, lat []string
	var ids, slow, fast []int64
	var down, ssl, perf []bool
	for _, id := range touched {
		m := st[id]
		if m == nil {
			continue
		}
		if f := flagsOf(m); f != before[id] {
			ids, slow, fast = append(ids, id), append(slow, int64(m.SlowStreak)), append(fast, int64(m.FastStreak))
			down, ssl, perf = append(down, m.Down), append(ssl, m.SSLExpiring), append(perf, m.PerfOpen)
		}
		for r, l := range m.Latest {
			if old, ok := beforeLatest[id][r]; ok && old == l {
				continue
			}
			lm, lr, lup, lerr = append(lm, id), append(lr, r), append(lup, l.Up), append(lerr, l.Error)
			lat = append(lat, l.CheckedAt.UTC().Format(time.RFC3339Nano))
		}
	}
	if len(lm) > 0 {
		if err := d.saveLatest(ctx, tx, lm, lr, lup, lerr, lat); err != nil {
			return err
		}
	}
	if len(ids) == 0 {
		return nil
	}
	_, err := tx.ExecContext(ctx, `UPDATE detector_monitors m SET down = u.down, ssl_expiring = u.ssl, perf_open = u.perf,
			slow_streak = u.slow, fast_streak = u.fast
		FROM unnest($1::bigint[], $2::bool[], $3::bool[], $4::bool[], $5::int[], $6::int[]) AS u(id, down, ssl, perf, slow, fast)
		WHERE m.monitor_id = u.id`, pq.Array(ids), pq.Array(down), pq.Array(ssl), pq.Array(perf), pq.Array(slow), pq.Array(fast))
	return err
}

func (d *IncidentDetector) saveLatest(ctx context.Context, tx projections.Exec, lm, lr []int64, lup []bool, lerr, lat []string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO detector_latest (monitor_id, region_id, up, error, checked_at)
		SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bool[], $4::text[], $5::text[]::timestamptz[])
		ON CONFLICT (monitor_id, region_id) DO UPDATE SET up = EXCLUDED.up, error = EXCLUDED.error, checked_at = EXCLUDED.checked_at`,
		pq.Array(lm), pq.Array(lr), pq.Array(lup), pq.Array(lerr), pq.Array(lat))
	return err
}

// checks decides on a run of check results against loaded state
// (domain.DetectorMonitor.Check) and acts on the decisions.
func (d *IncidentDetector) checks(ctx context.Context, tx projections.Exec, run []*domain.CheckRecorded) error {
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
	before := make(map[int64]detectorFlags, len(st))
	beforeLatest := make(map[int64]map[int64]domain.LatestResult, len(st))
	for id, m := range st {
		before[id], beforeLatest[id] = flagsOf(m), maps.Clone(m.Latest)
	}
	for _, c := range run {
		m := st[c.MonitorID]
		if m == nil {
			continue
		}
		if err := d.act(ctx, m, m.Check(c, d.live(c.CheckedAt))); err != nil {
			return err
		}
	}
	return d.saveState(ctx, tx, st, ids, before, beforeLatest)
}

// ApplyBatch implements BatchProjector.
func (d *IncidentDetector) ApplyBatch(ctx context.Context, tx projections.Exec, recs []domain.RecordedEvent, evs []domain.Event) error {
	return projections.EachCheckRun(recs, evs, func(run []*domain.CheckRecorded) error {
		return d.checks(ctx, tx, run)
	}, func(rec domain.RecordedEvent, ev domain.Event) error {
		return d.Apply(ctx, tx, rec, ev)
	})
}
