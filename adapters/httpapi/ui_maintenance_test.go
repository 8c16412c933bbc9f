package httpapi

import (
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/medialuna/medialuna/domain"
)

func maintTestZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// postWindow is the form posted over base, as the handlers read it.
func postWindow(t *testing.T, base domain.MaintenanceConfig, form url.Values) (domain.MaintenanceConfig, error) {
	t.Helper()
	r := httptest.NewRequest("POST", "/maintenance", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if err := parseUIForm(r); err != nil {
		t.Fatal(err)
	}
	return postedWindowFields(r, windowFieldsOf(base)).config(base)
}

// TestWindowFormRoundTrip: a window shown in the form and posted back
// untouched is the same window, to the second (the inputs show minutes);
// what is changed is read on the zone's wall clock.
func TestWindowFormRoundTrip(t *testing.T) {
	ny := maintTestZone(t, "America/New_York")
	str := func(s string) *string { return &s }
	until := time.Date(2027, 6, 30, 12, 0, 7, 0, time.UTC)
	for name, cfg := range map[string]domain.MaintenanceConfig{
		"one-off with seconds": {Name: "db", Description: str("line 1\nline 2"), StartTime: time.Date(2027, 1, 2, 3, 4, 5, 0, time.UTC),
			EndTime: time.Date(2027, 1, 2, 5, 4, 5, 0, time.UTC), TimeZone: "Europe/Berlin", MonitorIDs: []int64{3, 1}, IsActive: true},
		"weekly": {Name: "patching", StartTime: time.Date(2027, 3, 7, 9, 0, 0, 0, ny).UTC(), EndTime: time.Date(2027, 3, 7, 11, 30, 0, 0, ny).UTC(),
			TimeZone: "America/New_York", AppliesToAllMonitors: true, MonitorIDs: []int64{}, IsRecurring: true, RecurrencePattern: str("weekly"),
			RecurrenceDays: str("0,3"), IsActive: false},
		"monthly until": {Name: "backup", StartTime: time.Date(2027, 1, 31, 22, 0, 0, 0, time.UTC), EndTime: time.Date(2027, 2, 1, 1, 0, 0, 0, time.UTC),
			TimeZone: "UTC", MonitorIDs: []int64{2}, IsRecurring: true, RecurrencePattern: str("monthly"), RecurrenceEndDate: &until, IsActive: true},
	} {
		got, err := windowFieldsOf(cfg).config(cfg)
		if err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if diff := cmp.Diff(cfg, got); diff != "" {
			t.Errorf("%s: shown and posted back (-was +now):\n%s", name, diff)
		}
	}

	// A new start on a DST day: the length is on the wall clock (01:30 to
	// 03:30 local is one hour of real time on March 14, 2027), and the
	// last day ends at its last second.
	base := domain.MaintenanceConfig{TimeZone: "America/New_York", StartTime: time.Date(2027, 3, 1, 12, 0, 0, 0, time.UTC),
		EndTime: time.Date(2027, 3, 1, 13, 0, 0, 0, time.UTC), IsActive: true, MonitorIDs: []int64{}}
	got, err := postWindow(t, base, url.Values{"name": {"dst"}, "schedule": {"daily"}, "time_zone": {"America/New_York"}, "start_date": {"2027-03-14"},
		"start_clock": {"01:30"}, "duration_hours": {"2"}, "duration_minutes": {""}, "until": {"2027-04-01"}, "days": {"", "1"},
		"monitor_ids": {"", "4", "5"}, "applies_to_all_monitors": {"false"}, "is_active": {"false", "true"}, "description": {"a\r\nb"}})
	if err != nil {
		t.Fatal(err)
	}
	lastSecond := time.Date(2027, 4, 1, 23, 59, 59, 0, ny)
	want := domain.MaintenanceConfig{Name: "dst", Description: str("a\nb"), TimeZone: "America/New_York", StartTime: time.Date(2027, 3, 14, 1, 30, 0, 0, ny),
		EndTime: time.Date(2027, 3, 14, 3, 30, 0, 0, ny), MonitorIDs: []int64{4, 5}, IsRecurring: true, RecurrencePattern: str("daily"),
		RecurrenceEndDate: &lastSecond, IsActive: true}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("posted daily window (-want +got):\n%s", diff)
	}
	if real := got.EndTime.Sub(got.StartTime); real != time.Hour {
		t.Errorf("01:30-03:30 on the DST day lasts %s of real time, want 1h", real)
	}
	// The days are kept for weekly windows only, as ticked.
	got, _ = postWindow(t, base, url.Values{"schedule": {"weekly"}, "start_date": {"2027-03-14"}, "start_clock": {"09:00"}, "days": {"", "5", "1"}})
	if got.RecurrenceDays == nil || *got.RecurrenceDays != "5,1" {
		t.Errorf("weekly days = %v", got.RecurrenceDays)
	}
}

