package commands

import (
	"context"
	"crypto/sha1"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/medialuna/medialuna/domain"
)

// checkNamespace makes check event ids deterministic: the same check of the
// same monitor from the same region at the same scheduled time always gets
// the same id, so a result a probe retries after a network fault is
// recorded once.
var checkNamespace = uuid.NewHash(sha1.New(), uuid.NameSpaceURL, []byte("https://medialuna/checks"), 5)

// CheckEventID is the id of one scheduled check's result.
func CheckEventID(monitorID, regionID int64, scheduledAt time.Time) string {
	return uuid.NewSHA1(checkNamespace, fmt.Appendf(nil, "%d/%d/%d", monitorID, regionID, scheduledAt.UnixNano())).String()
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

// Record appends the results of one region; results for monitors that no
// longer exist are dropped. It returns how many were kept.
func (h *RecordChecksHandler) Record(ctx context.Context, regionID int64, results []domain.CheckResult) (int, domain.Position, error) {
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
		ev := &domain.CheckRecorded{MonitorID: r.MonitorID, RegionID: regionID, ScheduledAt: r.ScheduledAt.UTC().Truncate(time.Microsecond),
			CheckedAt: checked, CheckOutcome: r.Outcome.Storable(), InMaintenance: inMaintenance(account, r.MonitorID, checked)}
		meta := domain.Metadata{ActorType: domain.ActorProbe, ActorID: regionID, AccountID: account, OccurredAt: checked}
		data, err := domain.Encode(ev, meta, CheckEventID(r.MonitorID, regionID, r.ScheduledAt))
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

// RegionHandler registers probe regions.
type RegionHandler struct {
	store domain.EventStore
	ids   IDs
	now   Clock
}

// NewRegionHandler returns a handler.
func NewRegionHandler(store domain.EventStore, ids IDs, now Clock) *RegionHandler {
	return &RegionHandler{store: store, ids: ids, now: now}
}

// Register returns the id of the region with code, creating it the first
// time a probe of that code starts. Later registrations keep the region.
func (h *RegionHandler) Register(ctx context.Context, code, name string, lat, lng float64) (int64, domain.Position, error) {
	if _, err := domain.NewRegion(1, code, name, lat, lng); err != nil {
		return 0, domain.Position{}, err
	}
	events, _ := domain.NewRegion(1, code, name, lat, lng)
	code = events[0].(*domain.RegionRegistered).Code
	meta := domain.Metadata{ActorType: domain.ActorProbe, OccurredAt: h.now().UTC()}
	claim, err := h.store.ReadStream(ctx, domain.RegionCodeStream(code))
	if err != nil {
		return 0, domain.Position{}, err
	}
	if len(claim) > 0 {
		ev, err := domain.DecodeRecorded(claim[0])
		if err != nil {
			return 0, domain.Position{}, err
		}
		return ev.(*domain.RegionRegistered).RegionID, domain.Position{}, nil
	}
	id, err := h.ids.Next(ctx, "region")
	if err != nil {
		return 0, domain.Position{}, err
	}
	events, err = domain.NewRegion(id, code, name, lat, lng)
	if err != nil {
		return 0, domain.Position{}, err
	}
	// The code claim decides races between probes starting together.
	if _, err := save(ctx, h.store, domain.RegionCodeStream(code), domain.NoStream, meta, events); err != nil {
		if domain.ErrorCode(err) == domain.ErrConflict {
			return h.Register(ctx, code, name, lat, lng)
		}
		return 0, domain.Position{}, err
	}
	res, err := save(ctx, h.store, domain.RegionStream(id), domain.NoStream, meta, events)
	return id, res.Position, err
}
