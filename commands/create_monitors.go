package commands

import (
	"context"
	"crypto/rand"
	"encoding/hex"

	"github.com/google/uuid"
	"github.com/medialuna/medialuna/domain"
)

// MaxBatchMonitors bounds the monitors one CreateMonitors holds, as the
// bulk actions endpoint bounds its ids.
const MaxBatchMonitors = 1000

// CreateMonitors creates many monitors at once, each judged exactly as
// CreateMonitor judges one; configs are filled with defaults
// (domain.NewMonitorConfig). An entry refused before the command (a body
// that does not decode) is passed as Refused, so that the results keep the
// request's indexes.
type CreateMonitors struct {
	Actor   Actor
	Plan    domain.Plan
	Configs []domain.MonitorConfig
	Refused []error // per entry, nil or why it was refused already; may be shorter than Configs
}

// CreatedMonitor is the outcome of one entry: its id, or why it was refused
// (a *domain.Error: ErrInvalid with fields, ErrLimit).
type CreatedMonitor struct {
	ID  int64
	Err error
}

// CreateMonitorsHandler handles CreateMonitors.
type CreateMonitorsHandler struct{ one *CreateMonitorHandler }

// NewCreateMonitorsHandler returns a handler; its arguments are
// NewCreateMonitorHandler's.
func NewCreateMonitorsHandler(store domain.EventStore, ids IDs, now Clock, facts MonitorFacts, minIntervalFloor int) *CreateMonitorsHandler {
	return &CreateMonitorsHandler{one: NewCreateMonitorHandler(store, ids, now, facts, minIntervalFloor)}
}

// Handle validates every entry, reserves the plan's slots for all valid
// ones in one append to the quota stream (those beyond the plan's limit
// are refused with ErrLimit, the later entries first), and appends their
// MonitorCreated events in one batch. It returns one result per entry and
// the position of the last write (zero when nothing was written). Errors
// (nothing is then created): ErrInvalid for more than MaxBatchMonitors
// entries; the store's or the read models' failures.
func (h *CreateMonitorsHandler) Handle(ctx context.Context, cmd CreateMonitors) ([]CreatedMonitor, domain.Position, error) {
	if len(cmd.Configs) > MaxBatchMonitors {
		return nil, domain.Position{}, domain.Errorf(domain.ErrInvalid, "a batch holds at most %d monitors; this one holds %d: split it", MaxBatchMonitors, len(cmd.Configs))
	}
	c := h.one
	out := make([]CreatedMonitor, len(cmd.Configs))
	dependencies := false
	for _, cfg := range cmd.Configs {
		dependencies = dependencies || len(cfg.DependsOn) > 0
	}
	rules, regions, err := c.rules.rules(ctx, cmd.Actor.AccountID, cmd.Plan, dependencies)
	if err != nil {
		return nil, domain.Position{}, err
	}
	var valid []int
	configs := make([]domain.MonitorConfig, len(cmd.Configs))
	for i, cfg := range cmd.Configs {
		if i < len(cmd.Refused) && cmd.Refused[i] != nil {
			out[i].Err = cmd.Refused[i]
			continue
		}
		if len(cfg.RegionIDs) == 0 && len(regions) > 0 {
			cfg.RegionIDs = []int64{regions[0]} // as CreateMonitor
		}
		if err := cfg.Validate(rules); err != nil {
			out[i].Err = err
			continue
		}
		configs[i] = cfg
		valid = append(valid, i)
	}
	ids, refusal, err := c.quotas.reserveMany(ctx, cmd.Actor, domain.QuotaMonitors, rules.Limits, len(valid),
		func(n int) ([]int64, error) { return nextIDs(ctx, c.ids, "monitor", n) }, c.gone)
	if err != nil {
		return nil, domain.Position{}, err
	}
	now := c.now()
	batch := make([]domain.StreamEvent, 0, len(ids))
	for k, i := range valid {
		if k >= len(ids) {
			out[i].Err = refusal
			continue
		}
		cfg := configs[i]
		var pushToken string
		if cfg.Type == domain.TypePUSH {
			var b [20]byte
			if _, err := rand.Read(b[:]); err != nil {
				c.quotas.releaseMany(ctx, cmd.Actor, cmd.Actor.AccountID, domain.QuotaMonitors, ids)
				return nil, domain.Position{}, err
			}
			pushToken = hex.EncodeToString(b[:])
		}
		ev := &domain.MonitorCreated{MonitorID: ids[k], AccountID: cmd.Actor.AccountID, Config: cfg, PushToken: pushToken}
		d, err := domain.Encode(ev, cmd.Actor.metadata(now, 0), uuid.NewString())
		if err != nil {
			c.quotas.releaseMany(ctx, cmd.Actor, cmd.Actor.AccountID, domain.QuotaMonitors, ids)
			return nil, domain.Position{}, err
		}
		batch = append(batch, domain.StreamEvent{Stream: domain.MonitorStream(ids[k]), Event: d})
		out[i].ID = ids[k]
	}
	if len(batch) == 0 {
		return out, domain.Position{}, nil
	}
	// The streams are new (their ids fresh from the sequence), so the
	// batch append's lack of a version check loses nothing, and one
	// transaction records them all.
	pos, err := c.store.AppendBatch(ctx, batch)
	if err != nil {
		c.quotas.releaseMany(ctx, cmd.Actor, cmd.Actor.AccountID, domain.QuotaMonitors, ids)
		return nil, domain.Position{}, err
	}
	return out, pos, nil
}
