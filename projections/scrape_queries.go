package projections

import (
	"context"
	"time"

	"github.com/lib/pq"
)

// MonitorGauge is one monitor's state for a metrics scrape: what its
// latest checks said, per region.
type MonitorGauge struct {
	ID             int64      `db:"id"`
	AccountID      int64      `db:"account_id"`
	Name           string     `db:"name"`
	Type           string     `db:"type"`
	Paused         bool       `db:"paused"`
	ResponseTimeMS *float64   `db:"last_response_time_ms"`
	CertExpiresAt  *time.Time `db:"cert_expires_at"`
	Regions        []RegionGauge
}

// RegionGauge is a monitor's latest result from one region.
type RegionGauge struct {
	MonitorID int64     `db:"monitor_id"`
	Region    string    `db:"code"`
	Up        bool      `db:"up"`
	CheckedAt time.Time `db:"checked_at"`
}

// MonitorGauges returns up to limit monitors, lowest id first, with their
// latest result per region; more is true when there are further monitors
// the limit left out. Two reads, each over the monitors' primary keys.
func (q *Queries) MonitorGauges(ctx context.Context, limit int) (gauges []MonitorGauge, more bool, err error) {
	if err = q.db.SelectContext(ctx, &gauges, `SELECT m.id, m.account_id, m.name, m.type, m.paused,
			s.last_response_time_ms, s.cert_expires_at
		FROM monitors m LEFT JOIN monitor_state s ON s.monitor_id = m.id
		ORDER BY m.id LIMIT $1`, limit+1); err != nil {
		return nil, false, err
	}
	if len(gauges) > limit {
		gauges, more = gauges[:limit], true
	}
	if len(gauges) == 0 {
		return gauges, more, nil
	}
	ids := make([]int64, len(gauges))
	at := make(map[int64]int, len(gauges))
	for i, g := range gauges {
		ids[i], at[g.ID] = g.ID, i
	}
	var regions []RegionGauge
	if err = q.db.SelectContext(ctx, &regions, `SELECT l.monitor_id, r.code, l.up, l.checked_at
		FROM monitor_region_latest l JOIN regions r ON r.id = l.region_id
		WHERE l.monitor_id = ANY($1) ORDER BY l.monitor_id, r.code`, pq.Array(ids)); err != nil {
		return nil, false, err
	}
	for _, rg := range regions {
		i := at[rg.MonitorID]
		gauges[i].Regions = append(gauges[i].Regions, rg)
	}
	return gauges, more, nil
}

// OutboxDepth counts notifications queued and not yet delivered or given up.
func (q *Queries) OutboxDepth(ctx context.Context) (int64, error) {
	var n int64
	err := q.db.GetContext(ctx, &n, `SELECT count(*) FROM notification_deliveries WHERE status = 'queued'`)
	return n, err
}
