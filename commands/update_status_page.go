package commands

import (
	"context"
	"slices"

	"github.com/medialuna/medialuna/domain"
)

// UpdateStatusPage changes a page: Change maps its config, as loaded from
// its stream, to the new one (the API overlays the fields its request
// names); it runs again when a concurrent change wins the race.
type UpdateStatusPage struct {
	Actor        Actor
	StatusPageID int64
	Change       func(domain.StatusPageConfig) (domain.StatusPageConfig, error)
}

// UpdateStatusPageHandler handles UpdateStatusPage.
type UpdateStatusPageHandler struct{ statusPages }

// NewUpdateStatusPageHandler returns a handler.
func NewUpdateStatusPageHandler(store domain.EventStore, now Clock, facts StatusPageFacts) *UpdateStatusPageHandler {
	return &UpdateStatusPageHandler{newStatusPages(store, nil, now, facts)}
}

// Handle applies the change. A new subdomain is claimed before the page
// changes and the old one released after. Errors: ErrNotFound when the
// page is not the account's, ErrInvalid, ErrConflict for a subdomain taken.
func (h *UpdateStatusPageHandler) Handle(ctx context.Context, cmd UpdateStatusPage) (domain.Position, error) {
	actor, id, change := cmd.Actor, cmd.StatusPageID, cmd.Change
	monitors, err := h.facts.MonitorIDs(ctx, actor.AccountID)
	if err != nil {
		return domain.Position{}, err
	}
	stream := domain.StatusPageStream(id)
	var renamedFrom string
	res, err := retryOnConflict(ctx, func() (domain.AppendResult, error) {
		renamedFrom = ""
		var page domain.StatusPage
		version, err := load(ctx, h.store, stream, &page)
		if err != nil {
			return domain.AppendResult{}, err
		}
		if !page.Exists() || page.Owner() != actor.AccountID {
			return domain.AppendResult{}, domain.Errorf(domain.ErrNotFound, "status page %d not found", id)
		}
		cfg := page.Config
		// Monitors deleted since the page was saved drop out of it, so a
		// change that leaves monitor_ids alone still validates.
		cfg.MonitorIDs = domain.ExistingMonitors(page.Config.MonitorIDs, monitors)
		cfg, err = change(cfg)
		if err != nil {
			return domain.AppendResult{}, err
		}
		if err := cfg.Validate(func(m int64) bool { return slices.Contains(monitors, m) }); err != nil {
			return domain.AppendResult{}, err
		}
		renamed := cfg.Subdomain != page.Config.Subdomain
		if renamed {
			if err := h.claim(ctx, actor, cfg.Subdomain, id); err != nil {
				return domain.AppendResult{}, err
			}
		}
		res, err := save(ctx, h.store, stream, version, actor.metadata(h.now(), 0), []domain.Event{&domain.StatusPageUpdated{Config: cfg}})
		if err != nil {
			if renamed {
				h.release(ctx, actor, cfg.Subdomain, id)
			}
			return res, err
		}
		if renamed {
			renamedFrom = page.Config.Subdomain
		}
		return res, nil
	})
	if err != nil {
		return domain.Position{}, err
	}
	if renamedFrom != "" {
		// Best effort: a release lost here leaves a stale claim, which the
		// next page wanting the name recognises and takes over.
		h.release(ctx, actor, renamedFrom, id)
	}
	return res.Position, nil
}