// TestWindowFormRefusals: what the form cannot read is refused next to its
// field; what it can, it leaves to Validate, whose fields it renames for a
// recurring window's form.
func TestWindowFormRefusals(t *testing.T) {
	base := domain.MaintenanceConfig{TimeZone: "UTC", IsActive: true, MonitorIDs: []int64{}}
	_, err := postWindow(t, base, url.Values{"schedule": {"weekly"}, "start_date": {"next week"}, "start_clock": {"9 o'clock"},
		"duration_hours": {"-1"}, "duration_minutes": {"ten"}, "until": {"soon"}})
	errs, ok := formErrors(err)
	if !ok {
		t.Fatalf("not a form error: %v", err)
	}
	fields := []string{}
	for f := range errs {
		fields = append(fields, f)
	}
	if diff := cmp.Diff([]string{"duration_hours", "duration_minutes", "start_clock", "start_date", "until"}, fields, maintSorted); diff != "" {
		t.Errorf("refused fields (-want +got):\n%s", diff)
	}
	_, err = postWindow(t, base, url.Values{"schedule": {"once"}, "start_time": {"2027-01-02 03:04"}})
	if errs, _ := formErrors(err); errs["start_time"] == "" {
		t.Errorf("a one-off's unreadable start: %v", err)
	}

	// Empty is Validate's to refuse, in the config's words, named for the form.
	cfg, err := postWindow(t, base, url.Values{"name": {""}, "schedule": {"hourly"}, "start_date": {""}, "start_clock": {"10:00"}})
	if err != nil {
		t.Fatal(err)
	}
	verr := cfg.Validate(time.LoadLocation, func(int64) bool { return true })
	errs, _ = formErrors(verr)
	got := windowFieldErrors(errs, "hourly")
	for _, f := range []string{"name", "schedule", "start_date", "monitor_ids"} {
		if got[f] == "" {
			t.Errorf("no message for %s in %v", f, got)
		}
	}
	if _, ok := got["recurrence_pattern"]; ok {
		t.Errorf("a config field name reached the form: %v", got)
	}
	if once := windowFieldErrors(map[string]string{"start_time": "x", "end_time": "y"}, "once"); once["start_time"] != "x" || once["end_time"] != "y" {
		t.Errorf("a one-off's fields renamed: %v", once)
	}
}

var maintSorted = cmp.Transformer("sort", func(in []string) []string {
	out := slices.Clone(in)
	slices.Sort(out)
	return out
})

