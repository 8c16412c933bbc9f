package domain_test

import (
	"testing"
	"time"

	"github.com/medialuna/medialuna/domain"
)

func ptr[T any](v T) *T { return &v }

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestMaintenanceInEffect(t *testing.T) {
	madrid := mustZone(t, "Europe/Madrid")
	nyc := mustZone(t, "America/New_York")
	at := func(loc *time.Location, s string) time.Time {
		v, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	type probe struct {
		when time.Time
		want bool
	}
	cases := []struct {
		name   string
		cfg    domain.MaintenanceConfig
		loc    *time.Location
		probes []probe
	}{
		{
			name: "one-off",
			cfg:  domain.MaintenanceConfig{StartTime: at(time.UTC, "2026-06-01 10:00"), EndTime: at(time.UTC, "2026-06-01 12:00"), IsActive: true},
			loc:  time.UTC,
			probes: []probe{{at(time.UTC, "2026-06-01 09:59"), false}, {at(time.UTC, "2026-06-01 10:00"), true},
				{at(time.UTC, "2026-06-01 11:59"), true}, {at(time.UTC, "2026-06-01 12:00"), false}, {at(time.UTC, "2026-06-02 11:00"), false}},
		},
		{
			name: "disabled windows are never in effect",
			cfg:  domain.MaintenanceConfig{StartTime: at(time.UTC, "2026-06-01 10:00"), EndTime: at(time.UTC, "2026-06-01 12:00")},
			loc:  time.UTC, probes: []probe{{at(time.UTC, "2026-06-01 11:00"), false}},
		},
		{
			name: "daily across midnight",
			cfg: domain.MaintenanceConfig{StartTime: at(time.UTC, "2026-06-01 22:00"), EndTime: at(time.UTC, "2026-06-02 02:00"),
				IsActive: true, IsRecurring: true, RecurrencePattern: ptr("daily")},
			loc: time.UTC,
			probes: []probe{{at(time.UTC, "2026-06-01 21:59"), false}, {at(time.UTC, "2026-06-01 23:00"), true},
				{at(time.UTC, "2026-06-02 01:59"), true}, {at(time.UTC, "2026-06-02 02:00"), false}, {at(time.UTC, "2026-06-10 00:30"), true},
				{at(time.UTC, "2026-06-01 01:00"), false}}, // before the first occurrence
		},
		{
			name: "daily keeps local wall-clock hours across the spring DST change",
			cfg: domain.MaintenanceConfig{StartTime: at(madrid, "2026-03-20 04:00"), EndTime: at(madrid, "2026-03-20 05:00"),
				IsActive: true, IsRecurring: true, RecurrencePattern: ptr("daily")},
			loc: madrid,
			probes: []probe{{at(madrid, "2026-03-28 04:30"), true}, {at(madrid, "2026-03-29 04:30"), true}, {at(madrid, "2026-03-30 04:30"), true},
				{at(madrid, "2026-03-30 05:30"), false}, {at(time.UTC, "2026-03-30 03:30"), false}},
		},
		{
			name: "daily keeps local wall-clock hours across the autumn DST change",
			cfg: domain.MaintenanceConfig{StartTime: at(nyc, "2026-10-20 01:00"), EndTime: at(nyc, "2026-10-20 03:00"),
				IsActive: true, IsRecurring: true, RecurrencePattern: ptr("daily")},
			loc: nyc,
			// 2026-11-01: clocks go back at 02:00, so that occurrence lasts three real hours.
			probes: []probe{{at(time.UTC, "2026-11-01 05:30"), true}, {at(time.UTC, "2026-11-01 07:30"), true},
				{at(time.UTC, "2026-11-01 08:30"), false}, {at(nyc, "2026-11-02 02:59"), true}, {at(nyc, "2026-11-02 03:00"), false}},
		},
		{
			name: "weekly on the listed days",
			cfg: domain.MaintenanceConfig{StartTime: at(time.UTC, "2026-06-01 03:00"), EndTime: at(time.UTC, "2026-06-01 04:00"),
				IsActive: true, IsRecurring: true, RecurrencePattern: ptr("weekly"), RecurrenceDays: ptr("2,4")},
			loc: time.UTC,
			probes: []probe{{at(time.UTC, "2026-06-02 03:30"), true}, {at(time.UTC, "2026-06-04 03:30"), true},
				{at(time.UTC, "2026-06-03 03:30"), false}, {at(time.UTC, "2026-06-01 03:30"), false}, {at(time.UTC, "2026-06-09 03:30"), true}},
		},
		{
			name: "weekly defaults to the start's week day",
			cfg: domain.MaintenanceConfig{StartTime: at(time.UTC, "2026-06-01 03:00"), EndTime: at(time.UTC, "2026-06-01 04:00"),
				IsActive: true, IsRecurring: true, RecurrencePattern: ptr("weekly")},
			loc:    time.UTC,
			probes: []probe{{at(time.UTC, "2026-06-08 03:30"), true}, {at(time.UTC, "2026-06-09 03:30"), false}},
		},
		{
			name: "monthly on the 31st falls on shorter months' last day",
			cfg: domain.MaintenanceConfig{StartTime: at(time.UTC, "2026-01-31 23:00"), EndTime: at(time.UTC, "2026-02-01 01:00"),
				IsActive: true, IsRecurring: true, RecurrencePattern: ptr("monthly")},
			loc: time.UTC,
			probes: []probe{{at(time.UTC, "2026-02-28 23:30"), true}, {at(time.UTC, "2026-03-01 00:30"), true},
				{at(time.UTC, "2026-03-31 23:30"), true}, {at(time.UTC, "2026-03-30 23:30"), false}, {at(time.UTC, "2026-04-30 23:30"), true},
				{at(time.UTC, "2026-02-27 23:30"), false}},
		},
		{
			name: "monthly on a leap day",
			cfg: domain.MaintenanceConfig{StartTime: at(time.UTC, "2028-02-29 10:00"), EndTime: at(time.UTC, "2028-02-29 11:00"),
				IsActive: true, IsRecurring: true, RecurrencePattern: ptr("monthly")},
			loc: time.UTC,
			probes: []probe{{at(time.UTC, "2028-03-29 10:30"), true}, {at(time.UTC, "2029-02-28 10:30"), true},
				{at(time.UTC, "2029-02-27 10:30"), false}, {at(time.UTC, "2032-02-29 10:30"), true}},
		},
		{
			name: "recurrence ends",
			cfg: domain.MaintenanceConfig{StartTime: at(time.UTC, "2026-06-01 03:00"), EndTime: at(time.UTC, "2026-06-01 04:00"),
				IsActive: true, IsRecurring: true, RecurrencePattern: ptr("daily"), RecurrenceEndDate: ptr(at(time.UTC, "2026-06-03 12:00"))},
			loc:    time.UTC,
			probes: []probe{{at(time.UTC, "2026-06-03 03:30"), true}, {at(time.UTC, "2026-06-04 03:30"), false}},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, p := range c.probes {
				if got := c.cfg.InEffect(p.when, c.loc); got != p.want {
					t.Errorf("at %s (%s): in effect = %v, want %v", p.when.In(c.loc).Format("Mon 2006-01-02 15:04 MST"), p.when.UTC().Format("15:04Z"), got, p.want)
				}
			}
		})
	}
}

