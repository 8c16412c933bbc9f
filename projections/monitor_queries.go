package projections

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/lib/pq"

	"github.com/medialuna/medialuna/domain"
)

// TagRow is a tag.
type TagRow struct {
	ID        int64     `db:"id" json:"id"`
	AccountID int64     `db:"account_id" json:"-"`
	Name      string    `db:"name" json:"name"`
	Color     string    `db:"color" json:"color"`
	CreatedAt time.Time `db:"created_at" json:"created_at"`
}

// MonitorView is a monitor as the API shows it: every configured field
// plus its state.
type MonitorView struct {
	ID int64 `json:"id"`
	domain.MonitorConfig
	Status             string     `json:"status"`
	Tags               []TagRow   `json:"tags"`
	PushToken          string     `json:"push_token,omitempty"`
	CreatedAt          time.Time  `json:"created_at"`
	UpdatedAt          time.Time  `json:"updated_at"`
	LastCheckedAt      *time.Time `json:"last_checked_at"`
	LastResponseTimeMs *float64   `json:"last_response_time_ms"`
	CertExpiresAt      *time.Time `json:"ssl_cert_expires_at"`
}

type monitorRow struct {
	ID            int64      `db:"id"`
	AccountID     int64      `db:"account_id"`
	Config        string     `db:"config"`
	Status        string     `db:"status"`
	PushToken     *string    `db:"push_token"`
	CreatedAt     time.Time  `db:"created_at"`
	UpdatedAt     time.Time  `db:"updated_at"`
	ResumedAt     time.Time  `db:"resumed_at"`
	LastCheckedAt *time.Time `db:"last_checked_at"`
	LastUpAt      *time.Time `db:"last_up_at"`
	LastRT        *float64   `db:"last_response_time_ms"`
	CertExpiresAt *time.Time `db:"cert_expires_at"`
	Paused        bool       `db:"paused"`
}

const monitorColumns = `m.id, m.account_id, m.config::text AS config, coalesce(st.status, 'pending') AS status, m.push_token,
	m.created_at, m.updated_at, m.resumed_at, st.last_checked_at, st.last_up_at, st.last_response_time_ms, st.cert_expires_at, m.paused`

// monitorsFrom joins each monitor with its live state.
const monitorsFrom = ` FROM monitors m LEFT JOIN monitor_state st ON st.monitor_id = m.id `

// MonitorFilter narrows a monitor list.
type MonitorFilter struct {
	Status string
	Type   string
	Tag    string // tag name
	Search string // in name or URL, case-insensitive
}

func (q *Queries) views(ctx context.Context, accountID int64, rows []monitorRow) ([]MonitorView, error) {
	tags, err := q.Tags(ctx, accountID)
	if err != nil {
		return nil, err
	}
	byID := map[int64]TagRow{}
	for _, t := range tags {
		byID[t.ID] = t
	}
	out := make([]MonitorView, 0, len(rows))
	for _, r := range rows {
		v := MonitorView{ID: r.ID, Status: r.Status, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
			LastCheckedAt: r.LastCheckedAt, LastResponseTimeMs: r.LastRT, CertExpiresAt: r.CertExpiresAt, Tags: []TagRow{}}
		if err := json.Unmarshal([]byte(r.Config), &v.MonitorConfig); err != nil {
			return nil, err
		}
		if r.PushToken != nil {
			v.PushToken = *r.PushToken
		}
		for _, id := range v.TagIDs {
			if t, ok := byID[id]; ok {
				v.Tags = append(v.Tags, t)
			}
		}
		out = append(out, v)
	}
	return out, nil
}

// Monitors lists an account's monitors, lowest id first.
func (q *Queries) Monitors(ctx context.Context, accountID int64, f MonitorFilter, skip, limit int) ([]MonitorView, error) {
	var rows []monitorRow
	search := ""
	if f.Search != "" {
		search = "%" + strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(strings.ToLower(f.Search)) + "%"
	}
	// Page through ids first (the index's order), then fetch and convert
	// only the page's rows: sorting whole rows is what made deep pages slow.
	err := q.db.SelectContext(ctx, &rows, `WITH page AS (
			SELECT m.id FROM monitors m LEFT JOIN monitor_state st ON st.monitor_id = m.id
			WHERE m.account_id = $1
			AND ($2 = '' OR coalesce(st.status, 'pending') = $2) AND ($3 = '' OR m.type = $3)
			AND ($4 = '' OR EXISTS (SELECT 1 FROM tags t WHERE t.account_id = m.account_id AND t.id = ANY(m.tag_ids) AND lower(t.name) = lower($4)))
			AND ($5 = '' OR lower(m.name) LIKE $5 OR lower(m.url) LIKE $5)
			ORDER BY m.id OFFSET $6 LIMIT $7)
		SELECT `+monitorColumns+monitorsFrom+`JOIN page ON page.id = m.id ORDER BY m.id`, accountID, f.Status, f.Type, f.Tag, search, skip, limit)
	if err != nil {
		return nil, err
	}
	return q.views(ctx, accountID, rows)
}

