package projections

import (
	"context"
	"strings"
	"time"

	"github.com/lib/pq"
)

// DashboardFilter narrows and orders the dashboard's monitors list.
type DashboardFilter struct {
	Search string // in name or URL, case-insensitive
	Status string // up, down, paused, pending; "" for any
	Type   string // a domain.MonitorType; "" for any
	TagID  int64  // 0 for any
	// Sort is status (down first, the default), name, uptime (lowest 24 h
	// uptime first) or response (slowest last response first).
	Sort string
	// Now is the end of the 24 hours uptime is computed over.
	Now time.Time
}

// DashboardRow is a monitor as the list shows it.
type DashboardRow struct {
	MonitorView
	// Uptime24h is the share of up checks in the last 24 hours, checks in
	// maintenance left out; nil when there were none.
	Uptime24h *float64
	// Recent are the last RecentChecks results, oldest first: 'u' up,
	// 'd' down, 'm' in maintenance.
	Recent string
}

// DashboardPage is one page of the list and how many monitors match in all.
type DashboardPage struct {
	Rows  []DashboardRow
	Total int
}

// RecentChecks is how many results a row's bar shows.
const RecentChecks = 30

// dashboardOrders are the list's orders; each ends in id so pages do not
// overlap when names or figures tie.
var dashboardOrders = map[string]string{
	"status": `CASE f.status WHEN 'down' THEN 0 WHEN 'degraded' THEN 1 WHEN 'pending' THEN 2 WHEN 'up' THEN 3 ELSE 4 END, lower(f.name), f.id`,
	"name":   `lower(f.name), f.id`,
	// Worst first: the monitors people open this order for.
	"uptime":   `u.uptime_24h ASC NULLS LAST, lower(f.name), f.id`,
	"response": `f.rt DESC NULLS LAST, lower(f.name), f.id`,
}

// DashboardMonitors returns one page of an account's monitors for the
// dashboard in two statements however many monitors the account has: the
// page's rows with the total that match (the filter and the order run in
// SQL, the 24 h uptime from hourly rollups only when it is the order), then
// the bars and 24 h uptime of just the rows shown.
func (q *Queries) DashboardMonitors(ctx context.Context, accountID int64, f DashboardFilter, skip, limit int) (DashboardPage, error) {
	order, ok := dashboardOrders[f.Sort]
	if !ok {
		order = dashboardOrders["status"]
	}
	search := ""
	if f.Search != "" {
		search = "%" + strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(strings.ToLower(f.Search)) + "%"
	}
	since := f.Now.Add(-24 * time.Hour)
	// The uptime order reads each filtered monitor's 24-hour uptime as the
	// metrics projection keeps it (monitor_uptime, one row per monitor):
	// summing 10,000 monitors' rollups here took 150 ms. A monitor with no
	// check in the last 24 hours has no uptime to sort by.
	uptimeJoin, args := "", []any{accountID, f.Status, f.Type, f.TagID, search, skip, limit}
	if f.Sort == "uptime" {
		uptimeJoin = ` LEFT JOIN monitor_uptime u ON u.monitor_id = f.id AND u.window_end >= $8::timestamptz`
		args = append(args, since)
	}
	var rows []struct {
		monitorRow
		Total int `db:"total"`
		Rank  int `db:"rank"`
	}
	err := q.db.SelectContext(ctx, &rows, `WITH f AS (
			SELECT m.id, m.name, st.last_response_time_ms AS rt, coalesce(st.status, 'pending') AS status
			FROM monitors m LEFT JOIN monitor_state st ON st.monitor_id = m.id
			WHERE m.account_id = $1
			AND ($2 = '' OR coalesce(st.status, 'pending') = $2) AND ($3 = '' OR m.type = $3)
			AND ($4 = 0 OR $4 = ANY(m.tag_ids))
			AND ($5 = '' OR lower(m.name) LIKE $5 OR lower(m.url) LIKE $5)),
		page AS (
			SELECT f.id, count(*) OVER () AS total, row_number() OVER (ORDER BY `+order+`) AS rank
			FROM f`+uptimeJoin+` ORDER BY rank OFFSET $6 LIMIT $7)
		SELECT `+monitorColumns+`, page.total, page.rank`+monitorsFrom+`JOIN page ON page.id = m.id ORDER BY page.rank`,
		args...)
	if err != nil {
		return DashboardPage{}, err
	}
	out := DashboardPage{Rows: []DashboardRow{}}
	if len(rows) == 0 {
		if skip > 0 {
			// Past the last page: the total still says how many there are.
			err := q.db.GetContext(ctx, &out.Total, `SELECT count(*) FROM monitors m LEFT JOIN monitor_state st ON st.monitor_id = m.id
				WHERE m.account_id = $1
				AND ($2 = '' OR coalesce(st.status, 'pending') = $2) AND ($3 = '' OR m.type = $3)
				AND ($4 = 0 OR $4 = ANY(m.tag_ids))
				AND ($5 = '' OR lower(m.name) LIKE $5 OR lower(m.url) LIKE $5)`, accountID, f.Status, f.Type, f.TagID, search)
			return out, err
		}
		return out, nil
	}
	plain := make([]monitorRow, len(rows))
	ids := make([]int64, len(rows))
	for i, r := range rows {
		plain[i], ids[i] = r.monitorRow, r.ID
	}
	out.Total = rows[0].Total
	views, err := q.views(ctx, accountID, plain)
	if err != nil {
		return DashboardPage{}, err
	}
	var figures []struct {
		ID     int64    `db:"id"`
		Uptime *float64 `db:"uptime"`
		Recent string   `db:"recent"`
	}
	// Each bar is the newest results read backwards off the
	// (monitor_id, checked_at) index; each uptime the monitor's rollups
	// of the last 24 hours.
	err = q.db.SelectContext(ctx, &figures, `SELECT ids.id,
			(SELECT round(100.0 * sum(r.up_checks - r.maint_up) / nullif(sum(r.checks - r.maint_checks), 0), 2)::float8
				FROM check_rollups r WHERE r.monitor_id = ids.id AND r.hour >= date_trunc('hour', $2::timestamptz)) AS uptime,
			coalesce((SELECT string_agg(CASE WHEN c.in_maintenance THEN 'm' WHEN c.up THEN 'u' ELSE 'd' END, '' ORDER BY c.checked_at)
				FROM (SELECT checked_at, up, in_maintenance FROM check_results WHERE monitor_id = ids.id
					ORDER BY checked_at DESC LIMIT $3) c), '') AS recent
		FROM unnest($1::bigint[]) AS ids(id)`, pq.Array(ids), since, RecentChecks)
	if err != nil {
		return DashboardPage{}, err
	}
	byID := make(map[int64]int, len(figures))
	for i, fig := range figures {
		byID[fig.ID] = i
	}
	out.Rows = make([]DashboardRow, len(views))
	for i, v := range views {
		out.Rows[i].MonitorView = v
		if j, ok := byID[v.ID]; ok {
			out.Rows[i].Uptime24h, out.Rows[i].Recent = figures[j].Uptime, figures[j].Recent
		}
	}
	return out, nil
}
