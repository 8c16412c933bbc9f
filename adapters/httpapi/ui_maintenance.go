package httpapi

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/mux"

	"github.com/medialuna/medialuna/commands"
	"github.com/medialuna/medialuna/domain"
	"github.com/medialuna/medialuna/projections"
)

// Maintenance windows: the list (in effect now, upcoming, past), the form
// for one-off and recurring windows with a preview of the next
// occurrences, toggle and delete. The form turns what was typed into a
// domain.MaintenanceConfig (windowFields.config: reading dates, times and
// numbers only) and leaves every rule to the config's Validate, which the
// API's ScheduleMaintenance and UpdateMaintenance run and the preview runs
// before asking Occurrences, the schedule the scheduler follows.

func (s *Server) uiMaintenanceRoutes() {
	s.uiRoute("GET", "/maintenance", domain.RoleViewer, s.uiMaintenanceList)
	s.uiRoute("GET", "/maintenance/new", domain.RoleEditor, s.uiNewMaintenance)
	s.uiRoute("POST", "/maintenance", domain.RoleEditor, s.uiCreateMaintenance)
	s.uiRoute("POST", "/maintenance/preview", domain.RoleEditor, s.uiPreviewMaintenance)
	s.uiRoute("GET", "/maintenance/{id:[0-9]+}/edit", domain.RoleEditor, s.uiEditMaintenance)
	s.uiRoute("POST", "/maintenance/{id:[0-9]+}", domain.RoleEditor, s.uiUpdateMaintenance)
	s.uiRoute("POST", "/maintenance/{id:[0-9]+}/preview", domain.RoleEditor, s.uiPreviewMaintenance)
	s.uiRoute("POST", "/maintenance/{id:[0-9]+}/toggle", domain.RoleEditor, s.uiToggleMaintenance)
	s.uiRoute("GET", "/maintenance/{id:[0-9]+}/delete", domain.RoleEditor, s.uiDeleteMaintenancePage)
	s.uiRoute("POST", "/maintenance/{id:[0-9]+}/delete", domain.RoleEditor, s.uiDeleteMaintenance)
}

// maintPreviewCount is how many occurrences the preview lists.
const maintPreviewCount = 10

// Layouts of the form's date and time inputs, read in the window's zone.
const (
	maintDateTime = "2006-01-02T15:04" // <input type="datetime-local">
	maintClock    = "15:04"            // <input type="time">
)

// windowFields are the form's values as typed, so a refused form comes
// back as the user left it.
type windowFields struct {
	Name, Description, Schedule, TimeZone string
	// A one-off window: its start and end, on the zone's wall clock.
	Start, End string
	// A recurring one: its first day, its start on the wall clock, how
	// long each occurrence lasts, the last day it may start on (optional)
	// and, weekly, its days (0 = Sunday).
	StartDate, StartClock, DurationHours, DurationMinutes, Until string
	Days                                                         []string
	AllMonitors, Enabled                                         bool
	MonitorIDs                                                   []int64
}

// maintZone is the window's time zone, or UTC for a name that does not
// load (Validate refuses those).
func maintZone(name string) *time.Location {
	if loc, err := time.LoadLocation(name); err == nil {
		return loc
	}
	return time.UTC
}

// maintWallClock is t's wall-clock reading as a UTC time, for arithmetic on
// the clock the window's people read.
func maintWallClock(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
}

// maintWallSpan is how far b's wall clock is from a's: the length of each
// occurrence of a recurring window, whatever DST does between them.
func maintWallSpan(a, b time.Time) time.Duration { return maintWallClock(b).Sub(maintWallClock(a)) }

// maintWallAdd is the instant whose wall clock in loc reads t's plus d.
func maintWallAdd(t time.Time, d time.Duration, loc *time.Location) time.Time {
	n := maintWallClock(t.In(loc)).Add(d)
	return time.Date(n.Year(), n.Month(), n.Day(), n.Hour(), n.Minute(), n.Second(), n.Nanosecond(), loc)
}

func windowFieldsOf(c domain.MaintenanceConfig) windowFields {
	loc := maintZone(c.TimeZone)
	f := windowFields{Name: c.Name, Schedule: "once", TimeZone: c.TimeZone, AllMonitors: c.AppliesToAllMonitors, Enabled: c.IsActive,
		MonitorIDs: slices.Clone(c.MonitorIDs)}
	if c.Description != nil {
		f.Description = *c.Description
	}
	start, end := c.StartTime.In(loc), c.EndTime.In(loc)
	if !c.StartTime.IsZero() {
		f.Start, f.StartDate, f.StartClock = start.Format(maintDateTime), start.Format(time.DateOnly), start.Format(maintClock)
	}
	if !c.EndTime.IsZero() {
		f.End = end.Format(maintDateTime)
	}
	if !c.StartTime.IsZero() && !c.EndTime.IsZero() {
		d := max(maintWallSpan(start, end), 0)
		f.DurationHours, f.DurationMinutes = strconv.Itoa(int(d/time.Hour)), strconv.Itoa(int(d%time.Hour/time.Minute))
	}
	if c.IsRecurring && c.RecurrencePattern != nil {
		f.Schedule = *c.RecurrencePattern
		if c.RecurrenceDays != nil && *c.RecurrenceDays != "" {
			f.Days = strings.Split(*c.RecurrenceDays, ",")
		}
		if c.RecurrenceEndDate != nil {
			f.Until = c.RecurrenceEndDate.In(loc).Format(time.DateOnly)
		}
	}
	return f
}

