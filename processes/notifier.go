package processes

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/medialuna/medialuna/commands"
	"github.com/medialuna/medialuna/domain"
	"github.com/medialuna/medialuna/projections"
)

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
// What to send, and what to silence, is decided by domain.DecideNotifications,
// domain.LateStartEnd and domain.DueNotifications; the notifier gathers the
// facts they need (its own tables, the read models through NotifierReads)
// and records the decisions through the QueueNotifications command, whose
// delivery ids derive from the incident, the event and the channel, so a
// decision repeated (after a crash, by two replicas, by the immediate path
// and Tick) is recorded once. Like the incident detector it replays
// history without acting on events older than ten minutes.
type Notifier struct {
	db    *sqlx.DB // its own tables, for Tick
	reads NotifierReads
	queue NotificationQueuer
	now   func() time.Time
}

// NotifierReads is what the notifier reads of the read models
// (*projections.Queries).
type NotifierReads interface {
	// Rules lists the account's rules (id 0: all).
	Rules(ctx context.Context, accountID, id int64) ([]projections.RuleView, error)
	EnabledChannels(ctx context.Context, accountID int64) (map[int64]bool, error)
	// NotifiedMonitor returns a stand-in marked Deleted for a monitor gone.
	NotifiedMonitor(ctx context.Context, id int64) (projections.NotifiedMonitor, error)
	// NotifiedMonitors leaves out the monitors gone.
	NotifiedMonitors(ctx context.Context, ids []int64) (map[int64]projections.NotifiedMonitor, error)
	InMaintenance(ctx context.Context, accountID, monitorID int64, t time.Time) (bool, error)
	ActiveWindows(ctx context.Context, accountIDs []int64) (map[int64][]domain.MaintenanceConfig, error)
}

// NotificationQueuer records the notifier's decisions
// (*commands.QueueNotificationsHandler).
type NotificationQueuer interface {
	Handle(ctx context.Context, cmd commands.QueueNotifications) (domain.Position, error)
}

var _ NotifierReads = (*projections.Queries)(nil)

// NewNotifier returns the notifier; db holds its own tables.
func NewNotifier(db *sqlx.DB, reads NotifierReads, queue NotificationQueuer, now func() time.Time) *Notifier {
	return &Notifier{db: db, reads: reads, queue: queue, now: now}
}

func (*Notifier) Name() string     { return "notifier" }
func (*Notifier) Version() int     { return 3 }
func (*Notifier) IsConsumer()      {}
func (*Notifier) Tables() []string { return []string{"notifier_incidents", "notifier_sent"} }

