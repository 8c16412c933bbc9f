package projections

import (
	"context"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/medialuna/medialuna/domain"
)

// Incidents projects incidents and their timelines.
type Incidents struct{}

// SettlesWrites is true: a write waits until this model has applied it,
// so the writer's next read sees it.
func (Incidents) SettlesWrites() bool { return true }

func (Incidents) Name() string     { return "incidents" }
func (Incidents) Version() int     { return 4 }
func (Incidents) Tables() []string { return []string{"incidents", "incident_timeline"} }

// Handles implements EventFilter.
func (Incidents) Handles(t string) bool {
	switch t {
	case domain.EvIncidentTriggered, domain.EvIncidentAcknowledged, domain.EvIncidentSnoozed, domain.EvIncidentCommented, domain.EvIncidentResolved, domain.EvMonitorDeleted,
		domain.EvNotificationAttempted, domain.EvNotificationSuppressed, domain.EvNotificationRetrying:
		return true
	}
	return false
}

func (Incidents) Setup(ctx context.Context, tx *sqlx.Tx) error {
	_, err := tx.ExecContext(ctx, `
		CREATE TABLE incidents (
			id              BIGINT PRIMARY KEY,
			account_id      BIGINT NOT NULL,
			monitor_id      BIGINT NOT NULL,
			incident_type   TEXT NOT NULL,
			status          TEXT NOT NULL,
			message         TEXT NOT NULL,
			started_at      TIMESTAMPTZ NOT NULL,
			acknowledged_at TIMESTAMPTZ,
			resolved_at     TIMESTAMPTZ,
			snoozed_until   TIMESTAMPTZ);
		CREATE INDEX incidents_account ON incidents (account_id, started_at DESC, id DESC);
		CREATE INDEX incidents_monitor ON incidents (monitor_id);
		CREATE TABLE incident_timeline (
			id          BIGINT PRIMARY KEY, -- the event's sequence in the log: stable across rebuilds
			incident_id BIGINT NOT NULL,
			event_type  TEXT NOT NULL,
			message     TEXT NOT NULL,
			user_id     BIGINT,
			created_at  TIMESTAMPTZ NOT NULL,
			public      BOOLEAN NOT NULL DEFAULT FALSE); -- a public comment: an update on status pages
		CREATE INDEX incident_timeline_incident ON incident_timeline (incident_id, created_at, id);`)
	return err
}

func (Incidents) Apply(ctx context.Context, tx Exec, rec domain.RecordedEvent, ev domain.Event) error {
	at := rec.Metadata.OccurredAt
	id := streamID(rec, "incident-")
	exec := func(q string, args ...any) error {
		_, err := tx.ExecContext(ctx, q, args...)
		return err
	}
	switch e := ev.(type) {
	case *domain.IncidentTriggered:
		if err := exec(`INSERT INTO incidents (id, account_id, monitor_id, incident_type, status, message, started_at)
			VALUES ($1, $2, $3, $4, 'TRIGGERED', $5, $6) ON CONFLICT (id) DO NOTHING`,
			e.IncidentID, e.AccountID, e.MonitorID, e.Type, e.Message, e.StartedAt); err != nil {
			return err
		}
	case *domain.IncidentAcknowledged:
		if err := exec(`UPDATE incidents SET status = 'ACKNOWLEDGED', acknowledged_at = $2 WHERE id = $1`, id, at); err != nil {
			return err
		}
	case *domain.IncidentSnoozed:
		if err := exec(`UPDATE incidents SET snoozed_until = $2 WHERE id = $1`, id, e.Until); err != nil {
			return err
		}
	case *domain.IncidentResolved:
		if err := exec(`UPDATE incidents SET status = 'RESOLVED', resolved_at = $2 WHERE id = $1`, id, at); err != nil {
			return err
		}
	case *domain.MonitorDeleted:
		mid := monitorID(rec)
		if err := exec(`DELETE FROM incident_timeline WHERE incident_id IN (SELECT id FROM incidents WHERE monitor_id = $1)`, mid); err != nil {
			return err
		}
		return exec(`DELETE FROM incidents WHERE monitor_id = $1`, mid)
	}
	switch n := ev.(type) {
	case *domain.NotificationAttempted:
		if n.IncidentID == 0 {
			return nil
		}
		id = n.IncidentID
	case *domain.NotificationSuppressed:
		id = n.IncidentID
	case *domain.NotificationRetrying:
		if n.IncidentID == 0 {
			return nil
		}
		id = n.IncidentID
	}
	entry, ok := domain.Timeline(ev, at)
	if !ok {
		return nil
	}
	// Only incidents still in the model get timeline lines (a deleted
	// monitor's incidents are gone).
	return exec(`INSERT INTO incident_timeline (id, incident_id, event_type, message, user_id, created_at, public)
		SELECT $1, $2, $3, $4, $5, $6, $7 WHERE EXISTS (SELECT 1 FROM incidents WHERE id = $2) ON CONFLICT (id) DO NOTHING`,
		int64(rec.Sequence), id, entry.EventType, entry.Message, entry.UserID, entry.CreatedAt, entry.Public)
}