// postedWindowFields lays the posted form over base. A field the form did
// not send (its fieldset is for another schedule, and disabled) keeps
// base's value; checkboxes come with a hidden value in the same fieldset,
// so "sent, none ticked" differs from "not sent".
func postedWindowFields(r *http.Request, base windowFields) windowFields {
	f := base
	text := func(field string, into *string, trim bool) {
		if vs, ok := r.PostForm[field]; ok && len(vs) > 0 {
			*into = vs[0]
			if trim {
				*into = strings.TrimSpace(vs[0])
			}
		}
	}
	text("name", &f.Name, false)
	text("description", &f.Description, false)
	// A textarea sends its line breaks as CRLF; the window keeps them as typed.
	f.Description = strings.ReplaceAll(f.Description, "\r\n", "\n")
	for field, into := range map[string]*string{"schedule": &f.Schedule, "time_zone": &f.TimeZone, "start_time": &f.Start, "end_time": &f.End,
		"start_date": &f.StartDate, "start_clock": &f.StartClock, "duration_hours": &f.DurationHours, "duration_minutes": &f.DurationMinutes,
		"until": &f.Until} {
		text(field, into, true)
	}
	flag := func(field string, into *bool) {
		if vs, ok := r.PostForm[field]; ok && len(vs) > 0 {
			*into = vs[len(vs)-1] == "true"
		}
	}
	flag("applies_to_all_monitors", &f.AllMonitors)
	flag("is_active", &f.Enabled)
	if vs, ok := r.PostForm["days"]; ok {
		f.Days = []string{}
		for _, v := range vs {
			if v = strings.TrimSpace(v); v != "" {
				f.Days = append(f.Days, v)
			}
		}
	}
	if vs, ok := r.PostForm["monitor_ids"]; ok {
		f.MonitorIDs = []int64{}
		for _, v := range vs {
			if n, err := strconv.ParseInt(v, 10, 64); err == nil && n > 0 {
				f.MonitorIDs = append(f.MonitorIDs, n)
			}
		}
	}
	return f
}

// config sets the fields over base, the window as it is (or a new one's
// defaults). It only reads what was typed: dates, clock times and numbers
// that are not one are ErrInvalid naming their fields; everything else
// (what is required, what must follow what, which zones and monitors
// exist) is Validate's. A date or time left as base shows it keeps base's
// instant, seconds and all.
func (f windowFields) config(base domain.MaintenanceConfig) (domain.MaintenanceConfig, error) {
	var v domain.Validation
	cfg := base
	shown := windowFieldsOf(base)
	same := f.TimeZone == shown.TimeZone
	cfg.Name, cfg.TimeZone = f.Name, f.TimeZone
	cfg.Description = nil
	if f.Description != "" {
		d := f.Description
		cfg.Description = &d
	}
	cfg.AppliesToAllMonitors, cfg.IsActive = f.AllMonitors, f.Enabled
	cfg.MonitorIDs = append([]int64{}, f.MonitorIDs...)
	loc := maintZone(f.TimeZone)
	read := func(field, layout, raw, msg string) time.Time {
		if raw == "" {
			return time.Time{}
		}
		t, err := time.ParseInLocation(layout, raw, loc)
		if err != nil {
			v.Add(field, "datetime_parsing", "%s", msg)
		}
		return t
	}
	if f.Schedule == "once" {
		cfg.IsRecurring, cfg.RecurrencePattern, cfg.RecurrenceDays, cfg.RecurrenceEndDate = false, nil, nil, nil
		cfg.StartTime = read("start_time", maintDateTime, f.Start, "enter the start as a date and a time")
		cfg.EndTime = read("end_time", maintDateTime, f.End, "enter the end as a date and a time")
		if same && f.Start == shown.Start {
			cfg.StartTime = base.StartTime
		}
		if same && f.End == shown.End {
			cfg.EndTime = base.EndTime
		}
		return cfg, v.Err()
	}
	pattern := f.Schedule
	cfg.IsRecurring, cfg.RecurrencePattern = true, &pattern
	day := read("start_date", time.DateOnly, f.StartDate, "enter the first day as a date")
	var clock time.Time
	if f.StartClock == "" {
		v.Add("start_clock", "missing", "enter the time each occurrence starts, such as 22:00")
	} else if c, err := time.Parse(maintClock, f.StartClock); err != nil {
		v.Add("start_clock", "datetime_parsing", "enter the start time as hours and minutes, such as 22:00")
	} else {
		clock = c
	}
	number := func(field, raw, unit string) time.Duration {
		if raw == "" {
			return 0
		}
		n, err := strconv.Atoi(raw)
		if err != nil || n < 0 {
			v.Add(field, "int_parsing", "must be a whole number of %s", unit)
			return 0
		}
		return time.Duration(n)
	}
	length := number("duration_hours", f.DurationHours, "hours")*time.Hour + number("duration_minutes", f.DurationMinutes, "minutes")*time.Minute
	cfg.StartTime, cfg.EndTime = time.Time{}, time.Time{}
	if !day.IsZero() {
		cfg.StartTime = time.Date(day.Year(), day.Month(), day.Day(), clock.Hour(), clock.Minute(), 0, 0, loc)
		if same && f.StartDate == shown.StartDate && f.StartClock == shown.StartClock {
			cfg.StartTime = base.StartTime
		}
		cfg.EndTime = maintWallAdd(cfg.StartTime, length, loc)
		if same && cfg.StartTime.Equal(base.StartTime) && f.DurationHours == shown.DurationHours && f.DurationMinutes == shown.DurationMinutes {
			cfg.EndTime = base.EndTime
		}
	}
	cfg.RecurrenceDays = nil
	if pattern == "weekly" && len(f.Days) > 0 {
		days := strings.Join(f.Days, ",")
		cfg.RecurrenceDays = &days
	}
	cfg.RecurrenceEndDate = nil
	if last := read("until", time.DateOnly, f.Until, "enter the last day as a date, or leave it empty"); !last.IsZero() {
		// Occurrences may start until the end of the last day.
		end := time.Date(last.Year(), last.Month(), last.Day(), 23, 59, 59, 0, loc)
		if same && f.Until == shown.Until && base.RecurrenceEndDate != nil {
			end = *base.RecurrenceEndDate
		}
		cfg.RecurrenceEndDate = &end
	}
	return cfg, v.Err()
}