// Handles implements EventFilter.
func (*Notifier) Handles(t string) bool {
	switch t {
	case domain.EvIncidentTriggered, domain.EvIncidentAcknowledged, domain.EvIncidentSnoozed, domain.EvIncidentResolved,
		domain.EvNotificationQueued, domain.EvNotificationSuppressed:
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

// notifierIncident is a row of notifier_incidents (domain.NotifierIncident).
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

func (n *Notifier) Apply(ctx context.Context, tx projections.Exec, rec domain.RecordedEvent, ev domain.Event) error {
	return n.ApplyBatch(ctx, tx, []domain.RecordedEvent{rec}, []domain.Event{ev})
}

func (r notifierIncident) domain() domain.NotifierIncident {
	return domain.NotifierIncident{IncidentID: r.IncidentID, AccountID: r.AccountID, MonitorID: r.MonitorID, Type: domain.IncidentType(r.Type),
		Message: r.Message, StartedAt: r.StartedAt, Status: domain.IncidentStatus(r.Status), Reason: r.Reason, SnoozedUntil: r.SnoozedUntil,
		SuppressedBy: r.SuppressedBy}
}

// accountFacts caches, for one batch or tick, an account's rules and
// enabled channels.
type accountFacts struct {
	reads NotifierReads
	rules map[int64][]domain.NotifyRule
	on    map[int64]map[int64]bool
}

func (a *accountFacts) get(ctx context.Context, accountID int64) ([]domain.NotifyRule, map[int64]bool, error) {
	if rules, ok := a.rules[accountID]; ok {
		return rules, a.on[accountID], nil
	}
	views, err := a.reads.Rules(ctx, accountID, 0)
	if err != nil {
		return nil, nil, err
	}
	rules := make([]domain.NotifyRule, len(views))
	for i, v := range views {
		rules[i] = domain.NotifyRule{RuleConfig: v.RuleConfig, CreatedAt: v.CreatedAt}
	}
	on, err := a.reads.EnabledChannels(ctx, accountID)
	if err != nil {
		return nil, nil, err
	}
	if a.rules == nil {
		a.rules, a.on = map[int64][]domain.NotifyRule{}, map[int64]map[int64]bool{}
	}
	a.rules[accountID], a.on[accountID] = rules, on
	return rules, on, nil
}

// ApplyBatch implements BatchProjector: first the state of every event in
// the batch, then the decisions, so that a monitor and its dependency
// failing in the same round see each other.
func (n *Notifier) ApplyBatch(ctx context.Context, tx projections.Exec, recs []domain.RecordedEvent, evs []domain.Event) error {
	for i, ev := range evs {
		if err := n.fold(ctx, tx, recs[i], ev); err != nil {
			return err
		}
	}
	var out []commands.NotificationDecision
	accounts := &accountFacts{reads: n.reads}
	for i, ev := range evs {
		if n.now().Sub(recs[i].Metadata.OccurredAt) >= 10*time.Minute {
			continue // history: state only
		}
		var decided []commands.NotificationDecision
		var err error
		switch e := ev.(type) {
		case *domain.IncidentTriggered:
			decided, err = n.decide(ctx, tx, accounts, recs[i], domain.IncidentChange{Status: domain.StatusTriggered})
		case *domain.IncidentAcknowledged:
			decided, err = n.decide(ctx, tx, accounts, recs[i], domain.IncidentChange{Status: domain.StatusAcknowledged})
		case *domain.IncidentResolved:
			decided, err = n.decide(ctx, tx, accounts, recs[i], domain.IncidentChange{Status: domain.StatusResolved, Reason: e.Reason})
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
		for _, d := range decided {
			if err := n.foldDecision(ctx, tx, d); err != nil {
				return err
			}
		}
		out = append(out, decided...)
	}
	if len(out) == 0 {
		return nil
	}
	_, err := n.queue.Handle(ctx, commands.QueueNotifications{Decisions: out})
	return err
}

// fold keeps the notifier's own view of incidents.
func (n *Notifier) fold(ctx context.Context, tx projections.Exec, rec domain.RecordedEvent, ev domain.Event) error {
	exec := func(q string, args ...any) error {
		_, err := tx.ExecContext(ctx, q, args...)
		return err
	}
	id := projections.StreamID(rec, "incident-")
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
		return n.foldSuppressed(ctx, tx, e.IncidentID, e.DependsOnMonitorID)
	case *domain.NotificationQueued:
		if e.IncidentID == 0 {
			return nil
		}
		return n.foldSent(ctx, tx, e.IncidentID, e.ChannelID, e.Notification)
	}
	return nil
}

func (n *Notifier) foldSuppressed(ctx context.Context, tx projections.Exec, incidentID, by int64) error {
	_, err := tx.ExecContext(ctx, `UPDATE notifier_incidents SET suppressed_by = $2 WHERE incident_id = $1`, incidentID, by)
	return err
}

// foldSent records a channel told of an incident's start.
func (n *Notifier) foldSent(ctx context.Context, tx projections.Exec, incidentID, channelID int64, note domain.Notification) error {
	if note.Event != domain.EventIncidentTriggered {
		return nil
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO notifier_sent (incident_id, channel_id, reminders) VALUES ($1, $2, $3)
		ON CONFLICT (incident_id, channel_id) DO UPDATE SET reminders = GREATEST(notifier_sent.reminders, EXCLUDED.reminders)`,
		incidentID, channelID, note.Reminder)
	return err
}

func (n *Notifier) foldDecision(ctx context.Context, tx projections.Exec, d commands.NotificationDecision) error {
	if s := d.Suppressed; s != nil {
		return n.foldSuppressed(ctx, tx, s.IncidentID, s.DependsOnMonitorID)
	}
	if d.Notification.Incident == nil {
		return nil
	}
	return n.foldSent(ctx, tx, d.Notification.Incident.ID, d.ChannelID, d.Notification)
}

func (n *Notifier) incident(ctx context.Context, tx projections.Exec, id int64) (notifierIncident, bool, error) {
	var inc notifierIncident
	err := tx.GetContext(ctx, &inc, `SELECT * FROM notifier_incidents WHERE incident_id = $1`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return inc, false, nil
	}
	return inc, err == nil, err
}

// decide gathers the facts about one incident event, asks
// domain.DecideNotifications and returns its decisions.
func (n *Notifier) decide(ctx context.Context, tx projections.Exec, accounts *accountFacts, rec domain.RecordedEvent, c domain.IncidentChange) ([]commands.NotificationDecision, error) {
	row, ok, err := n.incident(ctx, tx, projections.StreamID(rec, "incident-"))
	if err != nil || !ok {
		return nil, err
	}
	c.At = rec.Metadata.OccurredAt
	mon, err := n.reads.NotifiedMonitor(ctx, row.MonitorID)
	if err != nil {
		return nil, err
	}
	f := domain.IncidentFacts{Incident: row.domain()}
	if c.Status == domain.StatusTriggered && len(mon.DependsOn) > 0 {
		var b struct {
			IncidentID int64 `db:"incident_id"`
			MonitorID  int64 `db:"monitor_id"`
		}
		err := tx.GetContext(ctx, &b, `SELECT incident_id, monitor_id FROM notifier_incidents
			WHERE monitor_id = ANY($1) AND incident_type = 'DOWN' AND status <> 'RESOLVED' AND incident_id <> $2
			ORDER BY incident_id LIMIT 1`, pq.Array(mon.DependsOn), row.IncidentID)
		switch {
		case err == nil:
			f.Blocker = &domain.DependencyDown{IncidentID: b.IncidentID, MonitorID: b.MonitorID}
		case !errors.Is(err, sql.ErrNoRows):
			return nil, err
		}
	}
	if f.Blocker == nil {
		if err := tx.SelectContext(ctx, &f.Told, `SELECT channel_id FROM notifier_sent WHERE incident_id = $1`, row.IncidentID); err != nil {
			return nil, err
		}
		if f.InMaintenance, err = n.reads.InMaintenance(ctx, row.AccountID, row.MonitorID, c.At); err != nil {
			return nil, err
		}
		if f.Rules, f.Enabled, err = accounts.get(ctx, row.AccountID); err != nil {
			return nil, err
		}
	}
	d := domain.DecideNotifications(c, f)
	if b := d.Suppress; b != nil {
		return []commands.NotificationDecision{{AccountID: row.AccountID, Suppressed: &domain.NotificationSuppressed{
			IncidentID: row.IncidentID, MonitorID: row.MonitorID, DependsOnMonitorID: b.MonitorID, DependsOnIncident: b.IncidentID,
			Message: fmt.Sprintf("notifications held back: monitor %d, which %q depends on, is down (incident %d)", b.MonitorID, mon.Name, b.IncidentID)}}}, nil
	}
	return notifications(row, mon, c.Status, c.At, d.Sends), nil
}

// notifications turns sends into the QueueNotifications decisions.
func notifications(row notifierIncident, mon projections.NotifiedMonitor, status domain.IncidentStatus, at time.Time, sends []domain.NotifySend) []commands.NotificationDecision {
	out := make([]commands.NotificationDecision, 0, len(sends))
	for _, s := range sends {
		out = append(out, commands.NotificationDecision{AccountID: row.AccountID, ChannelID: s.ChannelID, Notification: domain.Notification{
			Event: s.Event, OccurredAt: at, AccountID: row.AccountID, Monitor: mon.NotificationMonitor, Reminder: s.Reminder,
			Incident: &domain.NotificationIncident{ID: row.IncidentID, Type: domain.IncidentType(row.Type), Message: row.Message, Status: status}}})
	}
	return out
}

// closeLateStart: see domain.LateStartEnd. The ids match the ordinary
// path's, so a resolution decided both ways is recorded once.
func (n *Notifier) closeLateStart(ctx context.Context, tx projections.Exec, q *domain.NotificationQueued) ([]commands.NotificationDecision, error) {
	if q.IncidentID == 0 || q.Notification.Event != domain.EventIncidentTriggered {
		return nil, nil
	}
	row, ok, err := n.incident(ctx, tx, q.IncidentID)
	if err != nil || !ok {
		return nil, err
	}
	sends := domain.LateStartEnd(row.domain(), q)
	if len(sends) == 0 {
		return nil, nil
	}
	mon, err := n.reads.NotifiedMonitor(ctx, row.MonitorID)
	if err != nil {
		return nil, err
	}
	return notifications(row, mon, domain.StatusResolved, n.now().UTC(), sends), nil
}

// openIncident is an incident Tick looks at.
type openIncident struct {
	notifierIncident
	Told bool `db:"told"` // some channel heard of its start
}

// Tick makes the time-driven decisions for open incidents
// (domain.DueNotifications): the first notification of rules with
// consecutive_checks above 1, a suppressed incident whose dependency
// recovered while it stayed down, and the reminders of rules with
// renotify_minutes. Every replica may tick: the delivery ids make a
// decision count once.
func (n *Notifier) Tick(ctx context.Context) error {
	now := n.now()
	// Acknowledged and snoozed incidents get nothing more until they end.
	var open []openIncident
	if err := n.db.SelectContext(ctx, &open, `SELECT i.*, EXISTS (SELECT 1 FROM notifier_sent s WHERE s.incident_id = i.incident_id) AS told
		FROM notifier_incidents i WHERE status = 'TRIGGERED' AND (snoozed_until IS NULL OR snoozed_until <= $1) ORDER BY incident_id`, now); err != nil {
		if projections.IsUndefinedTable(err) {
			return nil // being built
		}
		return err
	}
	accounts := &accountFacts{reads: n.reads}
	timeDriven := map[int64]bool{} // the account has rules that act later
	var candidates []int           // of open
	for i, o := range open {
		later, ok := timeDriven[o.AccountID]
		if !ok {
			rules, _, err := accounts.get(ctx, o.AccountID)
			if err != nil {
				return err
			}
			later = domain.TimeDriven(rules)
			timeDriven[o.AccountID] = later
		}
		// The common case in a big outage, kept to this one query: reported
		// already, and nothing more to come from the account's rules.
		if o.Told && o.SuppressedBy == 0 && !later {
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
	var out []commands.NotificationDecision
	for _, i := range candidates {
		o := open[i]
		mon, ok := facts.monitors[o.MonitorID]
		if !ok {
			continue // deleted
		}
		rules, enabled, _ := accounts.get(ctx, o.AccountID)
		sends := domain.DueNotifications(now, domain.TickFacts{
			Incident: o.domain(), Told: o.Told, Sent: facts.sent[o.IncidentID], CheckInterval: mon.CheckInterval,
			// Held back while a dependency is down: a suppressed incident,
			// and one whose decision was skipped (the notifier ran more
			// than ten minutes late) alike.
			DependencyDown: slices.ContainsFunc(mon.DependsOn, func(m int64) bool { return facts.down[m] }),
			InMaintenance:  projections.Covered(facts.windows[o.AccountID], o.MonitorID, now),
			Rules:          rules, Enabled: enabled})
		out = append(out, notifications(o.notifierIncident, mon, domain.StatusTriggered, o.StartedAt, sends)...)
	}
	if len(out) == 0 {
		return nil
	}
	_, err = n.queue.Handle(ctx, commands.QueueNotifications{Decisions: out})
	return err
}

// tickFacts is what Tick needs about its candidate incidents, read in a
// few set-based queries rather than several per incident: a big outage
// opens thousands at once.
type tickFacts struct {
	monitors map[int64]projections.NotifiedMonitor
	down     map[int64]bool          // monitors with an open DOWN incident
	sent     map[int64]map[int64]int // incident → channel → reminders sent
	windows  map[int64][]domain.MaintenanceConfig
}

func (n *Notifier) tickFacts(ctx context.Context, open []openIncident, candidates []int) (tickFacts, error) {
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
	if f.monitors, err = n.reads.NotifiedMonitors(ctx, monitorIDs); err != nil {
		return f, err
	}
	var down []int64
	if err := n.db.SelectContext(ctx, &down, `SELECT DISTINCT monitor_id FROM notifier_incidents WHERE incident_type = 'DOWN' AND status <> 'RESOLVED'`); err != nil {
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
	if err := n.db.SelectContext(ctx, &sent, `SELECT incident_id, channel_id, reminders FROM notifier_sent WHERE incident_id = ANY($1)`, pq.Array(incidentIDs)); err != nil {
		return f, err
	}
	for _, r := range sent {
		if f.sent[r.IncidentID] == nil {
			f.sent[r.IncidentID] = map[int64]int{}
		}
		f.sent[r.IncidentID][r.ChannelID] = r.Reminders
	}
	f.windows, err = n.reads.ActiveWindows(ctx, accountIDs)
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
