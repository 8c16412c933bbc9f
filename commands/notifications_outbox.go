package commands

import (
	"context"
	"crypto/sha1"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/medialuna/medialuna/domain"
)

// The writes of the notifier and the dispatcher (package processes): what
// was decided to send, and how each delivery went. Their event ids derive
// from the incident, the event and the channel, so a decision repeated
// (after a crash, by two replicas, by the immediate path and the clock) is
// recorded once.

var deliveryNamespace = uuid.NewHash(sha1.New(), uuid.NameSpaceURL, []byte("https://medialuna/deliveries"), 5)

// DeliveryID is the id of the notification of event about an incident
// through a channel (reminder > 0: its reminder-th repeat).
func DeliveryID(incidentID int64, event string, channelID int64, reminder int) string {
	key := fmt.Sprintf("incident/%d/%s/%d", incidentID, event, channelID)
	if reminder > 0 {
		key = fmt.Sprintf("incident/%d/reminder-%d/%d", incidentID, reminder, channelID)
	}
	return uuid.NewSHA1(deliveryNamespace, []byte(key)).String()
}

// NotificationDecision is one decision of the notifier: queue a
// notification through a channel, or hold an incident's notifications
// back (Suppressed).
type NotificationDecision struct {
	AccountID int64
	// Queue: Notification through ChannelID. Its DeliveryID is set from
	// the incident, event, channel and reminder, its Incident.SentAt to
	// now.
	ChannelID    int64
	Notification domain.Notification
	// Suppressed, instead of a notification.
	Suppressed *domain.NotificationSuppressed
}

// QueueNotifications records the notifier's decisions, in order, before
// anything is sent: the dispatcher sends from the NotificationQueued.
type QueueNotifications struct {
	Decisions []NotificationDecision
}

// QueueNotificationsHandler handles QueueNotifications.
type QueueNotificationsHandler struct {
	store domain.EventStore
	now   Clock
}

// NewQueueNotificationsHandler returns the handler.
func NewQueueNotificationsHandler(store domain.EventStore, now Clock) *QueueNotificationsHandler {
	return &QueueNotificationsHandler{store: store, now: now}
}

// Handle appends one event per decision, once per id.
func (h *QueueNotificationsHandler) Handle(ctx context.Context, cmd QueueNotifications) (domain.Position, error) {
	if len(cmd.Decisions) == 0 {
		return domain.Position{}, nil
	}
	at := h.now().UTC().Truncate(time.Microsecond)
	out := make([]domain.StreamEvent, 0, len(cmd.Decisions))
	for _, d := range cmd.Decisions {
		meta := systemActor.metadata(at, d.AccountID)
		if s := d.Suppressed; s != nil {
			data, err := domain.Encode(s, meta, uuid.NewSHA1(deliveryNamespace, fmt.Appendf(nil, "incident/%d/suppressed", s.IncidentID)).String())
			if err != nil {
				return domain.Position{}, err
			}
			out = append(out, domain.StreamEvent{Stream: domain.IncidentNotificationsStream(s.IncidentID), Event: data})
			continue
		}
		note := d.Notification
		var incidentID int64
		if note.Incident != nil {
			inc := *note.Incident
			inc.SentAt = meta.OccurredAt
			note.Incident, incidentID = &inc, inc.ID
		}
		note.DeliveryID = DeliveryID(incidentID, note.Event, d.ChannelID, note.Reminder)
		data, err := domain.Encode(&domain.NotificationQueued{DeliveryID: note.DeliveryID, ChannelID: d.ChannelID, IncidentID: incidentID, Notification: note},
			meta, note.DeliveryID)
		if err != nil {
			return domain.Position{}, err
		}
		out = append(out, domain.StreamEvent{Stream: domain.DeliveriesStream(d.ChannelID), Event: data})
	}
	return h.store.AppendBatch(ctx, out)
}

// RecordDelivery records how a delivery went (Outcome), or a failed
// attempt that will be retried (Retry, for the incident's timeline).
type RecordDelivery struct {
	AccountID int64
	Outcome   *domain.NotificationAttempted
	Retry     *domain.NotificationRetrying
}

// RecordDeliveryHandler handles RecordDelivery.
type RecordDeliveryHandler struct {
	store domain.EventStore
	now   Clock
}

// NewRecordDeliveryHandler returns the handler.
func NewRecordDeliveryHandler(store domain.EventStore, now Clock) *RecordDeliveryHandler {
	return &RecordDeliveryHandler{store: store, now: now}
}

// Handle appends the outcome or the retry to the channel's deliveries
// stream, once per delivery (and attempt).
func (h *RecordDeliveryHandler) Handle(ctx context.Context, cmd RecordDelivery) (domain.Position, error) {
	meta := systemActor.metadata(h.now(), cmd.AccountID)
	var (
		ev        domain.Event
		id        string
		channelID int64
	)
	switch {
	case cmd.Outcome != nil:
		ev, id, channelID = cmd.Outcome, cmd.Outcome.DeliveryID+"/attempted", cmd.Outcome.ChannelID
	case cmd.Retry != nil:
		ev, id, channelID = cmd.Retry, fmt.Sprintf("%s/attempt-%d", cmd.Retry.DeliveryID, cmd.Retry.Attempt), cmd.Retry.ChannelID
	default:
		return domain.Position{}, domain.Errorf(domain.ErrInvalid, "nothing to record")
	}
	data, err := domain.Encode(ev, meta, uuid.NewSHA1(deliveryNamespace, []byte(id)).String())
	if err != nil {
		return domain.Position{}, err
	}
	return h.store.AppendBatch(ctx, []domain.StreamEvent{{Stream: domain.DeliveriesStream(channelID), Event: data}})
}
