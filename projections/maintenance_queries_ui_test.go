package projections_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/medialuna/medialuna/domain"
	"github.com/medialuna/medialuna/projections"
)

// TestGroupWindows: a window is in effect while one of its occurrences
// holds now, upcoming while one is still to start, past once none is
// ahead or while it is disabled (then with the occurrence it would have);
// each group in its order.
func TestGroupWindows(t *testing.T) {
	now := time.Date(2027, 3, 10, 12, 0, 0, 0, time.UTC)
	str := func(s string) *string { return &s }
	at := func(d time.Duration) time.Time { return now.Add(d) }
	once := func(id int64, start, end time.Duration, active bool) projections.WindowView {
		return projections.WindowView{ID: id, MaintenanceConfig: domain.MaintenanceConfig{Name: "once", StartTime: at(start), EndTime: at(end),
			TimeZone: "UTC", AppliesToAllMonitors: true, IsActive: active}}
	}
	// Daily 11:00-13:00 New York (EDT from March 14, 2027), from March 1.
	ny, _ := time.LoadLocation("America/New_York")
	daily := func(id int64, active bool, until *time.Time) projections.WindowView {
		return projections.WindowView{ID: id, MaintenanceConfig: domain.MaintenanceConfig{Name: "daily",
			StartTime: time.Date(2027, 3, 1, 11, 0, 0, 0, ny), EndTime: time.Date(2027, 3, 1, 13, 0, 0, 0, ny), TimeZone: "America/New_York",
			AppliesToAllMonitors: true, IsRecurring: true, RecurrencePattern: str("daily"), RecurrenceEndDate: until, IsActive: active}}
	}
	ended := time.Date(2027, 3, 5, 0, 0, 0, 0, time.UTC)
	occ := func(start, end time.Time) *domain.Occurrence {
		return &domain.Occurrence{Start: start.UTC(), End: end.UTC()}
	}
	windows := []projections.WindowView{
		once(1, -time.Hour, time.Hour, true),      // in effect, ends in 1 h
		once(2, -time.Hour, 30*time.Minute, true), // in effect, ends sooner
		once(3, 2*time.Hour, 3*time.Hour, true),   // upcoming
		once(4, -3*time.Hour, -time.Hour, true),   // ended
		once(5, time.Hour, 2*time.Hour, false),    // disabled
		daily(6, true, nil),                       // 12:00 UTC is 07:00 EST: next at 11:00 EST, 16:00 UTC
		daily(7, true, &ended),                    // its last day is behind
		daily(8, false, nil),                      // disabled
	}
	got := projections.GroupWindows(windows, now)
	type row struct {
		ID                       int64
		Group                    string
		Current, Next, IfEnabled *domain.Occurrence
	}
	rows := func(list []projections.WindowStatus) []row {
		var out []row
		for _, s := range list {
			out = append(out, row{s.ID, s.Group, s.Current, s.Next, s.IfEnabled})
		}
		return out
	}
	dailyNext := occ(time.Date(2027, 3, 10, 11, 0, 0, 0, ny), time.Date(2027, 3, 10, 13, 0, 0, 0, ny))
	for _, c := range []struct {
		name string
		got  []row
		want []row
	}{
		{"in effect", rows(got.InEffect), []row{
			{2, "now", occ(at(-time.Hour), at(30*time.Minute)), nil, nil},
			{1, "now", occ(at(-time.Hour), at(time.Hour)), nil, nil},
		}},
		{"upcoming", rows(got.Upcoming), []row{
			{3, "upcoming", nil, occ(at(2*time.Hour), at(3*time.Hour)), nil},
			{6, "upcoming", nil, dailyNext, nil},
		}},
		{"past", rows(got.Past), []row{
			{8, "past", nil, nil, dailyNext},
			{7, "past", nil, nil, nil},
			{5, "past", nil, nil, occ(at(time.Hour), at(2*time.Hour))},
			{4, "past", nil, nil, nil},
		}},
	} {
		if diff := cmp.Diff(c.want, c.got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", c.name, diff)
		}
	}
	if dailyNext.Start != time.Date(2027, 3, 10, 16, 0, 0, 0, time.UTC) {
		t.Errorf("the daily window's next start is %s, want 16:00 UTC (11:00 EST)", dailyNext.Start)
	}

	// A window in effect also says its next occurrence after the current one.
	d := daily(9, true, nil)
	s := projections.StatusOf(d, time.Date(2027, 3, 15, 16, 0, 0, 0, time.UTC)) // 12:00 EDT, inside 11:00-13:00
	want := row{9, "now", occ(time.Date(2027, 3, 15, 11, 0, 0, 0, ny), time.Date(2027, 3, 15, 13, 0, 0, 0, ny)),
		occ(time.Date(2027, 3, 16, 11, 0, 0, 0, ny), time.Date(2027, 3, 16, 13, 0, 0, 0, ny)), nil}
	if diff := cmp.Diff(want, row{s.ID, s.Group, s.Current, s.Next, s.IfEnabled}); diff != "" {
		t.Errorf("in effect after the DST change (-want +got):\n%s", diff)
	}
}
