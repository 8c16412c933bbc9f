package httpapi

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/medialuna/medialuna/commands"
	"github.com/medialuna/medialuna/domain"
	"github.com/medialuna/medialuna/projections"
)

// uiIncidentRoutes registers the incidents list, the incident page and its replay.
func (s *Server) uiIncidentRoutes() {
	s.uiRoute("GET", "/incidents", domain.RoleViewer, s.uiIncidents)
	s.uiRoute("GET", "/incidents/{id:[0-9]+}", domain.RoleViewer, s.uiIncident)
	s.uiRoute("GET", "/incidents/{id:[0-9]+}/replay", domain.RoleViewer, s.uiIncidentReplay)
	s.uiRoute("POST", "/incidents/{id:[0-9]+}/acknowledge", domain.RoleEditor, s.uiAcknowledgeIncident)
	s.uiRoute("POST", "/incidents/{id:[0-9]+}/snooze", domain.RoleEditor, s.uiSnoozeIncident)
	s.uiRoute("POST", "/incidents/{id:[0-9]+}/comment", domain.RoleEditor, s.uiCommentIncident)
}

// The only calls into the incident commands: one helper per action, so a
// change of the commands' shape touches these lines alone.

func (s *Server) uiAcknowledge(r *http.Request, v *viewer, id int64, message string) (domain.Position, error) {
	return s.deps.AcknowledgeIncident.Handle(r.Context(), commands.AcknowledgeIncident{Actor: v.actor(r), IncidentID: id, Message: message})
}

func (s *Server) uiSnooze(r *http.Request, v *viewer, id int64, minutes int, reason string) (domain.Position, error) {
	return s.deps.SnoozeIncident.Handle(r.Context(), commands.SnoozeIncident{Actor: v.actor(r), IncidentID: id, Minutes: minutes, Reason: reason})
}

func (s *Server) uiComment(r *http.Request, v *viewer, id int64, message string, public bool) (domain.Position, error) {
	return s.deps.CommentIncident.Handle(r.Context(), commands.CommentIncident{Actor: v.actor(r), IncidentID: id, Message: message, Public: public})
}

// The list.

const uiIncidentsPerPage = 50

// uiIncidentStatusChoice is one of the list's status filters: its value,
// its words, and the statuses it stands for (none: all).
type uiIncidentStatusChoice struct {
	Value, Label string
	Statuses     []string
}

// uiIncidentTypeChoice is one of the list's type filters.
type uiIncidentTypeChoice struct{ Value, Label string }

var uiIncidentStatuses = []uiIncidentStatusChoice{
	{"all", "All", nil},
	{"open", "Open (triggered or acknowledged)", []string{string(domain.StatusTriggered), string(domain.StatusAcknowledged)}},
	{"triggered", "Open, not acknowledged", []string{string(domain.StatusTriggered)}},
	{"acknowledged", "Acknowledged", []string{string(domain.StatusAcknowledged)}},
	{"resolved", "Resolved", []string{string(domain.StatusResolved)}},
}

var uiIncidentTypes = []uiIncidentTypeChoice{
	{string(domain.IncidentDown), "Down"},
	{string(domain.IncidentSSLExpiry), "Certificate expiry"},
	{string(domain.IncidentPerformance), "Slow (performance)"},
}

type uiIncidentFilterForm struct {
	Monitor int64
	Type    string
	Status  string
	From    string // YYYY-MM-DD, as <input type="date"> sends it
	To      string
}

type uiIncidentListRow struct {
	projections.IncidentRow
	MonitorName string
	StartedISO  string
	Duration    string // "" while ongoing
}

type uiIncidentsData struct {
	Filter    uiIncidentFilterForm
	Query     url.Values
	Monitors  []projections.MonitorChoice
	Statuses  []uiIncidentStatusChoice
	Types     []uiIncidentTypeChoice
	Rows      []uiIncidentListRow
	Total     int
	Page      int
	Pages     int
	FirstRow  int
	LastRow   int
	Filtering bool
}

