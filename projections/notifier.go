package projections

import (
	"context"
	"crypto/sha1"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/medialuna/medialuna/domain"
)

var deliveryNamespace = uuid.NewHash(sha1.New(), uuid.NameSpaceURL, []byte("https://medialuna/deliveries"), 5)

// Notifier is the process manager that decides who hears about an
// incident event: it matches the account's enabled rules, skips snoozed
// incidents, and writes one NotificationQueued per channel to the log
// before anything is sent. Delivery ids are derived from the incident
// event and the channel, so a decision repeated after a crash is recorded
// once. Like the incident detector it replays history without acting on
// events older than ten minutes.
type Notifier struct {
	store domain.EventStore
	q     *Queries
	now   func() time.Time
}

// NewNotifier returns the notifier.
func NewNotifier(store domain.EventStore, q *Queries, now func() time.Time) *Notifier {
	return &Notifier{store: store, q: q, now: now}
}

func (*Notifier) Name() string     { return "notifier" }
func (*Notifier) Version() int     { return 1 }
func (*Notifier) IsConsumer()      {}
func (*Notifier) Tables() []string { return []string{"notifier_incidents"} }

// Handles implements EventFilter.
func (*Notifier) Handles(t string) bool {
	switch t {
	case "IncidentTriggered", "IncidentAcknowledged", "IncidentSnoozed", "IncidentResolved":
		return true
	}
	return false
}

func (*Notifier) Setup(ctx context.Context, tx *sqlx.Tx) error {
	_, err := tx.ExecContext(ctx, `CREATE TABLE notifier_incidents (
		incident_id   BIGINT PRIMARY KEY,
		account_id    BIGINT NOT NULL,
		monitor_id    BIGINT NOT NULL,
		incident_type TEXT NOT NULL,
		message       TEXT NOT NULL,
		started_at    TIMESTAMPTZ NOT NULL,
		snoozed_until TIMESTAMPTZ)`)
	return err
}

type notifierIncident struct {
	IncidentID   int64      `db:"incident_id"`
	AccountID    int64      `db:"account_id"`
	MonitorID    int64      `db:"monitor_id"`
	Type         string     `db:"incident_type"`
	Message      string     `db:"message"`
	StartedAt    time.Time  `db:"started_at"`
	SnoozedUntil *time.Time `db:"snoozed_until"`
}

func (n *Notifier) Apply(ctx context.Context, tx Exec, rec domain.RecordedEvent, ev domain.Event) error {
	id := streamID(rec, "incident-")
	if t, ok := ev.(*domain.IncidentTriggered); ok {
		_, err := tx.ExecContext(ctx, `INSERT INTO notifier_incidents (incident_id, account_id, monitor_id, incident_type, message, started_at)
			VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`, t.IncidentID, t.AccountID, t.MonitorID, t.Type, t.Message, t.StartedAt)
		if err != nil {
			return err
		}
	}
	if s, ok := ev.(*domain.IncidentSnoozed); ok {
		_, err := tx.ExecContext(ctx, `UPDATE notifier_incidents SET snoozed_until = $2 WHERE incident_id = $1`, id, s.Until)
		return err
	}
	var inc notifierIncident
	if err := tx.GetContext(ctx, &inc, `SELECT * FROM notifier_incidents WHERE incident_id = $1`, id); err != nil {
		return notFoundIsNil(err)
	}
	at := rec.Metadata.OccurredAt
	if n.now().Sub(at) >= 10*time.Minute {
		return nil // history: state only
	}
	status, events := domain.StatusTriggered, []string{domain.EventIncidentTriggered}
	switch e := ev.(type) {
	case *domain.IncidentAcknowledged:
		status, events = domain.StatusAcknowledged, []string{domain.EventIncidentAcknowledged}
	case *domain.IncidentResolved:
		status, events = domain.StatusResolved, []string{domain.EventIncidentResolved}
		if e.Reason == "recovered" {
			events = append(events, domain.EventMonitorRecovered)
		}
	}
	// A snooze silences everything but the end of the incident.
	if inc.SnoozedUntil != nil && at.Before(*inc.SnoozedUntil) && status != domain.StatusResolved {
		return nil
	}
	channels, err := n.q.RuleTargets(ctx, inc.AccountID, inc.MonitorID, domain.IncidentType(inc.Type))
	if err != nil || len(channels) == 0 {
		return err
	}
	mon, err := n.q.MonitorSnapshot(ctx, inc.MonitorID)
	if err != nil {
		return err
	}
	var batch []domain.StreamEvent
	meta := domain.Metadata{ActorType: domain.ActorSystem, AccountID: inc.AccountID, OccurredAt: n.now().UTC().Truncate(time.Microsecond)}
	for _, event := range events {
		for _, ch := range channels {
			deliveryID := uuid.NewSHA1(deliveryNamespace, fmt.Appendf(nil, "%s/%s/%d", rec.ID, event, ch)).String()
			note := domain.Notification{DeliveryID: deliveryID, Event: event, OccurredAt: at, AccountID: inc.AccountID, Monitor: mon,
				Incident: &domain.NotificationIncident{ID: inc.IncidentID, Type: domain.IncidentType(inc.Type), Message: inc.Message, Status: status, SentAt: meta.OccurredAt}}
			data, err := domain.Encode(&domain.NotificationQueued{DeliveryID: deliveryID, ChannelID: ch, IncidentID: inc.IncidentID, Notification: note}, meta, deliveryID)
			if err != nil {
				return err
			}
			batch = append(batch, domain.StreamEvent{Stream: domain.DeliveriesStream(ch), Event: data})
		}
	}
	_, err = n.store.AppendBatch(ctx, batch)
	return err
}

