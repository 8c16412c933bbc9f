package domain

import (
	"slices"
	"time"
)

// The notifier's decisions, as pure functions: what it knows of an
// incident and one event (or the clock) in, who is notified of what out,
// or why nobody is (processes.Notifier gathers the facts, calls these and
// records the decisions through a command).

// NotifierIncident is what the notifier keeps of an incident.
type NotifierIncident struct {
	IncidentID   int64
	AccountID    int64
	MonitorID    int64
	Type         IncidentType
	Message      string
	StartedAt    time.Time
	Status       IncidentStatus
	Reason       string // resolved_reason
	SnoozedUntil *time.Time
	SuppressedBy int64 // the monitor depended on that held it back, 0 if none
}

// NotifyRule is a notification rule and when it was created.
type NotifyRule struct {
	RuleConfig
	CreatedAt time.Time
}

// DependencyDown is an open DOWN incident of a monitor depended on.
type DependencyDown struct {
	IncidentID int64
	MonitorID  int64
}

// NotifySend is the decision to send one notification of Event through a
// channel; Reminder counts the repeats of incident.triggered (0: the
// first).
type NotifySend struct {
	ChannelID int64
	Event     string
	Reminder  int
}

// Why nothing is sent about an incident event.
const (
	SilencedSuppressed  = "held back by a dependency, and never reported: its end is no news"
	SilencedSnoozed     = "snoozed"
	SilencedMaintenance = "in maintenance"
)

// IncidentChange is an incident event the notifier answers: the incident
// triggered, acknowledged or resolved (with Reason) At.
type IncidentChange struct {
	Status IncidentStatus
	Reason string
	At     time.Time
}

// IncidentFacts is what the notifier knows when an incident changes.
type IncidentFacts struct {
	Incident NotifierIncident // folded, this event included
	// Blocker is an open DOWN incident of a monitor the incident's
	// monitor depends on (depends_on), if any; read for triggers only.
	Blocker *DependencyDown
	// Told lists the channels told of the incident's start.
	Told []int64
	// InMaintenance: a maintenance window covers the monitor at the
	// change's time.
	InMaintenance bool
	Rules         []NotifyRule
	Enabled       map[int64]bool // the account's enabled channels
}

// NotifyDecision is what to do about an incident event: hold the
// incident's notifications back (Suppress), or send Sends, or nothing for
// the reason in Silenced.
type NotifyDecision struct {
	Suppress *DependencyDown
	Silenced string
	Sends    []NotifySend
}

// changeEvents are the notification events an incident change makes.
func changeEvents(status IncidentStatus, reason string) []string {
	switch status {
	case StatusAcknowledged:
		return []string{EventIncidentAcknowledged}
	case StatusResolved:
		if reason == "recovered" {
			return []string{EventIncidentResolved, EventMonitorRecovered}
		}
		return []string{EventIncidentResolved}
	}
	return []string{EventIncidentTriggered}
}

// DecideNotifications decides who hears of an incident event, and what is
// silenced: a trigger while a dependency is down is suppressed, so one
// outage pages once; an incident suppressed and never reported stays
// silent to its end; a snooze silences all but the end; a maintenance
// window silences what is new, and the end goes only to the channels told
// of the start; disabled channels are skipped; rules with
// consecutive_checks above 1 send the start later (DueNotifications); an
// end goes only to the channels told of the start when the rule would
// have told them of it.
func DecideNotifications(c IncidentChange, f IncidentFacts) NotifyDecision {
	inc := f.Incident
	if c.Status == StatusTriggered && f.Blocker != nil {
		return NotifyDecision{Suppress: f.Blocker}
	}
	if inc.SuppressedBy != 0 && len(f.Told) == 0 {
		return NotifyDecision{Silenced: SilencedSuppressed}
	}
	if inc.SnoozedUntil != nil && c.At.Before(*inc.SnoozedUntil) && c.Status != StatusResolved {
		return NotifyDecision{Silenced: SilencedSnoozed}
	}
	if f.InMaintenance && c.Status != StatusResolved {
		return NotifyDecision{Silenced: SilencedMaintenance}
	}
	var d NotifyDecision
	for _, event := range changeEvents(c.Status, c.Reason) {
		var channels []int64
		for _, r := range f.Rules {
			if !r.Matches(inc.MonitorID, inc.Type, event) {
				continue
			}
			for _, ch := range r.ChannelIDs {
				switch {
				case !f.Enabled[ch]:
					// A disabled channel is skipped, not failed.
				case f.InMaintenance && !slices.Contains(f.Told, ch):
					// Silenced: only the channels told of the start hear the end.
				case event == EventIncidentTriggered && r.ConsecutiveChecks > 1:
					// DueNotifications sends it once the incident has lasted long enough.
				case event != EventIncidentTriggered && !slices.Contains(f.Told, ch) &&
					r.Matches(inc.MonitorID, inc.Type, EventIncidentTriggered):
					// Never told of the start (a later consecutive_checks,
					// a snooze): its end is no news.
				default:
					channels = append(channels, ch)
				}
			}
		}
		slices.Sort(channels)
		for _, ch := range slices.Compact(channels) {
			d.Sends = append(d.Sends, NotifySend{ChannelID: ch, Event: event})
		}
	}
	return d
}