// TestWindowSchedule says schedules in words, on the window's clock.
func TestWindowSchedule(t *testing.T) {
	now := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	ny := maintTestZone(t, "America/New_York")
	str := func(s string) *string { return &s }
	end := time.Date(2027, 5, 31, 23, 59, 59, 0, ny)
	for _, c := range []struct {
		cfg  domain.MaintenanceConfig
		want string
	}{
		{domain.MaintenanceConfig{TimeZone: "Europe/Berlin", StartTime: time.Date(2026, 12, 8, 21, 0, 0, 0, time.UTC), EndTime: time.Date(2026, 12, 9, 1, 0, 0, 0, time.UTC)},
			"Once, Tue 8 Dec 2026, 22:00 – Wed 9 Dec 2026, 02:00"},
		{domain.MaintenanceConfig{TimeZone: "UTC", StartTime: time.Date(2026, 12, 8, 21, 0, 0, 0, time.UTC), EndTime: time.Date(2026, 12, 8, 22, 0, 0, 0, time.UTC)},
			"Once, Tue 8 Dec 2026, 21:00 – 22:00"},
		{domain.MaintenanceConfig{TimeZone: "America/New_York", StartTime: time.Date(2026, 12, 1, 22, 0, 0, 0, ny), EndTime: time.Date(2026, 12, 2, 2, 0, 0, 0, ny),
			IsRecurring: true, RecurrencePattern: str("daily")}, "Every day at 22:00 for 4 h"},
		{domain.MaintenanceConfig{TimeZone: "America/New_York", StartTime: time.Date(2027, 3, 7, 9, 0, 0, 0, ny), EndTime: time.Date(2027, 3, 7, 11, 30, 0, 0, ny),
			IsRecurring: true, RecurrencePattern: str("weekly"), RecurrenceDays: str("0,3,5"), RecurrenceEndDate: &end},
			"Every week on Wednesday, Friday and Sunday at 09:00 for 2 h 30 min, from Sun 7 Mar 2027, until Mon 31 May 2027"},
		{domain.MaintenanceConfig{TimeZone: "UTC", StartTime: time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC), EndTime: time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC),
			IsRecurring: true, RecurrencePattern: str("weekly")}, "Every week on Wednesday at 09:00 for 1 h"},
		{domain.MaintenanceConfig{TimeZone: "UTC", StartTime: time.Date(2026, 12, 31, 3, 0, 0, 0, time.UTC), EndTime: time.Date(2026, 12, 31, 3, 45, 0, 0, time.UTC),
			IsRecurring: true, RecurrencePattern: str("monthly")}, "Every month on day 31 (or the month's last day when it is shorter) at 03:00 for 45 min"},
	} {
		if got := windowSchedule(c.cfg, now); got != c.want {
			t.Errorf("windowSchedule = %q, want %q", got, c.want)
		}
	}
}

// TestWindowPreview: the preview is Occurrences from now, ten at most,
// the one in effect marked; a disabled window's are those it would have.
func TestWindowPreview(t *testing.T) {
	str := func(s string) *string { return &s }
	now := time.Date(2027, 3, 10, 9, 30, 0, 0, time.UTC)
	cfg := domain.MaintenanceConfig{Name: "d", TimeZone: "UTC", StartTime: time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC), EndTime: time.Date(2027, 3, 1, 10, 0, 0, 0, time.UTC),
		IsRecurring: true, RecurrencePattern: str("daily"), AppliesToAllMonitors: true, IsActive: false}
	p := windowPreview(cfg, now)
	if !p.Disabled || len(p.Occurrences) != maintPreviewCount {
		t.Fatalf("preview = %+v", p)
	}
	cfg.IsActive = true
	want := cfg.Occurrences(now, now.AddDate(1, 0, 0), time.UTC)[:maintPreviewCount]
	for i, o := range p.Occurrences {
		if o.Start != want[i].Start.Format(time.RFC3339) || o.End != want[i].End.Format(time.RFC3339) || o.InEffect != (i == 0) {
			t.Errorf("occurrence %d = %+v, want %v (in effect %v)", i, o, want[i], i == 0)
		}
	}
	if p.Occurrences[0].Text != "Wed 10 Mar 2027, 09:00 – 10:00" || p.Occurrences[0].Zone != "UTC, UTC+00:00" {
		t.Errorf("first occurrence in words: %+v", p.Occurrences[0])
	}
}