// windowFieldErrors names the form's fields in a refusal: Validate speaks
// of the config (start_time, recurrence_pattern, ...), the form of what it
// asks (for a recurring window, its first day and its length).
func windowFieldErrors(errs map[string]string, schedule string) map[string]string {
	rename := map[string]string{"recurrence_pattern": "schedule", "recurrence_days": "days", "recurrence_end_date": "until"}
	if schedule != "once" {
		rename["start_time"], rename["end_time"] = "start_date", "duration_hours"
	}
	out := map[string]string{}
	for field, msg := range errs {
		if to, ok := rename[field]; ok {
			field = to
		}
		if out[field] == "" {
			out[field] = msg
		}
	}
	return out
}

// uiMaintOption is a choice in a select or a group of checkboxes.
type uiMaintOption struct {
	Value, Label string
	Checked      bool
}

// uiWindowOccurrence is one occurrence, as the preview and the list say it.
type uiWindowOccurrence struct {
	Start, End string // RFC 3339, UTC
	Text       string // on the window's wall clock
	Zone       string // the zone's abbreviation and offset then
	InEffect   bool
}

type uiWindowPreview struct {
	Zone        string
	Schedule    string
	Disabled    bool
	Occurrences []uiWindowOccurrence
}

type uiWindowFormData struct {
	ID                              int64 // 0 for a new window
	Action, PreviewAction           string
	Heading, Submit                 string
	F                               windowFields
	Schedules, Zones, Days, Monitor []uiMaintOption
	Preview                         *uiWindowPreview
}

// uiMaintZones are the time zones the form offers: UTC, then the zones of
// the IANA database's zone.tab that this machine can load.
var uiMaintZones = sync.OnceValue(func() []string {
	out := []string{"UTC"}
	for _, name := range strings.Fields(ianaZoneNames) {
		if _, err := time.LoadLocation(name); err == nil {
			out = append(out, name)
		}
	}
	return out
})

// uiWeekDays are the days of the week, Monday first, with Validate's
// numbers (0 = Sunday).
var uiWeekDays = []uiMaintOption{{"1", "Monday", false}, {"2", "Tuesday", false}, {"3", "Wednesday", false}, {"4", "Thursday", false},
	{"5", "Friday", false}, {"6", "Saturday", false}, {"0", "Sunday", false}}

func (s *Server) windowForm(ctx context.Context, v *viewer, id int64, f windowFields) (uiWindowFormData, error) {
	d := uiWindowFormData{ID: id, F: f}
	if id == 0 {
		d.Action, d.PreviewAction, d.Heading, d.Submit = "/maintenance", "/maintenance/preview", "New maintenance window", "Create window"
	} else {
		path := "/maintenance/" + strconv.FormatInt(id, 10)
		d.Action, d.PreviewAction, d.Heading, d.Submit = path, path+"/preview", "Edit "+f.Name, "Save changes"
	}
	for _, o := range []uiMaintOption{{"once", "Once", false}, {"daily", "Every day", false}, {"weekly", "Every week", false}, {"monthly", "Every month", false}} {
		o.Checked = o.Value == f.Schedule
		d.Schedules = append(d.Schedules, o)
	}
	zones := uiMaintZones()
	if f.TimeZone != "" && !slices.Contains(zones, f.TimeZone) {
		d.Zones = append(d.Zones, uiMaintOption{f.TimeZone, f.TimeZone, true}) // as saved or typed, so it is not silently changed
	}
	for _, z := range zones {
		d.Zones = append(d.Zones, uiMaintOption{z, strings.ReplaceAll(z, "_", " "), z == f.TimeZone})
	}
	for _, o := range uiWeekDays {
		o.Checked = slices.Contains(f.Days, o.Value)
		d.Days = append(d.Days, o)
	}
	monitors, err := s.deps.Queries.MonitorChoices(ctx, v.AccountID)
	if err != nil {
		return d, err
	}
	for _, m := range monitors {
		d.Monitor = append(d.Monitor, uiMaintOption{strconv.FormatInt(m.ID, 10), m.Name, slices.Contains(f.MonitorIDs, m.ID)})
	}
	return d, nil
}

