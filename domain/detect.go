package domain

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// The incident detector's decisions, as pure functions: its state for a
// monitor and one event in, the incidents to open or resolve out
// (processes.IncidentDetector loads the state, calls these, acts through
// the incident commands and saves the state).

// DetectorMonitor is what the incident detector keeps of one monitor: the
// settings it decides with, which incidents it has open, the performance
// streaks and the latest result of each region.
type DetectorMonitor struct {
	MonitorID       int64
	AccountID       int64
	Name            string
	Confirm         int // regions that must fail (confirm_from_locations, at least 1)
	RegionIDs       []int64
	SSLReminder     int // days (ssl_expiry_reminder); 0 never warns
	Paused          bool
	Down            bool // a DOWN incident is open
	SSLExpiring     bool // an SSL_EXPIRY incident is open
	PerfThreshold   int  // ms; 0 is off
	PerfConsecutive int  // checks in a row (at least 1)
	SlowStreak      int
	FastStreak      int
	PerfOpen        bool // a PERFORMANCE incident is open
	CheckInterval   int  // seconds
	// Latest is each region's latest result (region 0: push heartbeats).
	Latest map[int64]LatestResult
}

// LatestResult is a region's latest result as the detector keeps it.
type LatestResult struct {
	Up        bool
	Error     string
	CheckedAt time.Time
}

// IncidentDecision is one thing the detector does: open an incident of
// Type (Open) with Message from StartedAt, or resolve the open one with
// Reason and Message.
type IncidentDecision struct {
	Open      bool
	Type      IncidentType
	Message   string
	StartedAt time.Time
	Reason    string
}

// NewDetectorMonitor is the detector's state for a monitor just created.
func NewDetectorMonitor(accountID, monitorID int64, c MonitorConfig) DetectorMonitor {
	m := DetectorMonitor{MonitorID: monitorID, AccountID: accountID}
	m.configure(c)
	return m
}

func (m *DetectorMonitor) configure(c MonitorConfig) {
	m.Name, m.Confirm, m.RegionIDs, m.SSLReminder = c.Name, max(c.ConfirmFromLocations, 1), c.RegionIDs, c.SSLExpiryReminder
	m.PerfThreshold, m.PerfConsecutive, m.CheckInterval = c.PerformanceThresholdMs, max(c.PerformanceConsecutiveChecks, 1), c.CheckInterval
}

// Reconfigure takes a monitor's new settings. Turning the performance
// threshold off resolves the PERFORMANCE incident it opened. live says the
// event is recent: history replayed on a first start or a rebuild only
// updates the state.
func (m *DetectorMonitor) Reconfigure(c MonitorConfig, live bool) []IncidentDecision {
	var out []IncidentDecision
	if c.PerformanceThresholdMs == 0 && m.PerfOpen && live {
		out = append(out, IncidentDecision{Type: IncidentPerformance, Reason: "threshold_removed",
			Message: "Resolved: the monitor's performance threshold was turned off"})
		m.PerfOpen, m.SlowStreak, m.FastStreak = false, 0, 0
	}
	m.configure(c)
	return out
}

// Stop is a monitor paused or deleted: every incident it may have open
// resolves (resolving one that is not open does nothing), replayed or not.
func (m *DetectorMonitor) Stop(deleted bool) []IncidentDecision {
	reason, verb := "monitor_paused", "paused"
	if deleted {
		reason, verb = "monitor_deleted", "deleted"
	}
	var out []IncidentDecision
	for _, typ := range []IncidentType{IncidentDown, IncidentSSLExpiry, IncidentPerformance} {
		out = append(out, IncidentDecision{Type: typ, Reason: reason, Message: "Resolved automatically: the monitor was " + verb})
	}
	m.Paused = true
	m.reset()
	return out
}

// Resume is a paused monitor resumed: it starts afresh, with no results.
func (m *DetectorMonitor) Resume() {
	m.Paused = false
	m.reset()
	m.Latest = nil
}

func (m *DetectorMonitor) reset() {
	m.Down, m.SSLExpiring, m.PerfOpen, m.SlowStreak, m.FastStreak = false, false, false, 0, 0
}

