package commands

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

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

// MonitorHandler handles monitor commands.
type MonitorHandler struct {
	store    domain.EventStore
	ids      IDs
	now      Clock
	facts    MonitorFacts
	minFloor int
	quotas   quotas
}

// NewMonitorHandler returns a handler. minIntervalFloor, when positive,
// lowers every plan's minimum check interval (operator setting).
func NewMonitorHandler(store domain.EventStore, ids IDs, now Clock, facts MonitorFacts, minIntervalFloor int) *MonitorHandler {
	return &MonitorHandler{store: store, ids: ids, now: now, facts: facts, minFloor: minIntervalFloor, quotas: quotas{store: store, now: now, seeds: facts}}
}

func (h *MonitorHandler) rules(ctx context.Context, accountID int64, plan domain.Plan) (domain.MonitorRules, []int64, error) {
	limits, _ := domain.LimitsOf(plan)
	regions, err := h.facts.ActiveRegions(ctx)
	if err != nil {
		return domain.MonitorRules{}, nil, err
	}
	tags, err := h.facts.TagIDs(ctx, accountID)
	if err != nil {
		return domain.MonitorRules{}, nil, err
	}
	monitors, err := h.facts.MonitorIDs(ctx, accountID)
	if err != nil {
		return domain.MonitorRules{}, nil, err
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

// CreateMonitor creates a monitor from a config already filled with defaults.
type CreateMonitor struct {
	Actor  Actor
	Plan   domain.Plan
	Config domain.MonitorConfig
}

// Create handles CreateMonitor.
func (h *MonitorHandler) Create(ctx context.Context, cmd CreateMonitor) (int64, domain.Position, error) {
	rules, regions, err := h.rules(ctx, cmd.Actor.AccountID, cmd.Plan)
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
	id, err := h.quotas.reserve(ctx, cmd.Actor, domain.QuotaMonitors, rules.Limits, domain.Slot{},
		func() (int64, error) { return h.ids.Next(ctx, "monitor") }, h.gone)
	if err != nil {
		return 0, domain.Position{}, err
	}
	ev := &domain.MonitorCreated{MonitorID: id, AccountID: cmd.Actor.AccountID, Config: cfg, PushToken: pushToken}
	res, err := save(ctx, h.store, domain.MonitorStream(id), domain.NoStream, cmd.Actor.metadata(h.now(), 0), []domain.Event{ev})
	if err != nil {
		h.quotas.release(ctx, cmd.Actor, cmd.Actor.AccountID, domain.QuotaMonitors, id)
		return 0, domain.Position{}, err
	}
	return id, res.Position, nil
}

// gone reports whether a monitor holding a quota slot is gone.
func (h *MonitorHandler) gone(ctx context.Context, s domain.Slot) (bool, error) {
	return goneFrom(ctx, h.store, h.now, domain.MonitorStream(s.ID), &domain.Monitor{}, s)
}

// UpdateMonitor applies a partial change: Patch is the API's JSON object
// holding only the fields to change.
type UpdateMonitor struct {
	Actor     Actor
	Plan      domain.Plan
	MonitorID int64
	Patch     json.RawMessage
}

// Update handles UpdateMonitor.
func (h *MonitorHandler) Update(ctx context.Context, cmd UpdateMonitor) (domain.Position, error) {
	rules, _, err := h.rules(ctx, cmd.Actor.AccountID, cmd.Plan)
	if err != nil {
		return domain.Position{}, err
	}
	return h.decide(ctx, cmd.Actor, cmd.MonitorID, func(m *domain.Monitor) ([]domain.Event, error) {
		cfg, err := patchConfig(m.Config, cmd.Patch)
		if err != nil {
			return nil, err
		}
		if domain.MonitorType(strings.ToUpper(string(cfg.Type))) == domain.TypePUSH && m.Config.Type != domain.TypePUSH {
			return nil, domain.Invalid("type", "value_error", "a monitor cannot become a PUSH monitor; create a new one")
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
			graph, err := h.facts.MonitorDependencies(ctx, cmd.Actor.AccountID)
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

// patchConfig overlays the fields present in patch on cfg.
func patchConfig(cfg domain.MonitorConfig, patch json.RawMessage) (domain.MonitorConfig, error) {
	var present map[string]json.RawMessage
	if err := json.Unmarshal(patch, &present); err != nil {
		return cfg, domain.Errorf(domain.ErrInvalid, "the change must be a JSON object")
	}
	if _, ok := present["request_headers"]; ok {
		cfg.RequestHeaders = nil // replace, not merge
	}
	next := cfg
	next.RegionIDs = append([]int64(nil), cfg.RegionIDs...)
	next.TagIDs = append([]int64(nil), cfg.TagIDs...)
	if err := json.Unmarshal(patch, &next); err != nil {
		return cfg, fmt.Errorf("apply change: %w", err)
	}
	if next.RequestHeaders == nil {
		next.RequestHeaders = map[string]string{}
	}
	return next, nil
}

// SetMonitorState pauses, resumes, deletes or re-tags a monitor.
type SetMonitorState struct {
	Actor     Actor
	MonitorID int64
	Action    string // pause, resume, delete, add_tags, remove_tags
	TagIDs    []int64
}

// SetState handles SetMonitorState.
func (h *MonitorHandler) SetState(ctx context.Context, cmd SetMonitorState) (domain.Position, error) {
	var tags map[int64]bool
	if cmd.Action == "add_tags" {
		ids, err := h.facts.TagIDs(ctx, cmd.Actor.AccountID)
		if err != nil {
			return domain.Position{}, err
		}
		tags = map[int64]bool{}
		for _, id := range ids {
			tags[id] = true
		}
		for _, id := range cmd.TagIDs {
			if !tags[id] {
				return domain.Position{}, domain.Invalid("tag_ids", "value_error", "tag %d not found", id)
			}
		}
	}
	pos, err := h.decide(ctx, cmd.Actor, cmd.MonitorID, func(m *domain.Monitor) ([]domain.Event, error) {
		switch cmd.Action {
		case "pause":
			return m.Pause(), nil
		case "resume":
			return m.Resume(), nil
		case "delete":
			return []domain.Event{&domain.MonitorDeleted{}}, nil
		case "add_tags", "remove_tags":
			cfg := m.Config
			cfg.TagIDs = retag(cfg.TagIDs, cmd.TagIDs, cmd.Action == "add_tags")
			if sameIDs(cfg.TagIDs, m.Config.TagIDs) {
				return nil, nil
			}
			return []domain.Event{&domain.MonitorUpdated{Config: cfg}}, nil
		}
		return nil, domain.Invalid("action", "enum", "action must be one of delete, pause, resume, add_tags, remove_tags")
	})
	if err == nil && cmd.Action == "delete" {
		// After the deletion is recorded, so the count never drops below
		// what exists.
		h.quotas.release(ctx, cmd.Actor, cmd.Actor.AccountID, domain.QuotaMonitors, cmd.MonitorID)
	}
	return pos, err
}

func retag(have, change []int64, add bool) []int64 {
	out := []int64{}
	drop := map[int64]bool{}
	for _, id := range change {
		drop[id] = true
	}
	for _, id := range have {
		if add || !drop[id] {
			out = append(out, id)
		}
	}
	if add {
		for _, id := range change {
			if !containsID(out, id) {
				out = append(out, id)
			}
		}
	}
	return out
}

func containsID(ids []int64, id int64) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

func sameIDs(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func (h *MonitorHandler) decide(ctx context.Context, actor Actor, id int64, fn func(*domain.Monitor) ([]domain.Event, error)) (domain.Position, error) {
	return decideOwned(ctx, h.store, h.now, actor, actor.AccountID, domain.MonitorStream(id), fmt.Sprintf("monitor %d", id),
		func() *domain.Monitor { return &domain.Monitor{} }, fn)
}