// Monitor returns one monitor of the account.
func (q *Queries) Monitor(ctx context.Context, accountID, id int64) (MonitorView, error) {
	var rows []monitorRow
	if err := q.db.SelectContext(ctx, &rows, `SELECT `+monitorColumns+monitorsFrom+`WHERE m.id = $1 AND m.account_id = $2`, id, accountID); err != nil {
		return MonitorView{}, err
	}
	if len(rows) == 0 {
		return MonitorView{}, domain.Errorf(domain.ErrNotFound, "monitor %d not found", id)
	}
	v, err := q.views(ctx, accountID, rows)
	if err != nil {
		return MonitorView{}, err
	}
	return v[0], nil
}

// PushMonitor is a push monitor found by its token.
type PushMonitor struct {
	ID            int64
	AccountID     int64
	Name          string
	Status        string
	Paused        bool
	CheckInterval int
	GracePeriod   int
	LastCheckedAt *time.Time
	LastUpAt      *time.Time
	ResumedAt     time.Time
}

func pushMonitor(r monitorRow) (PushMonitor, error) {
	var cfg domain.MonitorConfig
	if err := json.Unmarshal([]byte(r.Config), &cfg); err != nil {
		return PushMonitor{}, err
	}
	return PushMonitor{ID: r.ID, AccountID: r.AccountID, Name: cfg.Name, Status: r.Status, Paused: r.Paused,
		CheckInterval: cfg.CheckInterval, GracePeriod: cfg.GracePeriod, LastCheckedAt: r.LastCheckedAt, LastUpAt: r.LastUpAt, ResumedAt: r.ResumedAt}, nil
}

// MonitorByPushToken finds a push monitor.
func (q *Queries) MonitorByPushToken(ctx context.Context, token string) (PushMonitor, error) {
	var rows []monitorRow
	if err := q.db.SelectContext(ctx, &rows, `SELECT `+monitorColumns+monitorsFrom+`WHERE m.push_token = $1 AND m.type = 'PUSH'`, token); err != nil {
		return PushMonitor{}, err
	}
	if len(rows) == 0 {
		return PushMonitor{}, domain.Errorf(domain.ErrNotFound, "invalid push token")
	}
	return pushMonitor(rows[0])
}