func (s *Server) renderWindowForm(w http.ResponseWriter, r *http.Request, v *viewer, status int, id int64, f windowFields, errs map[string]string, preview *uiWindowPreview) error {
	d, err := s.windowForm(r.Context(), v, id, f)
	if err != nil {
		return err
	}
	d.Preview = preview
	return s.render(w, r, status, "maintenance_form", uiPage{Title: d.Heading, Nav: "maintenance", Viewer: v, Errors: errs, Data: d})
}

// windowRefused shows the form again with a refusal next to its fields;
// other errors stay errors. htmx swaps only successful answers, so its
// previews get the form with the messages as a 200.
func (s *Server) windowRefused(w http.ResponseWriter, r *http.Request, v *viewer, id int64, f windowFields, err error, previewing bool) error {
	errs, ok := formErrors(err)
	if !ok {
		return err
	}
	errs = windowFieldErrors(errs, f.Schedule)
	if errs[""] == "" {
		errs[""] = "The window was not saved: correct the fields marked below."
		if previewing {
			errs[""] = "No preview yet: correct the fields marked below."
		}
	}
	status := statusOf(domain.ErrorCode(err))
	if r.Header.Get("HX-Request") == "true" {
		status = http.StatusOK
	}
	return s.renderWindowForm(w, r, v, status, id, f, errs, nil)
}

// newWindow is a new window's defaults: in the account's time zone, from
// the next full hour for an hour, enabled.
func (s *Server) newWindow(ctx context.Context, v *viewer) (domain.MaintenanceConfig, error) {
	acc, err := s.deps.Queries.Account(ctx, v.AccountID)
	if err != nil {
		return domain.MaintenanceConfig{}, err
	}
	zone := "UTC"
	if _, err := time.LoadLocation(acc.Timezone); err == nil && acc.Timezone != "" && acc.Timezone != "Local" {
		zone = acc.Timezone
	}
	now := s.deps.Now().In(maintZone(zone))
	start := time.Date(now.Year(), now.Month(), now.Day(), now.Hour()+1, 0, 0, 0, now.Location())
	return domain.MaintenanceConfig{TimeZone: zone, StartTime: start, EndTime: start.Add(time.Hour), IsActive: true, MonitorIDs: []int64{}}, nil
}

// pageWindow is the path's window, if it is the viewer's account's.
func (s *Server) pageWindow(r *http.Request, v *viewer) (projections.WindowView, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return projections.WindowView{}, err
	}
	return s.deps.Queries.MaintenanceWindow(r.Context(), v.AccountID, id, s.deps.Now())
}

func (s *Server) uiNewMaintenance(w http.ResponseWriter, r *http.Request, v *viewer) error {
	base, err := s.newWindow(r.Context(), v)
	if err != nil {
		return err
	}
	return s.renderWindowForm(w, r, v, http.StatusOK, 0, windowFieldsOf(base), nil, nil)
}

func (s *Server) uiEditMaintenance(w http.ResponseWriter, r *http.Request, v *viewer) error {
	win, err := s.pageWindow(r, v)
	if err != nil {
		return err
	}
	return s.renderWindowForm(w, r, v, http.StatusOK, win.ID, windowFieldsOf(win.MaintenanceConfig), nil, nil)
}

func (s *Server) uiCreateMaintenance(w http.ResponseWriter, r *http.Request, v *viewer) error {
	base, err := s.newWindow(r.Context(), v)
	if err != nil {
		return err
	}
	f := postedWindowFields(r, windowFieldsOf(base))
	cfg, err := f.config(base)
	if err != nil {
		return s.windowRefused(w, r, v, 0, f, err, false)
	}
	id, pos, err := s.deps.ScheduleMaintenance.Handle(r.Context(), commands.ScheduleMaintenance{Actor: v.actor(r), Config: cfg})
	if err != nil {
		return s.windowRefused(w, r, v, 0, f, err, false)
	}
	s.settleUI(w, r, pos, "Maintenance window "+strings.TrimSpace(cfg.Name)+" created.")
	return redirect(w, r, "/maintenance#window-"+strconv.FormatInt(id, 10))
}

