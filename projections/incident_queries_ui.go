package projections

import (
	"context"
	"time"

	"github.com/lib/pq"
)

// IncidentPageFilter narrows the dashboard's incident list. Unlike the
// API's IncidentFilter it takes several statuses at once ("open" is
// TRIGGERED and ACKNOWLEDGED).
type IncidentPageFilter struct {
	MonitorID int64
	Type      string
	Statuses  []string // none: every status
	// Start and End bound started_at: Start <= started_at < End; zero is
	// no bound.
	Start, End time.Time
}

// IncidentPage is one page of the dashboard's incident list and how many
// incidents match in all.
type IncidentPage struct {
	Rows  []IncidentRow
	Total int
}

// IncidentsPage lists an account's incidents as the dashboard shows them:
// open ones (TRIGGERED, ACKNOWLEDGED) before resolved ones, each group
// newest first.
func (q *Queries) IncidentsPage(ctx context.Context, accountID int64, f IncidentPageFilter, skip, limit int) (IncidentPage, error) {
	var start, end *time.Time
	if !f.Start.IsZero() {
		start = &f.Start
	}
	if !f.End.IsZero() {
		end = &f.End
	}
	statuses := f.Statuses
	if statuses == nil {
		statuses = []string{}
	}
	var rows []struct {
		IncidentRow
		Total int `db:"total"`
	}
	// The total rides on every row (a window count) so one query answers
	// both; an empty page past the end asks again for the total alone.
	where := `account_id = $1 AND ($2::bigint = 0 OR monitor_id = $2) AND ($3 = '' OR incident_type = $3)
		AND (cardinality($4::text[]) = 0 OR status = ANY($4)) AND ($5::timestamptz IS NULL OR started_at >= $5)
		AND ($6::timestamptz IS NULL OR started_at < $6)`
	args := []any{accountID, f.MonitorID, f.Type, pq.Array(statuses), start, end}
	err := q.db.SelectContext(ctx, &rows, `SELECT *, count(*) OVER () AS total FROM incidents WHERE `+where+`
		ORDER BY (status = 'RESOLVED'), started_at DESC, id DESC OFFSET $7 LIMIT $8`, append(args, skip, limit)...)
	if err != nil {
		return IncidentPage{}, err
	}
	page := IncidentPage{Rows: make([]IncidentRow, 0, len(rows))}
	for _, r := range rows {
		page.Rows = append(page.Rows, r.IncidentRow)
		page.Total = r.Total
	}
	if len(rows) == 0 && skip > 0 {
		err = q.db.GetContext(ctx, &page.Total, `SELECT count(*) FROM incidents WHERE `+where, args...)
	}
	return page, err
}

// MonitorChoice is a monitor as a filter offers it.
type MonitorChoice struct {
	ID   int64  `db:"id"`
	Name string `db:"name"`
}

// MonitorChoices lists the account's monitors by name, for a filter's
// select, without the rest of each monitor's view.
func (q *Queries) MonitorChoices(ctx context.Context, accountID int64) ([]MonitorChoice, error) {
	out := []MonitorChoice{}
	err := q.db.SelectContext(ctx, &out, `SELECT id, name FROM monitors WHERE account_id = $1 ORDER BY lower(name), id`, accountID)
	return out, err
}
