package projections

import (
	"context"
	"encoding/json"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/medialuna/medialuna/domain"
)

// Maintenance projects maintenance windows.
type Maintenance struct{}

// SettlesWrites is true: a write waits until this model has applied it,
// so the writer's next read sees it.
func (Maintenance) SettlesWrites() bool { return true }

func (Maintenance) Name() string     { return "maintenance" }
func (Maintenance) Version() int     { return 1 }
func (Maintenance) Tables() []string { return []string{"maintenance_windows"} }

// Handles implements EventFilter.
func (Maintenance) Handles(t string) bool {
	switch t {
	case domain.EvMaintenanceScheduled, domain.EvMaintenanceUpdated, domain.EvMaintenanceToggled, domain.EvMaintenanceDeleted, domain.EvMonitorDeleted:
		return true
	}
	return false
}

func (Maintenance) Setup(ctx context.Context, tx *sqlx.Tx) error {
	_, err := tx.ExecContext(ctx, `
		CREATE TABLE maintenance_windows (
			id         BIGINT PRIMARY KEY,
			account_id BIGINT NOT NULL,
			config     JSONB NOT NULL,
			created_at TIMESTAMPTZ NOT NULL,
			updated_at TIMESTAMPTZ NOT NULL);
		CREATE INDEX maintenance_windows_account ON maintenance_windows (account_id, id);`)
	return err
}

func (Maintenance) Apply(ctx context.Context, tx Exec, rec domain.RecordedEvent, ev domain.Event) error {
	at := rec.Metadata.OccurredAt
	id := streamID(rec, "maintenance-")
	switch e := ev.(type) {
	case *domain.MaintenanceScheduled:
		cfg, err := json.Marshal(e.Config)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO maintenance_windows (id, account_id, config, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $4) ON CONFLICT (id) DO NOTHING`, e.WindowID, e.AccountID, string(cfg), at)
		return err
	case *domain.MaintenanceUpdated:
		cfg, err := json.Marshal(e.Config)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE maintenance_windows SET config = $2, updated_at = $3 WHERE id = $1`, id, string(cfg), at)
		return err
	case *domain.MaintenanceToggled:
		_, err := tx.ExecContext(ctx, `UPDATE maintenance_windows SET config = jsonb_set(config, '{is_active}', to_jsonb($2::boolean)),
			updated_at = $3 WHERE id = $1`, id, e.IsActive, at)
		return err
	case *domain.MaintenanceDeleted:
		_, err := tx.ExecContext(ctx, `DELETE FROM maintenance_windows WHERE id = $1`, id)
		return err
	case *domain.MonitorDeleted:
		// A deleted monitor leaves the windows that named it.
		return dropMonitorID(ctx, tx, "maintenance_windows", monitorID(rec))
	}
	return nil
}

// WindowView is a maintenance window as the API shows it.
type WindowView struct {
	ID int64 `json:"id"`
	domain.MaintenanceConfig
	InEffect  bool      `json:"in_effect"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

type windowRow struct {
	ID        int64     `db:"id"`
	AccountID int64     `db:"account_id"`
	Config    string    `db:"config"`
	CreatedAt time.Time `db:"created_at"`
	UpdatedAt time.Time `db:"updated_at"`
}

func (r windowRow) view(now time.Time) (WindowView, error) {
	v := WindowView{ID: r.ID, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
	if err := json.Unmarshal([]byte(r.Config), &v.MaintenanceConfig); err != nil {
		return v, err
	}
	if v.MonitorIDs == nil {
		v.MonitorIDs = []int64{}
	}
	v.InEffect = v.MaintenanceConfig.InEffect(now, zone(v.TimeZone))
	return v, nil
}

// zone loads a time zone, falling back to UTC (validation already refused
// unknown names when the window was saved).
func zone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		return time.UTC
	}
	return loc
}

// MaintenanceWindows lists an account's windows, lowest id first.
func (q *Queries) MaintenanceWindows(ctx context.Context, accountID int64, now time.Time) ([]WindowView, error) {
	var rows []windowRow
	if err := q.db.SelectContext(ctx, &rows, `SELECT id, account_id, config::text AS config, created_at, updated_at
		FROM maintenance_windows WHERE account_id = $1 ORDER BY id`, accountID); err != nil {
		return nil, err
	}
	out := make([]WindowView, 0, len(rows))
	for _, r := range rows {
		v, err := r.view(now)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// MaintenanceWindow returns one window of the account.
func (q *Queries) MaintenanceWindow(ctx context.Context, accountID, id int64, now time.Time) (WindowView, error) {
	var r windowRow
	if err := q.db.GetContext(ctx, &r, `SELECT id, account_id, config::text AS config, created_at, updated_at
		FROM maintenance_windows WHERE id = $1 AND account_id = $2`, id, accountID); err != nil {
		return WindowView{}, notFound(err, "maintenance window")
	}
	return r.view(now)
}

// MonitorIDs implements commands.AccountMonitors.
func (q *Queries) MonitorIDs(ctx context.Context, accountID int64) ([]int64, error) {
	ids := []int64{}
	err := q.db.SelectContext(ctx, &ids, `SELECT id FROM monitors WHERE account_id = $1`, accountID)
	return ids, err
}

// ActiveWindows returns the enabled windows of the given accounts, for
// deciding whether a check ran in maintenance.
func (q *Queries) ActiveWindows(ctx context.Context, accountIDs []int64) (map[int64][]domain.MaintenanceConfig, error) {
	var rows []windowRow
	if err := q.db.SelectContext(ctx, &rows, `SELECT id, account_id, config::text AS config, created_at, updated_at
		FROM maintenance_windows WHERE account_id = ANY($1) AND (config->>'is_active')::boolean`, pq.Array(accountIDs)); err != nil {
		return nil, err
	}
	out := map[int64][]domain.MaintenanceConfig{}
	for _, r := range rows {
		var cfg domain.MaintenanceConfig
		if err := json.Unmarshal([]byte(r.Config), &cfg); err != nil {
			return nil, err
		}
		out[r.AccountID] = append(out[r.AccountID], cfg)
	}
	return out, nil
}

// InMaintenance reports whether an enabled window of the account covers
// the monitor at t.
func (q *Queries) InMaintenance(ctx context.Context, accountID, monitorID int64, t time.Time) (bool, error) {
	windows, err := q.ActiveWindows(ctx, []int64{accountID})
	if err != nil {
		return false, err
	}
	return domain.AnyCovers(windows[accountID], monitorID, t, zone), nil
}

// WindowsNamingMonitor returns the account's windows that name the
// monitor, and those that name none without covering every monitor (the
// read model drops a deleted monitor's id from its windows, maybe before
// the deletion's command asks).
func (q *Queries) WindowsNamingMonitor(ctx context.Context, accountID, monitorID int64) ([]int64, error) {
	ids := []int64{}
	err := q.db.SelectContext(ctx, &ids, `SELECT id FROM maintenance_windows WHERE account_id = $1
		AND (config->'monitor_ids' @> to_jsonb(ARRAY[$2::bigint])
			OR (CASE jsonb_typeof(config->'monitor_ids') WHEN 'array' THEN jsonb_array_length(config->'monitor_ids') ELSE 0 END = 0
				AND NOT coalesce((config->>'applies_to_all_monitors')::boolean, false)))
		ORDER BY id`, accountID, monitorID)
	return ids, err
}
