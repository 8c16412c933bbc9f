package httpapi

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/medialuna/medialuna/commands"
	"github.com/medialuna/medialuna/domain"
	"github.com/medialuna/medialuna/projections"
)

// The monitor form: create, edit and clone, plus pause, resume and delete
// of one monitor. It builds the configuration as the API does (the
// defaults, the posted fields over them, NewMonitorConfig) and leaves
// every decision to CreateMonitor and UpdateMonitor; their refusals come
// back next to the fields they name.

func (s *Server) uiMonitorFormRoutes() {
	s.uiRoute("GET", "/monitors/new", domain.RoleViewer, s.uiNewMonitor)
	s.uiRoute("POST", "/monitors", domain.RoleEditor, s.uiCreateMonitor)
	s.uiRoute("GET", "/monitors/{id:[0-9]+}/edit", domain.RoleViewer, s.uiEditMonitor)
	s.uiRoute("POST", "/monitors/{id:[0-9]+}", domain.RoleEditor, s.uiUpdateMonitor)
	s.uiRoute("POST", "/monitors/{id:[0-9]+}/pause", domain.RoleEditor, s.uiMonitorState("pause"))
	s.uiRoute("POST", "/monitors/{id:[0-9]+}/resume", domain.RoleEditor, s.uiMonitorState("resume"))
	s.uiRoute("GET", "/monitors/{id:[0-9]+}/delete", domain.RoleViewer, s.uiDeleteMonitorPage)
	s.uiRoute("POST", "/monitors/{id:[0-9]+}/delete", domain.RoleEditor, s.uiDeleteMonitor)
}

// monitorFields are the form's values as typed, so a refused form comes
// back as the user left it, numbers that are not numbers included.
type monitorFields struct {
	Name, Type, URL, CheckInterval, Timeout, ConfirmFrom  string
	Codes, Headers, Body, Method, SSLReminder, Port       string
	DNSRecordType, DNSResolver, Grace, PerfMs, PerfChecks string
	FollowRedirects, VerifySSL                            bool
	RegionIDs, TagIDs, DependsOn                          []int64
}

func fieldsOf(c domain.MonitorConfig) monitorFields {
	itoa := strconv.Itoa
	names := make([]string, 0, len(c.RequestHeaders))
	for name := range c.RequestHeaders {
		names = append(names, name)
	}
	slices.Sort(names)
	headers := make([]string, len(names))
	for i, name := range names {
		headers[i] = name + ": " + c.RequestHeaders[name]
	}
	f := monitorFields{Name: c.Name, Type: string(c.Type), URL: c.URL, CheckInterval: itoa(c.CheckInterval), Timeout: itoa(c.Timeout),
		ConfirmFrom: itoa(c.ConfirmFromLocations), Codes: domain.FormatStatusCodes(c.ExpectedStatusCodes), Headers: strings.Join(headers, "\n"),
		Body: c.RequestBody, Method: c.HTTPMethod, SSLReminder: itoa(c.SSLExpiryReminder), DNSRecordType: c.DNSRecordType,
		DNSResolver: c.DNSResolver, Grace: itoa(c.GracePeriod), PerfMs: itoa(c.PerformanceThresholdMs), PerfChecks: itoa(c.PerformanceConsecutiveChecks),
		FollowRedirects: c.FollowRedirects, VerifySSL: c.VerifySSL,
		RegionIDs: slices.Clone(c.RegionIDs), TagIDs: slices.Clone(c.TagIDs), DependsOn: slices.Clone(c.DependsOn)}
	if c.Port != 0 {
		f.Port = itoa(c.Port)
	}
	return f
}

// postedFields lays the posted form over base. A field the form did not
// send (its fieldset is for other types, and disabled) keeps base's
// value; checkboxes and multi-selects come with a hidden empty value in
// the same fieldset, so "sent, none ticked" differs from "not sent".
func postedFields(r *http.Request, base monitorFields) monitorFields {
	f := base
	text := func(field string, into *string) {
		if vs, ok := r.PostForm[field]; ok && len(vs) > 0 {
			*into = strings.TrimSpace(vs[0])
		}
	}
	text("name", &f.Name)
	text("type", &f.Type)
	text("url", &f.URL)
	text("check_interval", &f.CheckInterval)
	text("timeout", &f.Timeout)
	text("confirm_from_locations", &f.ConfirmFrom)
	text("expected_status_codes", &f.Codes)
	text("request_headers", &f.Headers)
	if vs, ok := r.PostForm["request_body"]; ok && len(vs) > 0 {
		f.Body = vs[0] // a body is sent as typed
	}
	text("http_method", &f.Method)
	text("ssl_expiry_reminder", &f.SSLReminder)
	text("port", &f.Port)
	text("dns_record_type", &f.DNSRecordType)
	text("dns_resolver", &f.DNSResolver)
	text("grace_period", &f.Grace)
	text("performance_threshold_ms", &f.PerfMs)
	text("performance_consecutive_checks", &f.PerfChecks)
	flag := func(field string, into *bool) {
		if vs, ok := r.PostForm[field]; ok && len(vs) > 0 {
			*into = vs[len(vs)-1] == "true"
		}
	}
	flag("follow_redirects", &f.FollowRedirects)
	flag("verify_ssl", &f.VerifySSL)
	ids := func(field string, into *[]int64) {
		vs, ok := r.PostForm[field]
		if !ok {
			return
		}
		out := []int64{}
		for _, v := range vs {
			if n, err := strconv.ParseInt(v, 10, 64); err == nil && n > 0 {
				out = append(out, n)
			}
		}
		*into = out
	}
	ids("region_ids", &f.RegionIDs)
	ids("tag_ids", &f.TagIDs)
	ids("depends_on", &f.DependsOn)
	return f
}