// Sender delivers a notification through one channel; errors say whether
// retrying can help (Permanent() bool).
type Sender interface {
	Send(ctx context.Context, ch domain.ChannelConfig, secret string, n domain.Notification) error
}

// Dispatcher sends queued notifications and records each outcome. It is a
// stateless consumer: it runs outside any transaction, and a crash after a
// send but before recording it sends again (at least once; webhooks carry
// the delivery id for receivers to deduplicate). The deliveries of one
// batch go out in parallel, each retried up to MaxRetries times with
// exponential backoff unless the failure is permanent.
type Dispatcher struct {
	store      domain.EventStore
	q          *Queries
	senders    map[domain.ChannelType]Sender
	log        *slog.Logger
	now        func() time.Time
	MaxRetries int
	Backoff    time.Duration
}

// NewDispatcher returns a dispatcher using senders by channel type.
func NewDispatcher(store domain.EventStore, q *Queries, senders map[domain.ChannelType]Sender, log *slog.Logger, now func() time.Time) *Dispatcher {
	return &Dispatcher{store: store, q: q, senders: senders, log: log, now: now, MaxRetries: 3, Backoff: time.Second}
}

func (*Dispatcher) Name() string                                 { return "dispatcher" }
func (*Dispatcher) Version() int                                 { return 1 }
func (*Dispatcher) IsConsumer()                                  {}
func (*Dispatcher) Tables() []string                             { return nil }
func (*Dispatcher) Setup(ctx context.Context, tx *sqlx.Tx) error { return nil }

// Handles implements EventFilter.
func (*Dispatcher) Handles(t string) bool { return t == "NotificationQueued" }

func (d *Dispatcher) Apply(ctx context.Context, tx Exec, rec domain.RecordedEvent, ev domain.Event) error {
	return d.ApplyBatch(ctx, tx, []domain.RecordedEvent{rec}, []domain.Event{ev})
}

// ApplyBatch implements BatchProjector: channels in parallel, each
// channel's deliveries in order (a receiver sees resolved before
// recovered, as they happened).
func (d *Dispatcher) ApplyBatch(ctx context.Context, _ Exec, recs []domain.RecordedEvent, evs []domain.Event) error {
	results := make([]domain.StreamEvent, len(evs))
	errs := make([]error, len(evs))
	byChannel := map[int64][]int{}
	var order []int64
	for i, ev := range evs {
		if q, ok := ev.(*domain.NotificationQueued); ok {
			if _, seen := byChannel[q.ChannelID]; !seen {
				order = append(order, q.ChannelID)
			}
			byChannel[q.ChannelID] = append(byChannel[q.ChannelID], i)
		}
	}
	var wg sync.WaitGroup
	for _, ch := range order {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, i := range byChannel[ch] {
				if results[i], errs[i] = d.deliver(ctx, recs[i], evs[i].(*domain.NotificationQueued)); errs[i] != nil {
					return
				}
			}
		}()
	}
	wg.Wait()
	// Record every outcome we have before reporting a failure, so a retry
	// of the batch does not send what already went out.
	var batch []domain.StreamEvent
	var firstErr error
	for i := range evs {
		if errs[i] != nil && firstErr == nil {
			firstErr = errs[i]
		}
		if results[i].Stream != "" {
			batch = append(batch, results[i])
		}
	}
	if len(batch) > 0 {
		if _, err := d.store.AppendBatch(ctx, batch); err != nil {
			return err
		}
	}
	return firstErr
}

