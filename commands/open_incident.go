package commands

import (
	"context"
	"time"

	"github.com/medialuna/medialuna/domain"
)

// systemActor is the detector: incidents opened and resolved automatically.
var systemActor = Actor{Type: domain.ActorSystem}

// OpenIncident makes sure an incident of Type is open for the monitor (the
// detector, on a confirmed failure).
type OpenIncident struct {
	AccountID, MonitorID int64
	Type                 domain.IncidentType
	Message              string
	StartedAt            time.Time
}

// OpenIncidentHandler handles OpenIncident.
type OpenIncidentHandler struct {
	store domain.EventStore
	ids   IDs
	now   Clock
}

// NewOpenIncidentHandler returns a handler.
func NewOpenIncidentHandler(store domain.EventStore, ids IDs, now Clock) *OpenIncidentHandler {
	return &OpenIncidentHandler{store: store, ids: ids, now: now}
}

// Handle returns the open incident's id. The monitor's tracker stream
// decides: a second call, or a call repeated after a crash, finds the
// incident already open. If a crash fell between the tracker and the
// incident's own stream, the incident stream is written now.
func (h *OpenIncidentHandler) Handle(ctx context.Context, cmd OpenIncident) (int64, domain.Position, error) {
	meta := systemActor.metadata(h.now(), cmd.AccountID)
	tracker := domain.MonitorIncidentsStream(cmd.MonitorID)
	var pos domain.Position
	id, err := retryOnConflict(ctx, func() (int64, error) {
		var t domain.IncidentTracker
		version, err := load(ctx, h.store, tracker, &t)
		if err != nil {
			return 0, err
		}
		if id := t.Open[cmd.Type]; id != 0 {
			return id, nil
		}
		id, err := h.ids.Next(ctx, "incident")
		if err != nil {
			return 0, err
		}
		_, err = save(ctx, h.store, tracker, version, meta, []domain.Event{&domain.IncidentOpened{IncidentID: id, Type: cmd.Type}})
		return id, err
	})
	if err != nil {
		return 0, pos, err
	}
	var inc domain.Incident
	version, err := load(ctx, h.store, domain.IncidentStream(id), &inc)
	if err != nil || inc.Exists() {
		return id, pos, err
	}
	res, err := save(ctx, h.store, domain.IncidentStream(id), version, meta, []domain.Event{&domain.IncidentTriggered{
		IncidentID: id, MonitorID: cmd.MonitorID, AccountID: cmd.AccountID, Type: cmd.Type, Message: cmd.Message,
		StartedAt: cmd.StartedAt.UTC().Truncate(time.Microsecond)}})
	if domain.ErrorCode(err) == domain.ErrConflict {
		return id, pos, nil // a concurrent repair wrote it
	}
	return id, res.Position, err
}
