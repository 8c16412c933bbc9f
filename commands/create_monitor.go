package commands

import (
	"context"
	"crypto/rand"
	"encoding/hex"

	"github.com/medialuna/medialuna/domain"
)

// CreateMonitor creates a monitor from a config already filled with
// defaults (domain.NewMonitorConfig).
type CreateMonitor struct {
	Actor  Actor
	Plan   domain.Plan
	Config domain.MonitorConfig
}

// CreateMonitorHandler handles CreateMonitor.
type CreateMonitorHandler struct {
	store  domain.EventStore
	ids    IDs
	now    Clock
	rules  monitorRules
	quotas quotas
}

// NewCreateMonitorHandler returns a handler. minIntervalFloor, when
// positive, lowers every plan's minimum check interval (operator setting).
func NewCreateMonitorHandler(store domain.EventStore, ids IDs, now Clock, facts MonitorFacts, minIntervalFloor int) *CreateMonitorHandler {
	return &CreateMonitorHandler{store: store, ids: ids, now: now, rules: monitorRules{facts: facts, minFloor: minIntervalFloor},
		quotas: quotas{store: store, now: now, seeds: facts, turns: &streamTurns{}}}
}

// Handle creates the monitor and returns its id. Errors: ErrInvalid for a
// config the plan or the account's facts refuse, ErrLimit when the plan's
// monitors are used up.
func (h *CreateMonitorHandler) Handle(ctx context.Context, cmd CreateMonitor) (int64, domain.Position, error) {
	rules, regions, err := h.rules.rules(ctx, cmd.Actor.AccountID, cmd.Plan, len(cmd.Config.DependsOn) > 0)
	if err != nil {
		return 0, domain.Position{}, err
	}
	cfg := cmd.Config
	if len(cfg.RegionIDs) == 0 && len(regions) > 0 {
		cfg.RegionIDs = []int64{regions[0]} // the reference: the first active region
	}
	if err := cfg.Validate(rules); err != nil {
		return 0, domain.Position{}, err
	}
	var pushToken string
	if cfg.Type == domain.TypePUSH {
		var b [20]byte
		if _, err := rand.Read(b[:]); err != nil {
			return 0, domain.Position{}, err
		}
		pushToken = hex.EncodeToString(b[:])
	}
	// The plan's count is decided on the account's monitor quota stream,
	// where concurrent creates meet, not on a read model that lags.
	ids, refusal, err := h.quotas.reserveMany(ctx, cmd.Actor, domain.QuotaMonitors, rules.Limits, 1,
		func(n int) ([]int64, error) { return nextIDs(ctx, h.ids, "monitor", n) }, h.gone)
	if err != nil {
		return 0, domain.Position{}, err
	}
	if len(ids) == 0 {
		return 0, domain.Position{}, refusal
	}
	id := ids[0]
	ev := &domain.MonitorCreated{MonitorID: id, AccountID: cmd.Actor.AccountID, Config: cfg, PushToken: pushToken}
	res, err := save(ctx, h.store, domain.MonitorStream(id), domain.NoStream, cmd.Actor.metadata(h.now(), 0), []domain.Event{ev})
	if err != nil {
		h.quotas.release(ctx, cmd.Actor, cmd.Actor.AccountID, domain.QuotaMonitors, id)
		return 0, domain.Position{}, err
	}
	return id, res.Position, nil
}

// Batch returns the batch form of h (CreateMonitors), sharing its queue
// of reservations, so that the single and batch creates of one process
// take turns on an account's quota stream instead of racing.
func (h *CreateMonitorHandler) Batch() *CreateMonitorsHandler { return &CreateMonitorsHandler{one: h} }

// gone reports whether a monitor holding a quota slot is gone.
func (h *CreateMonitorHandler) gone(ctx context.Context, s domain.Slot) (bool, error) {
	return goneFrom(ctx, h.store, h.now, domain.MonitorStream(s.ID), &domain.Monitor{}, s)
}
