package domain

import (
	"strings"
	"time"
	"unicode/utf8"
)

// IncidentStream names an incident's stream.
func IncidentStream(id int64) string { return "incident-" + itoa(id) }

// MonitorIncidentsStream names the stream that tracks which incidents are
// open for a monitor: the guard that keeps one open incident per monitor
// and type, even when the detector runs an event twice after a crash.
func MonitorIncidentsStream(monitorID int64) string { return "monitor-incidents-" + itoa(monitorID) }

// IncidentType is what went wrong.
type IncidentType string

const (
	IncidentDown        IncidentType = "DOWN"
	IncidentSSLExpiry   IncidentType = "SSL_EXPIRY"
	IncidentPerformance IncidentType = "PERFORMANCE"
)

// IncidentStatus is where an incident is in its lifecycle.
type IncidentStatus string

const (
	StatusTriggered    IncidentStatus = "TRIGGERED"
	StatusAcknowledged IncidentStatus = "ACKNOWLEDGED"
	StatusResolved     IncidentStatus = "RESOLVED"
)

// IncidentTriggered opens an incident.
type IncidentTriggered struct {
	IncidentID int64        `json:"incident_id"`
	MonitorID  int64        `json:"monitor_id"`
	AccountID  int64        `json:"account_id"`
	Type       IncidentType `json:"incident_type"`
	Message    string       `json:"message"`
	StartedAt  time.Time    `json:"started_at"`
}

// IncidentAcknowledged records that someone is on it.
type IncidentAcknowledged struct {
	UserID  int64  `json:"user_id"`
	Message string `json:"message"`
}

// IncidentSnoozed silences notifications until Until.
type IncidentSnoozed struct {
	UserID          int64     `json:"user_id"`
	DurationMinutes int       `json:"duration_minutes"`
	Until           time.Time `json:"until"`
	Reason          string    `json:"reason"`
}

// IncidentCommented adds a note to the timeline. A public comment is an
// update for the incident's status pages; the others stay internal.
type IncidentCommented struct {
	UserID  int64  `json:"user_id"`
	Message string `json:"message"`
	Public  bool   `json:"public,omitempty"`
}

// IncidentResolved closes an incident; UserID 0 means the system (the
// monitor recovered, was paused or deleted).
type IncidentResolved struct {
	UserID  int64  `json:"user_id"`
	Reason  string `json:"reason"` // recovered, monitor_paused, monitor_deleted, certificate_renewed, performance_recovered
	Message string `json:"message"`
}

// IncidentOpened and IncidentClosed live on the monitor's incident tracker.
type IncidentOpened struct {
	IncidentID int64        `json:"incident_id"`
	Type       IncidentType `json:"incident_type"`
}

// IncidentClosed frees the monitor's slot for its type.
type IncidentClosed struct {
	IncidentID int64        `json:"incident_id"`
	Type       IncidentType `json:"incident_type"`
}

func (IncidentTriggered) EventType() string    { return EvIncidentTriggered }
func (IncidentTriggered) EventVersion() int    { return 1 }
func (IncidentAcknowledged) EventType() string { return EvIncidentAcknowledged }
func (IncidentAcknowledged) EventVersion() int { return 1 }
func (IncidentSnoozed) EventType() string      { return EvIncidentSnoozed }
func (IncidentSnoozed) EventVersion() int      { return 1 }
func (IncidentCommented) EventType() string    { return EvIncidentCommented }
func (IncidentCommented) EventVersion() int    { return 1 }
func (IncidentResolved) EventType() string     { return EvIncidentResolved }
func (IncidentResolved) EventVersion() int     { return 1 }
func (IncidentOpened) EventType() string       { return EvIncidentOpened }
func (IncidentOpened) EventVersion() int       { return 1 }
func (IncidentClosed) EventType() string       { return EvIncidentClosed }
func (IncidentClosed) EventVersion() int       { return 1 }

// TimelineEntry is one line of an incident's timeline.
type TimelineEntry struct {
	EventType string    `json:"event_type"` // TRIGGERED, ACKNOWLEDGED, SNOOZED, COMMENT, RESOLVED, NOTIFICATION_SENT, NOTIFICATION_FAILED, NOTIFICATION_RETRYING, NOTIFICATION_SUPPRESSED
	Message   string    `json:"message"`
	UserID    *int64    `json:"user_id"`
	CreatedAt time.Time `json:"created_at"`
	// Public marks a comment shown on status pages as an update.
	Public bool `json:"public"`
}