// LateStartEnd is the end of an incident sent to a channel whose start
// notification was decided after the incident had already ended (the
// clock-driven path read it just before its resolution): without it,
// PagerDuty would keep an alert open for good. q is the start just
// queued; inc the incident as folded.
func LateStartEnd(inc NotifierIncident, q *NotificationQueued) []NotifySend {
	if q.IncidentID == 0 || q.Notification.Event != EventIncidentTriggered || inc.Status != StatusResolved {
		return nil
	}
	var out []NotifySend
	for _, event := range changeEvents(StatusResolved, inc.Reason) {
		out = append(out, NotifySend{ChannelID: q.ChannelID, Event: event})
	}
	return out
}

// TimeDriven reports whether some enabled rule acts later than the
// incident event: consecutive_checks above 1 or renotify_minutes.
func TimeDriven(rules []NotifyRule) bool {
	return slices.ContainsFunc(rules, func(r NotifyRule) bool {
		return r.Enabled && (r.ConsecutiveChecks > 1 || r.RenotifyMinutes > 0)
	})
}

// TickFacts is what the notifier knows of an open, unacknowledged and
// unsnoozed incident when the clock ticks.
type TickFacts struct {
	Incident NotifierIncident
	// Told: some channel heard of its start. Sent is, for each channel
	// told, how many reminders it had.
	Told bool
	Sent map[int64]int
	// CheckInterval of the monitor, in seconds.
	CheckInterval int
	// DependencyDown: a monitor it depends on has an open DOWN incident.
	DependencyDown bool
	// InMaintenance: a window covers the monitor now.
	InMaintenance bool
	Rules         []NotifyRule
	Enabled       map[int64]bool
}

// DueNotifications makes the time-driven decisions for an open incident
// at now: the first notification of rules with consecutive_checks above 1
// once the incident has lasted that many check intervals, the start of an
// incident held back by a dependency that recovered while it stayed down,
// or of one nobody was told of (the notifier ran late), and the reminders
// of rules with renotify_minutes. Nothing goes out while a dependency is
// down or a maintenance window covers the monitor. Sends are in channel
// order.
func DueNotifications(now time.Time, f TickFacts) []NotifySend {
	inc := f.Incident
	if f.DependencyDown || f.InMaintenance {
		return nil
	}
	// Per channel: the earliest a rule makes it due, and the shortest
	// repeat any of its rules asks for.
	due := map[int64]time.Time{}
	every := map[int64]time.Duration{}
	interval := time.Duration(max(f.CheckInterval, 1)) * time.Second
	// A start goes out late for a rule's own delay (consecutive_checks),
	// for an incident held back by a dependency, and for one nobody was
	// told of (the notifier ran late); not to a rule created after the
	// incident began, which hears of incidents that start from then on.
	catchUp := !f.Told || inc.SuppressedBy != 0
	for _, r := range f.Rules {
		if !r.Matches(inc.MonitorID, inc.Type, EventIncidentTriggered) {
			continue
		}
		if !catchUp && r.CreatedAt.After(inc.StartedAt) {
			continue
		}
		at := inc.StartedAt.Add(time.Duration(max(r.ConsecutiveChecks, 1)-1) * interval)
		for _, ch := range r.ChannelIDs {
			if !f.Enabled[ch] {
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
	channels := make([]int64, 0, len(due))
	for ch := range due {
		channels = append(channels, ch)
	}
	slices.Sort(channels)
	var out []NotifySend
	for _, ch := range channels {
		at := due[ch]
		if now.Before(at) {
			continue
		}
		reminders, told := f.Sent[ch]
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
		out = append(out, NotifySend{ChannelID: ch, Event: EventIncidentTriggered, Reminder: reminder})
	}
	return out
}
