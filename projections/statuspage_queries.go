package projections

import (
	"context"
	"time"

	"github.com/lib/pq"
)

// PublicMonitor is what a public page may say about a monitor: its name
// and state, never its target or configuration.
type PublicMonitor struct {
	ID            int64      `db:"id"`
	Name          string     `db:"name"`
	Status        string     `db:"status"`
	LastCheckedAt *time.Time `db:"last_checked_at"`
}

// DailyUptime is one monitor's checks on one UTC day, from the hourly
// rollups. Checks and Up leave out the checks that ran in maintenance;
// Maintenance counts those.
type DailyUptime struct {
	MonitorID   int64     `db:"monitor_id"`
	Day         time.Time `db:"day"`
	Checks      int64     `db:"checks"`
	Up          int64     `db:"up"`
	Maintenance int64     `db:"maint"`
}

// PublicUpdate is a public comment on an incident.
type PublicUpdate struct {
	IncidentID int64     `db:"incident_id"`
	Message    string    `db:"message"`
	CreatedAt  time.Time `db:"created_at"`
}

// PublicPageData is everything a public status page shows, read from the
// read models in a handful of queries.
type PublicPageData struct {
	Page StatusPageView
	// Monitors in the page's order; monitors that no longer exist are left out.
	Monitors []PublicMonitor
	// Daily holds the days with checks since the first day asked for.
	Daily []DailyUptime
	// Incidents of the page's monitors, newest first: every open one and
	// those started since the history cut-off, at most 100. SSL_EXPIRY
	// incidents are left out: they warn the operator and have no effect
	// users could see.
	Incidents []IncidentRow
	Updates   []PublicUpdate
	// Windows are the account's enabled maintenance windows that cover at
	// least one of the page's monitors.
	Windows []WindowView
}

// PublicPage reads a page by subdomain with what it shows: daily uptime
// from dailySince (a UTC midnight), incidents started since
// incidentsSince.
func (q *Queries) PublicPage(ctx context.Context, subdomain string, dailySince, incidentsSince, now time.Time) (PublicPageData, error) {
	page, err := q.StatusPageBySubdomain(ctx, subdomain)
	if err != nil {
		return PublicPageData{}, err
	}
	return q.PublicPageOf(ctx, page, dailySince, incidentsSince, now)
}

// PublicPageOf reads what a page shows, given the page itself: a saved
// one (PublicPage) or one not saved yet (the editor's preview). Only
// monitors of page.AccountID are shown, whatever ids the page lists; the
// incidents and maintenance windows are those of the monitors shown.
func (q *Queries) PublicPageOf(ctx context.Context, page StatusPageView, dailySince, incidentsSince, now time.Time) (PublicPageData, error) {
	d := PublicPageData{Page: page}
	ids := pq.Array(page.MonitorIDs)
	var monitors []PublicMonitor
	if err := q.db.SelectContext(ctx, &monitors, `SELECT m.id, m.name, coalesce(st.status, 'pending') AS status, st.last_checked_at
		FROM monitors m LEFT JOIN monitor_state st ON st.monitor_id = m.id WHERE m.account_id = $1 AND m.id = ANY($2)`, page.AccountID, ids); err != nil {
		return d, err
	}
	byID := map[int64]PublicMonitor{}
	for _, m := range monitors {
		byID[m.ID] = m
	}
	present := []int64{}
	for _, id := range page.MonitorIDs {
		if m, ok := byID[id]; ok {
			d.Monitors = append(d.Monitors, m)
			present = append(present, id)
		}
	}
	if len(present) == 0 {
		return d, nil
	}
	ids = pq.Array(present)
	if err := q.db.SelectContext(ctx, &d.Daily, `SELECT monitor_id, date_trunc('day', hour, 'UTC') AS day,
			sum(checks - maint_checks) AS checks, sum(up_checks - maint_up) AS up, sum(maint_checks) AS maint
		FROM check_rollups WHERE monitor_id = ANY($1) AND hour >= $2 GROUP BY 1, 2 ORDER BY 1, 2`, ids, dailySince); err != nil {
		return d, err
	}
	if err := q.db.SelectContext(ctx, &d.Incidents, `SELECT * FROM incidents WHERE account_id = $1 AND monitor_id = ANY($2)
		AND incident_type <> 'SSL_EXPIRY' AND (status <> 'RESOLVED' OR started_at >= $3)
		ORDER BY started_at DESC, id DESC LIMIT 100`, page.AccountID, ids, incidentsSince); err != nil {
		return d, err
	}
	if len(d.Incidents) > 0 {
		incIDs := make([]int64, len(d.Incidents))
		for i, inc := range d.Incidents {
			incIDs[i] = inc.ID
		}
		if err := q.db.SelectContext(ctx, &d.Updates, `SELECT incident_id, message, created_at FROM incident_timeline
			WHERE incident_id = ANY($1) AND public ORDER BY created_at, id`, pq.Array(incIDs)); err != nil {
			return d, err
		}
	}
	windows, err := q.MaintenanceWindows(ctx, page.AccountID, now)
	if err != nil {
		return d, err
	}
	for _, w := range windows {
		if !w.IsActive {
			continue
		}
		for _, id := range present {
			if w.Covers(id) {
				d.Windows = append(d.Windows, w)
				break
			}
		}
	}
	return d, nil
}