// IncidentRow is an incident as listed.
type IncidentRow struct {
	ID             int64      `db:"id" json:"id"`
	AccountID      int64      `db:"account_id" json:"-"`
	MonitorID      int64      `db:"monitor_id" json:"monitor_id"`
	Type           string     `db:"incident_type" json:"incident_type"`
	Status         string     `db:"status" json:"status"`
	Message        string     `db:"message" json:"message"`
	StartedAt      time.Time  `db:"started_at" json:"started_at"`
	AcknowledgedAt *time.Time `db:"acknowledged_at" json:"acknowledged_at"`
	ResolvedAt     *time.Time `db:"resolved_at" json:"resolved_at"`
	SnoozedUntil   *time.Time `db:"snoozed_until" json:"snoozed_until"`
}

// TimelineRow is one timeline line.
type TimelineRow struct {
	ID        int64     `db:"id" json:"id"`
	EventType string    `db:"event_type" json:"event_type"`
	Message   string    `db:"message" json:"message"`
	UserID    *int64    `db:"user_id" json:"user_id"`
	CreatedAt time.Time `db:"created_at" json:"created_at"`
	Public    bool      `db:"public" json:"public"`
}

// IncidentFilter narrows an incident list.
type IncidentFilter struct {
	MonitorID int64
	Type      string
	Status    string
	Start     time.Time
	End       time.Time
}

// IncidentsList lists an account's incidents, newest first.
func (q *Queries) IncidentsList(ctx context.Context, accountID int64, f IncidentFilter, skip, limit int) ([]IncidentRow, error) {
	out := []IncidentRow{}
	var start, end *time.Time
	if !f.Start.IsZero() {
		start = &f.Start
	}
	if !f.End.IsZero() {
		end = &f.End
	}
	err := q.db.SelectContext(ctx, &out, `SELECT * FROM incidents WHERE account_id = $1
		AND ($2::bigint = 0 OR monitor_id = $2) AND ($3 = '' OR incident_type = $3) AND ($4 = '' OR status = $4)
		AND ($5::timestamptz IS NULL OR started_at >= $5) AND ($6::timestamptz IS NULL OR started_at <= $6)
		ORDER BY started_at DESC, id DESC OFFSET $7 LIMIT $8`, accountID, f.MonitorID, f.Type, f.Status, start, end, skip, limit)
	return out, err
}

// Incident returns one incident of the account with its timeline.
func (q *Queries) Incident(ctx context.Context, accountID, id int64) (IncidentRow, []TimelineRow, error) {
	var inc IncidentRow
	if err := q.db.GetContext(ctx, &inc, `SELECT * FROM incidents WHERE id = $1 AND account_id = $2`, id, accountID); err != nil {
		return inc, nil, notFound(err, "incident")
	}
	timeline := []TimelineRow{}
	err := q.db.SelectContext(ctx, &timeline, `SELECT id, event_type, message, user_id, created_at, public FROM incident_timeline
		WHERE incident_id = $1 ORDER BY created_at, id`, id)
	return inc, timeline, err
}

// IncidentCounts is the dashboard's breakdown.
type IncidentCounts struct {
	Total    int            `json:"total"`
	Open     int            `json:"open"`
	ByType   map[string]int `json:"by_type"`
	ByStatus map[string]int `json:"by_status"`
}

// CountIncidents counts an account's incidents by type and status, in one
// grouped index scan.
func (q *Queries) CountIncidents(ctx context.Context, accountID int64) (IncidentCounts, error) {
	var rows []struct {
		Type   string `db:"incident_type"`
		Status string `db:"status"`
		N      int    `db:"n"`
	}
	if err := q.db.SelectContext(ctx, &rows, `SELECT incident_type, status, count(*) AS n FROM incidents
		WHERE account_id = $1 GROUP BY incident_type, status`, accountID); err != nil {
		return IncidentCounts{}, err
	}
	c := IncidentCounts{ByType: map[string]int{"DOWN": 0, "SSL_EXPIRY": 0, "PERFORMANCE": 0},
		ByStatus: map[string]int{"TRIGGERED": 0, "ACKNOWLEDGED": 0, "RESOLVED": 0}}
	for _, r := range rows {
		c.Total += r.N
		c.ByType[r.Type] += r.N
		c.ByStatus[r.Status] += r.N
		if r.Status != "RESOLVED" {
			c.Open += r.N
		}
	}
	return c, nil
}
