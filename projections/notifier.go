package projections

import (
	"context"
	"crypto/sha1"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/medialuna/medialuna/domain"
)

var deliveryNamespace = uuid.NewHash(sha1.New(), uuid.NameSpaceURL, []byte("https://medialuna/deliveries"), 5)

// Notifier is the process manager that decides who hears about an
// incident: it matches the account's enabled rules and writes one
// NotificationQueued per channel to the log before anything is sent (the
// Dispatcher sends from there). It silences what users expect silenced:
// notifications while a maintenance window covers the monitor, an
// incident's repeats once it is acknowledged, everything but its end while
// it is snoozed, and an incident of a monitor whose dependency (its
// depends_on) has a DOWN incident open, so one outage pages once.
//
// Time-driven notifications come from Tick: rules with consecutive_checks
// above 1 fire once the incident has lasted that many check intervals, and
// rules with renotify_minutes repeat incident.triggered while the incident
// stays open and unacknowledged.
//
// Delivery ids are derived from the incident, the event and the channel,
// so a decision repeated (after a crash, by two replicas, by the immediate
// path and Tick) is recorded once. Like the incident detector it replays
// history without acting on events older than ten minutes.
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
func (*Notifier) Version() int     { return 3 }
func (*Notifier) IsConsumer()      {}
func (*Notifier) Tables() []string { return []string{"notifier_incidents", "notifier_sent"} }

