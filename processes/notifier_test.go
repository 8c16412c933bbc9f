package processes_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/medialuna/medialuna/commands"
	"github.com/medialuna/medialuna/domain"
	"github.com/medialuna/medialuna/processes"
	"github.com/medialuna/medialuna/projections"
)

// clock is a settable time source shared by the notifier and the test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// notifierFixture runs the read models the notifier reads and the notifier
// itself against a real database, with a clock the test moves.
type notifierFixture struct {
	fixture
	clock    *clock
	notifier *processes.Notifier
	account  int64
}

func newNotifierFixture(t testing.TB) *notifierFixture {
	f := &notifierFixture{fixture: newFixture(t), clock: &clock{t: time.Now().UTC().Truncate(time.Millisecond)}, account: 1}
	f.notifier = processes.NewNotifier(f.db.DB, f.queries, commands.NewQueueNotificationsHandler(f.store, f.clock.now), f.clock.now)
	f.run(t, projections.Monitors{}, projections.Maintenance{}, projections.Notifications{}, projections.Incidents{}, f.notifier)
	return f
}

// append writes events to a stream at the clock's time and waits for
// every projector to see them.
func (f *notifierFixture) append(t testing.TB, stream string, evs ...domain.Event) {
	t.Helper()
	f.appendBatch(t, stream, evs...)
}

func (f *notifierFixture) appendBatch(t testing.TB, stream string, evs ...domain.Event) {
	t.Helper()
	var batch []domain.StreamEvent
	for _, ev := range evs {
		s := stream
		if s == "" { // the event names its own stream
			s = domain.IncidentStream(ev.(*domain.IncidentTriggered).IncidentID)
		}
		data, err := domain.Encode(ev, domain.Metadata{ActorType: domain.ActorSystem, AccountID: f.account, OccurredAt: f.clock.now()},
			uuid.NewString())
		if err != nil {
			t.Fatal(err)
		}
		batch = append(batch, domain.StreamEvent{Stream: s, Event: data})
	}
	pos, err := f.store.AppendBatch(context.Background(), batch)
	if err != nil {
		t.Fatal(err)
	}
	f.settle(t, pos)
	// What the notifier appended while applying them (suppressions,
	// queued notifications) is in the log now: let every model see it.
	f.settle(t, f.written(t))
}

// written is the position of the newest event committed so far. Not the
// store's Head: that stops short of transactions still open elsewhere in
// the cluster (other test packages share it), and a settle on it could
// return before the models saw what the notifier just appended.
func (f *notifierFixture) written(t testing.TB) domain.Position {
	t.Helper()
	var row struct {
		Tx  uint64 `db:"tx"`
		Pos uint64 `db:"position"`
	}
	if err := f.db.Get(&row, `SELECT transaction_id::text::bigint AS tx, position FROM (
		(SELECT transaction_id, position FROM events ORDER BY transaction_id DESC, position DESC LIMIT 1)
		UNION ALL (SELECT transaction_id, position FROM check_events ORDER BY transaction_id DESC, position DESC LIMIT 1)) u
		ORDER BY transaction_id DESC, position DESC LIMIT 1`); err != nil {
		t.Fatal(err)
	}
	return domain.Position{Commit: row.Tx, Prepare: row.Pos}
}

// appendTo writes one event to a stream without waiting for the models
// (for bulk set-up; wait with a later append).
func (f *notifierFixture) appendTo(t testing.TB, stream string, ev domain.Event) {
	t.Helper()
	data, err := domain.Encode(ev, domain.Metadata{ActorType: domain.ActorSystem, AccountID: f.account, OccurredAt: f.clock.now()}, uuid.NewString())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.AppendBatch(context.Background(), []domain.StreamEvent{{Stream: stream, Event: data}}); err != nil {
		t.Fatal(err)
	}
}

func (f *notifierFixture) settle(t testing.TB, pos domain.Position) {
	t.Helper()
	f.wait(t, []string{"monitors", "maintenance", "notifications", "incidents", "notifier"}, pos)
}