// Incident is the incident aggregate.
type Incident struct {
	ID             int64          `json:"id"`
	MonitorID      int64          `json:"monitor_id"`
	AccountID      int64          `json:"-"`
	Type           IncidentType   `json:"incident_type"`
	Status         IncidentStatus `json:"status"`
	Message        string         `json:"message"`
	StartedAt      time.Time      `json:"started_at"`
	AcknowledgedAt *time.Time     `json:"acknowledged_at"`
	ResolvedAt     *time.Time     `json:"resolved_at"`
	SnoozedUntil   *time.Time     `json:"snoozed_until"`
}

// ApplyAt folds one event recorded at time at.
func (i *Incident) ApplyAt(e Event, at time.Time) {
	at = at.UTC()
	switch e := e.(type) {
	case *IncidentTriggered:
		i.ID, i.MonitorID, i.AccountID, i.Type, i.Message = e.IncidentID, e.MonitorID, e.AccountID, e.Type, e.Message
		i.Status, i.StartedAt = StatusTriggered, e.StartedAt.UTC()
	case *IncidentAcknowledged:
		i.Status, i.AcknowledgedAt = StatusAcknowledged, &at
	case *IncidentSnoozed:
		u := e.Until.UTC()
		i.SnoozedUntil = &u
	case *IncidentResolved:
		i.Status, i.ResolvedAt = StatusResolved, &at
	}
}

// Apply folds one event (its time unknown: used by commands, which only
// need the status).
func (i *Incident) Apply(e Event) { i.ApplyAt(e, time.Time{}) }

// Exists reports whether the incident was triggered.
func (i *Incident) Exists() bool { return i.ID != 0 }

// Owner is the account the incident belongs to.
func (i *Incident) Owner() int64 { return i.AccountID }

// Timeline describes an event as a timeline entry, or false when the
// event has no place on the timeline.
func Timeline(e Event, at time.Time) (TimelineEntry, bool) {
	user := func(id int64) *int64 {
		if id == 0 {
			return nil
		}
		return &id
	}
	at = at.UTC()
	switch e := e.(type) {
	case *IncidentTriggered:
		return TimelineEntry{EventType: "TRIGGERED", Message: e.Message, CreatedAt: at}, true
	case *IncidentAcknowledged:
		msg := e.Message
		if msg == "" {
			msg = "Acknowledged"
		}
		return TimelineEntry{EventType: "ACKNOWLEDGED", Message: msg, UserID: user(e.UserID), CreatedAt: at}, true
	case *IncidentSnoozed:
		msg := "Snoozed for " + itoa(int64(e.DurationMinutes)) + " minutes until " + e.Until.UTC().Format(time.RFC3339)
		if e.Reason != "" {
			msg += ": " + e.Reason
		}
		return TimelineEntry{EventType: "SNOOZED", Message: msg, UserID: user(e.UserID), CreatedAt: at}, true
	case *IncidentCommented:
		return TimelineEntry{EventType: "COMMENT", Message: e.Message, UserID: user(e.UserID), CreatedAt: at, Public: e.Public}, true
	case *IncidentResolved:
		return TimelineEntry{EventType: "RESOLVED", Message: e.Message, UserID: user(e.UserID), CreatedAt: at}, true
	case *NotificationAttempted:
		msg := e.Event + " sent via " + string(e.ChannelType) + " channel \"" + e.ChannelName + "\""
		if !e.Delivered {
			msg = e.Event + " to " + string(e.ChannelType) + " channel \"" + e.ChannelName + "\" failed after " + itoa(int64(e.Attempts)) + " attempts: " + e.Error
		}
		if !e.Delivered {
			return TimelineEntry{EventType: "NOTIFICATION_FAILED", Message: msg, CreatedAt: at}, true
		}
		return TimelineEntry{EventType: "NOTIFICATION_SENT", Message: msg, CreatedAt: at}, true
	case *NotificationSuppressed:
		return TimelineEntry{EventType: "NOTIFICATION_SUPPRESSED", Message: e.Message, CreatedAt: at}, true
	case *NotificationRetrying:
		msg := e.Event + " to " + string(e.ChannelType) + " channel \"" + e.ChannelName + "\": attempt " + itoa(int64(e.Attempt)) +
			" failed (" + e.Error + "); retrying in " + (time.Duration(e.RetryInMs) * time.Millisecond).String()
		return TimelineEntry{EventType: "NOTIFICATION_RETRYING", Message: msg, CreatedAt: at}, true
	}
	return TimelineEntry{}, false
}

