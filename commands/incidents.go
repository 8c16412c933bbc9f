package commands

import (
	"context"
	"fmt"
	"time"

	"github.com/medialuna/medialuna/domain"
)

// IncidentHandler opens and resolves incidents for the detector, and
// handles what people do with them.
type IncidentHandler struct {
	store domain.EventStore
	ids   IDs
	now   Clock
}

// NewIncidentHandler returns a handler.
func NewIncidentHandler(store domain.EventStore, ids IDs, now Clock) *IncidentHandler {
	return &IncidentHandler{store: store, ids: ids, now: now}
}

var systemActor = Actor{Type: domain.ActorSystem}

// Open makes sure an incident of typ is open for the monitor and returns
// its id. The monitor's tracker stream decides: a second call, or a call
// repeated after a crash, finds the incident already open. If a crash fell
// between the tracker and the incident's own stream, the incident stream
// is written now.
func (h *IncidentHandler) Open(ctx context.Context, accountID, monitorID int64, typ domain.IncidentType, message string, startedAt time.Time) (int64, domain.Position, error) {
	meta := systemActor.metadata(h.now(), accountID)
	var pos domain.Position
	id, err := retryOnConflict(ctx, func() (int64, error) {
		var t domain.IncidentTracker
		version, err := load(ctx, h.store, domain.MonitorIncidentsStream(monitorID), &t)
		if err != nil {
			return 0, err
		}
		if id := t.Open[typ]; id != 0 {
			return id, nil
		}
		id, err := h.ids.Next(ctx, "incident")
		if err != nil {
			return 0, err
		}
		_, err = save(ctx, h.store, domain.MonitorIncidentsStream(monitorID), version, meta, []domain.Event{&domain.IncidentOpened{IncidentID: id, Type: typ}})
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
		IncidentID: id, MonitorID: monitorID, AccountID: accountID, Type: typ, Message: message, StartedAt: startedAt.UTC().Truncate(time.Microsecond)}})
	if domain.ErrorCode(err) == domain.ErrConflict {
		return id, pos, nil // a concurrent repair wrote it
	}
	return id, res.Position, err
}

// Close resolves the monitor's open incident of typ, if any, and frees the
// tracker's slot. Repeating it is harmless.
func (h *IncidentHandler) Close(ctx context.Context, accountID, monitorID int64, typ domain.IncidentType, reason, message string) (domain.Position, error) {
	var t domain.IncidentTracker
	if _, err := load(ctx, h.store, domain.MonitorIncidentsStream(monitorID), &t); err != nil {
		return domain.Position{}, err
	}
	id := t.Open[typ]
	if id == 0 {
		return domain.Position{}, nil
	}
	pos, err := h.decide(ctx, systemActor, accountID, id, func(inc *domain.Incident) ([]domain.Event, error) {
		return inc.Resolve(0, reason, message), nil
	})
	if err != nil {
		return pos, err
	}
	_, err = retryOnConflict(ctx, func() (domain.AppendResult, error) {
		var t domain.IncidentTracker
		version, err := load(ctx, h.store, domain.MonitorIncidentsStream(monitorID), &t)
		if err != nil || t.Open[typ] != id {
			return domain.AppendResult{}, err
		}
		return save(ctx, h.store, domain.MonitorIncidentsStream(monitorID), version, systemActor.metadata(h.now(), accountID),
			[]domain.Event{&domain.IncidentClosed{IncidentID: id, Type: typ}})
	})
	return pos, err
}

// decide runs load-decide-append on an incident, deciding again when a
// concurrent change (another person, the automatic resolve) wins the race.
func (h *IncidentHandler) decide(ctx context.Context, actor Actor, accountID, id int64, fn func(*domain.Incident) ([]domain.Event, error)) (domain.Position, error) {
	return decideOwned(ctx, h.store, h.now, actor, accountID, domain.IncidentStream(id), fmt.Sprintf("incident %d", id),
		func() *domain.Incident { return &domain.Incident{} }, fn)
}

// Acknowledge marks the incident as being handled.
func (h *IncidentHandler) Acknowledge(ctx context.Context, actor Actor, id int64, message string) (domain.Position, error) {
	return h.decide(ctx, actor, actor.AccountID, id, func(inc *domain.Incident) ([]domain.Event, error) {
		return inc.Acknowledge(actor.ID, message)
	})
}

// Snooze silences the incident's notifications for a while.
func (h *IncidentHandler) Snooze(ctx context.Context, actor Actor, id int64, minutes int, reason string) (domain.Position, error) {
	return h.decide(ctx, actor, actor.AccountID, id, func(inc *domain.Incident) ([]domain.Event, error) {
		return inc.Snooze(actor.ID, minutes, reason, h.now())
	})
}

// Comment adds a note to the timeline; a public one is also an update on
// status pages.
func (h *IncidentHandler) Comment(ctx context.Context, actor Actor, id int64, message string, public bool) (domain.Position, error) {
	return h.decide(ctx, actor, actor.AccountID, id, func(inc *domain.Incident) ([]domain.Event, error) {
		return inc.Comment(actor.ID, message, public)
	})
}
