package projections

import (
	"context"
	"encoding/json"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/medialuna/medialuna/domain"
)

// StatusPages projects status pages: one row per page with its
// configuration as JSON and its subdomain in a column of its own for the
// public lookup.
type StatusPages struct{}

// SettlesWrites is true: a write waits until this model has applied it,
// so the writer's next read sees it.
func (StatusPages) SettlesWrites() bool { return true }

func (StatusPages) Name() string     { return "status_pages" }
func (StatusPages) Version() int     { return 1 }
func (StatusPages) Tables() []string { return []string{"status_pages"} }

// Handles implements EventFilter.
func (StatusPages) Handles(t string) bool {
	switch t {
	case domain.EvStatusPageCreated, domain.EvStatusPageUpdated, domain.EvStatusPageDeleted, domain.EvMonitorDeleted:
		return true
	}
	return false
}

func (StatusPages) Setup(ctx context.Context, tx *sqlx.Tx) error {
	// The subdomain index is not UNIQUE on purpose: uniqueness is decided
	// in the log (subdomain-<name> claims), and a read model must never
	// refuse an event the log holds.
	_, err := tx.ExecContext(ctx, `
		CREATE TABLE status_pages (
			id         BIGINT PRIMARY KEY,
			account_id BIGINT NOT NULL,
			subdomain  TEXT NOT NULL,
			config     JSONB NOT NULL,
			created_at TIMESTAMPTZ NOT NULL,
			updated_at TIMESTAMPTZ NOT NULL);
		CREATE INDEX status_pages_account ON status_pages (account_id, id);
		CREATE INDEX status_pages_subdomain ON status_pages (subdomain);`)
	return err
}

func (StatusPages) Apply(ctx context.Context, tx Exec, rec domain.RecordedEvent, ev domain.Event) error {
	at := rec.Metadata.OccurredAt
	id := streamID(rec, "statuspage-")
	switch e := ev.(type) {
	case *domain.StatusPageCreated:
		cfg, err := json.Marshal(e.Config)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO status_pages (id, account_id, subdomain, config, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (id) DO NOTHING`, e.PageID, e.AccountID, e.Config.Subdomain, string(cfg), at)
		return err
	case *domain.StatusPageUpdated:
		cfg, err := json.Marshal(e.Config)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE status_pages SET subdomain = $2, config = $3, updated_at = $4 WHERE id = $1`,
			id, e.Config.Subdomain, string(cfg), at)
		return err
	case *domain.StatusPageDeleted:
		_, err := tx.ExecContext(ctx, `DELETE FROM status_pages WHERE id = $1`, id)
		return err
	case *domain.MonitorDeleted:
		// A deleted monitor leaves the pages that showed it.
		return dropMonitorID(ctx, tx, "status_pages", monitorID(rec))
	}
	return nil
}

// StatusPageView is a status page as the API shows it.
type StatusPageView struct {
	ID int64 `json:"id"`
	domain.StatusPageConfig
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	AccountID int64     `json:"-"`
}

type statusPageRow struct {
	ID        int64     `db:"id"`
	AccountID int64     `db:"account_id"`
	Config    string    `db:"config"`
	CreatedAt time.Time `db:"created_at"`
	UpdatedAt time.Time `db:"updated_at"`
}

func (r statusPageRow) view() (StatusPageView, error) {
	v := StatusPageView{ID: r.ID, AccountID: r.AccountID, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
	if err := json.Unmarshal([]byte(r.Config), &v.StatusPageConfig); err != nil {
		return v, err
	}
	if v.MonitorIDs == nil {
		v.MonitorIDs = []int64{}
	}
	return v, nil
}

const statusPageColumns = `id, account_id, config::text AS config, created_at, updated_at`

// StatusPages lists an account's pages, lowest id first.
func (q *Queries) StatusPages(ctx context.Context, accountID int64) ([]StatusPageView, error) {
	var rows []statusPageRow
	if err := q.db.SelectContext(ctx, &rows, `SELECT `+statusPageColumns+` FROM status_pages WHERE account_id = $1 ORDER BY id`, accountID); err != nil {
		return nil, err
	}
	out := make([]StatusPageView, 0, len(rows))
	for _, r := range rows {
		v, err := r.view()
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// StatusPage returns one page of the account.
func (q *Queries) StatusPage(ctx context.Context, accountID, id int64) (StatusPageView, error) {
	var r statusPageRow
	if err := q.db.GetContext(ctx, &r, `SELECT `+statusPageColumns+` FROM status_pages WHERE id = $1 AND account_id = $2`, id, accountID); err != nil {
		return StatusPageView{}, notFound(err, "status page")
	}
	return r.view()
}

// StatusPageBySubdomain returns the page with a subdomain, whoever owns it.
func (q *Queries) StatusPageBySubdomain(ctx context.Context, subdomain string) (StatusPageView, error) {
	var r statusPageRow
	if err := q.db.GetContext(ctx, &r, `SELECT `+statusPageColumns+` FROM status_pages WHERE subdomain = $1 ORDER BY id DESC LIMIT 1`, subdomain); err != nil {
		return StatusPageView{}, notFound(err, "status page")
	}
	return r.view()
}

// CountStatusPages implements commands.StatusPageFacts.
func (q *Queries) CountStatusPages(ctx context.Context, accountID int64) (int, error) {
	var n int
	err := q.db.GetContext(ctx, &n, `SELECT count(*) FROM status_pages WHERE account_id = $1`, accountID)
	return n, err
}