func validText(field, s string, min, max int) error {
	n := utf8.RuneCountInString(strings.TrimSpace(s))
	if n < min || n > max {
		if min > 0 {
			return Invalid(field, "value_error", "%s must be %d to %d characters", field, min, max)
		}
		return Invalid(field, "value_error", "%s must be at most %d characters", field, max)
	}
	return nil
}

// CanAcknowledge says whether acknowledging changes anything: only an
// open incident nobody is on yet (acknowledging twice changes nothing, a
// resolved one refuses).
func (s IncidentStatus) CanAcknowledge() bool { return s == StatusTriggered }

// CanSnooze says whether an incident in this status takes a snooze: any
// but a resolved one.
func (s IncidentStatus) CanSnooze() bool { return s != StatusResolved }

// CanAcknowledge says whether Acknowledge would record anything.
func (i *Incident) CanAcknowledge() bool { return i.Status.CanAcknowledge() }

// CanSnooze says whether Snooze would accept a valid duration.
func (i *Incident) CanSnooze() bool { return i.Status.CanSnooze() }

// Acknowledge decides an acknowledgement. Acknowledging an acknowledged
// incident changes nothing, so two people acknowledging at once end with
// one ACKNOWLEDGED event.
func (i *Incident) Acknowledge(userID int64, message string) ([]Event, error) {
	if err := validText("message", message, 0, 5000); err != nil {
		return nil, err
	}
	switch {
	case i.Status == StatusResolved:
		return nil, Errorf(ErrConflict, "incident %d is already resolved", i.ID)
	case !i.CanAcknowledge():
		return nil, nil
	}
	return []Event{&IncidentAcknowledged{UserID: userID, Message: strings.TrimSpace(message)}}, nil
}

// Snooze limits, in minutes.
const (
	MinSnoozeMinutes = 5
	MaxSnoozeMinutes = 10080
)

// Snooze decides a snooze.
func (i *Incident) Snooze(userID int64, minutes int, reason string, now time.Time) ([]Event, error) {
	if minutes < MinSnoozeMinutes || minutes > MaxSnoozeMinutes {
		return nil, Invalid("duration_minutes", "value_error", "duration_minutes must be between %d and %d (7 days)", MinSnoozeMinutes, MaxSnoozeMinutes)
	}
	if err := validText("reason", reason, 0, 1000); err != nil {
		return nil, err
	}
	if !i.CanSnooze() {
		return nil, Errorf(ErrConflict, "incident %d is already resolved", i.ID)
	}
	return []Event{&IncidentSnoozed{UserID: userID, DurationMinutes: minutes, Until: now.UTC().Add(time.Duration(minutes) * time.Minute), Reason: strings.TrimSpace(reason)}}, nil
}

// Comment decides a timeline comment; resolved incidents take comments too
// (post-mortem notes). A public comment appears on the status pages that
// show the incident's monitor.
func (i *Incident) Comment(userID int64, message string, public bool) ([]Event, error) {
	if err := validText("message", message, 1, 5000); err != nil {
		return nil, err
	}
	return []Event{&IncidentCommented{UserID: userID, Message: strings.TrimSpace(message), Public: public}}, nil
}

// Resolve decides a resolution; resolving a resolved incident changes nothing.
func (i *Incident) Resolve(userID int64, reason, message string) []Event {
	if i.Status == StatusResolved {
		return nil
	}
	return []Event{&IncidentResolved{UserID: userID, Reason: reason, Message: message}}
}

// IncidentTracker is a monitor's open incidents by type.
type IncidentTracker struct {
	Open map[IncidentType]int64
}

// Apply folds one tracker event.
func (t *IncidentTracker) Apply(e Event) {
	if t.Open == nil {
		t.Open = map[IncidentType]int64{}
	}
	switch e := e.(type) {
	case *IncidentOpened:
		t.Open[e.Type] = e.IncidentID
	case *IncidentClosed:
		if t.Open[e.Type] == e.IncidentID {
			delete(t.Open, e.Type)
		}
	}
}
