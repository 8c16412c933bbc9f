package commands

import (
	"context"

	"github.com/medialuna/medialuna/domain"
)

// CreateStatusPage makes a status page of the actor's account.
type CreateStatusPage struct {
	Actor  Actor
	Plan   domain.Plan
	Config domain.StatusPageConfig
}

// CreateStatusPageHandler handles CreateStatusPage.
type CreateStatusPageHandler struct{ statusPages }

// NewCreateStatusPageHandler returns a handler.
func NewCreateStatusPageHandler(store domain.EventStore, ids IDs, now Clock, facts StatusPageFacts) *CreateStatusPageHandler {
	return &CreateStatusPageHandler{newStatusPages(store, ids, now, facts)}
}

// Handle makes the page and returns its id: validate, check the plan's page
// count, claim the subdomain, then record the page (releasing the name if
// that fails). Errors: ErrInvalid for a config validation refuses,
// ErrConflict for a subdomain taken, ErrLimit when the plan's pages are
// used up.
func (h *CreateStatusPageHandler) Handle(ctx context.Context, cmd CreateStatusPage) (int64, domain.Position, error) {
	actor, plan, cfg := cmd.Actor, cmd.Plan, cmd.Config
	if err := h.validate(ctx, actor.AccountID, &cfg); err != nil {
		return 0, domain.Position{}, err
	}
	// The plan's count is decided on the account's page quota stream, where
	// concurrent creates meet; the subdomain on its claim stream.
	// A taken subdomain is refused before a quota slot is reserved, so the
	// common 409 appends nothing and holds no slot another create needs.
	if err := h.available(ctx, actor, cfg.Subdomain); err != nil {
		return 0, domain.Position{}, err
	}
	limits, _ := domain.LimitsOf(plan)
	id, err := h.quotas.reserve(ctx, actor, domain.QuotaStatusPages, limits, domain.Slot{},
		func() (int64, error) { return h.ids.Next(ctx, "status_page") }, h.gone)
	if err != nil {
		return 0, domain.Position{}, err
	}
	if err := h.claim(ctx, actor, cfg.Subdomain, id); err != nil {
		h.quotas.release(ctx, actor, actor.AccountID, domain.QuotaStatusPages, id)
		return 0, domain.Position{}, err
	}
	res, err := save(ctx, h.store, domain.StatusPageStream(id), domain.NoStream, actor.metadata(h.now(), 0),
		[]domain.Event{&domain.StatusPageCreated{PageID: id, AccountID: actor.AccountID, Config: cfg}})
	if err != nil {
		h.release(ctx, actor, cfg.Subdomain, id)
		h.quotas.release(ctx, actor, actor.AccountID, domain.QuotaStatusPages, id)
		return 0, domain.Position{}, err
	}
	return id, res.Position, nil
}