func (s *Server) uiUpdateMaintenance(w http.ResponseWriter, r *http.Request, v *viewer) error {
	win, err := s.pageWindow(r, v)
	if err != nil {
		return err
	}
	shown := postedWindowFields(r, windowFieldsOf(win.MaintenanceConfig))
	pos, err := s.deps.UpdateMaintenance.Handle(r.Context(), commands.UpdateMaintenance{Actor: v.actor(r), WindowID: win.ID,
		Change: func(cur domain.MaintenanceConfig) (domain.MaintenanceConfig, error) {
			return postedWindowFields(r, windowFieldsOf(cur)).config(cur)
		}})
	if err != nil {
		return s.windowRefused(w, r, v, win.ID, shown, err, false)
	}
	s.settleUI(w, r, pos, "Maintenance window "+strings.TrimSpace(shown.Name)+" saved.")
	return redirect(w, r, "/maintenance#window-"+strconv.FormatInt(win.ID, 10))
}

// uiPreviewMaintenance shows the form with the window's next occurrences
// in its zone: the config as Save would build it, checked by Validate
// (the commands' check), its occurrences from Occurrences. It saves
// nothing.
func (s *Server) uiPreviewMaintenance(w http.ResponseWriter, r *http.Request, v *viewer) error {
	ctx := r.Context()
	var id int64
	var base domain.MaintenanceConfig
	if _, ok := mux.Vars(r)["id"]; ok {
		win, err := s.pageWindow(r, v)
		if err != nil {
			return err
		}
		id, base = win.ID, win.MaintenanceConfig
	} else {
		var err error
		if base, err = s.newWindow(ctx, v); err != nil {
			return err
		}
	}
	f := postedWindowFields(r, windowFieldsOf(base))
	cfg, err := f.config(base)
	if err == nil {
		var monitors []projections.MonitorChoice
		if monitors, err = s.deps.Queries.MonitorChoices(ctx, v.AccountID); err != nil {
			return err
		}
		own := func(id int64) bool {
			return slices.ContainsFunc(monitors, func(m projections.MonitorChoice) bool { return m.ID == id })
		}
		err = cfg.Validate(time.LoadLocation, own)
	}
	if err != nil {
		return s.windowRefused(w, r, v, id, f, err, true)
	}
	p := windowPreview(cfg, s.deps.Now())
	return s.renderWindowForm(w, r, v, http.StatusOK, id, f, nil, &p)
}

// windowPreview lists a valid window's next occurrences from now (the one
// in effect included); a disabled window's are those it would have.
func windowPreview(cfg domain.MaintenanceConfig, now time.Time) uiWindowPreview {
	loc := maintZone(cfg.TimeZone)
	p := uiWindowPreview{Zone: cfg.TimeZone, Schedule: windowSchedule(cfg, now), Disabled: !cfg.IsActive}
	cfg.IsActive = true
	occ := cfg.Occurrences(now, now.Add(projections.UpcomingHorizon), loc)
	for _, o := range occ[:min(len(occ), maintPreviewCount)] {
		p.Occurrences = append(p.Occurrences, windowOccurrence(o, loc, now))
	}
	return p
}

func windowOccurrence(o domain.Occurrence, loc *time.Location, now time.Time) uiWindowOccurrence {
	start, end := o.Start.In(loc), o.End.In(loc)
	text := start.Format("Mon 2 Jan 2006, 15:04") + " – "
	if start.Format(time.DateOnly) == end.Format(time.DateOnly) {
		text += end.Format("15:04")
	} else {
		text += end.Format("Mon 2 Jan 2006, 15:04")
	}
	zone := start.Format("MST, UTC-07:00")
	if z := end.Format("MST, UTC-07:00"); z != zone {
		zone += " to " + z
	}
	return uiWindowOccurrence{Start: o.Start.UTC().Format(time.RFC3339), End: o.End.UTC().Format(time.RFC3339), Text: text, Zone: zone,
		InEffect: !o.Start.After(now) && o.End.After(now)}
}

// windowSchedule says a window's schedule in words, on its zone's clock.
func windowSchedule(c domain.MaintenanceConfig, now time.Time) string {
	loc := maintZone(c.TimeZone)
	start, end := c.StartTime.In(loc), c.EndTime.In(loc)
	if !c.IsRecurring || c.RecurrencePattern == nil {
		to := end.Format("Mon 2 Jan 2006, 15:04")
		if start.Format(time.DateOnly) == end.Format(time.DateOnly) {
			to = end.Format("15:04")
		}
		return "Once, " + start.Format("Mon 2 Jan 2006, 15:04") + " – " + to
	}
	var when string
	switch *c.RecurrencePattern {
	case "daily":
		when = "Every day"
	case "weekly":
		var names []string
		for _, d := range uiWeekDays {
			if c.RecurrenceDays != nil && slices.Contains(strings.Split(*c.RecurrenceDays, ","), d.Value) {
				names = append(names, d.Label)
			}
		}
		if len(names) == 0 {
			names = []string{start.Weekday().String()}
		}
		when = "Every week on " + maintAndList(names)
	case "monthly":
		when = "Every month on day " + strconv.Itoa(start.Day())
		if start.Day() > 28 {
			when += " (or the month's last day when it is shorter)"
		}
	default:
		when = "Every " + *c.RecurrencePattern
	}
	out := when + " at " + start.Format(maintClock) + " for " + uiSpan(maintWallSpan(start, end))
	if start.After(now) {
		out += ", from " + start.Format("Mon 2 Jan 2006")
	}
	if c.RecurrenceEndDate != nil {
		out += ", until " + c.RecurrenceEndDate.In(loc).Format("Mon 2 Jan 2006")
	}
	return out
}

