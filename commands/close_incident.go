package commands

import (
	"context"

	"github.com/medialuna/medialuna/domain"
)

// CloseIncident resolves the monitor's open incident of Type, if any (the
// detector, on recovery, renewal, pause or deletion).
type CloseIncident struct {
	AccountID, MonitorID int64
	Type                 domain.IncidentType
	Reason, Message      string
}

// CloseIncidentHandler handles CloseIncident.
type CloseIncidentHandler struct{ incidents }

// NewCloseIncidentHandler returns a handler.
func NewCloseIncidentHandler(store domain.EventStore, now Clock) *CloseIncidentHandler {
	return &CloseIncidentHandler{newIncidents(store, now)}
}

// Handle resolves the incident and frees the tracker's slot. Repeating it
// is harmless.
func (h *CloseIncidentHandler) Handle(ctx context.Context, cmd CloseIncident) (domain.Position, error) {
	tracker := domain.MonitorIncidentsStream(cmd.MonitorID)
	var t domain.IncidentTracker
	if _, err := load(ctx, h.store, tracker, &t); err != nil {
		return domain.Position{}, err
	}
	id := t.Open[cmd.Type]
	if id == 0 {
		return domain.Position{}, nil
	}
	pos, err := h.decide(ctx, systemActor, cmd.AccountID, id, func(inc *domain.Incident) ([]domain.Event, error) {
		return inc.Resolve(0, cmd.Reason, cmd.Message), nil
	})
	if err != nil {
		return pos, err
	}
	_, err = retryOnConflict(ctx, func() (domain.AppendResult, error) {
		var t domain.IncidentTracker
		version, err := load(ctx, h.store, tracker, &t)
		if err != nil || t.Open[cmd.Type] != id {
			return domain.AppendResult{}, err
		}
		return save(ctx, h.store, tracker, version, systemActor.metadata(h.now(), cmd.AccountID),
			[]domain.Event{&domain.IncidentClosed{IncidentID: id, Type: cmd.Type}})
	})
	return pos, err
}
