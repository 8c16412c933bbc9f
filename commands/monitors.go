package commands

import (
	"context"
	"fmt"

	"github.com/medialuna/medialuna/domain"
)

// MonitorFacts are the read-model facts monitor validation needs.
type MonitorFacts interface {
	// ActiveRegions returns the ids of active regions, lowest first.
	ActiveRegions(ctx context.Context) ([]int64, error)
	// TagIDs returns the account's tag ids.
	TagIDs(ctx context.Context, accountID int64) ([]int64, error)
	// MonitorIDs returns the account's monitor ids.
	MonitorIDs(ctx context.Context, accountID int64) ([]int64, error)
	// MonitorDependencies returns the account's monitors that depend on
	// others, with their depends_on.
	MonitorDependencies(ctx context.Context, accountID int64) (map[int64][]int64, error)
	// QuotaSeeds counts the monitors of accounts older than their quota
	// stream.
	QuotaSeeds
}

// monitorRules gathers the facts outside a monitor that its validation needs.
type monitorRules struct {
	facts    MonitorFacts
	minFloor int
}

// rules reads the facts; the account's monitors (what depends_on may name)
// only when withMonitors: reading every id of an account of thousands for
// each create that names none cost more than the create itself.
func (h monitorRules) rules(ctx context.Context, accountID int64, plan domain.Plan, withMonitors bool) (domain.MonitorRules, []int64, error) {
	limits, _ := domain.LimitsOf(plan)
	regions, err := h.facts.ActiveRegions(ctx)
	if err != nil {
		return domain.MonitorRules{}, nil, err
	}
	tags, err := h.facts.TagIDs(ctx, accountID)
	if err != nil {
		return domain.MonitorRules{}, nil, err
	}
	var monitors []int64
	if withMonitors {
		if monitors, err = h.facts.MonitorIDs(ctx, accountID); err != nil {
			return domain.MonitorRules{}, nil, err
		}
	}
	r := domain.MonitorRules{Limits: limits, MinIntervalFloor: h.minFloor, ActiveRegions: map[int64]bool{}, AccountTags: map[int64]bool{},
		AccountMonitors: map[int64]bool{}}
	for _, id := range monitors {
		r.AccountMonitors[id] = true
	}
	for _, id := range regions {
		r.ActiveRegions[id] = true
	}
	for _, id := range tags {
		r.AccountTags[id] = true
	}
	return r, regions, nil
}

func decideMonitor(ctx context.Context, store domain.EventStore, now Clock, actor Actor, id int64, fn func(*domain.Monitor) ([]domain.Event, error)) (domain.Position, error) {
	return decideOwned(ctx, store, now, actor, actor.AccountID, domain.MonitorStream(id), fmt.Sprintf("monitor %d", id),
		func() *domain.Monitor { return &domain.Monitor{} }, fn)
}