// maintAndList joins words as "a, b and c".
func maintAndList(words []string) string {
	if len(words) < 2 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " and " + words[len(words)-1]
}

// The list.

type uiWindowRow struct {
	ID                     int64
	Name, Description      string
	Enabled                bool
	Schedule, Zone, Covers string
	// Current is the occurrence in effect now, Next the one after, and
	// IfEnabled a disabled window's next had it been enabled; Until and
	// Starts say them relative to now.
	Current, Next, IfEnabled *uiWindowOccurrence
	Until, Starts            string
}

type uiMaintListData struct {
	InEffect, Upcoming, Past []uiWindowRow
}

func (s *Server) uiMaintenanceList(w http.ResponseWriter, r *http.Request, v *viewer) error {
	ctx := r.Context()
	now := s.deps.Now()
	windows, err := s.deps.Queries.MaintenanceWindows(ctx, v.AccountID, now)
	if err != nil {
		return err
	}
	monitors, err := s.deps.Queries.MonitorChoices(ctx, v.AccountID)
	if err != nil {
		return err
	}
	names := map[int64]string{}
	for _, m := range monitors {
		names[m.ID] = m.Name
	}
	g := projections.GroupWindows(windows, now)
	rows := func(list []projections.WindowStatus) []uiWindowRow {
		out := []uiWindowRow{}
		for _, st := range list {
			out = append(out, windowRow(st, names, now))
		}
		return out
	}
	d := uiMaintListData{InEffect: rows(g.InEffect), Upcoming: rows(g.Upcoming), Past: rows(g.Past)}
	return s.render(w, r, http.StatusOK, "maintenance", uiPage{Title: "Maintenance windows", Nav: "maintenance", Viewer: v, Data: d})
}

func windowRow(st projections.WindowStatus, names map[int64]string, now time.Time) uiWindowRow {
	loc := maintZone(st.TimeZone)
	row := uiWindowRow{ID: st.ID, Name: st.Name, Enabled: st.IsActive, Schedule: windowSchedule(st.MaintenanceConfig, now),
		Zone: strings.ReplaceAll(st.TimeZone, "_", " ")}
	if st.Description != nil {
		row.Description = *st.Description
	}
	switch {
	case st.AppliesToAllMonitors:
		row.Covers = "All monitors"
	case len(st.MonitorIDs) == 0:
		row.Covers = "No monitor: those it covered were deleted"
	default:
		var covered []string
		for _, id := range st.MonitorIDs {
			if n, ok := names[id]; ok {
				covered = append(covered, n)
			}
		}
		row.Covers = strings.Join(covered, ", ")
	}
	occ := func(o *domain.Occurrence) *uiWindowOccurrence {
		if o == nil {
			return nil
		}
		x := windowOccurrence(*o, loc, now)
		return &x
	}
	row.Current, row.Next, row.IfEnabled = occ(st.Current), occ(st.Next), occ(st.IfEnabled)
	if st.Current != nil {
		row.Until = uiAgo(st.Current.End, now)
	}
	if st.Next != nil {
		row.Starts = uiAgo(st.Next.Start, now)
	}
	return row
}

func (s *Server) uiToggleMaintenance(w http.ResponseWriter, r *http.Request, v *viewer) error {
	win, err := s.pageWindow(r, v)
	if err != nil {
		return err
	}
	pos, err := s.deps.ToggleMaintenance.Handle(r.Context(), commands.ToggleMaintenance{Actor: v.actor(r), WindowID: win.ID})
	if err != nil {
		return err
	}
	verb := "Enabled "
	if win.IsActive {
		verb = "Disabled "
	}
	s.settleUI(w, r, pos, verb+win.Name+".")
	return redirect(w, r, "/maintenance#window-"+strconv.FormatInt(win.ID, 10))
}

type uiWindowDelete struct {
	ID                     int64
	Name, Schedule, Covers string
}

func (s *Server) uiDeleteMaintenancePage(w http.ResponseWriter, r *http.Request, v *viewer) error {
	win, err := s.pageWindow(r, v)
	if err != nil {
		return err
	}
	monitors, err := s.deps.Queries.MonitorChoices(r.Context(), v.AccountID)
	if err != nil {
		return err
	}
	names := map[int64]string{}
	for _, m := range monitors {
		names[m.ID] = m.Name
	}
	row := windowRow(projections.StatusOf(win, s.deps.Now()), names, s.deps.Now())
	d := uiWindowDelete{ID: win.ID, Name: win.Name, Schedule: row.Schedule + " (" + row.Zone + ")", Covers: row.Covers}
	return s.render(w, r, http.StatusOK, "maintenance_delete", uiPage{Title: "Delete " + win.Name, Nav: "maintenance", Viewer: v, Data: d})
}