// uiIncidents lists the account's incidents, open ones first.
func (s *Server) uiIncidents(w http.ResponseWriter, r *http.Request, v *viewer) error {
	ctx, q := r.Context(), r.URL.Query()
	d := uiIncidentsData{Query: q, Statuses: uiIncidentStatuses, Types: uiIncidentTypes, Page: 1}
	errs := map[string]string{}
	var f projections.IncidentPageFilter

	d.Filter.Status = q.Get("status")
	if d.Filter.Status == "" {
		d.Filter.Status = "all"
	}
	known := false
	for _, st := range uiIncidentStatuses {
		if st.Value == d.Filter.Status {
			f.Statuses, known = st.Statuses, true
		}
	}
	if !known {
		errs["status"] = "Choose one of the statuses listed."
		d.Filter.Status = "all"
	}
	if t := strings.ToUpper(q.Get("type")); t != "" {
		for _, it := range uiIncidentTypes {
			if it.Value == t {
				f.Type = t
			}
		}
		if f.Type == "" {
			errs["type"] = "Choose one of the types listed."
		}
		d.Filter.Type = f.Type
	}
	if m := q.Get("monitor"); m != "" {
		id, err := strconv.ParseInt(m, 10, 64)
		if err != nil || id <= 0 {
			errs["monitor"] = "Choose a monitor from the list."
		} else {
			f.MonitorID, d.Filter.Monitor = id, id
		}
	}
	day := func(field string) time.Time {
		s := q.Get(field)
		if s == "" {
			return time.Time{}
		}
		t, err := time.Parse("2006-01-02", s)
		if err != nil {
			errs[field] = "Give a date as YYYY-MM-DD."
			return time.Time{}
		}
		return t
	}
	if f.Start = day("from"); !f.Start.IsZero() {
		d.Filter.From = q.Get("from")
	}
	// "To" is a whole day: everything that started on it is in.
	if end := day("to"); !end.IsZero() {
		f.End, d.Filter.To = end.AddDate(0, 0, 1), q.Get("to")
	}
	if !f.Start.IsZero() && !f.End.IsZero() && !f.End.After(f.Start) {
		errs["to"] = "The end date is before the start date."
		f.End, d.Filter.To = time.Time{}, ""
	}
	if p := q.Get("page"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 1_000_000 {
			errs["page"] = "There is no such page."
		} else {
			d.Page = n
		}
	}
	d.Filtering = f.MonitorID != 0 || f.Type != "" || f.Statuses != nil || !f.Start.IsZero() || !f.End.IsZero()

	page, err := s.deps.Queries.IncidentsPage(ctx, v.AccountID, f, (d.Page-1)*uiIncidentsPerPage, uiIncidentsPerPage)
	if err != nil {
		return err
	}
	if d.Monitors, err = s.deps.Queries.MonitorChoices(ctx, v.AccountID); err != nil {
		return err
	}
	names := make(map[int64]string, len(d.Monitors))
	for _, m := range d.Monitors {
		names[m.ID] = m.Name
	}
	for _, inc := range page.Rows {
		row := uiIncidentListRow{IncidentRow: inc, MonitorName: names[inc.MonitorID], StartedISO: inc.StartedAt.UTC().Format(time.RFC3339)}
		if inc.ResolvedAt != nil {
			row.Duration = uiSpan(inc.ResolvedAt.Sub(inc.StartedAt))
		}
		d.Rows = append(d.Rows, row)
	}
	d.Total = page.Total
	d.Pages = max(1, (page.Total+uiIncidentsPerPage-1)/uiIncidentsPerPage)
	if len(d.Rows) > 0 {
		d.FirstRow = (d.Page-1)*uiIncidentsPerPage + 1
		d.LastRow = d.FirstRow + len(d.Rows) - 1
	}
	status := http.StatusOK
	if len(errs) > 0 {
		status = http.StatusBadRequest
	}
	return s.render(w, r, status, "incidents", uiPage{Title: "Incidents", Nav: "incidents", Viewer: v, Errors: errs, Data: d})
}

// The incident page.

// uiSnoozeChoice is a snooze duration the form offers.
type uiSnoozeChoice struct {
	Minutes int
	Label   string
}

// uiSnoozeChoices are the snooze durations offered: the domain's shortest
// and longest and a few between (the command refuses anything outside
// them itself).
func uiSnoozeChoices() []uiSnoozeChoice {
	minutes := []int{domain.MinSnoozeMinutes}
	for _, m := range []int{15, 30, 60, 120, 240, 480, 720, 1440, 2880, 4320} {
		if m > domain.MinSnoozeMinutes && m < domain.MaxSnoozeMinutes {
			minutes = append(minutes, m)
		}
	}
	minutes = append(minutes, domain.MaxSnoozeMinutes)
	out := make([]uiSnoozeChoice, len(minutes))
	for i, m := range minutes {
		out[i] = uiSnoozeChoice{m, uiSnoozeLabel(m)}
	}
	return out
}

