package commands

import (
	"context"
	"time"

	"github.com/medialuna/medialuna/domain"
)

// CheckEventID is the id of one scheduled check's result; see
// domain.CheckEventID.
func CheckEventID(monitorID, regionID int64, scheduledAt time.Time) string {
	return domain.CheckEventID(monitorID, regionID, scheduledAt)
}

// MonitorDirectory tells which account owns each monitor.
type MonitorDirectory interface {
	// MonitorAccounts maps the given monitor ids to their accounts; deleted
	// or unknown monitors are absent.
	MonitorAccounts(ctx context.Context, ids []int64) (map[int64]int64, error)
}

// MaintenanceLookup finds the enabled maintenance windows of accounts.
type MaintenanceLookup interface {
	ActiveWindows(ctx context.Context, accountIDs []int64) (map[int64][]domain.MaintenanceConfig, error)
}

// RecordChecks appends the results of one region's checks; RegionID 0 is
// push heartbeats and the push watchdog's failures.
type RecordChecks struct {
	RegionID int64
	Results  []domain.CheckResult
}

// RecordChecksHandler appends probe results in batches, marking those a
// maintenance window covered.
type RecordChecksHandler struct {
	store   domain.EventStore
	dir     MonitorDirectory
	windows MaintenanceLookup
}

// NewRecordChecksHandler returns a handler.
func NewRecordChecksHandler(store domain.EventStore, dir MonitorDirectory, windows MaintenanceLookup) *RecordChecksHandler {
	return &RecordChecksHandler{store: store, dir: dir, windows: windows}
}

// Handle appends the results, in one batch; results for monitors that no
// longer exist are dropped. It returns how many were kept.
func (h *RecordChecksHandler) Handle(ctx context.Context, cmd RecordChecks) (int, domain.Position, error) {
	regionID, results := cmd.RegionID, cmd.Results
	ids := make([]int64, len(results))
	for i, r := range results {
		ids[i] = r.MonitorID
	}
	accounts, err := h.dir.MonitorAccounts(ctx, ids)
	if err != nil {
		return 0, domain.Position{}, err
	}
	var accountIDs []int64
	for _, a := range accounts {
		accountIDs = append(accountIDs, a)
	}
	windows, err := h.windows.ActiveWindows(ctx, accountIDs)
	if err != nil {
		return 0, domain.Position{}, err
	}
	zones := map[string]*time.Location{}
	zone := func(name string) *time.Location {
		loc, ok := zones[name]
		if !ok {
			if loc, err = time.LoadLocation(name); err != nil {
				loc = time.UTC
			}
			zones[name] = loc
		}
		return loc
	}
	inMaintenance := func(account, monitor int64, at time.Time) bool {
		return domain.AnyCovers(windows[account], monitor, at, zone)
	}
	batch := make([]domain.StreamEvent, 0, len(results))
	for _, r := range results {
		account, ok := accounts[r.MonitorID]
		if !ok {
			continue
		}
		checked := r.CheckedAt.UTC().Truncate(time.Microsecond)
		// The id is derived from the scheduled time as the event stores it
		// (to the microsecond), so the event store can derive it again and
		// keep check events without it (docs/architecture.md, "Check
		// retention"). Scheduler slots carry nanoseconds; ids of results
		// recorded before this change were computed from those.
		scheduled := r.ScheduledAt.UTC().Truncate(time.Microsecond)
		ev := &domain.CheckRecorded{MonitorID: r.MonitorID, RegionID: regionID, ScheduledAt: scheduled,
			CheckedAt: checked, CheckOutcome: r.Outcome.Storable(), InMaintenance: inMaintenance(account, r.MonitorID, checked)}
		meta := domain.Metadata{ActorType: domain.ActorProbe, ActorID: regionID, AccountID: account, OccurredAt: checked}
		data, err := domain.Encode(ev, meta, domain.CheckEventID(r.MonitorID, regionID, scheduled))
		if err != nil {
			return 0, domain.Position{}, err
		}
		batch = append(batch, domain.StreamEvent{Stream: domain.ChecksStream(regionID), Event: data})
	}
	if len(batch) == 0 {
		return 0, domain.Position{}, nil
	}
	pos, err := h.store.AppendBatch(ctx, batch)
	return len(batch), pos, err
}