// config sets the fields over cfg. Errors: ErrInvalid naming every field
// that is not what it must be (a number, "Name: value" lines).
func (f monitorFields) config(cfg domain.MonitorConfig) (domain.MonitorConfig, error) {
	var v domain.Validation
	number := func(field, raw string, into *int, empty int) {
		if raw == "" {
			*into = empty
			return
		}
		n, err := strconv.Atoi(raw)
		if err != nil {
			v.Add(field, "int_parsing", "must be a whole number")
			return
		}
		*into = n
	}
	cfg.Name, cfg.Type, cfg.URL = f.Name, domain.MonitorType(strings.ToUpper(f.Type)), f.URL
	number("check_interval", f.CheckInterval, &cfg.CheckInterval, 0)
	number("timeout", f.Timeout, &cfg.Timeout, 0)
	number("confirm_from_locations", f.ConfirmFrom, &cfg.ConfirmFromLocations, 1)
	number("ssl_expiry_reminder", f.SSLReminder, &cfg.SSLExpiryReminder, 0)
	number("port", f.Port, &cfg.Port, 0)
	number("grace_period", f.Grace, &cfg.GracePeriod, 0)
	number("performance_threshold_ms", f.PerfMs, &cfg.PerformanceThresholdMs, 0)
	number("performance_consecutive_checks", f.PerfChecks, &cfg.PerformanceConsecutiveChecks, domain.DefaultMonitorConfig().PerformanceConsecutiveChecks)
	codes, ok := domain.ParseStatusCodes(f.Codes)
	if !ok {
		v.Add("expected_status_codes", "int_parsing", "expected status codes are numbers or ranges separated by commas, such as 200-299, 304")
	}
	cfg.ExpectedStatusCodes = codes
	cfg.RequestHeaders = map[string]string{}
	for _, line := range strings.Split(f.Headers, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok || strings.TrimSpace(name) == "" {
			v.Add("request_headers", "value_error", "write one header per line as Name: value")
			break
		}
		cfg.RequestHeaders[strings.TrimSpace(name)] = strings.TrimSpace(value)
	}
	cfg.RequestBody = f.Body
	cfg.HTTPMethod = strings.ToUpper(f.Method)
	cfg.DNSRecordType, cfg.DNSResolver = strings.ToUpper(f.DNSRecordType), f.DNSResolver
	cfg.FollowRedirects, cfg.VerifySSL = f.FollowRedirects, f.VerifySSL
	cfg.RegionIDs, cfg.TagIDs, cfg.DependsOn = slices.Clone(f.RegionIDs), slices.Clone(f.TagIDs), slices.Clone(f.DependsOn)
	return cfg, v.Err()
}

// uiMonitorFormData is what the form shows besides the fields.
type uiMonitorFormData struct {
	ID          int64  // 0 for a new monitor
	Action      string // where the form posts
	Heading     string
	Submit      string
	F           monitorFields
	Types       []domain.MonitorType
	Methods     []string
	DNSTypes    []string
	Regions     []projections.RegionRow
	Tags        []projections.TagRow
	Others      []uiNamedMonitor // what it may depend on
	Plan        domain.PlanLimits
	RegionLimit string
	MonitorsUse string // "7 of 10 monitors used"
	AtLimit     bool
	Paused      bool // an existing monitor that is paused: offer Resume, not Pause
}