// uiSnoozeLabel says a whole number of minutes: "5 minutes", "7 days".
func uiSnoozeLabel(minutes int) string {
	switch {
	case minutes%1440 == 0:
		return plural(minutes/1440, "day")
	case minutes%60 == 0:
		return plural(minutes/60, "hour")
	}
	return plural(minutes, "minute")
}

type uiTimelineEntry struct {
	projections.TimelineRow
	Label   string
	Who     string
	AtISO   string
	Elapsed string
}

// uiIncidentForm is what a refused action's form held, to show it again.
type uiIncidentForm struct {
	Failed  string // "acknowledge", "snooze" or "comment": the form the errors belong to
	Message string
	Reason  string
	Minutes int
	Public  bool
	Refusal int // the refusal's status, said next to the form
}

type uiIncidentData struct {
	Incident    projections.IncidentRow
	MonitorName string
	StartedISO  string
	Duration    string
	Timeline    []uiTimelineEntry
	Snooze      []uiSnoozeChoice
	Form        uiIncidentForm
	CanAck      bool
	CanSnooze   bool
	Snoozed     bool // snoozed_until is still ahead
}

func (s *Server) uiIncident(w http.ResponseWriter, r *http.Request, v *viewer) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	return s.renderIncident(w, r, v, id, http.StatusOK, nil, uiIncidentForm{Minutes: 30})
}

func (s *Server) renderIncident(w http.ResponseWriter, r *http.Request, v *viewer, id int64, status int, errs map[string]string, form uiIncidentForm) error {
	ctx := r.Context()
	inc, timeline, err := s.deps.Queries.Incident(ctx, v.AccountID, id)
	if err != nil {
		return err
	}
	names, err := s.deps.Queries.MonitorNames(ctx, v.AccountID, []int64{inc.MonitorID})
	if err != nil {
		return err
	}
	people, err := s.uiPeople(r, v)
	if err != nil {
		return err
	}
	now := s.deps.Now()
	d := uiIncidentData{Incident: inc, MonitorName: names[inc.MonitorID], StartedISO: inc.StartedAt.UTC().Format(time.RFC3339),
		Snooze: uiSnoozeChoices(), Form: form,
		CanAck:    domain.IncidentStatus(inc.Status).CanAcknowledge(),
		CanSnooze: domain.IncidentStatus(inc.Status).CanSnooze(),
		Snoozed:   inc.SnoozedUntil != nil && inc.SnoozedUntil.After(now)}
	if inc.ResolvedAt != nil {
		d.Duration = uiSpan(inc.ResolvedAt.Sub(inc.StartedAt))
	}
	for _, row := range timeline {
		who := "Media Luna (automatic)"
		if row.UserID != nil {
			who = people(*row.UserID)
		}
		d.Timeline = append(d.Timeline, uiTimelineEntry{TimelineRow: row, Label: uiTimelineLabel(row.EventType), Who: who,
			AtISO:   row.CreatedAt.UTC().Format(time.RFC3339Nano),
			Elapsed: "+" + uiSpan(row.CreatedAt.Sub(inc.StartedAt))})
	}
	title := "Incident " + strconv.FormatInt(inc.ID, 10)
	if d.MonitorName != "" {
		title += ": " + d.MonitorName
	}
	return s.render(w, r, status, "incident", uiPage{Title: title, Nav: "incidents", Viewer: v, Errors: errs, Data: d})
}

// uiPeople names the account's members by user id: their name, else
// their email; someone no longer in the account by number.
func (s *Server) uiPeople(r *http.Request, v *viewer) (func(int64) string, error) {
	users, err := s.deps.Queries.Users(r.Context(), v.AccountID)
	if err != nil {
		return nil, err
	}
	byID := make(map[int64]string, len(users))
	for _, u := range users {
		byID[u.ID] = u.FullName
		if u.FullName == "" {
			byID[u.ID] = u.Email
		}
	}
	return func(id int64) string {
		if name, ok := byID[id]; ok {
			return name
		}
		return "user " + strconv.FormatInt(id, 10) + " (no longer a member)"
	}, nil
}