func TestMaintenanceValidation(t *testing.T) {
	zone := func(n string) (*time.Location, error) { return time.LoadLocation(n) }
	own := func(id int64) bool { return id == 7 }
	start := time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)
	base := func() domain.MaintenanceConfig {
		return domain.MaintenanceConfig{Name: "db upgrade", StartTime: start, EndTime: start.Add(time.Hour), MonitorIDs: []int64{7}, IsActive: true}
	}
	cases := []struct {
		name  string
		edit  func(*domain.MaintenanceConfig)
		field string
	}{
		{"valid", func(*domain.MaintenanceConfig) {}, ""},
		{"empty name", func(c *domain.MaintenanceConfig) { c.Name = " " }, "name"},
		{"long name", func(c *domain.MaintenanceConfig) { c.Name = string(make([]rune, 201)) }, "name"},
		{"end before start", func(c *domain.MaintenanceConfig) { c.EndTime = start.Add(-time.Minute) }, "end_time"},
		{"bad pattern", func(c *domain.MaintenanceConfig) { c.IsRecurring, c.RecurrencePattern = true, ptr("yearly") }, "recurrence_pattern"},
		{"bad day", func(c *domain.MaintenanceConfig) {
			c.IsRecurring, c.RecurrencePattern, c.RecurrenceDays = true, ptr("weekly"), ptr("1,7")
		}, "recurrence_days"},
		{"days on a daily window", func(c *domain.MaintenanceConfig) {
			c.IsRecurring, c.RecurrencePattern, c.RecurrenceDays = true, ptr("daily"), ptr("1")
		}, "recurrence_days"},
		{"daily longer than a day", func(c *domain.MaintenanceConfig) {
			c.IsRecurring, c.RecurrencePattern, c.EndTime = true, ptr("daily"), start.Add(25*time.Hour)
		}, "end_time"},
		{"unknown monitor", func(c *domain.MaintenanceConfig) { c.MonitorIDs = []int64{8} }, "monitor_ids"},
		{"no monitors", func(c *domain.MaintenanceConfig) { c.MonitorIDs = nil }, "monitor_ids"},
		{"bad zone", func(c *domain.MaintenanceConfig) { c.TimeZone = "Mars/Olympus" }, "time_zone"},
		{"recurrence ends before it starts", func(c *domain.MaintenanceConfig) {
			c.IsRecurring, c.RecurrencePattern, c.RecurrenceEndDate = true, ptr("daily"), ptr(start.Add(-time.Hour))
		}, "recurrence_end_date"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := base()
			c.edit(&cfg)
			err := cfg.Validate(zone, own)
			var de *domain.Error
			if c.field == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if !asError(err, &de) || de.Fields[0].Field != c.field {
				t.Fatalf("err = %v, want a failure of %s", err, c.field)
			}
		})
	}
	cfg := base()
	cfg.IsRecurring, cfg.RecurrencePattern, cfg.RecurrenceDays = true, ptr("WEEKLY"), ptr(" 4, 1,4")
	if err := cfg.Validate(zone, own); err != nil || *cfg.RecurrenceDays != "1,4" || *cfg.RecurrencePattern != "weekly" || cfg.TimeZone != "UTC" {
		t.Errorf("normalised: %v %q %q %q", err, *cfg.RecurrenceDays, *cfg.RecurrencePattern, cfg.TimeZone)
	}
}

