package commands

import (
	"context"
	"fmt"

	"github.com/medialuna/medialuna/domain"
)

// incidents is what the commands on an open incident share: the detector's
// resolve (CloseIncident) and what people do with it.
type incidents struct {
	store domain.EventStore
	now   Clock
}

func newIncidents(store domain.EventStore, now Clock) incidents {
	return incidents{store: store, now: now}
}

// decide runs load-decide-append on an incident, deciding again when a
// concurrent change (another person, the automatic resolve) wins the race.
func (h *incidents) decide(ctx context.Context, actor Actor, accountID, id int64, fn func(*domain.Incident) ([]domain.Event, error)) (domain.Position, error) {
	return decideOwned(ctx, h.store, h.now, actor, accountID, domain.IncidentStream(id), fmt.Sprintf("incident %d", id),
		func() *domain.Incident { return &domain.Incident{} }, fn)
}

// AcknowledgeIncident marks one of the actor's account's incidents as being
// handled.
type AcknowledgeIncident struct {
	Actor      Actor
	IncidentID int64
	Message    string
}

// AcknowledgeIncidentHandler handles AcknowledgeIncident.
type AcknowledgeIncidentHandler struct{ incidents }

// NewAcknowledgeIncidentHandler returns a handler.
func NewAcknowledgeIncidentHandler(store domain.EventStore, now Clock) *AcknowledgeIncidentHandler {
	return &AcknowledgeIncidentHandler{newIncidents(store, now)}
}

// Handle acknowledges the incident. Errors: ErrNotFound when it is not the
// account's, ErrConflict when it is resolved.
func (h *AcknowledgeIncidentHandler) Handle(ctx context.Context, cmd AcknowledgeIncident) (domain.Position, error) {
	return h.decide(ctx, cmd.Actor, cmd.Actor.AccountID, cmd.IncidentID, func(inc *domain.Incident) ([]domain.Event, error) {
		return inc.Acknowledge(cmd.Actor.ID, cmd.Message)
	})
}

// SnoozeIncident silences an incident's notifications for Minutes.
type SnoozeIncident struct {
	Actor      Actor
	IncidentID int64
	Minutes    int
	Reason     string
}

// SnoozeIncidentHandler handles SnoozeIncident.
type SnoozeIncidentHandler struct{ incidents }

// NewSnoozeIncidentHandler returns a handler.
func NewSnoozeIncidentHandler(store domain.EventStore, now Clock) *SnoozeIncidentHandler {
	return &SnoozeIncidentHandler{newIncidents(store, now)}
}

// Handle snoozes the incident from now.
func (h *SnoozeIncidentHandler) Handle(ctx context.Context, cmd SnoozeIncident) (domain.Position, error) {
	return h.decide(ctx, cmd.Actor, cmd.Actor.AccountID, cmd.IncidentID, func(inc *domain.Incident) ([]domain.Event, error) {
		return inc.Snooze(cmd.Actor.ID, cmd.Minutes, cmd.Reason, h.now())
	})
}

// CommentIncident adds a note to an incident's timeline; a public one is
// also an update on status pages.
type CommentIncident struct {
	Actor      Actor
	IncidentID int64
	Message    string
	Public     bool
}

// CommentIncidentHandler handles CommentIncident.
type CommentIncidentHandler struct{ incidents }

// NewCommentIncidentHandler returns a handler.
func NewCommentIncidentHandler(store domain.EventStore, now Clock) *CommentIncidentHandler {
	return &CommentIncidentHandler{newIncidents(store, now)}
}

// Handle adds the comment.
func (h *CommentIncidentHandler) Handle(ctx context.Context, cmd CommentIncident) (domain.Position, error) {
	return h.decide(ctx, cmd.Actor, cmd.Actor.AccountID, cmd.IncidentID, func(inc *domain.Incident) ([]domain.Event, error) {
		return inc.Comment(cmd.Actor.ID, cmd.Message, cmd.Public)
	})
}