func (s *Server) monitorForm(r *http.Request, v *viewer, id int64, f monitorFields) (uiMonitorFormData, error) {
	ctx := r.Context()
	d := uiMonitorFormData{ID: id, F: f, Types: domain.MonitorTypes(), Methods: []string{"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"},
		DNSTypes: []string{"A", "AAAA", "CNAME", "MX", "NS", "TXT"}}
	if id == 0 {
		d.Action, d.Heading, d.Submit = "/monitors", "New monitor", "Create monitor"
	} else {
		d.Action, d.Heading, d.Submit = "/monitors/"+strconv.FormatInt(id, 10), "Edit "+f.Name, "Save changes"
	}
	var err error
	if d.Regions, err = s.deps.Queries.Regions(ctx); err != nil {
		return d, err
	}
	if d.Tags, err = s.deps.Queries.Tags(ctx, v.AccountID); err != nil {
		return d, err
	}
	// What it may depend on: the account's other monitors by name.
	others, err := s.deps.Queries.MonitorChoices(ctx, v.AccountID)
	if err != nil {
		return d, err
	}
	for _, m := range others {
		if m.ID != id {
			d.Others = append(d.Others, uiNamedMonitor{m.ID, m.Name})
		}
	}
	if id != 0 {
		m, err := s.deps.Queries.Monitor(ctx, v.AccountID, id)
		if err != nil {
			return d, err
		}
		d.Paused = m.Status == "paused"
	}
	usage, err := s.deps.Queries.Usage(ctx, v.AccountID, s.deps.Now())
	if err != nil {
		return d, err
	}
	d.Plan, _ = domain.LimitsOf(v.Plan)
	d.Plan = d.Plan.WithIntervalFloor(s.deps.MinCheckInterval) // the minimum this server takes
	if d.Plan.MaxRegions == domain.Unlimited {
		d.RegionLimit = "Your plan (" + d.Plan.DisplayName + ") allows any number of regions per monitor."
	} else {
		d.RegionLimit = "Your plan (" + d.Plan.DisplayName + ") allows " + plural(d.Plan.MaxRegions, "region") + " per monitor."
	}
	if d.Plan.MaxMonitors == domain.Unlimited {
		d.MonitorsUse = plural(usage.Monitors, "monitor") + " used; your plan (" + d.Plan.DisplayName + ") has no limit."
	} else {
		d.MonitorsUse = strconv.Itoa(usage.Monitors) + " of " + strconv.Itoa(d.Plan.MaxMonitors) + " monitors used on your plan (" + d.Plan.DisplayName + ")."
		d.AtLimit = id == 0 && usage.Monitors >= d.Plan.MaxMonitors
	}
	return d, nil
}

func (s *Server) renderMonitorForm(w http.ResponseWriter, r *http.Request, v *viewer, status int, id int64, f monitorFields, errs map[string]string) error {
	d, err := s.monitorForm(r, v, id, f)
	if err != nil {
		return err
	}
	if len(errs) > 0 && errs[""] == "" {
		errs[""] = "The monitor was not saved: correct the fields marked below."
	}
	return s.render(w, r, status, "monitor_form", uiPage{Title: d.Heading, Nav: "monitors", Viewer: v, Errors: errs, Data: d})
}

// needEditor refuses a page that changes what (monitors, notifications,
// status pages) to a VIEWER, before it shows a form the command would
// refuse anyway.
func needEditor(v *viewer, what string) error {
	if !v.CanEdit() {
		return domain.Errorf(domain.ErrForbidden, "changing %s needs role EDITOR or higher; you are %s", what, v.Role)
	}
	return nil
}

func (s *Server) uiNewMonitor(w http.ResponseWriter, r *http.Request, v *viewer) error {
	if err := needEditor(v, "monitors"); err != nil {
		return err
	}
	cfg := domain.DefaultMonitorConfig()
	cfg.Type = domain.TypeHTTP
	if raw := r.URL.Query().Get("clone"); raw != "" {
		id, err := strconv.ParseInt(raw, 10, 64)
		if err != nil {
			return domain.Errorf(domain.ErrNotFound, "monitor not found")
		}
		m, err := s.deps.Queries.Monitor(r.Context(), v.AccountID, id)
		if err != nil {
			return err
		}
		cfg = m.MonitorConfig
		cfg.Name = "Copy of " + cfg.Name
	}
	return s.renderMonitorForm(w, r, v, http.StatusOK, 0, fieldsOf(cfg), nil)
}

// refused shows the form again with a command's refusal next to its
// fields; other errors stay errors.
func (s *Server) refused(w http.ResponseWriter, r *http.Request, v *viewer, id int64, f monitorFields, err error) error {
	errs, ok := formErrors(err)
	if !ok {
		return err
	}
	return s.renderMonitorForm(w, r, v, statusOf(domain.ErrorCode(err)), id, f, errs)
}

