package commands

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/medialuna/medialuna/domain"
)

// SetMonitorState pauses, resumes, deletes or re-tags a monitor.
type SetMonitorState struct {
	Actor     Actor
	MonitorID int64
	Action    string // one of MonitorStateActions
	TagIDs    []int64
}

// MonitorStateActions are the actions SetMonitorState takes, in the
// order a list of them offers them; the API's bulk endpoint and the
// dashboard's bulk form accept these and no others.
func MonitorStateActions() []string {
	return []string{"pause", "resume", "add_tags", "remove_tags", "delete"}
}

// IsMonitorStateAction says whether SetMonitorState takes action.
func IsMonitorStateAction(action string) bool {
	return slices.Contains(MonitorStateActions(), action)
}

// invalidMonitorStateAction is the refusal of any other action.
func invalidMonitorStateAction() error {
	return domain.Invalid("action", "enum", "action must be one of %s", strings.Join(MonitorStateActions(), ", "))
}

// SetMonitorStateHandler handles SetMonitorState.
type SetMonitorStateHandler struct {
	store  domain.EventStore
	now    Clock
	facts  MonitorFacts
	quotas quotas
}

// NewSetMonitorStateHandler returns a handler.
func NewSetMonitorStateHandler(store domain.EventStore, now Clock, facts MonitorFacts) *SetMonitorStateHandler {
	return &SetMonitorStateHandler{store: store, now: now, facts: facts, quotas: quotas{store: store, now: now, seeds: facts}}
}

// Handle pauses, resumes, deletes or re-tags the monitor; a deletion frees
// its quota slot. Errors: ErrNotFound when it is not the account's,
// ErrInvalid for an unknown action or tag.
func (h *SetMonitorStateHandler) Handle(ctx context.Context, cmd SetMonitorState) (domain.Position, error) {
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
	pos, err := decideMonitor(ctx, h.store, h.now, cmd.Actor, cmd.MonitorID, func(m *domain.Monitor) ([]domain.Event, error) {
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
		return nil, invalidMonitorStateAction()
	})
	if err == nil && cmd.Action == "delete" {
		// After the deletion is recorded, so the count never drops below
		// what exists.
		h.quotas.release(ctx, cmd.Actor, cmd.Actor.AccountID, domain.QuotaMonitors, cmd.MonitorID)
		if p, err := h.dropEmptiedWindows(ctx, cmd.Actor, cmd.MonitorID); err == nil && pos.Less(p) {
			pos = p
		}
	}
	return pos, err
}

// WindowsToReview finds, in the read models, the account's maintenance
// windows that name a monitor, and those left naming none.
type WindowsToReview interface {
	WindowsNamingMonitor(ctx context.Context, accountID, monitorID int64) ([]int64, error)
}

// dropEmptiedWindows deletes the windows the deletion of monitorID left
// covering nothing (domain.MaintenanceWindow.MonitorsGone), each decided
// on its own stream, whose monitor ids the read model may already have
// dropped. Whether the other monitors a window names still exist is read
// from their streams: in a bulk deletion the read models may not have
// applied the deletions before this one yet.
func (h *SetMonitorStateHandler) dropEmptiedWindows(ctx context.Context, actor Actor, monitorID int64) (domain.Position, error) {
	finder, ok := h.facts.(WindowsToReview)
	if !ok {
		return domain.Position{}, nil
	}
	ids, err := finder.WindowsNamingMonitor(ctx, actor.AccountID, monitorID)
	if err != nil {
		return domain.Position{}, err
	}
	// A monitor whose stream cannot be read counts as existing: when in
	// doubt, the window stays.
	exists := func(id int64) bool {
		if id == monitorID {
			return false
		}
		var m domain.Monitor
		_, err := load(ctx, h.store, domain.MonitorStream(id), &m)
		return err != nil || (m.Exists() && m.AccountID == actor.AccountID)
	}
	var last domain.Position
	for _, id := range ids {
		pos, err := decideOwned(ctx, h.store, h.now, actor, actor.AccountID, domain.MaintenanceStream(id), fmt.Sprintf("maintenance window %d", id),
			func() *domain.MaintenanceWindow { return &domain.MaintenanceWindow{} },
			func(w *domain.MaintenanceWindow) ([]domain.Event, error) { return w.MonitorsGone(exists), nil })
		if err != nil && domain.ErrorCode(err) != domain.ErrNotFound {
			return last, err
		}
		if last.Less(pos) {
			last = pos
		}
	}
	return last, nil
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
