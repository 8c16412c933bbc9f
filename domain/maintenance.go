package domain

import (
	"iter"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// MaintenanceStream names a maintenance window's stream.
func MaintenanceStream(id int64) string { return "maintenance-" + itoa(id) }

// MaintenanceConfig is a maintenance window as users set it; JSON names
// follow the public API, plus time_zone.
type MaintenanceConfig struct {
	Name                 string     `json:"name"`
	Description          *string    `json:"description"`
	StartTime            time.Time  `json:"start_time"`
	EndTime              time.Time  `json:"end_time"`
	TimeZone             string     `json:"time_zone"` // IANA name; recurrences follow its wall clock (default UTC)
	AppliesToAllMonitors bool       `json:"applies_to_all_monitors"`
	MonitorIDs           []int64    `json:"monitor_ids"`
	IsRecurring          bool       `json:"is_recurring"`
	RecurrencePattern    *string    `json:"recurrence_pattern"` // daily, weekly, monthly
	RecurrenceDays       *string    `json:"recurrence_days"`    // weekly: "1,3" (0 = Sunday)
	RecurrenceEndDate    *time.Time `json:"recurrence_end_date"`
	IsActive             bool       `json:"is_active"`
}

// Validate checks a window. zone loads time zones (time.LoadLocation);
// ownMonitor says whether a monitor id belongs to the account.
func (c *MaintenanceConfig) Validate(zone func(string) (*time.Location, error), ownMonitor func(int64) bool) error {
	var v Validation
	c.Name = strings.TrimSpace(c.Name)
	if n := utf8.RuneCountInString(c.Name); n < 1 || n > 200 {
		v.Add("name", "value_error", "name must be 1 to 200 characters")
	}
	if c.Description != nil && utf8.RuneCountInString(*c.Description) > 2000 {
		v.Add("description", "value_error", "description must be at most 2000 characters")
	}
	if c.StartTime.IsZero() {
		v.Add("start_time", "missing", "field required")
	}
	if c.EndTime.IsZero() {
		v.Add("end_time", "missing", "field required")
	} else if !c.EndTime.After(c.StartTime) {
		v.Add("end_time", "value_error", "end_time must be after start_time")
	}
	c.StartTime, c.EndTime = c.StartTime.UTC(), c.EndTime.UTC()
	if c.TimeZone == "" {
		c.TimeZone = "UTC"
	}
	if _, err := zone(c.TimeZone); err != nil || c.TimeZone == "Local" {
		v.Add("time_zone", "value_error", "time_zone must be an IANA time zone such as Europe/Madrid")
	}
	if c.IsRecurring {
		pattern := ""
		if c.RecurrencePattern != nil {
			pattern = strings.ToLower(*c.RecurrencePattern)
			c.RecurrencePattern = &pattern
		}
		period := map[string]time.Duration{"daily": 24 * time.Hour, "weekly": 7 * 24 * time.Hour, "monthly": 28 * 24 * time.Hour}[pattern]
		switch {
		case period == 0:
			v.Add("recurrence_pattern", "enum", "recurrence_pattern must be daily, weekly or monthly for a recurring window")
		case c.EndTime.Sub(c.StartTime) > period:
			v.Add("end_time", "value_error", "a %s window must not last longer than its period", pattern)
		}
		if c.RecurrenceDays != nil && *c.RecurrenceDays != "" {
			days, ok := parseDays(*c.RecurrenceDays)
			if !ok || pattern != "weekly" {
				v.Add("recurrence_days", "value_error", "recurrence_days are comma-separated week days 0-6 (0 = Sunday), for weekly windows")
			} else {
				s := joinDays(days)
				c.RecurrenceDays = &s
			}
		}
		if c.RecurrenceEndDate != nil {
			end := c.RecurrenceEndDate.UTC()
			c.RecurrenceEndDate = &end
			if !end.After(c.StartTime) {
				v.Add("recurrence_end_date", "value_error", "recurrence_end_date must be after start_time")
			}
		}
	} else {
		c.RecurrencePattern, c.RecurrenceDays, c.RecurrenceEndDate = nil, nil, nil
	}
	c.MonitorIDs = dedupe(c.MonitorIDs)
	if c.AppliesToAllMonitors {
		c.MonitorIDs = []int64{}
	}
	for _, id := range c.MonitorIDs {
		if !ownMonitor(id) {
			v.Add("monitor_ids", "value_error", "monitor %d not found", id)
			break
		}
	}
	if !c.AppliesToAllMonitors && len(c.MonitorIDs) == 0 {
		v.Add("monitor_ids", "value_error", "name the monitors the window covers, or set applies_to_all_monitors")
	}
	return v.Err()
}

func parseDays(s string) ([]int, bool) {
	var days []int
	for _, part := range strings.Split(s, ",") {
		d, err := strconv.Atoi(strings.TrimSpace(part))
		if err != nil || d < 0 || d > 6 {
			return nil, false
		}
		if !slices.Contains(days, d) {
			days = append(days, d)
		}
	}
	sort.Ints(days)
	return days, len(days) > 0
}

func joinDays(days []int) string {
	parts := make([]string, len(days))
	for i, d := range days {
		parts[i] = strconv.Itoa(d)
	}
	return strings.Join(parts, ",")
}

// Covers reports whether the window applies to a monitor.
func (c MaintenanceConfig) Covers(monitorID int64) bool {
	return c.AppliesToAllMonitors || slices.Contains(c.MonitorIDs, monitorID)
}

// AnyCovers reports whether one of windows covers the monitor at t. zone
// turns a window's time_zone into its location (callers load and cache
// zones; the domain does no I/O).
func AnyCovers(windows []MaintenanceConfig, monitorID int64, t time.Time, zone func(string) *time.Location) bool {
	for _, w := range windows {
		if w.Covers(monitorID) && w.InEffect(t, zone(w.TimeZone)) {
			return true
		}
	}
	return false
}

// InEffect reports whether the window is in effect at t: whether one of its
// occurrences (see occurrences for the rules) holds t. loc is the window's
// time zone.
func (c MaintenanceConfig) InEffect(t time.Time, loc *time.Location) bool {
	for range c.occurrences(t, t.Add(time.Nanosecond), loc) {
		return true
	}
	return false
}

// occursOn reports whether an occurrence starts on the local day (given as
// a UTC midnight with the local date).
func (c MaintenanceConfig) occursOn(day, startDay time.Time, days []int) bool {
	switch *c.RecurrencePattern {
	case "daily":
		return true
	case "weekly":
		if len(days) == 0 {
			return day.Weekday() == startDay.Weekday()
		}
		return slices.Contains(days, int(day.Weekday()))
	case "monthly":
		last := time.Date(day.Year(), day.Month()+1, 0, 0, 0, 0, 0, time.UTC).Day()
		return day.Day() == min(startDay.Day(), last)
	}
	return false
}

// MaintenanceScheduled creates a window.
type MaintenanceScheduled struct {
	WindowID  int64             `json:"window_id"`
	AccountID int64             `json:"account_id"`
	Config    MaintenanceConfig `json:"config"`
}

// MaintenanceUpdated records the window's whole new configuration.
type MaintenanceUpdated struct {
	Config MaintenanceConfig `json:"config"`
}

// MaintenanceToggled switches a window on or off.
type MaintenanceToggled struct {
	IsActive bool `json:"is_active"`
}

// MaintenanceDeleted removes a window.
type MaintenanceDeleted struct{}

func (MaintenanceScheduled) EventType() string { return EvMaintenanceScheduled }
func (MaintenanceScheduled) EventVersion() int { return 1 }
func (MaintenanceUpdated) EventType() string   { return EvMaintenanceUpdated }
func (MaintenanceUpdated) EventVersion() int   { return 1 }
func (MaintenanceToggled) EventType() string   { return EvMaintenanceToggled }
func (MaintenanceToggled) EventVersion() int   { return 1 }
func (MaintenanceDeleted) EventType() string   { return EvMaintenanceDeleted }
func (MaintenanceDeleted) EventVersion() int   { return 1 }

// MaintenanceWindow is the window aggregate.
type MaintenanceWindow struct {
	ID        int64
	AccountID int64
	Config    MaintenanceConfig
	Deleted   bool
}

// Apply folds one event.
func (w *MaintenanceWindow) Apply(e Event) {
	switch e := e.(type) {
	case *MaintenanceScheduled:
		w.ID, w.AccountID, w.Config = e.WindowID, e.AccountID, e.Config
	case *MaintenanceUpdated:
		w.Config = e.Config
	case *MaintenanceToggled:
		w.Config.IsActive = e.IsActive
	case *MaintenanceDeleted:
		w.Deleted = true
	}
}

// Exists reports whether the window was created and not deleted.
func (w *MaintenanceWindow) Exists() bool { return w.ID != 0 && !w.Deleted }

// MonitorsGone decides what becomes of the window once monitors it names
// are deleted (exists says which still are): a window left naming none,
// and not covering every monitor, is deleted with them, as the reference
// deletes everything of a deleted monitor. Kept, it would be a window of
// nothing that create refuses and no update could keep.
func (w *MaintenanceWindow) MonitorsGone(exists func(monitorID int64) bool) []Event {
	if !w.Exists() || w.Config.AppliesToAllMonitors || len(w.Config.MonitorIDs) == 0 {
		return nil
	}
	for _, id := range w.Config.MonitorIDs {
		if exists(id) {
			return nil
		}
	}
	return []Event{&MaintenanceDeleted{}}
}

// Owner is the account the window belongs to.
func (w *MaintenanceWindow) Owner() int64 { return w.AccountID }

// Occurrence is one stretch of time a window is in effect.
type Occurrence struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// Occurrences lists the window's occurrences that overlap [from, to), in
// order (at most 400 days are scanned). A disabled window has none.
func (c MaintenanceConfig) Occurrences(from, to time.Time, loc *time.Location) []Occurrence {
	return slices.Collect(c.occurrences(from, to, loc))
}

// occurrences yields, in order, the window's occurrences that overlap
// [from, to): the one rule InEffect and Occurrences share. A disabled
// window has none; a one-off window has the one from start_time to
// end_time. At most 400 days are scanned.
//
// Recurrence rules, all on the wall clock of the window's time zone loc:
//   - every occurrence starts at the start_time's local clock time on its
//     day and lasts until the end_time's local clock time on the day as far
//     from the occurrence's start day as end_time's day is from
//     start_time's; so a 22:00-02:00 window runs across midnight every time,
//     and a 02:00-04:00 window stays 02:00-04:00 local across DST changes
//     (a wall-clock time skipped by a DST jump is taken as the instant Go's
//     time.Date normalises it to);
//   - daily: every day from start_time's day; weekly: on recurrence_days
//     (default: start_time's week day); monthly: on start_time's day of the
//     month, or the month's last day when it is shorter (a window on the
//     31st runs on Feb 28 or 29, Apr 30, ...);
//   - no occurrence starts before start_time, nor after recurrence_end_date.
func (c MaintenanceConfig) occurrences(from, to time.Time, loc *time.Location) iter.Seq[Occurrence] {
	return func(yield func(Occurrence) bool) {
		if !c.IsActive || !to.After(from) {
			return
		}
		if !c.IsRecurring || c.RecurrencePattern == nil {
			if c.EndTime.After(from) && c.StartTime.Before(to) {
				yield(Occurrence{c.StartTime, c.EndTime})
			}
			return
		}
		start, end := c.StartTime.In(loc), c.EndTime.In(loc)
		startDay := localDay(start)
		spanDays := int(localDay(end).Sub(startDay).Hours() / 24)
		// An occurrence that overlaps from started on from's day or within
		// the spanDays (+1, for DST) before it.
		day := localDay(from.In(loc)).AddDate(0, 0, -spanDays-1)
		last := localDay(to.In(loc))
		if day.Before(startDay) {
			day = startDay
		}
		var days []int
		if c.RecurrenceDays != nil {
			days, _ = parseDays(*c.RecurrenceDays)
		}
		for n := 0; !day.After(last) && n < 400; day, n = day.AddDate(0, 0, 1), n+1 {
			if !c.occursOn(day, startDay, days) {
				continue
			}
			occStart := time.Date(day.Year(), day.Month(), day.Day(), start.Hour(), start.Minute(), start.Second(), start.Nanosecond(), loc)
			occEndDay := day.AddDate(0, 0, spanDays)
			occEnd := time.Date(occEndDay.Year(), occEndDay.Month(), occEndDay.Day(), end.Hour(), end.Minute(), end.Second(), end.Nanosecond(), loc)
			if occStart.Before(c.StartTime) || (c.RecurrenceEndDate != nil && occStart.After(*c.RecurrenceEndDate)) {
				continue
			}
			if occEnd.After(from) && occStart.Before(to) && !yield(Occurrence{occStart.UTC(), occEnd.UTC()}) {
				return
			}
		}
	}
}

// localDay is the local date of t as a UTC midnight, so that days can be
// counted and stepped without DST in the way.
func localDay(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}
