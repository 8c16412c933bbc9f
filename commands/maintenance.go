package commands

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/medialuna/medialuna/domain"
)

// AccountMonitors lists an account's monitor ids, for validating windows.
type AccountMonitors interface {
	MonitorIDs(ctx context.Context, accountID int64) ([]int64, error)
}

// MaintenanceHandler handles maintenance window commands; every change is
// an event on the window's stream, so the audit log shows who scheduled what.
type MaintenanceHandler struct {
	store    domain.EventStore
	ids      IDs
	now      Clock
	monitors AccountMonitors
}

// NewMaintenanceHandler returns a handler.
func NewMaintenanceHandler(store domain.EventStore, ids IDs, now Clock, monitors AccountMonitors) *MaintenanceHandler {
	return &MaintenanceHandler{store: store, ids: ids, now: now, monitors: monitors}
}

func (h *MaintenanceHandler) validate(ctx context.Context, accountID int64, cfg *domain.MaintenanceConfig) error {
	ids, err := h.monitors.MonitorIDs(ctx, accountID)
	if err != nil {
		return err
	}
	own := map[int64]bool{}
	for _, id := range ids {
		own[id] = true
	}
	return cfg.Validate(time.LoadLocation, func(id int64) bool { return own[id] })
}

// Schedule creates a window.
func (h *MaintenanceHandler) Schedule(ctx context.Context, actor Actor, cfg domain.MaintenanceConfig) (int64, domain.Position, error) {
	if err := h.validate(ctx, actor.AccountID, &cfg); err != nil {
		return 0, domain.Position{}, err
	}
	id, err := h.ids.Next(ctx, "maintenance")
	if err != nil {
		return 0, domain.Position{}, err
	}
	res, err := save(ctx, h.store, domain.MaintenanceStream(id), domain.NoStream, actor.metadata(h.now(), 0),
		[]domain.Event{&domain.MaintenanceScheduled{WindowID: id, AccountID: actor.AccountID, Config: cfg}})
	return id, res.Position, err
}

// Update applies a partial change: change maps the window's config, as
// loaded, to the new one (the API overlays the fields its request names).
func (h *MaintenanceHandler) Update(ctx context.Context, actor Actor, id int64, change func(domain.MaintenanceConfig) (domain.MaintenanceConfig, error)) (domain.Position, error) {
	ids, err := h.monitors.MonitorIDs(ctx, actor.AccountID)
	if err != nil {
		return domain.Position{}, err
	}
	return h.decide(ctx, actor, id, func(w *domain.MaintenanceWindow) ([]domain.Event, error) {
		cfg := w.Config
		// Monitors deleted since the window was saved drop out of it, so a
		// change that leaves monitor_ids alone still validates.
		cfg.MonitorIDs = nil
		for _, m := range w.Config.MonitorIDs {
			if slices.Contains(ids, m) {
				cfg.MonitorIDs = append(cfg.MonitorIDs, m)
			}
		}
		cfg, err := change(cfg)
		if err != nil {
			return nil, err
		}
		if err := h.validate(ctx, actor.AccountID, &cfg); err != nil {
			return nil, err
		}
		return []domain.Event{&domain.MaintenanceUpdated{Config: cfg}}, nil
	})
}

// Toggle switches a window on or off.
func (h *MaintenanceHandler) Toggle(ctx context.Context, actor Actor, id int64) (domain.Position, error) {
	return h.decide(ctx, actor, id, func(w *domain.MaintenanceWindow) ([]domain.Event, error) {
		return []domain.Event{&domain.MaintenanceToggled{IsActive: !w.Config.IsActive}}, nil
	})
}

// Delete removes a window.
func (h *MaintenanceHandler) Delete(ctx context.Context, actor Actor, id int64) (domain.Position, error) {
	return h.decide(ctx, actor, id, func(w *domain.MaintenanceWindow) ([]domain.Event, error) {
		return []domain.Event{&domain.MaintenanceDeleted{}}, nil
	})
}

func (h *MaintenanceHandler) decide(ctx context.Context, actor Actor, id int64, fn func(*domain.MaintenanceWindow) ([]domain.Event, error)) (domain.Position, error) {
	return decideOwned(ctx, h.store, h.now, actor, actor.AccountID, domain.MaintenanceStream(id), fmt.Sprintf("maintenance window %d", id),
		func() *domain.MaintenanceWindow { return &domain.MaintenanceWindow{} }, fn)
}
