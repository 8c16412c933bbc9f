package processes

import (
	"context"
	"log/slog"
	"time"

	"github.com/medialuna/medialuna/commands"
	"github.com/medialuna/medialuna/domain"
	"github.com/medialuna/medialuna/projections"
)

// CheckRecorder records check results (*commands.RecordChecksHandler).
type CheckRecorder interface {
	Handle(ctx context.Context, cmd commands.RecordChecks) (int, domain.Position, error)
}

// PushReader lists the push monitors to watch.
type PushReader interface {
	ActivePushMonitors(ctx context.Context) ([]projections.PushMonitor, error)
}

// PushWatchdog records a failed check for every push monitor whose
// heartbeat is overdue (domain.PushHeartbeats.Overdue): no ping within
// interval + grace period after the last one (or after creation or
// resume). While pings stay away it records another failure every
// interval, as a polled check would. Each failure's scheduled time is its
// deadline, so its event id is fixed and replicas or restarts running the
// watchdog together record it once.
type PushWatchdog struct {
	reader PushReader
	rec    CheckRecorder
	now    func() time.Time
	log    *slog.Logger
}

// NewPushWatchdog returns a watchdog.
func NewPushWatchdog(reader PushReader, rec CheckRecorder, now func() time.Time, log *slog.Logger) *PushWatchdog {
	return &PushWatchdog{reader: reader, rec: rec, now: now, log: log}
}

// Run checks every second until ctx ends.
func (w *PushWatchdog) Run(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := w.Sweep(ctx); err != nil && ctx.Err() == nil {
			w.log.Warn("push watchdog", "err", err)
		}
	}
}

// Sweep records a failure for each overdue push monitor.
func (w *PushWatchdog) Sweep(ctx context.Context) error {
	monitors, err := w.reader.ActivePushMonitors(ctx)
	if err != nil {
		return err
	}
	now := w.now()
	var overdue []domain.CheckResult
	for _, pm := range monitors {
		p := domain.PushHeartbeats{MonitorID: pm.ID, CheckInterval: pm.CheckInterval, GracePeriod: pm.GracePeriod,
			ResumedAt: pm.ResumedAt, LastCheckedAt: pm.LastCheckedAt, LastUpAt: pm.LastUpAt}
		if r, ok := p.Overdue(now); ok {
			overdue = append(overdue, r)
		}
	}
	if len(overdue) == 0 {
		return nil
	}
	_, _, err = w.rec.Handle(ctx, commands.RecordChecks{Results: overdue})
	return err
}
