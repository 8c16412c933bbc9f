package projections

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/lib/pq"

	"github.com/medialuna/medialuna/domain"
)

// Queries the notifier and the dispatcher (package processes) read.

// EnabledChannels is the set of an account's enabled channels.
func (q *Queries) EnabledChannels(ctx context.Context, accountID int64) (map[int64]bool, error) {
	var ids []int64
	if err := q.db.SelectContext(ctx, &ids, `SELECT id FROM notification_channels
		WHERE account_id = $1 AND coalesce((config->>'enabled')::boolean, true)`, accountID); err != nil {
		return nil, err
	}
	out := make(map[int64]bool, len(ids))
	for _, id := range ids {
		out[id] = true
	}
	return out, nil
}

// NotifiedMonitor is what the notifier needs of a monitor.
type NotifiedMonitor struct {
	domain.NotificationMonitor
	CheckInterval int
	DependsOn     []int64
	Deleted       bool
}

// NotifiedMonitors returns the monitors among ids that still exist.
func (q *Queries) NotifiedMonitors(ctx context.Context, ids []int64) (map[int64]NotifiedMonitor, error) {
	var rows []notifiedMonitorRow
	if err := q.db.SelectContext(ctx, &rows, `SELECT id, name, url, type, check_interval, coalesce(config->'depends_on', '[]')::text AS depends_on
		FROM monitors WHERE id = ANY($1)`, pq.Array(ids)); err != nil {
		return nil, err
	}
	out := make(map[int64]NotifiedMonitor, len(rows))
	for _, r := range rows {
		m, err := r.monitor()
		if err != nil {
			return nil, err
		}
		out[r.ID] = m
	}
	return out, nil
}

type notifiedMonitorRow struct {
	ID            int64  `db:"id"`
	Name          string `db:"name"`
	URL           string `db:"url"`
	Type          string `db:"type"`
	CheckInterval int    `db:"check_interval"`
	DependsOn     string `db:"depends_on"`
}

// monitor is the row as notifications show it: the URL's password is
// redacted, for notifications are recorded in the log and sent to
// third-party services.
func (r notifiedMonitorRow) monitor() (NotifiedMonitor, error) {
	m := NotifiedMonitor{NotificationMonitor: domain.NotificationMonitor{ID: r.ID, Name: r.Name, URL: domain.RedactedURL(r.URL), Type: domain.MonitorType(r.Type)},
		CheckInterval: r.CheckInterval}
	err := json.Unmarshal([]byte(r.DependsOn), &m.DependsOn)
	return m, err
}

// NotifiedMonitor returns the monitor, or a stand-in named after its id
// (Deleted) when it no longer exists.
func (q *Queries) NotifiedMonitor(ctx context.Context, id int64) (NotifiedMonitor, error) {
	ms, err := q.NotifiedMonitors(ctx, []int64{id})
	if err != nil {
		return NotifiedMonitor{}, err
	}
	if m, ok := ms[id]; ok {
		return m, nil
	}
	return NotifiedMonitor{NotificationMonitor: domain.NotificationMonitor{ID: id, Name: fmt.Sprintf("monitor %d", id)}, Deleted: true}, nil
}

// ChannelForDelivery returns a channel with its secrets, for sending.
func (q *Queries) ChannelForDelivery(ctx context.Context, id int64) (domain.ChannelConfig, string, bool, error) {
	var row struct {
		Config string `db:"config"`
		Secret string `db:"webhook_secret"`
	}
	err := q.db.GetContext(ctx, &row, `SELECT config::text AS config, webhook_secret FROM notification_channels WHERE id = $1`, id)
	if err != nil {
		return domain.ChannelConfig{}, "", false, notFoundIsNil(err)
	}
	var cfg domain.ChannelConfig
	if err := json.Unmarshal([]byte(row.Config), &cfg); err != nil {
		return cfg, "", false, domain.Errorf(domain.ErrInvalid, "the channel's configuration cannot be read: %v", err)
	}
	return cfg, row.Secret, true, nil
}

func notFoundIsNil(err error) error {
	if domain.ErrorCode(notFound(err, "")) == domain.ErrNotFound {
		return nil
	}
	return err
}

// Covered reports whether one of an account's active windows (from
// ActiveWindows) covers the monitor at t.
func Covered(windows []domain.MaintenanceConfig, monitorID int64, t time.Time) bool {
	return domain.AnyCovers(windows, monitorID, t, zone)
}

// QueuedChannels lists the channels with queued deliveries (a
// NotificationQueued without an outcome yet).
func (q *Queries) QueuedChannels(ctx context.Context) ([]int64, error) {
	var channels []int64
	err := q.db.SelectContext(ctx, &channels, `SELECT DISTINCT channel_id FROM notification_deliveries WHERE status = 'queued'`)
	return channels, err
}

// QueuedDelivery is a delivery waiting to be sent, with its
// NotificationQueued as JSON.
type QueuedDelivery struct {
	DeliveryID string `db:"delivery_id"`
	AccountID  int64  `db:"account_id"`
	Payload    string `db:"payload"`
}

// QueuedDeliveries returns up to limit queued deliveries of a channel, in
// the order they were decided.
func (q *Queries) QueuedDeliveries(ctx context.Context, channelID int64, limit int) ([]QueuedDelivery, error) {
	var rows []QueuedDelivery
	err := q.db.SelectContext(ctx, &rows, `SELECT delivery_id, account_id, payload::text AS payload FROM notification_deliveries
		WHERE channel_id = $1 AND status = 'queued' ORDER BY position LIMIT $2`, channelID, limit)
	return rows, err
}
