package domain

import "time"

// Notification events, as the reference's webhook payloads name them.
const (
	EventIncidentTriggered    = "incident.triggered"
	EventIncidentAcknowledged = "incident.acknowledged"
	EventIncidentResolved     = "incident.resolved"
	EventMonitorRecovered     = "monitor.recovered"
	EventTest                 = "test"
)

// NotificationMonitor is the monitor snapshot a notification carries.
type NotificationMonitor struct {
	ID   int64       `json:"id"`
	Name string      `json:"name"`
	URL  string      `json:"url"`
	Type MonitorType `json:"type"`
}

// NotificationIncident is the incident snapshot a notification carries.
type NotificationIncident struct {
	ID      int64          `json:"id"`
	Type    IncidentType   `json:"incident_type"`
	Message string         `json:"message"`
	Status  IncidentStatus `json:"status"`
	SentAt  time.Time      `json:"sent_at"`
}

// Notification is one message to deliver through one channel. Its JSON
// form is the documented webhook payload.
type Notification struct {
	// DeliveryID is unique per notification and channel, and stays the
	// same across retries: receivers deduplicate on it (the webhook's
	// X-Media-Luna-Delivery header, PagerDuty's dedup key is the incident).
	DeliveryID string                `json:"-"`
	Event      string                `json:"event"`
	OccurredAt time.Time             `json:"occurred_at"`
	Monitor    NotificationMonitor   `json:"monitor"`
	Incident   *NotificationIncident `json:"incident"`
	AccountID  int64                 `json:"account_id"`
	// Reminder counts the repeats of incident.triggered for an incident
	// left open (rules' renotify_minutes); absent on the first.
	Reminder int `json:"reminder,omitempty"`
}

// Subject is a one-line summary for email subjects, SMS and chat messages.
func (n Notification) Subject() string {
	switch n.Event {
	case EventIncidentTriggered:
		if n.Incident != nil {
			switch n.Incident.Type {
			case IncidentSSLExpiry:
				return "[Media Luna] Certificate expiring: " + n.Monitor.Name
			case IncidentPerformance:
				return "[Media Luna] Slow: " + n.Monitor.Name
			}
		}
		if n.Reminder > 0 {
			return "[Media Luna] Still DOWN: " + n.Monitor.Name
		}
		return "[Media Luna] DOWN: " + n.Monitor.Name
	case EventIncidentAcknowledged:
		return "[Media Luna] Acknowledged: " + n.Monitor.Name
	case EventIncidentResolved:
		return "[Media Luna] Resolved: " + n.Monitor.Name
	case EventMonitorRecovered:
		return "[Media Luna] UP again: " + n.Monitor.Name
	}
	return "[Media Luna] Test notification"
}

// Text is the plain-text body of the notification.
func (n Notification) Text() string {
	s := n.Subject() + "\n"
	if n.Monitor.URL != "" {
		s += "Monitor: " + n.Monitor.Name + " (" + string(n.Monitor.Type) + " " + n.Monitor.URL + ")\n"
	}
	if n.Incident != nil {
		s += "Incident #" + itoa(n.Incident.ID) + " " + string(n.Incident.Type) + " " + string(n.Incident.Status) + ": " + n.Incident.Message + "\n"
	}
	return s + "At: " + n.OccurredAt.UTC().Format(time.RFC3339) + "\n"
}

// DeliveriesStream names the stream of a channel's deliveries.
func DeliveriesStream(channelID int64) string { return "deliveries-" + itoa(channelID) }

// IncidentNotificationsStream names the stream of an incident's
// notification decisions other than deliveries (suppressions).
func IncidentNotificationsStream(incidentID int64) string {
	return "incident-notifications-" + itoa(incidentID)
}

// NotificationQueued is the decision to notify one channel: written to the
// log before anything is sent, so a crash between deciding and sending
// loses nothing (the dispatcher sends from this event).
type NotificationQueued struct {
	DeliveryID   string       `json:"delivery_id"`
	ChannelID    int64        `json:"channel_id"`
	IncidentID   int64        `json:"incident_id,omitempty"`
	Notification Notification `json:"notification"`
}

// NotificationAttempted records how a delivery went: Delivered, or failed
// after Attempts tries with Error.
type NotificationAttempted struct {
	DeliveryID  string      `json:"delivery_id"`
	ChannelID   int64       `json:"channel_id"`
	ChannelName string      `json:"channel_name"`
	ChannelType ChannelType `json:"channel_type"`
	IncidentID  int64       `json:"incident_id,omitempty"`
	Event       string      `json:"event"`
	Delivered   bool        `json:"delivered"`
	Attempts    int         `json:"attempts"`
	Error       string      `json:"error,omitempty"`
}

// NotificationRetrying records a failed attempt that will be retried, so
// that every attempt shows on the incident's timeline, not only the
// outcome (NotificationAttempted).
type NotificationRetrying struct {
	DeliveryID  string      `json:"delivery_id"`
	ChannelID   int64       `json:"channel_id"`
	ChannelName string      `json:"channel_name"`
	ChannelType ChannelType `json:"channel_type"`
	IncidentID  int64       `json:"incident_id,omitempty"`
	Event       string      `json:"event"`
	Attempt     int         `json:"attempt"`
	Error       string      `json:"error"`
	RetryInMs   int64       `json:"retry_in_ms"`
}

func (NotificationRetrying) EventType() string { return EvNotificationRetrying }
func (NotificationRetrying) EventVersion() int { return 1 }

// NotificationSuppressed records that an incident's notifications were
// held back because a monitor it depends on was down already: the outage
// is reported once, by the monitor it starts from.
type NotificationSuppressed struct {
	IncidentID         int64  `json:"incident_id"`
	MonitorID          int64  `json:"monitor_id"`
	DependsOnMonitorID int64  `json:"depends_on_monitor_id"`
	DependsOnIncident  int64  `json:"depends_on_incident_id"`
	Message            string `json:"message"`
}

func (NotificationSuppressed) EventType() string { return EvNotificationSuppressed }
func (NotificationSuppressed) EventVersion() int { return 1 }

func (NotificationQueued) EventType() string    { return EvNotificationQueued }
func (NotificationQueued) EventVersion() int    { return 1 }
func (NotificationAttempted) EventType() string { return EvNotificationAttempted }
func (NotificationAttempted) EventVersion() int { return 1 }