func uiTimelineLabel(eventType string) string {
	switch eventType {
	case "TRIGGERED":
		return "Opened"
	case "ACKNOWLEDGED":
		return "Acknowledged"
	case "SNOOZED":
		return "Snoozed"
	case "COMMENT":
		return "Comment"
	case "RESOLVED":
		return "Resolved"
	case "NOTIFICATION_SENT":
		return "Notification sent"
	case "NOTIFICATION_FAILED":
		return "Notification failed"
	case "NOTIFICATION_RETRYING":
		return "Notification retrying"
	case "NOTIFICATION_SUPPRESSED":
		return "Notification suppressed"
	}
	return eventType
}

// The actions. Each runs its command, waits for the read models, and
// goes back to the page; a refusal is shown next to its form. Every
// posted value has passed CheckText in parseUIForm (message and reason as
// prose) before an action reads it.

func (s *Server) uiAcknowledgeIncident(w http.ResponseWriter, r *http.Request, v *viewer) error {
	return s.uiIncidentAction(w, r, v, "acknowledge", "Acknowledged.", func(id int64, form *uiIncidentForm) (domain.Position, error) {
		form.Message = r.PostFormValue("message")
		return s.uiAcknowledge(r, v, id, strings.TrimSpace(form.Message))
	})
}

func (s *Server) uiSnoozeIncident(w http.ResponseWriter, r *http.Request, v *viewer) error {
	return s.uiIncidentAction(w, r, v, "snooze", "Snoozed.", func(id int64, form *uiIncidentForm) (domain.Position, error) {
		form.Reason = r.PostFormValue("reason")
		minutes, err := strconv.Atoi(strings.TrimSpace(r.PostFormValue("duration_minutes")))
		if err != nil {
			return domain.Position{}, domain.Invalid("duration_minutes", "int_parsing", "choose how long to snooze for")
		}
		form.Minutes = minutes
		return s.uiSnooze(r, v, id, minutes, strings.TrimSpace(form.Reason))
	})
}

func (s *Server) uiCommentIncident(w http.ResponseWriter, r *http.Request, v *viewer) error {
	return s.uiIncidentAction(w, r, v, "comment", "Comment added.", func(id int64, form *uiIncidentForm) (domain.Position, error) {
		form.Message = r.PostFormValue("message")
		form.Public = r.PostFormValue("public") != ""
		return s.uiComment(r, v, id, strings.TrimSpace(form.Message), form.Public)
	})
}

func (s *Server) uiIncidentAction(w http.ResponseWriter, r *http.Request, v *viewer, name, done string,
	act func(id int64, form *uiIncidentForm) (domain.Position, error)) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	form := uiIncidentForm{Failed: name, Minutes: 30}
	err = parseUIForm(r)
	var pos domain.Position
	if err == nil {
		pos, err = act(id, &form)
	}
	if err != nil {
		errs, ok := formErrors(err)
		if !ok {
			return err
		}
		status := statusOf(domain.ErrorCode(err))
		if status == http.StatusInternalServerError {
			status = http.StatusUnprocessableEntity // a text check at the edge
		}
		form.Refusal = status
		return s.renderIncident(w, r, v, id, status, errs, form)
	}
	s.settleUI(w, r, pos, done)
	return redirect(w, r, "/incidents/"+strconv.FormatInt(id, 10))
}

// The replay.

type uiReplayChange struct{ What, From, To string }

type uiReplayEntry struct {
	projections.TimelineRow
	Label   string
	Who     string
	Elapsed string
	Future  bool // after the step: dimmed
	Current bool // the step's own entry
}

type uiReplayStep struct {
	Index, Number int
	Sequence      uint64
	Label         string // what happened, for people
	EventType     string
	Message       string
	Public        bool
	At            time.Time
	AtISO         string
	Elapsed       string
	Actor         string
	State         projections.IncidentRow
	SnoozedNow    bool // the snooze was still running at this moment
	Changes       []uiReplayChange
	Timeline      []uiReplayEntry
	Prev, Next    int // step numbers to link to; 0 for none
}