// Handles implements EventFilter.
func (*Notifier) Handles(t string) bool {
	switch t {
	case "IncidentTriggered", "IncidentAcknowledged", "IncidentSnoozed", "IncidentResolved",
		"NotificationQueued", "NotificationSuppressed":
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
		status        TEXT NOT NULL,
		resolved_reason TEXT NOT NULL DEFAULT '',
		snoozed_until TIMESTAMPTZ,
		suppressed_by BIGINT NOT NULL DEFAULT 0);
	CREATE INDEX notifier_incidents_open ON notifier_incidents (monitor_id) WHERE status <> 'RESOLVED';
	-- Channels told of an incident's start, and how many reminders they had.
	CREATE TABLE notifier_sent (
		incident_id BIGINT NOT NULL,
		channel_id  BIGINT NOT NULL,
		reminders   INT NOT NULL DEFAULT 0,
		PRIMARY KEY (incident_id, channel_id));`)
	return err
}

type notifierIncident struct {
	IncidentID   int64      `db:"incident_id"`
	AccountID    int64      `db:"account_id"`
	MonitorID    int64      `db:"monitor_id"`
	Type         string     `db:"incident_type"`
	Message      string     `db:"message"`
	StartedAt    time.Time  `db:"started_at"`
	Status       string     `db:"status"`
	Reason       string     `db:"resolved_reason"`
	SnoozedUntil *time.Time `db:"snoozed_until"`
	SuppressedBy int64      `db:"suppressed_by"`
}

func (n *Notifier) Apply(ctx context.Context, tx Exec, rec domain.RecordedEvent, ev domain.Event) error {
	return n.ApplyBatch(ctx, tx, []domain.RecordedEvent{rec}, []domain.Event{ev})
}

// ApplyBatch implements BatchProjector: first the state of every event in
// the batch, then the decisions, so that a monitor and its dependency
// failing in the same round see each other.
func (n *Notifier) ApplyBatch(ctx context.Context, tx Exec, recs []domain.RecordedEvent, evs []domain.Event) error {
	for i, ev := range evs {
		if err := n.fold(ctx, tx, recs[i], ev); err != nil {
			return err
		}
	}
	var out []domain.StreamEvent
	for i, ev := range evs {
		if n.now().Sub(recs[i].Metadata.OccurredAt) >= 10*time.Minute {
			continue // history: state only
		}
		var decided []domain.StreamEvent
		var err error
		switch e := ev.(type) {
		case *domain.IncidentTriggered, *domain.IncidentAcknowledged, *domain.IncidentResolved:
			decided, err = n.decide(ctx, tx, recs[i], ev)
		case *domain.NotificationQueued:
			decided, err = n.closeLateStart(ctx, tx, e)
		default:
			continue
		}
		if err != nil {
			return err
		}
		// What was decided counts at once for the decisions after it (a
		// resolve later in this batch goes to the channels told of the
		// start; a suppressed incident suppresses no other); the events
		// confirm it when they come back from the log.
		for _, se := range decided {
			if err := n.foldDecision(ctx, tx, se); err != nil {
				return err
			}
		}
		out = append(out, decided...)
	}
	if len(out) == 0 {
		return nil
	}
	_, err := n.store.AppendBatch(ctx, out)
	return err
}

// fold keeps the notifier's own view of incidents.
func (n *Notifier) fold(ctx context.Context, tx Exec, rec domain.RecordedEvent, ev domain.Event) error {
	exec := func(q string, args ...any) error {
		_, err := tx.ExecContext(ctx, q, args...)
		return err
	}
	id := streamID(rec, "incident-")
	switch e := ev.(type) {
	case *domain.IncidentTriggered:
		return exec(`INSERT INTO notifier_incidents (incident_id, account_id, monitor_id, incident_type, message, started_at, status)
			VALUES ($1, $2, $3, $4, $5, $6, 'TRIGGERED') ON CONFLICT DO NOTHING`, e.IncidentID, e.AccountID, e.MonitorID, e.Type, e.Message, e.StartedAt)
	case *domain.IncidentAcknowledged:
		return exec(`UPDATE notifier_incidents SET status = 'ACKNOWLEDGED' WHERE incident_id = $1 AND status = 'TRIGGERED'`, id)
	case *domain.IncidentSnoozed:
		return exec(`UPDATE notifier_incidents SET snoozed_until = $2 WHERE incident_id = $1`, id, e.Until)
	case *domain.IncidentResolved:
		return exec(`UPDATE notifier_incidents SET status = 'RESOLVED', resolved_reason = $2 WHERE incident_id = $1`, id, e.Reason)
	case *domain.NotificationSuppressed:
		return exec(`UPDATE notifier_incidents SET suppressed_by = $2 WHERE incident_id = $1`, e.IncidentID, e.DependsOnMonitorID)
	case *domain.NotificationQueued:
		if e.IncidentID == 0 || e.Notification.Event != domain.EventIncidentTriggered {
			return nil
		}
		return exec(`INSERT INTO notifier_sent (incident_id, channel_id, reminders) VALUES ($1, $2, $3)
			ON CONFLICT (incident_id, channel_id) DO UPDATE SET reminders = GREATEST(notifier_sent.reminders, EXCLUDED.reminders)`,
			e.IncidentID, e.ChannelID, e.Notification.Reminder)
	}
	return nil
}

func (n *Notifier) foldDecision(ctx context.Context, tx Exec, se domain.StreamEvent) error {
	rec := domain.RecordedEvent{EventData: se.Event, StreamID: se.Stream}
	switch se.Event.Type {
	case "NotificationQueued":
		var e domain.NotificationQueued
		if err := json.Unmarshal(se.Event.Data, &e); err != nil {
			return err
		}
		return n.fold(ctx, tx, rec, &e)
	case "NotificationSuppressed":
		var e domain.NotificationSuppressed
		if err := json.Unmarshal(se.Event.Data, &e); err != nil {
			return err
		}
		return n.fold(ctx, tx, rec, &e)
	}
	return nil
}

// decide turns one incident event into notifications (or a suppression).
func (n *Notifier) decide(ctx context.Context, tx Exec, rec domain.RecordedEvent, ev domain.Event) ([]domain.StreamEvent, error) {
	var inc notifierIncident
	if err := tx.GetContext(ctx, &inc, `SELECT * FROM notifier_incidents WHERE incident_id = $1`, streamID(rec, "incident-")); err != nil {
		return nil, notFoundIsNil(err)
	}
	at := rec.Metadata.OccurredAt
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
	mon, err := n.q.notifierMonitor(ctx, inc.MonitorID)
	if err != nil {
		return nil, err
	}
	if status == domain.StatusTriggered {
		blocker, err := n.blocker(ctx, tx, inc, mon.DependsOn)
		if err != nil {
			return nil, err
		}
		if blocker.IncidentID != 0 {
			return n.suppress(inc, mon, blocker)
		}
	}
	if inc.SuppressedBy != 0 {
		// Suppressed, and never reported since: its end is no news either.
		var told bool
		if err := tx.GetContext(ctx, &told, `SELECT EXISTS (SELECT 1 FROM notifier_sent WHERE incident_id = $1)`, inc.IncidentID); err != nil || !told {
			return nil, err
		}
	}
	// A snooze silences everything but the end of the incident.
	if inc.SnoozedUntil != nil && at.Before(*inc.SnoozedUntil) && status != domain.StatusResolved {
		return nil, nil
	}
	// A maintenance window silences what is new (a start, an
	// acknowledgement); the end of an incident whose start was sent still
	// goes to the channels told of it, so that nothing stays open for good
	// (a PagerDuty alert).
	inMaintenance, err := n.q.InMaintenance(ctx, inc.AccountID, inc.MonitorID, at)
	if err != nil || (inMaintenance && status != domain.StatusResolved) {
		return nil, err
	}
	rules, err := n.q.Rules(ctx, inc.AccountID, 0)
	if err != nil {
		return nil, err
	}
	var told []int64
	if err := tx.SelectContext(ctx, &told, `SELECT channel_id FROM notifier_sent WHERE incident_id = $1`, inc.IncidentID); err != nil {
		return nil, err
	}
	enabled, err := n.q.enabledChannels(ctx, inc.AccountID)
	if err != nil {
		return nil, err
	}
	var out []domain.StreamEvent
	for _, event := range events {
		var channels []int64
		for _, r := range rules {
			if !r.Matches(inc.MonitorID, domain.IncidentType(inc.Type), event) {
				continue
			}
			for _, ch := range r.ChannelIDs {
				switch {
				case !enabled[ch]:
					// A disabled channel is skipped, not failed.
				case inMaintenance && !slices.Contains(told, ch):
					// Silenced: only the channels told of the start hear the end.
				case event == domain.EventIncidentTriggered && r.ConsecutiveChecks > 1:
					// Tick sends it once the incident has lasted long enough.
				case event != domain.EventIncidentTriggered && !slices.Contains(told, ch) &&
					r.Matches(inc.MonitorID, domain.IncidentType(inc.Type), domain.EventIncidentTriggered):
					// Never told of the start (a later consecutive_checks,
					// a snooze): its end is no news.
				default:
					channels = append(channels, ch)
				}
			}
		}
		slices.Sort(channels)
		for _, ch := range slices.Compact(channels) {
			se, err := n.queue(inc, mon, ch, event, status, at, 0)
			if err != nil {
				return nil, err
			}
			out = append(out, se)
		}
	}
	return out, nil
}

// closeLateStart sends the end of an incident to a channel whose start
// notification was decided after the incident had already ended (Tick
// read the incident just before its resolution): without it, PagerDuty
// would keep an alert open for good. The ids match the ordinary path's,
// so a resolution decided both ways is recorded once.
func (n *Notifier) closeLateStart(ctx context.Context, tx Exec, q *domain.NotificationQueued) ([]domain.StreamEvent, error) {
	if q.IncidentID == 0 || q.Notification.Event != domain.EventIncidentTriggered {
		return nil, nil
	}
	var inc notifierIncident
	if err := tx.GetContext(ctx, &inc, `SELECT * FROM notifier_incidents WHERE incident_id = $1`, q.IncidentID); err != nil {
		return nil, notFoundIsNil(err)
	}
	if inc.Status != string(domain.StatusResolved) {
		return nil, nil
	}
	mon, err := n.q.notifierMonitor(ctx, inc.MonitorID)
	if err != nil {
		return nil, err
	}
	events := []string{domain.EventIncidentResolved}
	if inc.Reason == "recovered" {
		events = append(events, domain.EventMonitorRecovered)
	}
	var out []domain.StreamEvent
	for _, event := range events {
		se, err := n.queue(inc, mon, q.ChannelID, event, domain.StatusResolved, n.now().UTC(), 0)
		if err != nil {
			return nil, err
		}
		out = append(out, se)
	}
	return out, nil
}

// blocker is an open DOWN incident of one of the monitors depended on.
type blocker struct {
	IncidentID int64 `db:"incident_id"`
	MonitorID  int64 `db:"monitor_id"`
}

func (n *Notifier) blocker(ctx context.Context, tx Exec, inc notifierIncident, dependsOn []int64) (blocker, error) {
	var b blocker
	if len(dependsOn) == 0 {
		return b, nil
	}
	err := tx.GetContext(ctx, &b, `SELECT incident_id, monitor_id FROM notifier_incidents
		WHERE monitor_id = ANY($1) AND incident_type = 'DOWN' AND status <> 'RESOLVED' AND incident_id <> $2
		ORDER BY incident_id LIMIT 1`, pq.Array(dependsOn), inc.IncidentID)
	return b, notFoundIsNil(err)
}

func (n *Notifier) suppress(inc notifierIncident, mon notifierMonitor, b blocker) ([]domain.StreamEvent, error) {
	e := &domain.NotificationSuppressed{IncidentID: inc.IncidentID, MonitorID: inc.MonitorID, DependsOnMonitorID: b.MonitorID, DependsOnIncident: b.IncidentID,
		Message: fmt.Sprintf("notifications held back: monitor %d, which %q depends on, is down (incident %d)", b.MonitorID, mon.Name, b.IncidentID)}
	meta := domain.Metadata{ActorType: domain.ActorSystem, AccountID: inc.AccountID, OccurredAt: n.now().UTC().Truncate(time.Microsecond)}
	data, err := domain.Encode(e, meta, uuid.NewSHA1(deliveryNamespace, fmt.Appendf(nil, "incident/%d/suppressed", inc.IncidentID)).String())
	if err != nil {
		return nil, err
	}
	return []domain.StreamEvent{{Stream: domain.IncidentNotificationsStream(inc.IncidentID), Event: data}}, nil
}

// queue is the decision to send one notification through one channel.
func (n *Notifier) queue(inc notifierIncident, mon notifierMonitor, channelID int64, event string, status domain.IncidentStatus, at time.Time, reminder int) (domain.StreamEvent, error) {
	key := fmt.Sprintf("incident/%d/%s/%d", inc.IncidentID, event, channelID)
	if reminder > 0 {
		key = fmt.Sprintf("incident/%d/reminder-%d/%d", inc.IncidentID, reminder, channelID)
	}
	deliveryID := uuid.NewSHA1(deliveryNamespace, []byte(key)).String()
	meta := domain.Metadata{ActorType: domain.ActorSystem, AccountID: inc.AccountID, OccurredAt: n.now().UTC().Truncate(time.Microsecond)}
	note := domain.Notification{DeliveryID: deliveryID, Event: event, OccurredAt: at, AccountID: inc.AccountID, Monitor: mon.NotificationMonitor, Reminder: reminder,
		Incident: &domain.NotificationIncident{ID: inc.IncidentID, Type: domain.IncidentType(inc.Type), Message: inc.Message, Status: status, SentAt: meta.OccurredAt}}
	data, err := domain.Encode(&domain.NotificationQueued{DeliveryID: deliveryID, ChannelID: channelID, IncidentID: inc.IncidentID, Notification: note}, meta, deliveryID)
	return domain.StreamEvent{Stream: domain.DeliveriesStream(channelID), Event: data}, err
}

// Tick makes the time-driven decisions for open incidents: the first
// notification of rules with consecutive_checks above 1, a suppressed
// incident whose dependency recovered while it stayed down, and the
// reminders of rules with renotify_minutes. Every replica may tick: the
// delivery ids make a decision count once.
func (n *Notifier) Tick(ctx context.Context) error {
	now := n.now()
	// Acknowledged and snoozed incidents get nothing more until they end.
	var open []struct {
		notifierIncident
		Told bool `db:"told"` // some channel heard of its start
	}
	if err := n.q.db.SelectContext(ctx, &open, `SELECT i.*, EXISTS (SELECT 1 FROM notifier_sent s WHERE s.incident_id = i.incident_id) AS told
		FROM notifier_incidents i WHERE status = 'TRIGGERED' AND (snoozed_until IS NULL OR snoozed_until <= $1) ORDER BY incident_id`, now); err != nil {
		if isUndefinedTable(err) {
			return nil // being built
		}
		return err
	}
	rulesOf := map[int64][]RuleView{}
	enabledOf := map[int64]map[int64]bool{}
	timeDriven := map[int64]bool{} // the account has rules that act later
	var candidates []int           // of open
	for i, o := range open {
		inc := o.notifierIncident
		rules, ok := rulesOf[inc.AccountID]
		if !ok {
			var err error
			if rules, err = n.q.Rules(ctx, inc.AccountID, 0); err != nil {
				return err
			}
			rulesOf[inc.AccountID] = rules
			if enabledOf[inc.AccountID], err = n.q.enabledChannels(ctx, inc.AccountID); err != nil {
				return err
			}
			for _, r := range rules {
				if r.Enabled && (r.ConsecutiveChecks > 1 || r.RenotifyMinutes > 0) {
					timeDriven[inc.AccountID] = true
				}
			}
		}
		// The common case in a big outage, kept to this one query: reported
		// already, and nothing more to come from the account's rules.
		if o.Told && inc.SuppressedBy == 0 && !timeDriven[inc.AccountID] {
			continue
		}
		candidates = append(candidates, i)
	}
	if len(candidates) == 0 {
		return nil
	}
	facts, err := n.tickFacts(ctx, open, candidates)
	if err != nil {
		return err
	}
	var out []domain.StreamEvent
	for _, i := range candidates {
		o := open[i]
		inc := o.notifierIncident
		rules := rulesOf[inc.AccountID]
		mon, ok := facts.monitors[inc.MonitorID]
		if !ok {
			continue // deleted
		}
		// Held back while a dependency is down: a suppressed incident, and
		// one whose decision was skipped (the notifier ran more than ten
		// minutes late) alike.
		if slices.ContainsFunc(mon.DependsOn, func(m int64) bool { return facts.down[m] }) {
			continue
		}
		if domain.AnyCovers(facts.windows[inc.AccountID], inc.MonitorID, now, zone) {
			continue
		}
		sent := facts.sent[inc.IncidentID]
		// Per channel: the earliest a rule makes it due, and the shortest
		// repeat any of its rules asks for.
		due := map[int64]time.Time{}
		every := map[int64]time.Duration{}
		interval := time.Duration(max(mon.CheckInterval, 1)) * time.Second
		// A start goes out late for a rule's own delay (consecutive_checks),
		// for an incident held back by a dependency, and for one nobody was
		// told of (the notifier ran late); not to a rule created after the
		// incident began, which hears of incidents that start from then on.
		catchUp := !o.Told || inc.SuppressedBy != 0
		for _, r := range rules {
			if !r.Matches(inc.MonitorID, domain.IncidentType(inc.Type), domain.EventIncidentTriggered) {
				continue
			}
			if !catchUp && r.CreatedAt.After(inc.StartedAt) {
				continue
			}
			at := inc.StartedAt.Add(time.Duration(max(r.ConsecutiveChecks, 1)-1) * interval)
			for _, ch := range r.ChannelIDs {
				if !enabledOf[inc.AccountID][ch] {
					continue
				}
				if d, ok := due[ch]; !ok || at.Before(d) {
					due[ch] = at
				}
				if r.RenotifyMinutes > 0 {
					e := time.Duration(r.RenotifyMinutes) * time.Minute
					if cur, ok := every[ch]; !ok || e < cur {
						every[ch] = e
					}
				}
			}
		}
		for ch, at := range due {
			if now.Before(at) {
				continue
			}
			reminders, told := sent[ch]
			if !told && !catchUp && at.Equal(inc.StartedAt) {
				continue // due at once but not told: a channel enabled since; it hears of the next incident
			}
			reminder := 0
			if told {
				if every[ch] == 0 {
					continue
				}
				reminder = int(now.Sub(at) / every[ch])
				if reminder <= reminders {
					continue
				}
			}
			se, err := n.queue(inc, mon, ch, domain.EventIncidentTriggered, domain.StatusTriggered, inc.StartedAt, reminder)
			if err != nil {
				return err
			}
			out = append(out, se)
		}
	}
	if len(out) == 0 {
		return nil
	}
	_, err = n.store.AppendBatch(ctx, out)
	return err
}

// tickFacts is what Tick needs about its candidate incidents, read in a
// few set-based queries rather than several per incident: a big outage
// opens thousands at once.
type tickFacts struct {
	monitors map[int64]notifierMonitor
	down     map[int64]bool          // monitors with an open DOWN incident
	sent     map[int64]map[int64]int // incident → channel → reminders sent
	windows  map[int64][]domain.MaintenanceConfig
}

func (n *Notifier) tickFacts(ctx context.Context, open []struct {
	notifierIncident
	Told bool `db:"told"`
}, candidates []int) (tickFacts, error) {
	f := tickFacts{down: map[int64]bool{}, sent: map[int64]map[int64]int{}}
	var monitorIDs, incidentIDs, accountIDs []int64
	for _, i := range candidates {
		monitorIDs = append(monitorIDs, open[i].MonitorID)
		incidentIDs = append(incidentIDs, open[i].IncidentID)
		if !slices.Contains(accountIDs, open[i].AccountID) {
			accountIDs = append(accountIDs, open[i].AccountID)
		}
	}
	var err error
	if f.monitors, err = n.q.notifierMonitors(ctx, monitorIDs); err != nil {
		return f, err
	}
	var down []int64
	if err := n.q.db.SelectContext(ctx, &down, `SELECT DISTINCT monitor_id FROM notifier_incidents WHERE incident_type = 'DOWN' AND status <> 'RESOLVED'`); err != nil {
		return f, err
	}
	for _, m := range down {
		f.down[m] = true
	}
	var sent []struct {
		IncidentID int64 `db:"incident_id"`
		ChannelID  int64 `db:"channel_id"`
		Reminders  int   `db:"reminders"`
	}
	if err := n.q.db.SelectContext(ctx, &sent, `SELECT incident_id, channel_id, reminders FROM notifier_sent WHERE incident_id = ANY($1)`, pq.Array(incidentIDs)); err != nil {
		return f, err
	}
	for _, r := range sent {
		if f.sent[r.IncidentID] == nil {
			f.sent[r.IncidentID] = map[int64]int{}
		}
		f.sent[r.IncidentID][r.ChannelID] = r.Reminders
	}
	f.windows, err = n.q.ActiveWindows(ctx, accountIDs)
	return f, err
}

// RunTicks calls Tick every interval until ctx ends.
func (n *Notifier) RunTicks(ctx context.Context, every time.Duration, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := n.Tick(ctx); err != nil && ctx.Err() == nil {
				log.Warn("time-driven notifications", "err", err)
			}
		}
	}
}

// enabledChannels is the set of an account's enabled channels.
func (q *Queries) enabledChannels(ctx context.Context, accountID int64) (map[int64]bool, error) {
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

// notifierMonitor is what the notifier needs of a monitor.
type notifierMonitor struct {
	domain.NotificationMonitor
	CheckInterval int
	DependsOn     []int64
	Deleted       bool
}

// notifierMonitors returns the monitors among ids that still exist.
func (q *Queries) notifierMonitors(ctx context.Context, ids []int64) (map[int64]notifierMonitor, error) {
	var rows []notifierMonitorRow
	if err := q.db.SelectContext(ctx, &rows, `SELECT id, name, url, type, check_interval, coalesce(config->'depends_on', '[]')::text AS depends_on
		FROM monitors WHERE id = ANY($1)`, pq.Array(ids)); err != nil {
		return nil, err
	}
	out := make(map[int64]notifierMonitor, len(rows))
	for _, r := range rows {
		m, err := r.monitor()
		if err != nil {
			return nil, err
		}
		out[r.ID] = m
	}
	return out, nil
}

type notifierMonitorRow struct {
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
func (r notifierMonitorRow) monitor() (notifierMonitor, error) {
	m := notifierMonitor{NotificationMonitor: domain.NotificationMonitor{ID: r.ID, Name: r.Name, URL: domain.RedactedURL(r.URL), Type: domain.MonitorType(r.Type)},
		CheckInterval: r.CheckInterval}
	err := json.Unmarshal([]byte(r.DependsOn), &m.DependsOn)
	return m, err
}

func (q *Queries) notifierMonitor(ctx context.Context, id int64) (notifierMonitor, error) {
	ms, err := q.notifierMonitors(ctx, []int64{id})
	if err != nil {
		return notifierMonitor{}, err
	}
	if m, ok := ms[id]; ok {
		return m, nil
	}
	return notifierMonitor{NotificationMonitor: domain.NotificationMonitor{ID: id, Name: fmt.Sprintf("monitor %d", id)}, Deleted: true}, nil
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
