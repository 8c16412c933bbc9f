package domain_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/medialuna/medialuna/domain"
)

func rule(channels ...int64) domain.NotifyRule {
	return domain.NotifyRule{RuleConfig: domain.RuleConfig{Name: "r", Enabled: true, ChannelIDs: channels,
		Conditions: []domain.Condition{{Type: "STATUS", Value: "down"}, {Type: "STATUS", Value: "up"}}}, CreatedAt: t0.Add(-time.Hour)}
}

func send(ch int64, event string) domain.NotifySend {
	return domain.NotifySend{ChannelID: ch, Event: event}
}

func TestDecideNotifications(t *testing.T) {
	inc := domain.NotifierIncident{IncidentID: 5, AccountID: 1, MonitorID: 10, Type: domain.IncidentDown, StartedAt: t0, Status: domain.StatusTriggered}
	on := map[int64]bool{1: true, 2: true, 3: true}
	later := t0.Add(time.Hour)
	triggered := domain.IncidentChange{Status: domain.StatusTriggered, At: t0}
	acked := domain.IncidentChange{Status: domain.StatusAcknowledged, At: t0.Add(time.Minute)}
	recovered := domain.IncidentChange{Status: domain.StatusResolved, Reason: "recovered", At: t0.Add(2 * time.Minute)}
	resolvedByHand := domain.IncidentChange{Status: domain.StatusResolved, Reason: "manual", At: t0.Add(2 * time.Minute)}
	with := func(f func(*domain.IncidentFacts)) domain.IncidentFacts {
		facts := domain.IncidentFacts{Incident: inc, Rules: []domain.NotifyRule{rule(1, 2)}, Enabled: on}
		f(&facts)
		return facts
	}
	none := func(*domain.IncidentFacts) {}
	cases := []struct {
		name   string
		change domain.IncidentChange
		facts  domain.IncidentFacts
		want   domain.NotifyDecision
	}{
		{"a trigger goes to every channel of the matching rules, each once", triggered, with(func(f *domain.IncidentFacts) {
			f.Rules = []domain.NotifyRule{rule(2, 1), rule(1, 3)}
		}), domain.NotifyDecision{Sends: []domain.NotifySend{send(1, domain.EventIncidentTriggered), send(2, domain.EventIncidentTriggered),
			send(3, domain.EventIncidentTriggered)}}},
		{"a disabled rule, a rule for other monitors, a condition that does not match: nobody", triggered, with(func(f *domain.IncidentFacts) {
			off := rule(1)
			off.Enabled = false
			other := rule(2)
			other.MonitorIDs = []int64{99}
			perf := rule(3)
			perf.Conditions = []domain.Condition{{Type: "RESPONSE_TIME"}}
			f.Rules = []domain.NotifyRule{off, other, perf}
		}), domain.NotifyDecision{}},
		{"a disabled channel is skipped", triggered, with(func(f *domain.IncidentFacts) { f.Enabled = map[int64]bool{2: true} }),
			domain.NotifyDecision{Sends: []domain.NotifySend{send(2, domain.EventIncidentTriggered)}}},
		{"consecutive_checks above 1: the start waits for DueNotifications", triggered, with(func(f *domain.IncidentFacts) {
			f.Rules[0].ConsecutiveChecks = 3
		}), domain.NotifyDecision{}},
		{"a dependency down suppresses the trigger", triggered, with(func(f *domain.IncidentFacts) {
			f.Blocker = &domain.DependencyDown{IncidentID: 4, MonitorID: 9}
		}), domain.NotifyDecision{Suppress: &domain.DependencyDown{IncidentID: 4, MonitorID: 9}}},
		{"suppressed and never told: its end is no news", recovered, with(func(f *domain.IncidentFacts) { f.Incident.SuppressedBy = 9 }),
			domain.NotifyDecision{Silenced: domain.SilencedSuppressed}},
		{"suppressed but told later: its end goes to the channels told", recovered, with(func(f *domain.IncidentFacts) {
			f.Incident.SuppressedBy, f.Told = 9, []int64{1}
		}), domain.NotifyDecision{Sends: []domain.NotifySend{send(1, domain.EventIncidentResolved), send(1, domain.EventMonitorRecovered)}}},
		{"acknowledged: the channels told hear of it", acked, with(func(f *domain.IncidentFacts) { f.Told = []int64{1, 2} }),
			domain.NotifyDecision{Sends: []domain.NotifySend{send(1, domain.EventIncidentAcknowledged), send(2, domain.EventIncidentAcknowledged)}}},
		{"acknowledgement of a start a channel never heard: no news to it", acked, with(func(f *domain.IncidentFacts) { f.Told = []int64{2} }),
			domain.NotifyDecision{Sends: []domain.NotifySend{send(2, domain.EventIncidentAcknowledged)}}},
		{"recovered: resolved and recovered to the channels told", recovered, with(func(f *domain.IncidentFacts) { f.Told = []int64{1, 2} }),
			domain.NotifyDecision{Sends: []domain.NotifySend{send(1, domain.EventIncidentResolved), send(2, domain.EventIncidentResolved),
				send(1, domain.EventMonitorRecovered), send(2, domain.EventMonitorRecovered)}}},
		{"resolved by hand: no monitor.recovered", resolvedByHand, with(func(f *domain.IncidentFacts) { f.Told = []int64{1} }),
			domain.NotifyDecision{Sends: []domain.NotifySend{send(1, domain.EventIncidentResolved)}}},
		{"an up-only rule hears the recovery without having heard the start", recovered, with(func(f *domain.IncidentFacts) {
			up := rule(3)
			up.Conditions = []domain.Condition{{Type: "STATUS", Value: "up"}}
			f.Rules = []domain.NotifyRule{up}
		}), domain.NotifyDecision{Sends: []domain.NotifySend{send(3, domain.EventIncidentResolved), send(3, domain.EventMonitorRecovered)}}},
		{"snoozed: the trigger and the acknowledgement are silenced", acked, with(func(f *domain.IncidentFacts) {
			f.Incident.SnoozedUntil, f.Told = &later, []int64{1}
		}), domain.NotifyDecision{Silenced: domain.SilencedSnoozed}},
		{"snoozed: the end still goes out", recovered, with(func(f *domain.IncidentFacts) {
			f.Incident.SnoozedUntil, f.Told = &later, []int64{1}
		}), domain.NotifyDecision{Sends: []domain.NotifySend{send(1, domain.EventIncidentResolved), send(1, domain.EventMonitorRecovered)}}},
		{"a snooze that ended silences nothing", domain.IncidentChange{Status: domain.StatusAcknowledged, At: later.Add(time.Second)},
			with(func(f *domain.IncidentFacts) { f.Incident.SnoozedUntil, f.Told = &later, []int64{1} }),
			domain.NotifyDecision{Sends: []domain.NotifySend{send(1, domain.EventIncidentAcknowledged)}}},
		{"maintenance silences the start", triggered, with(func(f *domain.IncidentFacts) { f.InMaintenance = true }),
			domain.NotifyDecision{Silenced: domain.SilencedMaintenance}},
		{"maintenance: the end goes only to the channels told of the start", recovered, with(func(f *domain.IncidentFacts) {
			f.InMaintenance, f.Told = true, []int64{2}
			up := rule(3)
			up.Conditions = []domain.Condition{{Type: "STATUS", Value: "up"}}
			f.Rules = append(f.Rules, up)
		}), domain.NotifyDecision{Sends: []domain.NotifySend{send(2, domain.EventIncidentResolved), send(2, domain.EventMonitorRecovered)}}},
		{"nothing to say", triggered, with(none), domain.NotifyDecision{Sends: []domain.NotifySend{send(1, domain.EventIncidentTriggered),
			send(2, domain.EventIncidentTriggered)}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if diff := cmp.Diff(c.want, domain.DecideNotifications(c.change, c.facts)); diff != "" {
				t.Errorf("decision (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLateStartEnd(t *testing.T) {
	start := &domain.NotificationQueued{ChannelID: 4, IncidentID: 5, Notification: domain.Notification{Event: domain.EventIncidentTriggered}}
	open := domain.NotifierIncident{IncidentID: 5, Status: domain.StatusTriggered}
	resolved := domain.NotifierIncident{IncidentID: 5, Status: domain.StatusResolved, Reason: "recovered"}
	manual := domain.NotifierIncident{IncidentID: 5, Status: domain.StatusResolved, Reason: "manual"}
	ack := &domain.NotificationQueued{ChannelID: 4, IncidentID: 5, Notification: domain.Notification{Event: domain.EventIncidentAcknowledged}}
	cases := []struct {
		name string
		inc  domain.NotifierIncident
		q    *domain.NotificationQueued
		want []domain.NotifySend
	}{
		{"a start queued while the incident is open: nothing more", open, start, nil},
		{"a start queued after it recovered: its end follows", resolved, start, []domain.NotifySend{send(4, domain.EventIncidentResolved), send(4, domain.EventMonitorRecovered)}},
		{"after a resolution by hand: resolved only", manual, start, []domain.NotifySend{send(4, domain.EventIncidentResolved)}},
		{"not a start: nothing", resolved, ack, nil},
	}
	for _, c := range cases {
		if diff := cmp.Diff(c.want, domain.LateStartEnd(c.inc, c.q)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", c.name, diff)
		}
	}
}

func TestDueNotifications(t *testing.T) {
	inc := domain.NotifierIncident{IncidentID: 5, AccountID: 1, MonitorID: 10, Type: domain.IncidentDown, StartedAt: t0, Status: domain.StatusTriggered}
	on := map[int64]bool{1: true, 2: true}
	delayed := func(checks, renotify int, channels ...int64) domain.NotifyRule {
		r := rule(channels...)
		r.ConsecutiveChecks, r.RenotifyMinutes = checks, renotify
		return r
	}
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	trig := func(ch int64, reminder int) domain.NotifySend {
		return domain.NotifySend{ChannelID: ch, Event: domain.EventIncidentTriggered, Reminder: reminder}
	}
	facts := func(f func(*domain.TickFacts)) domain.TickFacts {
		tf := domain.TickFacts{Incident: inc, CheckInterval: 60, Enabled: on}
		f(&tf)
		return tf
	}
	cases := []struct {
		name  string
		now   time.Time
		facts domain.TickFacts
		want  []domain.NotifySend
	}{
		{"consecutive_checks 3: not before two intervals", at(119 * time.Second), facts(func(f *domain.TickFacts) {
			f.Rules = []domain.NotifyRule{delayed(3, 0, 1)}
		}), nil},
		{"consecutive_checks 3: due after two intervals", at(120 * time.Second), facts(func(f *domain.TickFacts) {
			f.Rules = []domain.NotifyRule{delayed(3, 0, 1)}
		}), []domain.NotifySend{trig(1, 0)}},
		{"told already, no renotify: nothing more", at(time.Hour), facts(func(f *domain.TickFacts) {
			f.Rules, f.Told, f.Sent = []domain.NotifyRule{delayed(3, 0, 1)}, true, map[int64]int{1: 0}
		}), nil},
		{"renotify_minutes 10: a reminder each 10 minutes, counted", at(25 * time.Minute), facts(func(f *domain.TickFacts) {
			f.Rules, f.Told, f.Sent = []domain.NotifyRule{delayed(1, 10, 1)}, true, map[int64]int{1: 1}
		}), []domain.NotifySend{trig(1, 2)}},
		{"renotify: the reminder already sent is not sent again", at(29 * time.Minute), facts(func(f *domain.TickFacts) {
			f.Rules, f.Told, f.Sent = []domain.NotifyRule{delayed(1, 10, 1)}, true, map[int64]int{1: 2}
		}), nil},
		{"renotify: the shortest repeat of a channel's rules wins", at(10 * time.Minute), facts(func(f *domain.TickFacts) {
			f.Rules, f.Told, f.Sent = []domain.NotifyRule{delayed(1, 30, 1), delayed(1, 5, 1)}, true, map[int64]int{1: 0}
		}), []domain.NotifySend{trig(1, 2)}},
		{"a dependency down holds everything back", at(time.Hour), facts(func(f *domain.TickFacts) {
			f.Rules, f.DependencyDown = []domain.NotifyRule{delayed(3, 0, 1)}, true
		}), nil},
		{"maintenance holds everything back", at(time.Hour), facts(func(f *domain.TickFacts) {
			f.Rules, f.InMaintenance = []domain.NotifyRule{delayed(3, 0, 1)}, true
		}), nil},
		{"a suppressed incident whose dependency recovered: its start goes out late", at(time.Hour), facts(func(f *domain.TickFacts) {
			f.Rules, f.Incident.SuppressedBy = []domain.NotifyRule{rule(1, 2)}, 9
		}), []domain.NotifySend{trig(1, 0), trig(2, 0)}},
		{"nobody told (the notifier ran late): the start goes out late", at(time.Hour), facts(func(f *domain.TickFacts) {
			f.Rules = []domain.NotifyRule{rule(2)}
		}), []domain.NotifySend{trig(2, 0)}},
		{"a channel enabled since the start, with others told: it hears of the next incident", at(time.Hour), facts(func(f *domain.TickFacts) {
			f.Rules, f.Told, f.Sent = []domain.NotifyRule{rule(1, 2)}, true, map[int64]int{1: 0}
		}), nil},
		{"a rule created after the incident began hears of the next one", at(time.Hour), facts(func(f *domain.TickFacts) {
			late := delayed(3, 0, 2)
			late.CreatedAt = at(time.Minute)
			f.Rules, f.Told, f.Sent = []domain.NotifyRule{rule(1), late}, true, map[int64]int{1: 0}
		}), nil},
		{"a disabled channel gets nothing", at(time.Hour), facts(func(f *domain.TickFacts) {
			f.Rules, f.Enabled = []domain.NotifyRule{delayed(3, 0, 1, 2)}, map[int64]bool{2: true}
		}), []domain.NotifySend{trig(2, 0)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if diff := cmp.Diff(c.want, domain.DueNotifications(c.now, c.facts)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	if !domain.TimeDriven([]domain.NotifyRule{rule(1), delayed(1, 5, 1)}) || domain.TimeDriven([]domain.NotifyRule{rule(1)}) {
		t.Error("TimeDriven: a rule with renotify_minutes acts later, one without does not")
	}
}