type uiReplayData struct {
	Incident    projections.IncidentRow
	MonitorName string
	Steps       []uiReplayStep
	Current     int // index of the step shown first
	Known       int // steps when the page was opened, for the live notice
	Newer       int // steps recorded since
	Note        string
	Summary     []string // how long it took to acknowledge and resolve
}

func (s *Server) uiIncidentReplay(w http.ResponseWriter, r *http.Request, v *viewer) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	inc, _, err := s.deps.Queries.Incident(r.Context(), v.AccountID, id)
	if err != nil {
		return err
	}
	steps, err := s.replayIncident(r, &v.principal, id)
	if err != nil {
		return err
	}
	names, err := s.deps.Queries.MonitorNames(r.Context(), v.AccountID, []int64{inc.MonitorID})
	if err != nil {
		return err
	}
	people, err := s.uiPeople(r, v)
	if err != nil {
		return err
	}
	d := uiReplayData{Incident: inc, MonitorName: names[inc.MonitorID], Steps: uiReplaySteps(steps, people), Known: len(steps),
		Summary: uiIncidentSummary(steps[len(steps)-1].State, len(steps))}
	q := r.URL.Query()
	d.Current = len(d.Steps) - 1
	switch {
	case q.Get("step") != "":
		n, err := strconv.Atoi(q.Get("step"))
		if err != nil || n < 1 || n > len(d.Steps) {
			return badRequest("step must be a number from 1 to %d: this incident has %d events", len(d.Steps), len(d.Steps))
		}
		d.Current = n - 1
	case q.Get("as_of") != "":
		asOf, err := timeParam(r, "as_of")
		if err != nil {
			return err
		}
		d.Current = -1
		for i, st := range d.Steps {
			if st.At.After(asOf) {
				break
			}
			d.Current = i
		}
		if d.Current < 0 {
			d.Current = 0
			d.Note = "The incident had not started yet at " + uiWhen(asOf) + "; this is its first moment."
		}
	}
	if k := q.Get("known"); k != "" {
		if n, err := strconv.Atoi(k); err == nil && n >= 0 && n < len(d.Steps) {
			d.Known, d.Newer = n, len(d.Steps)-n
		}
	}
	title := "Replay of incident " + strconv.FormatInt(inc.ID, 10)
	return s.render(w, r, http.StatusOK, "incident_replay", uiPage{Title: title, Nav: "incidents", Viewer: v, Data: d})
}

// uiReplaySteps turns the log's steps into what each moment shows: the
// event, who did it, the incident's state then, what the event changed,
// and the whole timeline with what was still to come dimmed.
func uiReplaySteps(steps []replayStep, people func(int64) string) []uiReplayStep {
	if len(steps) == 0 {
		return nil
	}
	start := steps[0].State.StartedAt
	// A comment's public flag is on its event; the replay's timeline rows
	// are keyed by the event's sequence.
	public := map[int64]bool{}
	for _, st := range steps {
		if c, ok := st.Event.(*domain.IncidentCommented); ok && c.Public {
			public[int64(st.Sequence)] = true
		}
	}
	final := steps[len(steps)-1].Timeline
	out := make([]uiReplayStep, 0, len(steps))
	var prev *projections.IncidentRow
	for i, st := range steps {
		v := uiReplayStep{Index: i, Number: i + 1, Sequence: st.Sequence, EventType: st.EventType, At: st.At,
			AtISO: st.At.UTC().Format(time.RFC3339Nano), Elapsed: "+" + uiSpan(st.At.Sub(start)),
			Actor: uiReplayActor(st.Actor, people), State: st.State, Public: public[int64(st.Sequence)]}
		v.SnoozedNow = st.State.SnoozedUntil != nil && st.State.SnoozedUntil.After(st.At)
		if i > 0 {
			v.Prev = i
		}
		if i < len(steps)-1 {
			v.Next = i + 2
		}
		switch e := st.Event.(type) {
		case *domain.IncidentTriggered:
			v.Label, v.Message = "Opened", e.Message
		case *domain.IncidentAcknowledged:
			v.Label, v.Message = "Acknowledged", e.Message
		case *domain.IncidentSnoozed:
			v.Label, v.Message = "Snoozed for "+uiSpan(time.Duration(e.DurationMinutes)*time.Minute), e.Reason
		case *domain.IncidentCommented:
			v.Label, v.Message = "Comment", e.Message
			if e.Public {
				v.Label = "Public comment"
			}
		case *domain.IncidentResolved:
			v.Label, v.Message = "Resolved", e.Message
			if e.Reason != "" {
				v.Label += " (" + strings.ReplaceAll(e.Reason, "_", " ") + ")"
			}
		default:
			v.Label = st.EventType
		}
		v.Changes = uiReplayChanges(prev, st.State)
		if _, ok := st.Event.(*domain.IncidentCommented); ok {
			what := "internal comment added"
			if v.Public {
				what = "public comment added (shown on status pages)"
			}
			v.Changes = append(v.Changes, uiReplayChange{What: what})
		}
		seen := len(st.Timeline)
		for j, row := range final {
			row.Public = public[row.ID]
			who := "Media Luna (automatic)"
			if row.UserID != nil {
				who = people(*row.UserID)
			}
			v.Timeline = append(v.Timeline, uiReplayEntry{TimelineRow: row, Label: uiTimelineLabel(row.EventType), Who: who,
				Elapsed: "+" + uiSpan(row.CreatedAt.Sub(start)), Future: j >= seen, Current: row.ID == int64(st.Sequence)})
		}
		state := st.State
		prev = &state
		out = append(out, v)
	}
	return out
}