// Check folds one result into the state and returns the incidents its
// transitions open or resolve: DOWN once Confirm of the monitor's regions
// fail (their latest fresh results), PERFORMANCE after PerfConsecutive
// slow successful checks (resolved after as many fast ones), SSL_EXPIRY
// when the certificate expires within SSLReminder days (resolved on
// renewal). A result checked inside a maintenance window opens nothing; an
// open incident still resolves on recovery. live is false for history
// (a result older than the detector's staleness bound): it only updates
// the state, and the flags then say which incidents are open, so the
// first live result of an outage that began in the past opens one.
func (m *DetectorMonitor) Check(c *CheckRecorded, live bool) []IncidentDecision {
	if m.Paused {
		return nil
	}
	if m.Latest == nil {
		m.Latest = map[int64]LatestResult{}
	}
	if prev, ok := m.Latest[c.RegionID]; !ok || !c.CheckedAt.Before(prev.CheckedAt) {
		m.Latest[c.RegionID] = LatestResult{Up: c.Up, Error: c.Error, CheckedAt: c.CheckedAt}
	}
	regions := make([]int64, 0, len(m.Latest))
	for r := range m.Latest {
		regions = append(regions, r)
	}
	sort.Slice(regions, func(i, j int) bool { return regions[i] < regions[j] })
	var results []RegionResult
	for _, r := range regions {
		if r != 0 && !slices.Contains(m.RegionIDs, r) {
			continue
		}
		l := m.Latest[r]
		results = append(results, RegionResult{RegionID: r, Up: l.Up, CheckedAt: l.CheckedAt})
	}
	results = FreshResults(results, m.CheckInterval)
	var errs []string
	for _, r := range results {
		if l := m.Latest[r.RegionID]; !l.Up && l.Error != "" {
			errs = append(errs, l.Error)
		}
	}
	down := MonitorStatus(false, m.Confirm, results) == StatusDown
	out := m.performance(c, live)
	if !live {
		return out
	}
	if down != m.Down && !(down && c.InMaintenance) {
		if down {
			msg := fmt.Sprintf("%s is down", m.Name)
			if len(errs) > 0 {
				msg += ": " + strings.Join(uniqueStrings(errs), "; ")
			}
			out = append(out, IncidentDecision{Open: true, Type: IncidentDown, Message: msg, StartedAt: c.CheckedAt})
		} else {
			out = append(out, IncidentDecision{Type: IncidentDown, Reason: "recovered",
				Message: fmt.Sprintf("Resolved automatically: %s is up again", m.Name)})
		}
		m.Down = down
	}
	if c.CertExpiresAt == nil || m.SSLReminder <= 0 {
		return out
	}
	left := c.CertExpiresAt.Sub(c.CheckedAt)
	expiring := CertExpiresSoon(*c.CertExpiresAt, c.CheckedAt, m.SSLReminder)
	if expiring == m.SSLExpiring || (expiring && c.InMaintenance) {
		return out
	}
	if expiring {
		expires := c.CertExpiresAt.UTC().Format("2006-01-02 15:04 MST")
		msg := fmt.Sprintf("The TLS certificate of %s expires on %s (in %d days)", m.Name, expires, int(left.Hours()/24))
		if left <= 0 {
			msg = fmt.Sprintf("The TLS certificate of %s expired on %s", m.Name, expires)
		}
		out = append(out, IncidentDecision{Open: true, Type: IncidentSSLExpiry, Message: msg, StartedAt: c.CheckedAt})
	} else {
		out = append(out, IncidentDecision{Type: IncidentSSLExpiry, Reason: "certificate_renewed",
			Message: "Resolved automatically: the certificate was renewed"})
	}
	m.SSLExpiring = expiring
	return out
}

// performance tracks the streaks of slow and fast successful checks.
func (m *DetectorMonitor) performance(c *CheckRecorded, live bool) []IncidentDecision {
	if m.PerfThreshold <= 0 || !c.Up {
		return nil
	}
	slow := c.ResponseTimeMs > float64(m.PerfThreshold)
	if slow {
		m.SlowStreak, m.FastStreak = m.SlowStreak+1, 0
	} else {
		m.SlowStreak, m.FastStreak = 0, m.FastStreak+1
	}
	if !live {
		return nil
	}
	switch {
	case !m.PerfOpen && slow && m.SlowStreak >= m.PerfConsecutive && !c.InMaintenance:
		m.PerfOpen = true
		return []IncidentDecision{{Open: true, Type: IncidentPerformance, StartedAt: c.CheckedAt,
			Message: fmt.Sprintf("%s is slow: %d consecutive checks over %d ms (last %.0f ms)", m.Name, m.SlowStreak, m.PerfThreshold, c.ResponseTimeMs)}}
	case m.PerfOpen && !slow && m.FastStreak >= m.PerfConsecutive:
		m.PerfOpen = false
		return []IncidentDecision{{Type: IncidentPerformance, Reason: "performance_recovered",
			Message: fmt.Sprintf("Resolved automatically: %s answered within %d ms %d times in a row", m.Name, m.PerfThreshold, m.FastStreak)}}
	}
	return nil
}

// uniqueStrings keeps the first of each string, in order.
func uniqueStrings(in []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// CertExpiresSoon says whether a certificate expiring at expiry is, at now,
// inside a reminder of reminderDays days (an expired one is too); a
// reminder of 0 or less never warns. The detector opens SSL_EXPIRY
// incidents by it and the dashboard warns by it, so they agree.
func CertExpiresSoon(expiry, now time.Time, reminderDays int) bool {
	return reminderDays > 0 && expiry.Sub(now) < time.Duration(reminderDays)*24*time.Hour
}
