package probeagent

import (
	"context"
	"log/slog"
	"time"

	"github.com/medialuna/medialuna/domain"
	"github.com/medialuna/medialuna/projections"
)

// PushReader lists the push monitors to watch.
type PushReader interface {
	ActivePushMonitors(ctx context.Context) ([]projections.PushMonitor, error)
}

// PushWatchdog records a failed check for every push monitor whose
// heartbeat is overdue: no ping within interval + grace period after the
// last one (or after creation or resume). While pings stay away it records
// another failure every interval, as a polled check would. Each failure's
// scheduled time is its deadline, so its event id is fixed and replicas or
// restarts running the watchdog together record it once.
type PushWatchdog struct {
	reader PushReader
	rec    Recorder
	now    func() time.Time
	log    *slog.Logger
}

// NewPushWatchdog returns a watchdog.
func NewPushWatchdog(reader PushReader, rec Recorder, now func() time.Time, log *slog.Logger) *PushWatchdog {
	return &PushWatchdog{reader: reader, rec: rec, now: now, log: log}
}

// Deadline is when a push monitor's next heartbeat is due at the latest.
func Deadline(pm projections.PushMonitor) time.Time {
	interval := time.Duration(pm.CheckInterval) * time.Second
	grace := time.Duration(pm.GracePeriod) * time.Second
	last := pm.ResumedAt
	if pm.LastCheckedAt != nil && pm.LastCheckedAt.After(last) {
		last = *pm.LastCheckedAt
	}
	if pm.LastUpAt != nil && !pm.LastUpAt.Before(last) {
		return last.Add(interval + grace) // the last result was a heartbeat
	}
	if pm.LastCheckedAt != nil && pm.LastCheckedAt.After(pm.ResumedAt) {
		return last.Add(interval) // already overdue: fail again each interval
	}
	return last.Add(interval + grace) // never pinged since creation or resume
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
		deadline := Deadline(pm)
		if now.Before(deadline) {
			continue
		}
		last := "creation or resume"
		if pm.LastUpAt != nil {
			last = "the last heartbeat at " + pm.LastUpAt.UTC().Format(time.RFC3339)
		}
		overdue = append(overdue, domain.CheckResult{MonitorID: pm.ID, ScheduledAt: deadline, CheckedAt: deadline,
			Outcome: domain.CheckOutcome{Up: false, Error: "no heartbeat since " + last + " (expected every " +
				(time.Duration(pm.CheckInterval) * time.Second).String() + ", grace " + (time.Duration(pm.GracePeriod) * time.Second).String() + ")"}})
	}
	if len(overdue) == 0 {
		return nil
	}
	_, _, err = w.rec.Record(ctx, 0, overdue)
	return err
}