// uiIncidentSummary is the post-mortem's first line: how long the
// incident waited for a person and how long it lasted, as the log says.
func uiIncidentSummary(last projections.IncidentRow, events int) []string {
	out := []string{strconv.Itoa(events) + " events"}
	if last.AcknowledgedAt != nil {
		out = append(out, "acknowledged after "+uiSpan(last.AcknowledgedAt.Sub(last.StartedAt)))
	} else {
		out = append(out, "never acknowledged")
	}
	if last.ResolvedAt != nil {
		out = append(out, "resolved after "+uiSpan(last.ResolvedAt.Sub(last.StartedAt)))
	} else {
		out = append(out, "still open")
	}
	return out
}

// uiReplayChanges says what one event changed in the incident's state.
func uiReplayChanges(before *projections.IncidentRow, after projections.IncidentRow) []uiReplayChange {
	if before == nil {
		return []uiReplayChange{{What: "status", From: "none", To: after.Status}}
	}
	var out []uiReplayChange
	if before.Status != after.Status {
		out = append(out, uiReplayChange{What: "status", From: before.Status, To: after.Status})
	}
	moment := func(t *time.Time) string {
		if t == nil {
			return "not yet"
		}
		return uiWhen(*t)
	}
	for _, f := range []struct {
		what          string
		before, after *time.Time
	}{
		{"acknowledged at", before.AcknowledgedAt, after.AcknowledgedAt},
		{"snoozed until", before.SnoozedUntil, after.SnoozedUntil},
		{"resolved at", before.ResolvedAt, after.ResolvedAt},
	} {
		if moment(f.before) != moment(f.after) {
			out = append(out, uiReplayChange{What: f.what, From: moment(f.before), To: moment(f.after)})
		}
	}
	return out
}

func uiReplayActor(m domain.Metadata, people func(int64) string) string {
	switch m.ActorType {
	case domain.ActorUser:
		return people(m.ActorID)
	case domain.ActorAPIKey:
		return "API key " + strconv.FormatInt(m.ActorID, 10)
	case domain.ActorSystem, "":
		return "Media Luna (automatic)"
	}
	return m.ActorType
}

// uiSpan says a duration the way people do: "12 s", "3 min 12 s",
// "2 h 5 min", "3 days 4 h".
func uiSpan(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	secs := int64(d / time.Second)
	plural := func(n int64, one, many string) string {
		if n == 1 {
			return "1 " + one
		}
		return strconv.FormatInt(n, 10) + " " + many
	}
	two := func(a string, b int64, unit string) string {
		if b == 0 {
			return a
		}
		return a + " " + strconv.FormatInt(b, 10) + " " + unit
	}
	switch {
	case secs < 60:
		return strconv.FormatInt(secs, 10) + " s"
	case secs < 3600:
		return two(strconv.FormatInt(secs/60, 10)+" min", secs%60, "s")
	case secs < 86400:
		return two(strconv.FormatInt(secs/3600, 10)+" h", secs%3600/60, "min")
	}
	return two(plural(secs/86400, "day", "days"), secs%86400/3600, "h")
}
