package commands

import (
	"context"
	"fmt"

	"github.com/medialuna/medialuna/domain"
)

// DeleteStatusPage removes a page of the actor's account.
type DeleteStatusPage struct {
	Actor        Actor
	StatusPageID int64
}

// DeleteStatusPageHandler handles DeleteStatusPage.
type DeleteStatusPageHandler struct{ statusPages }

// NewDeleteStatusPageHandler returns a handler.
func NewDeleteStatusPageHandler(store domain.EventStore, now Clock) *DeleteStatusPageHandler {
	return &DeleteStatusPageHandler{newStatusPages(store, nil, now, nil)}
}

// Handle removes the page and frees its subdomain and its quota slot.
// Errors: ErrNotFound when the page is not the account's.
func (h *DeleteStatusPageHandler) Handle(ctx context.Context, cmd DeleteStatusPage) (domain.Position, error) {
	actor, id := cmd.Actor, cmd.StatusPageID
	var sub string
	pos, err := decideOwned(ctx, h.store, h.now, actor, actor.AccountID, domain.StatusPageStream(id), fmt.Sprintf("status page %d", id),
		func() *domain.StatusPage { return &domain.StatusPage{} },
		func(p *domain.StatusPage) ([]domain.Event, error) {
			sub = p.Config.Subdomain
			return []domain.Event{&domain.StatusPageDeleted{}}, nil
		})
	if err != nil {
		return pos, err
	}
	h.release(ctx, actor, sub, id)
	h.quotas.release(ctx, actor, actor.AccountID, domain.QuotaStatusPages, id)
	return pos, nil
}
