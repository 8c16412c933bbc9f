package commands

import (
	"context"

	"github.com/medialuna/medialuna/domain"
)

// Tag names are unique per account, case-insensitively: they are held on the
// account's tag quota stream (domain.QuotaStream), where concurrent creates
// meet.

// CreateTag creates a tag of the actor's account.
type CreateTag struct {
	Actor Actor
	Name  string
	Color string
}

// CreateTagHandler handles CreateTag.
type CreateTagHandler struct {
	store  domain.EventStore
	ids    IDs
	now    Clock
	quotas quotas
}

// NewCreateTagHandler returns a handler. seeds lists the tags of accounts
// older than their quota stream.
func NewCreateTagHandler(store domain.EventStore, ids IDs, now Clock, seeds QuotaSeeds) *CreateTagHandler {
	return &CreateTagHandler{store: store, ids: ids, now: now, quotas: quotas{store: store, now: now, seeds: seeds}}
}

// Handle creates the tag and returns its id. Errors: ErrConflict when the
// account has a tag of that name, in any case; ErrInvalid for a bad name or
// color.
func (h *CreateTagHandler) Handle(ctx context.Context, cmd CreateTag) (int64, domain.Position, error) {
	actor := cmd.Actor
	probe, err := domain.NewTag(1, actor.AccountID, cmd.Name, cmd.Color)
	if err != nil {
		return 0, domain.Position{}, err
	}
	name := probe[0].(*domain.TagCreated).Name
	id, err := h.quotas.reserve(ctx, actor, domain.QuotaTags, domain.PlanLimits{}, domain.Slot{Name: name},
		func() (int64, error) { return h.ids.Next(ctx, "tag") }, h.gone)
	if err != nil {
		return 0, domain.Position{}, err
	}
	events, err := domain.NewTag(id, actor.AccountID, name, cmd.Color)
	if err == nil {
		var res domain.AppendResult
		res, err = save(ctx, h.store, domain.TagStream(id), domain.NoStream, actor.metadata(h.now(), 0), events)
		if err == nil {
			return id, res.Position, nil
		}
	}
	h.quotas.release(ctx, actor, actor.AccountID, domain.QuotaTags, id)
	return 0, domain.Position{}, err
}

// gone reports whether a tag holding a name is gone.
func (h *CreateTagHandler) gone(ctx context.Context, s domain.Slot) (bool, error) {
	return goneFrom(ctx, h.store, h.now, domain.TagStream(s.ID), &tagState{}, s)
}

// DeleteTag deletes a tag of the actor's account.
type DeleteTag struct {
	Actor Actor
	TagID int64
}

// DeleteTagHandler handles DeleteTag.
type DeleteTagHandler struct {
	store  domain.EventStore
	now    Clock
	quotas quotas
}

// NewDeleteTagHandler returns a handler.
func NewDeleteTagHandler(store domain.EventStore, now Clock) *DeleteTagHandler {
	return &DeleteTagHandler{store: store, now: now, quotas: quotas{store: store, now: now}}
}

// Handle deletes the tag and frees its name. Errors: ErrNotFound when the
// tag is not the account's or is already deleted.
func (h *DeleteTagHandler) Handle(ctx context.Context, cmd DeleteTag) (domain.Position, error) {
	actor, id := cmd.Actor, cmd.TagID
	var t tagState
	version, err := load(ctx, h.store, domain.TagStream(id), &t)
	if err != nil {
		return domain.Position{}, err
	}
	if t.accountID != actor.AccountID || t.deleted {
		return domain.Position{}, domain.Errorf(domain.ErrNotFound, "tag %d not found", id)
	}
	res, err := save(ctx, h.store, domain.TagStream(id), version, actor.metadata(h.now(), 0), []domain.Event{&domain.TagDeleted{}})
	if err != nil {
		return domain.Position{}, err
	}
	h.quotas.release(ctx, actor, actor.AccountID, domain.QuotaTags, id)
	return res.Position, nil
}

type tagState struct {
	accountID int64
	deleted   bool
}

func (t *tagState) Exists() bool { return t.accountID != 0 && !t.deleted }

func (t *tagState) Apply(e domain.Event) {
	switch e := e.(type) {
	case *domain.TagCreated:
		t.accountID = e.AccountID
	case *domain.TagDeleted:
		t.deleted = true
	}
}
