package projections

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/medialuna/medialuna/domain"
)

// Notifications projects notification channels and rules.
type Notifications struct{}

// SettlesWrites is true: a write waits until this model has applied it,
// so the writer's next read sees it.
func (Notifications) SettlesWrites() bool { return true }

func (Notifications) Name() string { return "notifications" }
func (Notifications) Version() int { return 4 }
func (Notifications) Tables() []string {
	return []string{"notification_channels", "notification_rules", "notification_deliveries"}
}

// Handles implements EventFilter.
func (Notifications) Handles(t string) bool {
	switch t {
	case domain.EvNotificationChannelCreated, domain.EvNotificationChannelUpdated, domain.EvNotificationChannelDeleted,
		domain.EvNotificationRuleCreated, domain.EvNotificationRuleUpdated, domain.EvNotificationRuleDeleted, domain.EvMonitorDeleted,
		domain.EvNotificationQueued, domain.EvNotificationAttempted, domain.EvNotificationRetrying:
		return true
	}
	return false
}

func (Notifications) Setup(ctx context.Context, tx *sqlx.Tx) error {
	_, err := tx.ExecContext(ctx, `
		CREATE TABLE notification_channels (
			id             BIGINT PRIMARY KEY,
			account_id     BIGINT NOT NULL,
			config         JSONB NOT NULL,
			webhook_secret TEXT NOT NULL DEFAULT '',
			created_at     TIMESTAMPTZ NOT NULL,
			updated_at     TIMESTAMPTZ NOT NULL);
		CREATE INDEX notification_channels_account ON notification_channels (account_id, id);
		CREATE TABLE notification_rules (
			id         BIGINT PRIMARY KEY,
			account_id BIGINT NOT NULL,
			config     JSONB NOT NULL,
			created_at TIMESTAMPTZ NOT NULL,
			updated_at TIMESTAMPTZ NOT NULL);
		CREATE INDEX notification_rules_account ON notification_rules (account_id, id);
		CREATE TABLE notification_deliveries (
			delivery_id TEXT PRIMARY KEY,
			channel_id  BIGINT NOT NULL,
			account_id  BIGINT NOT NULL,
			incident_id BIGINT,
			event       TEXT NOT NULL,
			status      TEXT NOT NULL, -- queued, delivered, failed
			attempts    INT NOT NULL DEFAULT 0,
			error       TEXT NOT NULL DEFAULT '',
			queued_at   TIMESTAMPTZ NOT NULL,
			finished_at TIMESTAMPTZ,
			-- The outbox the dispatcher sends from: the queued notification,
			-- in the order of the log.
			position    BIGINT NOT NULL DEFAULT 0,
			payload     JSONB);
		CREATE INDEX notification_deliveries_channel ON notification_deliveries (channel_id, queued_at DESC);
		CREATE INDEX notification_deliveries_outbox ON notification_deliveries (channel_id, position) WHERE status = 'queued';`)
	return err
}

// dropFromArray removes an id from a JSON array field of config.
const dropFromArray = `config = jsonb_set(config, '{%s}',
	coalesce((SELECT jsonb_agg(x) FROM jsonb_array_elements(config->'%s') AS x WHERE x <> to_jsonb($1::bigint)), '[]'))`

