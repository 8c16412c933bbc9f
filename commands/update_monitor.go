package commands

import (
	"context"
	"slices"

	"github.com/medialuna/medialuna/domain"
)

// UpdateMonitor applies a partial change. Change maps the monitor's config
// as loaded from its stream to the new one (the API overlays the fields its
// request names); it runs again when a concurrent change wins the race.
type UpdateMonitor struct {
	Actor     Actor
	Plan      domain.Plan
	MonitorID int64
	Change    func(current domain.MonitorConfig) (domain.MonitorConfig, error)
}

// UpdateMonitorHandler handles UpdateMonitor.
type UpdateMonitorHandler struct {
	store domain.EventStore
	now   Clock
	rules monitorRules
}

// NewUpdateMonitorHandler returns a handler. minIntervalFloor, when
// positive, lowers every plan's minimum check interval (operator setting).
func NewUpdateMonitorHandler(store domain.EventStore, now Clock, facts MonitorFacts, minIntervalFloor int) *UpdateMonitorHandler {
	return &UpdateMonitorHandler{store: store, now: now, rules: monitorRules{facts: facts, minFloor: minIntervalFloor}}
}

// Handle updates the monitor. Errors: ErrNotFound when it is not the
// account's, ErrInvalid for a config validation refuses or a dependency
// cycle.
func (h *UpdateMonitorHandler) Handle(ctx context.Context, cmd UpdateMonitor) (domain.Position, error) {
	rules, _, err := h.rules.rules(ctx, cmd.Actor.AccountID, cmd.Plan, true) // the patched config's depends_on is not known yet
	if err != nil {
		return domain.Position{}, err
	}
	return decideMonitor(ctx, h.store, h.now, cmd.Actor, cmd.MonitorID, func(m *domain.Monitor) ([]domain.Event, error) {
		cfg, err := cmd.Change(m.Config)
		if err != nil {
			return nil, err
		}
		if err := m.Config.CheckTypeChange(cfg.Type); err != nil {
			return nil, err
		}
		rules.MonitorID = m.ID
		// A dependency deleted since is dropped, not an error.
		cfg.DependsOn = slices.DeleteFunc(cfg.DependsOn, func(id int64) bool {
			return slices.Contains(m.Config.DependsOn, id) && !rules.AccountMonitors[id]
		})
		if err := cfg.Validate(rules.Keeping(m.Config)); err != nil {
			return nil, err
		}
		if len(cfg.DependsOn) > 0 {
			graph, err := h.rules.facts.MonitorDependencies(ctx, cmd.Actor.AccountID)
			if err != nil {
				return nil, err
			}
			if cycle := domain.DependencyCycle(m.ID, cfg.DependsOn, graph); cycle != nil {
				return nil, domain.Invalid("depends_on", "value_error", "depends_on would make a cycle: %s", cycle)
			}
		}
		return []domain.Event{&domain.MonitorUpdated{Config: cfg}}, nil
	})
}