func (s *Server) uiCreateMonitor(w http.ResponseWriter, r *http.Request, v *viewer) error {
	if err := parseUIForm(r); err != nil {
		return err
	}
	base := domain.DefaultMonitorConfig()
	f := postedFields(r, fieldsOf(base))
	cfg, err := f.config(base)
	if err != nil {
		return s.refused(w, r, v, 0, f, err)
	}
	_, hasURL := r.PostForm["url"]
	cfg, err = domain.NewMonitorConfig(cfg, domain.MonitorGiven{Name: r.PostForm.Has("name"), Type: r.PostForm.Has("type"), URL: hasURL && f.URL != ""})
	if err != nil {
		return s.refused(w, r, v, 0, f, err)
	}
	id, pos, err := s.deps.CreateMonitor.Handle(r.Context(), commands.CreateMonitor{Actor: v.actor(r), Plan: v.Plan, Config: cfg})
	if err != nil {
		return s.refused(w, r, v, 0, f, err)
	}
	s.settleUI(w, r, pos, "Monitor created.")
	return redirect(w, r, "/monitors/"+strconv.FormatInt(id, 10))
}

func (s *Server) uiEditMonitor(w http.ResponseWriter, r *http.Request, v *viewer) error {
	if err := needEditor(v, "monitors"); err != nil {
		return err
	}
	m, err := s.pageMonitor(r, v)
	if err != nil {
		return err
	}
	return s.renderMonitorForm(w, r, v, http.StatusOK, m.ID, fieldsOf(m.MonitorConfig), nil)
}

// pageMonitor is the path's monitor, if it is the viewer's account's.
func (s *Server) pageMonitor(r *http.Request, v *viewer) (projections.MonitorView, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return projections.MonitorView{}, err
	}
	return s.deps.Queries.Monitor(r.Context(), v.AccountID, id)
}

func (s *Server) uiUpdateMonitor(w http.ResponseWriter, r *http.Request, v *viewer) error {
	if err := parseUIForm(r); err != nil {
		return err
	}
	m, err := s.pageMonitor(r, v)
	if err != nil {
		return err
	}
	shown := postedFields(r, fieldsOf(m.MonitorConfig))
	pos, err := s.deps.UpdateMonitor.Handle(r.Context(), commands.UpdateMonitor{Actor: v.actor(r), Plan: v.Plan, MonitorID: m.ID,
		Change: func(cur domain.MonitorConfig) (domain.MonitorConfig, error) {
			return postedFields(r, fieldsOf(cur)).config(cur)
		}})
	if err != nil {
		return s.refused(w, r, v, m.ID, shown, err)
	}
	s.settleUI(w, r, pos, "Monitor saved.")
	return redirect(w, r, "/monitors/"+strconv.FormatInt(m.ID, 10))
}

// uiMonitorState pauses or resumes one monitor.
func (s *Server) uiMonitorState(action string) uiHandler {
	return func(w http.ResponseWriter, r *http.Request, v *viewer) error {
		if err := parseUIForm(r); err != nil {
			return err
		}
		m, err := s.pageMonitor(r, v)
		if err != nil {
			return err
		}
		pos, err := s.deps.SetMonitorState.Handle(r.Context(), commands.SetMonitorState{Actor: v.actor(r), MonitorID: m.ID, Action: action})
		if err != nil {
			return err
		}
		verb := map[string]string{"pause": "Paused", "resume": "Resumed"}[action]
		s.settleUI(w, r, pos, verb+" "+m.Name+".")
		// Back to the list it was paused from, or else to the monitor's page.
		if r.PostForm.Has("back") {
			return redirect(w, r, listBack(r))
		}
		return redirect(w, r, "/monitors/"+strconv.FormatInt(m.ID, 10))
	}
}

func (s *Server) uiDeleteMonitorPage(w http.ResponseWriter, r *http.Request, v *viewer) error {
	if err := needEditor(v, "monitors"); err != nil {
		return err
	}
	m, err := s.pageMonitor(r, v)
	if err != nil {
		return err
	}
	// Cancel goes back to the monitor's page, where Delete is offered.
	page := "/monitors/" + strconv.FormatInt(m.ID, 10)
	d := uiDeleteData{Monitors: []uiNamedMonitor{{m.ID, m.Name}}, Action: page + "/delete", Back: page}
	return s.render(w, r, http.StatusOK, "monitor_delete", uiPage{Title: "Delete " + m.Name, Nav: "monitors", Viewer: v, Data: d})
}

func (s *Server) uiDeleteMonitor(w http.ResponseWriter, r *http.Request, v *viewer) error {
	if err := parseUIForm(r); err != nil {
		return err
	}
	m, err := s.pageMonitor(r, v)
	if err != nil {
		return err
	}
	pos, err := s.deps.SetMonitorState.Handle(r.Context(), commands.SetMonitorState{Actor: v.actor(r), MonitorID: m.ID, Action: "delete"})
	if err != nil {
		return err
	}
	s.settleUI(w, r, pos, "Deleted "+m.Name+".")
	return redirect(w, r, "/monitors")
}
