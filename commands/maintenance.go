package commands

import (
	"context"
	"fmt"
	"time"

	"github.com/medialuna/medialuna/domain"
)

// AccountMonitors lists an account's monitor ids, for validating windows.
type AccountMonitors interface {
	MonitorIDs(ctx context.Context, accountID int64) ([]int64, error)
}

// maintenanceWindows is what the maintenance window commands share; every
// change is an event on the window's stream, so the audit log shows who
// scheduled what.
type maintenanceWindows struct {
	store    domain.EventStore
	ids      IDs
	now      Clock
	monitors AccountMonitors
}

func (h *maintenanceWindows) validate(ctx context.Context, accountID int64, cfg *domain.MaintenanceConfig) error {
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

// ScheduleMaintenance creates a window of the actor's account.
type ScheduleMaintenance struct {
	Actor  Actor
	Config domain.MaintenanceConfig
}

// ScheduleMaintenanceHandler handles ScheduleMaintenance.
type ScheduleMaintenanceHandler struct{ maintenanceWindows }

// NewScheduleMaintenanceHandler returns a handler.
func NewScheduleMaintenanceHandler(store domain.EventStore, ids IDs, now Clock, monitors AccountMonitors) *ScheduleMaintenanceHandler {
	return &ScheduleMaintenanceHandler{maintenanceWindows{store: store, ids: ids, now: now, monitors: monitors}}
}

// Handle creates a window.
func (h *ScheduleMaintenanceHandler) Handle(ctx context.Context, cmd ScheduleMaintenance) (int64, domain.Position, error) {
	actor, cfg := cmd.Actor, cmd.Config
	if err := h.validate(ctx, actor.AccountID, &cfg); err != nil {
		return 0, domain.Position{}, err
	}
	return createOwned(ctx, h.store, h.ids, h.now, actor, "maintenance", domain.MaintenanceStream, func(id int64) domain.Event {
		return &domain.MaintenanceScheduled{WindowID: id, AccountID: actor.AccountID, Config: cfg}
	})
}

// UpdateMaintenance changes a window: Change maps its config, as loaded
// from its stream, to the new one (the API overlays the fields its request
// names).
type UpdateMaintenance struct {
	Actor    Actor
	WindowID int64
	Change   func(domain.MaintenanceConfig) (domain.MaintenanceConfig, error)
}

// UpdateMaintenanceHandler handles UpdateMaintenance.
type UpdateMaintenanceHandler struct{ maintenanceWindows }

// NewUpdateMaintenanceHandler returns a handler.
func NewUpdateMaintenanceHandler(store domain.EventStore, ids IDs, now Clock, monitors AccountMonitors) *UpdateMaintenanceHandler {
	return &UpdateMaintenanceHandler{maintenanceWindows{store: store, ids: ids, now: now, monitors: monitors}}
}

// Handle applies the change to the window as its stream holds it.
func (h *UpdateMaintenanceHandler) Handle(ctx context.Context, cmd UpdateMaintenance) (domain.Position, error) {
	actor, id, change := cmd.Actor, cmd.WindowID, cmd.Change
	ids, err := h.monitors.MonitorIDs(ctx, actor.AccountID)
	if err != nil {
		return domain.Position{}, err
	}
	return h.decide(ctx, actor, id, func(w *domain.MaintenanceWindow) ([]domain.Event, error) {
		cfg := w.Config
		// Monitors deleted since the window was saved drop out of it, so a
		// change that leaves monitor_ids alone still validates.
		cfg.MonitorIDs = domain.ExistingMonitors(w.Config.MonitorIDs, ids)
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

// ToggleMaintenance switches a window on or off.
type ToggleMaintenance struct {
	Actor    Actor
	WindowID int64
}

// ToggleMaintenanceHandler handles ToggleMaintenance.
type ToggleMaintenanceHandler struct{ maintenanceWindows }

// NewToggleMaintenanceHandler returns a handler.
func NewToggleMaintenanceHandler(store domain.EventStore, ids IDs, now Clock, monitors AccountMonitors) *ToggleMaintenanceHandler {
	return &ToggleMaintenanceHandler{maintenanceWindows{store: store, ids: ids, now: now, monitors: monitors}}
}

// Handle switches a window on or off.
func (h *ToggleMaintenanceHandler) Handle(ctx context.Context, cmd ToggleMaintenance) (domain.Position, error) {
	actor, id := cmd.Actor, cmd.WindowID
	return h.decide(ctx, actor, id, func(w *domain.MaintenanceWindow) ([]domain.Event, error) {
		return []domain.Event{&domain.MaintenanceToggled{IsActive: !w.Config.IsActive}}, nil
	})
}

// DeleteMaintenance removes a window.
type DeleteMaintenance struct {
	Actor    Actor
	WindowID int64
}

// DeleteMaintenanceHandler handles DeleteMaintenance.
type DeleteMaintenanceHandler struct{ maintenanceWindows }

// NewDeleteMaintenanceHandler returns a handler.
func NewDeleteMaintenanceHandler(store domain.EventStore, ids IDs, now Clock, monitors AccountMonitors) *DeleteMaintenanceHandler {
	return &DeleteMaintenanceHandler{maintenanceWindows{store: store, ids: ids, now: now, monitors: monitors}}
}

// Handle removes a window.
func (h *DeleteMaintenanceHandler) Handle(ctx context.Context, cmd DeleteMaintenance) (domain.Position, error) {
	actor, id := cmd.Actor, cmd.WindowID
	return h.decide(ctx, actor, id, func(w *domain.MaintenanceWindow) ([]domain.Event, error) {
		return []domain.Event{&domain.MaintenanceDeleted{}}, nil
	})
}

func (h *maintenanceWindows) decide(ctx context.Context, actor Actor, id int64, fn func(*domain.MaintenanceWindow) ([]domain.Event, error)) (domain.Position, error) {
	return decideOwned(ctx, h.store, h.now, actor, actor.AccountID, domain.MaintenanceStream(id), fmt.Sprintf("maintenance window %d", id),
		func() *domain.MaintenanceWindow { return &domain.MaintenanceWindow{} }, fn)
}
