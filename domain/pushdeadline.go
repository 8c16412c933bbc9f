package domain

import "time"

// The push watchdog's decision, as a pure function: a push monitor's
// heartbeats in, the failed check to record when one is overdue out
// (processes.PushWatchdog lists the monitors and records the failures).

// PushHeartbeats is what the push watchdog knows of a push monitor.
type PushHeartbeats struct {
	MonitorID     int64
	CheckInterval int // seconds
	GracePeriod   int // seconds
	ResumedAt     time.Time
	LastCheckedAt *time.Time // the latest result, a heartbeat or a failure
	LastUpAt      *time.Time // the latest heartbeat
}

// Deadline is when the next heartbeat is due at the latest: interval +
// grace period after the last heartbeat (or after creation or resume),
// and one interval after the last failure once overdue, as a polled
// check would fail again.
func (p PushHeartbeats) Deadline() time.Time {
	interval := time.Duration(p.CheckInterval) * time.Second
	grace := time.Duration(p.GracePeriod) * time.Second
	last := p.ResumedAt
	if p.LastCheckedAt != nil && p.LastCheckedAt.After(last) {
		last = *p.LastCheckedAt
	}
	if p.LastUpAt != nil && !p.LastUpAt.Before(last) {
		return last.Add(interval + grace) // the last result was a heartbeat
	}
	if p.LastCheckedAt != nil && p.LastCheckedAt.After(p.ResumedAt) {
		return last.Add(interval) // already overdue: fail again each interval
	}
	return last.Add(interval + grace) // never pinged since creation or resume
}

// Overdue returns the failed check to record at now, if the heartbeat is
// overdue. Its scheduled time is the deadline, so its event id is fixed
// and replicas or restarts recording it together record it once.
func (p PushHeartbeats) Overdue(now time.Time) (CheckResult, bool) {
	deadline := p.Deadline()
	if now.Before(deadline) {
		return CheckResult{}, false
	}
	last := "creation or resume"
	if p.LastUpAt != nil {
		last = "the last heartbeat at " + p.LastUpAt.UTC().Format(time.RFC3339)
	}
	return CheckResult{MonitorID: p.MonitorID, ScheduledAt: deadline, CheckedAt: deadline,
		Outcome: CheckOutcome{Up: false, Error: "no heartbeat since " + last + " (expected every " +
			(time.Duration(p.CheckInterval) * time.Second).String() + ", grace " + (time.Duration(p.GracePeriod) * time.Second).String() + ")"}}, true
}