func (Notifications) Apply(ctx context.Context, tx Exec, rec domain.RecordedEvent, ev domain.Event) error {
	at := rec.Metadata.OccurredAt
	exec := func(q string, args ...any) error {
		_, err := tx.ExecContext(ctx, q, args...)
		return err
	}
	switch e := ev.(type) {
	case *domain.ChannelCreated:
		cfg, err := json.Marshal(e.Config)
		if err != nil {
			return err
		}
		return exec(`INSERT INTO notification_channels (id, account_id, config, webhook_secret, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (id) DO NOTHING`, e.ChannelID, e.AccountID, string(cfg), e.WebhookSecret, at)
	case *domain.ChannelUpdated:
		cfg, err := json.Marshal(e.Config)
		if err != nil {
			return err
		}
		return exec(`UPDATE notification_channels SET config = $2, updated_at = $3 WHERE id = $1`, streamID(rec, "channel-"), string(cfg), at)
	case *domain.ChannelDeleted:
		id := streamID(rec, "channel-")
		if err := exec(`DELETE FROM notification_channels WHERE id = $1`, id); err != nil {
			return err
		}
		return exec(`UPDATE notification_rules SET `+fmt.Sprintf(dropFromArray, "channel_ids", "channel_ids")+` WHERE config->'channel_ids' @> to_jsonb(ARRAY[$1::bigint])`, id)
	case *domain.RuleCreated:
		cfg, err := json.Marshal(e.Config)
		if err != nil {
			return err
		}
		return exec(`INSERT INTO notification_rules (id, account_id, config, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)
			ON CONFLICT (id) DO NOTHING`, e.RuleID, e.AccountID, string(cfg), at)
	case *domain.RuleUpdated:
		cfg, err := json.Marshal(e.Config)
		if err != nil {
			return err
		}
		return exec(`UPDATE notification_rules SET config = $2, updated_at = $3 WHERE id = $1`, streamID(rec, "rule-"), string(cfg), at)
	case *domain.RuleDeleted:
		return exec(`DELETE FROM notification_rules WHERE id = $1`, streamID(rec, "rule-"))
	case *domain.NotificationQueued:
		var incident any
		if e.IncidentID != 0 {
			incident = e.IncidentID
		}
		payload, err := json.Marshal(e)
		if err != nil {
			return err
		}
		return exec(`INSERT INTO notification_deliveries (delivery_id, channel_id, account_id, incident_id, event, status, queued_at, position, payload)
			VALUES ($1, $2, $3, $4, $5, 'queued', $6, $7, $8) ON CONFLICT (delivery_id) DO NOTHING`,
			e.DeliveryID, e.ChannelID, rec.Metadata.AccountID, incident, e.Notification.Event, at, int64(rec.Position.Prepare), string(payload))
	case *domain.NotificationAttempted:
		status := "failed"
		if e.Delivered {
			status = "delivered"
		}
		var incident any
		if e.IncidentID != 0 {
			incident = e.IncidentID
		}
		return exec(`INSERT INTO notification_deliveries (delivery_id, channel_id, account_id, incident_id, event, status, attempts, error, queued_at, finished_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)
			ON CONFLICT (delivery_id) DO UPDATE SET status = EXCLUDED.status, attempts = EXCLUDED.attempts, error = EXCLUDED.error,
				finished_at = EXCLUDED.finished_at, payload = NULL`,
			e.DeliveryID, e.ChannelID, rec.Metadata.AccountID, incident, e.Event, status, e.Attempts, e.Error, at)
	case *domain.NotificationRetrying:
		// Still queued: the attempts so far and the last error show while
		// the retries go on.
		return exec(`UPDATE notification_deliveries SET attempts = GREATEST(attempts, $2), error = $3 WHERE delivery_id = $1 AND status = 'queued'`,
			e.DeliveryID, e.Attempt, e.Error)
	case *domain.MonitorDeleted:
		// A rule left with no monitor would cover every monitor (an empty
		// monitor_ids): it is disabled instead.
		if err := exec(`UPDATE notification_rules SET config = jsonb_set(config, '{enabled}', 'false')
			WHERE config->'monitor_ids' = to_jsonb(ARRAY[$1::bigint])`, monitorID(rec)); err != nil {
			return err
		}
		return exec(`UPDATE notification_rules SET `+fmt.Sprintf(dropFromArray, "monitor_ids", "monitor_ids")+` WHERE config->'monitor_ids' @> to_jsonb(ARRAY[$1::bigint])`, monitorID(rec))
	}
	return nil
}

// ChannelView is a channel as the API shows it: secrets masked.
type ChannelView struct {
	ID int64 `json:"id"`
	domain.ChannelConfig
	WebhookSecret string    `json:"webhook_secret,omitempty"` // only in the creation response
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
}