func (f *notifierFixture) tick(t testing.TB) {
	t.Helper()
	if err := f.notifier.Tick(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.settle(t, f.written(t))
}

// queued lists the notifications decided so far as "incident event
// channel [reminder]" lines, in log order.
func (f *notifierFixture) queued(t testing.TB) []string {
	t.Helper()
	var rows []string
	if err := f.db.Select(&rows, `SELECT data::text FROM events WHERE event_type = 'NotificationQueued' ORDER BY position`); err != nil {
		t.Fatal(err)
	}
	out := []string{}
	for _, r := range rows {
		var q domain.NotificationQueued
		if err := json.Unmarshal([]byte(r), &q); err != nil {
			t.Fatal(err)
		}
		line := fmt.Sprintf("%d %s %d", q.IncidentID, q.Notification.Event, q.ChannelID)
		if q.Notification.Reminder > 0 {
			line += fmt.Sprintf(" reminder %d", q.Notification.Reminder)
		}
		out = append(out, line)
	}
	return out
}

func (f *notifierFixture) monitor(t testing.TB, id int64, dependsOn ...int64) {
	cfg := domain.DefaultMonitorConfig()
	cfg.Name, cfg.Type, cfg.URL, cfg.CheckInterval, cfg.RegionIDs, cfg.DependsOn = fmt.Sprintf("m%d", id), domain.TypeHTTP, "http://127.0.0.1:1/", 60, []int64{1}, dependsOn
	f.append(t, domain.MonitorStream(id), &domain.MonitorCreated{MonitorID: id, AccountID: f.account, Config: cfg})
}

func (f *notifierFixture) channel(t testing.TB, id int64) {
	f.append(t, domain.ChannelStream(id), &domain.ChannelCreated{ChannelID: id, AccountID: f.account,
		Config: domain.ChannelConfig{Name: fmt.Sprintf("c%d", id), Type: domain.ChannelWebhook, WebhookURL: "http://127.0.0.1:1/", Enabled: true}})
}

func (f *notifierFixture) rule(t testing.TB, id int64, channel int64, consecutive, renotify int) {
	f.append(t, domain.RuleStream(id), &domain.RuleCreated{RuleID: id, AccountID: f.account, Config: domain.RuleConfig{
		Name: "r", Conditions: []domain.Condition{{Type: "STATUS", Operator: "eq", Value: "down"}}, ChannelIDs: []int64{channel},
		ConsecutiveChecks: consecutive, RenotifyMinutes: renotify, Enabled: true}})
}

func (f *notifierFixture) trigger(id, monitor int64) *domain.IncidentTriggered {
	return &domain.IncidentTriggered{IncidentID: id, MonitorID: monitor, AccountID: f.account, Type: domain.IncidentDown, Message: "down", StartedAt: f.clock.now()}
}

func (f *notifierFixture) expect(t testing.TB, want ...string) {
	t.Helper()
	if want == nil {
		want = []string{}
	}
	if diff := cmp.Diff(want, f.queued(t)); diff != "" {
		t.Fatalf("queued notifications (-want +got):\n%s", diff)
	}
}

// TestNotifierConsecutiveChecksAndReminders: a rule with
// consecutive_checks 3 on a 60 s monitor fires once the incident has
// lasted two more intervals; renotify_minutes repeats it while the
// incident is unacknowledged, once per period however often Tick runs,
// and an acknowledgement stops the repeats.
func TestNotifierConsecutiveChecksAndReminders(t *testing.T) {
	f := newNotifierFixture(t)
	f.monitor(t, 1)
	f.channel(t, 1)
	f.channel(t, 2)
	f.rule(t, 1, 1, 1, 0) // at once, never again
	f.rule(t, 2, 2, 3, 5) // after 3 checks, then every 5 minutes
	f.append(t, "", f.trigger(1, 1))
	f.expect(t, "1 incident.triggered 1")

	f.clock.add(119 * time.Second)
	f.tick(t)
	f.expect(t, "1 incident.triggered 1")
	f.clock.add(time.Second)
	f.tick(t)
	f.tick(t) // a second tick (another replica) decides nothing new
	f.expect(t, "1 incident.triggered 1", "1 incident.triggered 2")

	f.clock.add(5*time.Minute - time.Second)
	f.tick(t)
	f.expect(t, "1 incident.triggered 1", "1 incident.triggered 2")
	f.clock.add(time.Second)
	f.tick(t)
	f.tick(t)
	f.expect(t, "1 incident.triggered 1", "1 incident.triggered 2", "1 incident.triggered 2 reminder 1")
	f.clock.add(11 * time.Minute) // a tick was missed: one reminder, numbered by the time elapsed
	f.tick(t)
	f.expect(t, "1 incident.triggered 1", "1 incident.triggered 2", "1 incident.triggered 2 reminder 1", "1 incident.triggered 2 reminder 3")

	f.append(t, domain.IncidentStream(1), &domain.IncidentAcknowledged{UserID: 7})
	f.clock.add(time.Hour)
	f.tick(t)
	// The notifier acts on events younger than ten minutes; the fixture's
	// events carry the clock's time, so the acknowledgement counted.
	f.expect(t, "1 incident.triggered 1", "1 incident.triggered 2", "1 incident.triggered 2 reminder 1", "1 incident.triggered 2 reminder 3",
		"1 incident.acknowledged 1", "1 incident.acknowledged 2")
}

// TestNotifierResolvedBeforeConsecutiveChecks: an incident that ends before
// a rule's consecutive_checks is reached tells that rule's channel
// nothing, neither its start nor its end.
func TestNotifierResolvedBeforeConsecutiveChecks(t *testing.T) {
	f := newNotifierFixture(t)
	f.monitor(t, 1)
	f.channel(t, 1)
	f.rule(t, 1, 1, 3, 0)
	f.append(t, "", f.trigger(1, 1))
	f.clock.add(61 * time.Second)
	f.tick(t)
	f.append(t, domain.IncidentStream(1), &domain.IncidentResolved{Reason: "recovered"})
	f.clock.add(time.Hour)
	f.tick(t)
	f.expect(t)
}

// TestNotifierDependencies: a monitor whose dependency is down opens its
// incident without paging (the timeline says why), also when both fail in
// the same batch; its end is no news either. If it stays down after the
// dependency recovered, it is reported then.
func TestNotifierDependencies(t *testing.T) {
	f := newNotifierFixture(t)
	f.monitor(t, 1)    // the database
	f.monitor(t, 2, 1) // the API, behind it
	f.monitor(t, 3, 1) // another API
	f.channel(t, 1)
	f.rule(t, 1, 1, 1, 0)

	// Same batch, the dependent first.
	f.appendBatch(t, "", f.trigger(12, 2), f.trigger(11, 1))
	f.expect(t, "11 incident.triggered 1")
	var suppressed int
	if err := f.db.Get(&suppressed, `SELECT count(*) FROM incident_timeline WHERE incident_id = 12 AND event_type = 'NOTIFICATION_SUPPRESSED'`); err != nil {
		t.Fatal(err)
	}
	if suppressed != 1 {
		t.Fatalf("incident 12 has %d NOTIFICATION_SUPPRESSED timeline entries, want 1", suppressed)
	}
	f.append(t, "", f.trigger(13, 3))
	f.expect(t, "11 incident.triggered 1")

	// The API recovers with its database: nothing about it.
	f.append(t, domain.IncidentStream(12), &domain.IncidentResolved{Reason: "recovered"})
	f.expect(t, "11 incident.triggered 1")
	f.append(t, domain.IncidentStream(11), &domain.IncidentResolved{Reason: "recovered"})
	want := []string{"11 incident.triggered 1", "11 incident.resolved 1", "11 monitor.recovered 1"}
	f.expect(t, want...)

	// The other API is still down with its database back: now it is news.
	f.tick(t)
	f.expect(t, append(want, "13 incident.triggered 1")...)
	f.append(t, domain.IncidentStream(13), &domain.IncidentResolved{Reason: "recovered"})
	f.expect(t, append(want, "13 incident.triggered 1", "13 incident.resolved 1", "13 monitor.recovered 1")...)
}

// TestNotifierSilences: a maintenance window silences what is new while it
// covers the monitor, but the end of an incident already reported still
// reaches the channels told of it (nothing stays open in PagerDuty); a
// snooze silences reminders and acknowledgements but not the end.
func TestNotifierSilences(t *testing.T) {
	f := newNotifierFixture(t)
	f.monitor(t, 1)
	f.monitor(t, 2)
	f.channel(t, 1)
	f.rule(t, 1, 1, 1, 5)
	f.append(t, "", f.trigger(1, 1), f.trigger(2, 2))
	f.expect(t, "1 incident.triggered 1", "2 incident.triggered 1")

	start := f.clock.now().Add(time.Minute)
	f.append(t, domain.MaintenanceStream(1), &domain.MaintenanceScheduled{WindowID: 1, AccountID: f.account, Config: domain.MaintenanceConfig{
		Name: "upgrade", StartTime: start, EndTime: start.Add(time.Hour), TimeZone: "UTC", MonitorIDs: []int64{1}, IsActive: true}})
	f.clock.add(2 * time.Minute)
	f.append(t, domain.IncidentStream(1), &domain.IncidentResolved{Reason: "recovered"})
	f.append(t, domain.IncidentStream(2), &domain.IncidentSnoozed{UserID: 7, DurationMinutes: 30, Until: f.clock.now().Add(30 * time.Minute)})
	f.clock.add(10 * time.Minute)
	f.tick(t) // incident 2 is snoozed: no reminder
	f.append(t, domain.IncidentStream(2), &domain.IncidentAcknowledged{UserID: 7})
	f.append(t, domain.IncidentStream(2), &domain.IncidentResolved{Reason: "recovered"})
	got := f.queued(t)
	want := []string{"1 incident.triggered 1", "2 incident.triggered 1", "1 incident.resolved 1", "1 monitor.recovered 1",
		"2 incident.resolved 1", "2 monitor.recovered 1"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("queued notifications (-want +got):\n%s", diff)
	}

	// In the window, a new incident on the covered monitor tells nobody,
	// nor does its end.
	f.append(t, "", f.trigger(3, 1))
	f.append(t, domain.IncidentStream(3), &domain.IncidentResolved{Reason: "recovered"})
	if got := f.queued(t); slices.ContainsFunc(got, func(s string) bool { return strings.HasPrefix(s, "3 ") }) {
		t.Fatalf("an incident inside a maintenance window was notified: %v", got)
	}
}

// TestNotifierClosesALateStart: a start decided after the incident had
// already ended (Tick read it just before the resolution) is followed by
// its end, so that the receiver does not keep it open.
func TestNotifierClosesALateStart(t *testing.T) {
	f := newNotifierFixture(t)
	f.monitor(t, 1)
	f.channel(t, 1)
	f.rule(t, 1, 1, 3, 0)
	f.append(t, "", f.trigger(1, 1))
	f.append(t, domain.IncidentStream(1), &domain.IncidentResolved{Reason: "recovered"})
	late := domain.NotificationQueued{DeliveryID: "late", ChannelID: 1, IncidentID: 1, Notification: domain.Notification{
		Event: domain.EventIncidentTriggered, AccountID: f.account, Incident: &domain.NotificationIncident{ID: 1, Type: domain.IncidentDown}}}
	f.append(t, domain.DeliveriesStream(1), &late)
	f.expect(t, "1 incident.triggered 1", "1 incident.resolved 1", "1 monitor.recovered 1")
}

// TestNotifierSkipsDisabledChannels: a disabled channel is left out of the
// decisions (no failed delivery for it), and gets them again once enabled.
func TestNotifierSkipsDisabledChannels(t *testing.T) {
	f := newNotifierFixture(t)
	f.monitor(t, 1)
	f.channel(t, 1)
	f.channel(t, 2)
	f.append(t, domain.ChannelStream(2), &domain.ChannelUpdated{Config: domain.ChannelConfig{Name: "c2", Type: domain.ChannelWebhook,
		WebhookURL: "http://127.0.0.1:1/", Enabled: false}})
	f.append(t, domain.RuleStream(1), &domain.RuleCreated{RuleID: 1, AccountID: f.account, Config: domain.RuleConfig{
		Name: "r", Conditions: []domain.Condition{{Type: "STATUS", Operator: "eq", Value: "down"}}, ChannelIDs: []int64{1, 2}, Enabled: true}})
	f.append(t, "", f.trigger(1, 1))
	f.expect(t, "1 incident.triggered 1")
	f.append(t, domain.ChannelStream(2), &domain.ChannelUpdated{Config: domain.ChannelConfig{Name: "c2", Type: domain.ChannelWebhook,
		WebhookURL: "http://127.0.0.1:1/", Enabled: true}})
	// Enabled, it is not told afresh of the incident already reported, nor
	// is the channel of a rule created since.
	f.channel(t, 3)
	f.clock.add(time.Second)
	f.append(t, domain.RuleStream(2), &domain.RuleCreated{RuleID: 2, AccountID: f.account, Config: domain.RuleConfig{
		Name: "later", Conditions: []domain.Condition{{Type: "STATUS", Operator: "eq", Value: "down"}}, ChannelIDs: []int64{3},
		RenotifyMinutes: 5, Enabled: true}})
	f.clock.add(time.Hour)
	f.tick(t)
	f.expect(t, "1 incident.triggered 1")
	f.append(t, "", f.trigger(2, 1))
	f.expect(t, "1 incident.triggered 1", "2 incident.triggered 1", "2 incident.triggered 2", "2 incident.triggered 3")
}

// TestNotifierAcknowledgedBeforeADelayedStart: acknowledging suppresses the
// incident's further notifications: a rule whose consecutive_checks were
// not yet reached never sends the start, nor reminders; the end still
// reaches the channels that heard of the start.
func TestNotifierAcknowledgedBeforeADelayedStart(t *testing.T) {
	f := newNotifierFixture(t)
	f.monitor(t, 1)
	f.channel(t, 1)
	f.channel(t, 2)
	f.rule(t, 1, 1, 1, 5) // at once, then every 5 minutes
	f.rule(t, 2, 2, 3, 0) // after 3 checks
	f.append(t, "", f.trigger(1, 1))
	f.clock.add(30 * time.Second)
	f.append(t, domain.IncidentStream(1), &domain.IncidentAcknowledged{UserID: 7})
	f.clock.add(time.Hour)
	f.tick(t)
	f.append(t, domain.IncidentStream(1), &domain.IncidentResolved{Reason: "recovered"})
	f.tick(t)
	// Channel 2's rule had not sent the start when the incident was
	// acknowledged: it hears nothing. Channel 1 heard of the start, so it
	// hears of the acknowledgement and the end, and no reminder.
	f.expect(t, "1 incident.triggered 1", "1 incident.acknowledged 1", "1 incident.resolved 1", "1 monitor.recovered 1")
}