func (s *Server) uiDeleteMaintenance(w http.ResponseWriter, r *http.Request, v *viewer) error {
	win, err := s.pageWindow(r, v)
	if err != nil {
		return err
	}
	pos, err := s.deps.DeleteMaintenance.Handle(r.Context(), commands.DeleteMaintenance{Actor: v.actor(r), WindowID: win.ID})
	if err != nil {
		return err
	}
	s.settleUI(w, r, pos, "Deleted "+win.Name+".")
	return redirect(w, r, "/maintenance")
}

// ianaZoneNames are the zones of the IANA time zone database's zone.tab
// (one per country's region), for the form's list; UTC comes first.
const ianaZoneNames = `
Africa/Abidjan Africa/Accra Africa/Addis_Ababa Africa/Algiers Africa/Asmara Africa/Bamako Africa/Bangui Africa/Banjul
Africa/Bissau Africa/Blantyre Africa/Brazzaville Africa/Bujumbura Africa/Cairo Africa/Casablanca Africa/Ceuta Africa/Conakry
Africa/Dakar Africa/Dar_es_Salaam Africa/Djibouti Africa/Douala Africa/El_Aaiun Africa/Freetown Africa/Gaborone
Africa/Harare Africa/Johannesburg Africa/Juba Africa/Kampala Africa/Khartoum Africa/Kigali Africa/Kinshasa Africa/Lagos
Africa/Libreville Africa/Lome Africa/Luanda Africa/Lubumbashi Africa/Lusaka Africa/Malabo Africa/Maputo Africa/Maseru
Africa/Mbabane Africa/Mogadishu Africa/Monrovia Africa/Nairobi Africa/Ndjamena Africa/Niamey Africa/Nouakchott Africa/Ouagadougou
Africa/Porto-Novo Africa/Sao_Tome Africa/Tripoli Africa/Tunis Africa/Windhoek America/Adak America/Anchorage America/Anguilla
America/Antigua America/Araguaina America/Argentina/Buenos_Aires America/Argentina/Catamarca America/Argentina/Cordoba
America/Argentina/Jujuy America/Argentina/La_Rioja America/Argentina/Mendoza America/Argentina/Rio_Gallegos America/Argentina/Salta
America/Argentina/San_Juan America/Argentina/San_Luis America/Argentina/Tucuman America/Argentina/Ushuaia America/Aruba
America/Asuncion America/Atikokan America/Bahia America/Bahia_Banderas America/Barbados America/Belem America/Belize
America/Blanc-Sablon America/Boa_Vista America/Bogota America/Boise America/Cambridge_Bay America/Campo_Grande America/Cancun
America/Caracas America/Cayenne America/Cayman America/Chicago America/Chihuahua America/Ciudad_Juarez America/Costa_Rica
America/Coyhaique America/Creston America/Cuiaba America/Curacao America/Danmarkshavn America/Dawson America/Dawson_Creek
America/Denver America/Detroit America/Dominica America/Edmonton America/Eirunepe America/El_Salvador America/Fort_Nelson
America/Fortaleza America/Glace_Bay America/Goose_Bay America/Grand_Turk America/Grenada America/Guadeloupe America/Guatemala
America/Guayaquil America/Guyana America/Halifax America/Havana America/Hermosillo America/Indiana/Indianapolis
America/Indiana/Knox America/Indiana/Marengo America/Indiana/Petersburg America/Indiana/Tell_City America/Indiana/Vevay
America/Indiana/Vincennes America/Indiana/Winamac America/Inuvik America/Iqaluit America/Jamaica America/Juneau
America/Kentucky/Louisville America/Kentucky/Monticello America/Kralendijk America/La_Paz America/Lima America/Los_Angeles
America/Lower_Princes America/Maceio America/Managua America/Manaus America/Marigot America/Martinique America/Matamoros
America/Mazatlan America/Menominee America/Merida America/Metlakatla America/Mexico_City America/Miquelon America/Moncton
America/Monterrey America/Montevideo America/Montserrat America/Nassau America/New_York America/Nome America/Noronha
America/North_Dakota/Beulah America/North_Dakota/Center America/North_Dakota/New_Salem America/Nuuk America/Ojinaga
America/Panama America/Paramaribo America/Phoenix America/Port-au-Prince America/Port_of_Spain America/Porto_Velho
America/Puerto_Rico America/Punta_Arenas America/Rankin_Inlet America/Recife America/Regina America/Resolute America/Rio_Branco
America/Santarem America/Santiago America/Santo_Domingo America/Sao_Paulo America/Scoresbysund America/Sitka America/St_Barthelemy
America/St_Johns America/St_Kitts America/St_Lucia America/St_Thomas America/St_Vincent America/Swift_Current America/Tegucigalpa
America/Thule America/Tijuana America/Toronto America/Tortola America/Vancouver America/Whitehorse America/Winnipeg
America/Yakutat Antarctica/Casey Antarctica/Davis Antarctica/DumontDUrville Antarctica/Macquarie Antarctica/Mawson
Antarctica/McMurdo Antarctica/Palmer Antarctica/Rothera Antarctica/Syowa Antarctica/Troll Antarctica/Vostok Arctic/Longyearbyen
Asia/Aden Asia/Almaty Asia/Amman Asia/Anadyr Asia/Aqtau Asia/Aqtobe Asia/Ashgabat Asia/Atyrau Asia/Baghdad Asia/Bahrain
Asia/Baku Asia/Bangkok Asia/Barnaul Asia/Beirut Asia/Bishkek Asia/Brunei Asia/Chita Asia/Colombo Asia/Damascus Asia/Dhaka
Asia/Dili Asia/Dubai Asia/Dushanbe Asia/Famagusta Asia/Gaza Asia/Hebron Asia/Ho_Chi_Minh Asia/Hong_Kong Asia/Hovd
Asia/Irkutsk Asia/Jakarta Asia/Jayapura Asia/Jerusalem Asia/Kabul Asia/Kamchatka Asia/Karachi Asia/Kathmandu Asia/Khandyga
Asia/Kolkata Asia/Krasnoyarsk Asia/Kuala_Lumpur Asia/Kuching Asia/Kuwait Asia/Macau Asia/Magadan Asia/Makassar Asia/Manila
Asia/Muscat Asia/Nicosia Asia/Novokuznetsk Asia/Novosibirsk Asia/Omsk Asia/Oral Asia/Phnom_Penh Asia/Pontianak Asia/Pyongyang
Asia/Qatar Asia/Qostanay Asia/Qyzylorda Asia/Riyadh Asia/Sakhalin Asia/Samarkand Asia/Seoul Asia/Shanghai Asia/Singapore
Asia/Srednekolymsk Asia/Taipei Asia/Tashkent Asia/Tbilisi Asia/Tehran Asia/Thimphu Asia/Tokyo Asia/Tomsk Asia/Ulaanbaatar
Asia/Urumqi Asia/Ust-Nera Asia/Vientiane Asia/Vladivostok Asia/Yakutsk Asia/Yangon Asia/Yekaterinburg Asia/Yerevan
Atlantic/Azores Atlantic/Bermuda Atlantic/Canary Atlantic/Cape_Verde Atlantic/Faroe Atlantic/Madeira Atlantic/Reykjavik
Atlantic/South_Georgia Atlantic/St_Helena Atlantic/Stanley Australia/Adelaide Australia/Brisbane Australia/Broken_Hill
Australia/Darwin Australia/Eucla Australia/Hobart Australia/Lindeman Australia/Lord_Howe Australia/Melbourne Australia/Perth
Australia/Sydney Europe/Amsterdam Europe/Andorra Europe/Astrakhan Europe/Athens Europe/Belgrade Europe/Berlin Europe/Bratislava
Europe/Brussels Europe/Bucharest Europe/Budapest Europe/Busingen Europe/Chisinau Europe/Copenhagen Europe/Dublin
Europe/Gibraltar Europe/Guernsey Europe/Helsinki Europe/Isle_of_Man Europe/Istanbul Europe/Jersey Europe/Kaliningrad
Europe/Kirov Europe/Kyiv Europe/Lisbon Europe/Ljubljana Europe/London Europe/Luxembourg Europe/Madrid Europe/Malta
Europe/Mariehamn Europe/Minsk Europe/Monaco Europe/Moscow Europe/Oslo Europe/Paris Europe/Podgorica Europe/Prague
Europe/Riga Europe/Rome Europe/Samara Europe/San_Marino Europe/Sarajevo Europe/Saratov Europe/Simferopol Europe/Skopje
Europe/Sofia Europe/Stockholm Europe/Tallinn Europe/Tirane Europe/Ulyanovsk Europe/Vaduz Europe/Vatican Europe/Vienna
Europe/Vilnius Europe/Volgograd Europe/Warsaw Europe/Zagreb Europe/Zurich Indian/Antananarivo Indian/Chagos Indian/Christmas
Indian/Cocos Indian/Comoro Indian/Kerguelen Indian/Mahe Indian/Maldives Indian/Mauritius Indian/Mayotte Indian/Reunion
Pacific/Apia Pacific/Auckland Pacific/Bougainville Pacific/Chatham Pacific/Chuuk Pacific/Easter Pacific/Efate Pacific/Fakaofo
Pacific/Fiji Pacific/Funafuti Pacific/Galapagos Pacific/Gambier Pacific/Guadalcanal Pacific/Guam Pacific/Honolulu
Pacific/Kanton Pacific/Kiritimati Pacific/Kosrae Pacific/Kwajalein Pacific/Majuro Pacific/Marquesas Pacific/Midway
Pacific/Nauru Pacific/Niue Pacific/Norfolk Pacific/Noumea Pacific/Pago_Pago Pacific/Palau Pacific/Pitcairn Pacific/Pohnpei
Pacific/Port_Moresby Pacific/Rarotonga Pacific/Saipan Pacific/Tahiti Pacific/Tarawa Pacific/Tongatapu Pacific/Wake
Pacific/Wallis
`