type configRow struct {
	ID        int64     `db:"id"`
	Config    string    `db:"config"`
	CreatedAt time.Time `db:"created_at"`
	UpdatedAt time.Time `db:"updated_at"`
}

// Channels lists an account's channels, secrets masked.
func (q *Queries) Channels(ctx context.Context, accountID int64, id int64) ([]ChannelView, error) {
	var rows []configRow
	if err := q.db.SelectContext(ctx, &rows, `SELECT id, config::text AS config, created_at, updated_at FROM notification_channels
		WHERE account_id = $1 AND ($2::bigint = 0 OR id = $2) ORDER BY id`, accountID, id); err != nil {
		return nil, err
	}
	out := make([]ChannelView, 0, len(rows))
	for _, r := range rows {
		v := ChannelView{ID: r.ID, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
		if err := json.Unmarshal([]byte(r.Config), &v.ChannelConfig); err != nil {
			return nil, err
		}
		v.ChannelConfig = v.ChannelConfig.Masked()
		out = append(out, v)
	}
	if id != 0 && len(out) == 0 {
		return nil, domain.Errorf(domain.ErrNotFound, "notification channel %d not found", id)
	}
	return out, nil
}

// ChannelIDs implements commands.NotificationFacts.
func (q *Queries) ChannelIDs(ctx context.Context, accountID int64) ([]int64, error) {
	ids := []int64{}
	err := q.db.SelectContext(ctx, &ids, `SELECT id FROM notification_channels WHERE account_id = $1`, accountID)
	return ids, err
}

// RuleView is a rule as the API shows it.
type RuleView struct {
	ID int64 `json:"id"`
	domain.RuleConfig
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Rules lists an account's rules (or one, by id).
func (q *Queries) Rules(ctx context.Context, accountID, id int64) ([]RuleView, error) {
	var rows []configRow
	if err := q.db.SelectContext(ctx, &rows, `SELECT id, config::text AS config, created_at, updated_at FROM notification_rules
		WHERE account_id = $1 AND ($2::bigint = 0 OR id = $2) ORDER BY id`, accountID, id); err != nil {
		return nil, err
	}
	out := make([]RuleView, 0, len(rows))
	for _, r := range rows {
		v := RuleView{ID: r.ID, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
		if err := json.Unmarshal([]byte(r.Config), &v.RuleConfig); err != nil {
			return nil, err
		}
		if v.MonitorIDs == nil {
			v.MonitorIDs = []int64{}
		}
		out = append(out, v)
	}
	if id != 0 && len(out) == 0 {
		return nil, domain.Errorf(domain.ErrNotFound, "notification rule %d not found", id)
	}
	return out, nil
}

// DeliveryRow is one delivery of a channel.
type DeliveryRow struct {
	DeliveryID string     `db:"delivery_id" json:"delivery_id"`
	IncidentID *int64     `db:"incident_id" json:"incident_id"`
	Event      string     `db:"event" json:"event"`
	Status     string     `db:"status" json:"status"`
	Attempts   int        `db:"attempts" json:"attempts"`
	Error      string     `db:"error" json:"error"`
	QueuedAt   time.Time  `db:"queued_at" json:"queued_at"`
	FinishedAt *time.Time `db:"finished_at" json:"finished_at"`
}

// Deliveries lists a channel's deliveries, newest first.
func (q *Queries) Deliveries(ctx context.Context, accountID, channelID int64, skip, limit int) ([]DeliveryRow, error) {
	out := []DeliveryRow{}
	err := q.db.SelectContext(ctx, &out, `SELECT delivery_id, incident_id, event, status, attempts, error, queued_at, finished_at
		FROM notification_deliveries WHERE account_id = $1 AND channel_id = $2 ORDER BY queued_at DESC, delivery_id OFFSET $3 LIMIT $4`,
		accountID, channelID, skip, limit)
	return out, err
}