func asError(err error, target **domain.Error) bool {
	e, ok := err.(*domain.Error)
	if ok {
		*target = e
	}
	return ok && len(e.Fields) > 0
}

// BenchmarkMaintenanceInEffect: the question probes and the notifier ask
// of every window for every check (a weekly 22:00-02:00 window in Madrid).
func BenchmarkMaintenanceInEffect(b *testing.B) {
	madrid, err := time.LoadLocation("Europe/Madrid")
	if err != nil {
		b.Skip(err)
	}
	weekly, days := "weekly", "1,3,5"
	cfg := domain.MaintenanceConfig{StartTime: time.Date(2026, 3, 2, 21, 0, 0, 0, time.UTC), EndTime: time.Date(2026, 3, 3, 1, 0, 0, 0, time.UTC),
		TimeZone: "Europe/Madrid", IsRecurring: true, RecurrencePattern: &weekly, RecurrenceDays: &days, IsActive: true}
	at := time.Date(2026, 6, 3, 23, 30, 0, 0, time.UTC)
	for b.Loop() {
		cfg.InEffect(at, madrid)
		cfg.InEffect(at.Add(12*time.Hour), madrid)
	}
}

func TestWindowWhenItsMonitorsAreDeleted(t *testing.T) {
	gone := map[int64]bool{1: true, 2: true}
	exists := func(id int64) bool { return !gone[id] }
	for _, tc := range []struct {
		name    string
		cfg     domain.MaintenanceConfig
		deleted bool
	}{
		{"its only monitor deleted", domain.MaintenanceConfig{MonitorIDs: []int64{1}}, true},
		{"all its monitors deleted", domain.MaintenanceConfig{MonitorIDs: []int64{1, 2}}, true},
		{"one of its monitors left", domain.MaintenanceConfig{MonitorIDs: []int64{1, 3}}, false},
		{"covering every monitor", domain.MaintenanceConfig{AppliesToAllMonitors: true, MonitorIDs: []int64{1}}, false},
		{"naming none (every monitor)", domain.MaintenanceConfig{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := domain.MaintenanceWindow{ID: 7, AccountID: 1, Config: tc.cfg}
			got := w.MonitorsGone(exists)
			if (len(got) == 1) != tc.deleted {
				t.Errorf("events %v, want deleted %v", got, tc.deleted)
			}
		})
	}
	deleted := domain.MaintenanceWindow{ID: 7, AccountID: 1, Config: domain.MaintenanceConfig{MonitorIDs: []int64{1}}, Deleted: true}
	if got := deleted.MonitorsGone(exists); got != nil {
		t.Errorf("a deleted window: %v", got)
	}
}