// ActivePushMonitors lists push monitors that are not paused.
func (q *Queries) ActivePushMonitors(ctx context.Context) ([]PushMonitor, error) {
	var rows []monitorRow
	if err := q.db.SelectContext(ctx, &rows, `SELECT `+monitorColumns+monitorsFrom+`WHERE m.type = 'PUSH' AND NOT m.paused ORDER BY m.id`); err != nil {
		return nil, err
	}
	out := make([]PushMonitor, 0, len(rows))
	for _, r := range rows {
		p, err := pushMonitor(r)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// Assignments lists the active, polled monitors assigned to a region.
func (q *Queries) Assignments(ctx context.Context, regionID int64) ([]domain.CheckAssignment, error) {
	var rows []struct {
		ID        int64  `db:"id"`
		AccountID int64  `db:"account_id"`
		Config    string `db:"config"`
	}
	if err := q.db.SelectContext(ctx, &rows, `SELECT id, account_id, config::text AS config FROM monitors
		WHERE NOT paused AND type <> 'PUSH' AND $1 = ANY(region_ids) ORDER BY id`, regionID); err != nil {
		return nil, err
	}
	out := make([]domain.CheckAssignment, 0, len(rows))
	for _, r := range rows {
		var cfg domain.MonitorConfig
		if err := json.Unmarshal([]byte(r.Config), &cfg); err != nil {
			return nil, err
		}
		out = append(out, domain.CheckAssignment{MonitorID: r.ID, AccountID: r.AccountID, Interval: cfg.CheckInterval, Spec: cfg.Spec()})
	}
	return out, nil
}

// AssignmentsVersion fingerprints a region's assignments: it changes
// whenever a monitor of the region is created, changed, paused, resumed or
// deleted, so probes reload only then.
func (q *Queries) AssignmentsVersion(ctx context.Context, regionID int64) (string, error) {
	var v string
	err := q.db.GetContext(ctx, &v, `SELECT md5(count(*)::text || '-' || coalesce(max(updated_at)::text, '') || '-' || coalesce(sum(id)::text, ''))
		FROM monitors WHERE NOT paused AND type <> 'PUSH' AND $1 = ANY(region_ids)`, regionID)
	return v, err
}

// ActiveRegions implements commands.MonitorFacts.
func (q *Queries) ActiveRegions(ctx context.Context) ([]int64, error) {
	ids := []int64{}
	err := q.db.SelectContext(ctx, &ids, `SELECT id FROM regions WHERE active ORDER BY id`)
	return ids, err
}

// TagIDs implements commands.MonitorFacts.
func (q *Queries) TagIDs(ctx context.Context, accountID int64) ([]int64, error) {
	ids := []int64{}
	err := q.db.SelectContext(ctx, &ids, `SELECT id FROM tags WHERE account_id = $1`, accountID)
	return ids, err
}

// MonitorDependencies implements commands.MonitorFacts: each of the
// account's monitors with the monitors it depends on.
func (q *Queries) MonitorDependencies(ctx context.Context, accountID int64) (map[int64][]int64, error) {
	var rows []struct {
		ID        int64  `db:"id"`
		DependsOn string `db:"depends_on"`
	}
	if err := q.db.SelectContext(ctx, &rows, `SELECT id, coalesce(config->'depends_on', '[]')::text AS depends_on
		FROM monitors WHERE account_id = $1 AND jsonb_array_length(coalesce(nullif(config->'depends_on', 'null'), '[]')) > 0`, accountID); err != nil {
		return nil, err
	}
	out := make(map[int64][]int64, len(rows))
	for _, r := range rows {
		var deps []int64
		if err := json.Unmarshal([]byte(r.DependsOn), &deps); err != nil {
			return nil, err
		}
		out[r.ID] = deps
	}
	return out, nil
}

// MonitorAccounts implements commands.MonitorDirectory.
func (q *Queries) MonitorAccounts(ctx context.Context, ids []int64) (map[int64]int64, error) {
	var rows []struct {
		ID        int64 `db:"id"`
		AccountID int64 `db:"account_id"`
	}
	if err := q.db.SelectContext(ctx, &rows, `SELECT id, account_id FROM monitors WHERE id = ANY($1)`, pq.Array(ids)); err != nil {
		return nil, err
	}
	out := make(map[int64]int64, len(rows))
	for _, r := range rows {
		out[r.ID] = r.AccountID
	}
	return out, nil
}

// Tags lists an account's tags by name.
func (q *Queries) Tags(ctx context.Context, accountID int64) ([]TagRow, error) {
	out := []TagRow{}
	err := q.db.SelectContext(ctx, &out, `SELECT * FROM tags WHERE account_id = $1 ORDER BY lower(name), id`, accountID)
	return out, err
}

// RegionRow is a probe region.
type RegionRow struct {
	ID        int64     `db:"id" json:"id"`
	Code      string    `db:"code" json:"code"`
	Name      string    `db:"name" json:"name"`
	Lat       float64   `db:"lat" json:"lat"`
	Lng       float64   `db:"lng" json:"lng"`
	Active    bool      `db:"active" json:"is_active"`
	CreatedAt time.Time `db:"created_at" json:"created_at"`
}

// Regions lists active probe regions.
func (q *Queries) Regions(ctx context.Context) ([]RegionRow, error) {
	out := []RegionRow{}
	err := q.db.SelectContext(ctx, &out, `SELECT * FROM regions WHERE active ORDER BY id`)
	return out, err
}

// MonitorNames returns the names of the account's monitors among ids; ids
// of other accounts' monitors are left out.
func (q *Queries) MonitorNames(ctx context.Context, accountID int64, ids []int64) (map[int64]string, error) {
	var rows []struct {
		ID   int64  `db:"id"`
		Name string `db:"name"`
	}
	if err := q.db.SelectContext(ctx, &rows, `SELECT id, name FROM monitors WHERE account_id = $1 AND id = ANY($2)`, accountID, pq.Array(ids)); err != nil {
		return nil, err
	}
	out := make(map[int64]string, len(rows))
	for _, r := range rows {
		out[r.ID] = r.Name
	}
	return out, nil
}