func (d *Dispatcher) deliver(ctx context.Context, rec domain.RecordedEvent, q *domain.NotificationQueued) (domain.StreamEvent, error) {
	done, err := d.q.DeliveryFinished(ctx, q.DeliveryID)
	if err != nil || done {
		return domain.StreamEvent{}, err
	}
	res := domain.NotificationAttempted{DeliveryID: q.DeliveryID, ChannelID: q.ChannelID, IncidentID: q.IncidentID, Event: q.Notification.Event}
	ch, secret, found, err := d.q.ChannelForDelivery(ctx, q.ChannelID)
	switch {
	case err != nil:
		return domain.StreamEvent{}, err
	case !found:
		res.Error = "the channel was deleted"
	case !ch.Enabled:
		res.ChannelName, res.ChannelType, res.Error = ch.Name, ch.Type, "the channel is disabled"
	default:
		res.ChannelName, res.ChannelType = ch.Name, ch.Type
		sender := d.senders[ch.Type]
		if sender == nil {
			res.Error = "no sender for " + string(ch.Type)
			break
		}
		note := q.Notification
		note.DeliveryID = q.DeliveryID // the payload leaves it out; the delivery header carries it
		delay := d.Backoff
		for attempt := 1; attempt <= d.MaxRetries+1; attempt++ {
			res.Attempts = attempt
			sendCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
			err := sender.Send(sendCtx, ch, secret, note)
			cancel()
			if err == nil {
				res.Delivered, res.Error = true, ""
				break
			}
			res.Error = err.Error()
			if isPermanent(err) || attempt > d.MaxRetries || ctx.Err() != nil {
				break
			}
			d.log.Warn("notification failed; retrying", "channel", q.ChannelID, "delivery", q.DeliveryID, "attempt", attempt, "err", err, "retry_in", delay)
			if !sleep(ctx, delay) {
				return domain.StreamEvent{}, ctx.Err()
			}
			delay *= 2
		}
	}
	meta := domain.Metadata{ActorType: domain.ActorSystem, AccountID: rec.Metadata.AccountID, OccurredAt: d.now().UTC().Truncate(time.Microsecond)}
	data, err := domain.Encode(&res, meta, uuid.NewSHA1(deliveryNamespace, []byte(q.DeliveryID+"/attempted")).String())
	if err != nil {
		return domain.StreamEvent{}, err
	}
	return domain.StreamEvent{Stream: domain.DeliveriesStream(q.ChannelID), Event: data}, nil
}

// RuleTargets returns the enabled channels of the enabled rules that cover
// a monitor and match an incident type: STATUS "down" conditions match DOWN
// and SSL_EXPIRY incidents, RESPONSE_TIME conditions PERFORMANCE ones.
func (q *Queries) RuleTargets(ctx context.Context, accountID, monitorID int64, typ domain.IncidentType) ([]int64, error) {
	rules, err := q.Rules(ctx, accountID, 0)
	if err != nil {
		return nil, err
	}
	var out []int64
	for _, r := range rules {
		if !r.Enabled || (len(r.MonitorIDs) > 0 && !slices.Contains(r.MonitorIDs, monitorID)) {
			continue
		}
		match := false
		for _, c := range r.Conditions {
			switch {
			case c.Type == "STATUS" && c.Value == "down" && (typ == domain.IncidentDown || typ == domain.IncidentSSLExpiry):
				match = true
			case c.Type == "RESPONSE_TIME" && typ == domain.IncidentPerformance:
				match = true
			}
		}
		if !match {
			continue
		}
		for _, ch := range r.ChannelIDs {
			if !slices.Contains(out, ch) {
				out = append(out, ch)
			}
		}
	}
	slices.Sort(out)
	return out, nil
}

// MonitorSnapshot is the monitor as notifications show it.
func (q *Queries) MonitorSnapshot(ctx context.Context, id int64) (domain.NotificationMonitor, error) {
	var row struct {
		ID   int64  `db:"id"`
		Name string `db:"name"`
		URL  string `db:"url"`
		Type string `db:"type"`
	}
	err := q.db.GetContext(ctx, &row, `SELECT id, name, url, type FROM monitors WHERE id = $1`, id)
	if err != nil {
		return domain.NotificationMonitor{ID: id, Name: fmt.Sprintf("monitor %d", id)}, notFoundIsNil(err)
	}
	return domain.NotificationMonitor{ID: row.ID, Name: row.Name, URL: row.URL, Type: domain.MonitorType(row.Type)}, nil
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
	err = json.Unmarshal([]byte(row.Config), &cfg)
	return cfg, row.Secret, err == nil, err
}

// DeliveryFinished reports whether a delivery already has its outcome.
func (q *Queries) DeliveryFinished(ctx context.Context, deliveryID string) (bool, error) {
	var done bool
	err := q.db.GetContext(ctx, &done, `SELECT EXISTS (SELECT 1 FROM notification_deliveries WHERE delivery_id = $1 AND status <> 'queued')`, deliveryID)
	return done, err
}

func notFoundIsNil(err error) error {
	if domain.ErrorCode(notFound(err, "")) == domain.ErrNotFound {
		return nil
	}
	return err
}
