package httpapi

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/medialuna/medialuna/commands"
	"github.com/medialuna/medialuna/domain"
	"github.com/medialuna/medialuna/projections"
)

// The status page editor: the account's pages, a form for each (title,
// subdomain said free or not as it is typed, description, logo, monitors
// in order, custom CSS) with a live preview, the public page itself built
// from the unsaved values (statushtml's RenderPreview) in a frame, the public, badge and feed addresses to copy, and deletion after a
// confirmation. It runs the API's commands (CreateStatusPage,
// UpdateStatusPage, DeleteStatusPage); the subdomain check asks the claim
// lookup those commands use (commands' Available), so what it says is
// what saving would decide.

func (s *Server) uiStatusPageRoutes() {
	s.uiRoute("GET", "/status-pages", domain.RoleViewer, s.uiStatusPages)
	s.uiRoute("GET", "/status-pages/new", domain.RoleViewer, s.uiNewStatusPage)
	s.uiRoute("POST", "/status-pages", domain.RoleEditor, s.uiCreateStatusPage)
	s.uiRoute("GET", "/status-pages/subdomain-check", domain.RoleViewer, s.uiSubdomainCheck)
	s.uiRoute("GET", "/status-pages/preview/page", domain.RoleViewer, s.uiStatusPagePreviewPage)
	s.uiRoute("GET", "/status-pages/{id:[0-9]+}", domain.RoleViewer, s.uiStatusPage)
	s.uiRoute("POST", "/status-pages/{id:[0-9]+}", domain.RoleEditor, s.uiUpdateStatusPage)
	s.uiRoute("GET", "/status-pages/{id:[0-9]+}/delete", domain.RoleViewer, s.uiDeleteStatusPagePage)
	s.uiRoute("POST", "/status-pages/{id:[0-9]+}/delete", domain.RoleEditor, s.uiDeleteStatusPage)
}

// SubdomainChecker says whether a subdomain is free for a page, as the
// create and update commands' claim would decide (the status page command
// handlers implement it). Errors: ErrConflict when another page holds it.
type SubdomainChecker interface {
	Available(ctx context.Context, actor commands.Actor, sub string, pageID int64) error
}

// uiPageLinks are a page's public addresses.
type uiPageLinks struct {
	Public, Badge, Feed string
}

func (s *Server) pageLinks(sub string) uiPageLinks {
	if s.deps.StatusSite == nil || sub == "" {
		return uiPageLinks{}
	}
	u := s.deps.StatusSite.URL(sub)
	base := strings.TrimSuffix(u, "/")
	return uiPageLinks{Public: u, Badge: base + "/badge.svg", Feed: base + "/feed.atom"}
}

type uiStatusPageRow struct {
	ID       int64
	Title    string
	Sub      string
	Public   bool
	Monitors int
	Links    uiPageLinks
}

type uiStatusPagesData struct {
	Pages   []uiStatusPageRow
	Use     string // "1 of 3 status pages used on your plan (Starter)."
	AtLimit bool
}

func (s *Server) uiStatusPages(w http.ResponseWriter, r *http.Request, v *viewer) error {
	list, err := s.deps.Queries.StatusPages(r.Context(), v.AccountID)
	if err != nil {
		return err
	}
	d := uiStatusPagesData{}
	for _, p := range list {
		d.Pages = append(d.Pages, uiStatusPageRow{ID: p.ID, Title: p.Title, Sub: p.Subdomain, Public: p.IsPublic,
			Monitors: len(p.MonitorIDs), Links: s.pageLinks(p.Subdomain)})
	}
	d.Use, d.AtLimit = pagesUse(v.Plan, len(list))
	return s.render(w, r, http.StatusOK, "statuspages", uiPage{Title: "Status pages", Nav: "status-pages", Viewer: v, Data: d})
}

// pagesUse says how many of the plan's pages are used.
func pagesUse(plan domain.Plan, used int) (string, bool) {
	l, _ := domain.LimitsOf(plan)
	if l.MaxStatusPages == domain.Unlimited {
		return plural(used, "status page") + "; your plan (" + l.DisplayName + ") has no limit.", false
	}
	return strconv.Itoa(used) + " of " + strconv.Itoa(l.MaxStatusPages) + " status pages used on your plan (" + l.DisplayName + ").",
		used >= l.MaxStatusPages
}

// pageFields are the form's values as typed.
type pageFields struct {
	Title, Subdomain, Description, LogoURL, CustomCSS string
	IsPublic                                          bool
	// Order is the ticked monitors, in the page's order; Positions the
	// position typed for each monitor, as typed.
	Order     []int64
	Positions map[int64]string
}

func pageFieldsOf(c domain.StatusPageConfig) pageFields {
	f := pageFields{Title: c.Title, Subdomain: c.Subdomain, IsPublic: c.IsPublic, Order: slices.Clone(c.MonitorIDs), Positions: map[int64]string{}}
	if c.Description != nil {
		f.Description = *c.Description
	}
	if c.LogoURL != nil {
		f.LogoURL = *c.LogoURL
	}
	if c.CustomCSS != nil {
		f.CustomCSS = *c.CustomCSS
	}
	for i, id := range f.Order {
		f.Positions[id] = strconv.Itoa(i + 1)
	}
	return f
}

// postedPageFields reads the form (a POST's body or the preview's query).
// The ticked monitors are ordered by the positions typed beside them;
// those without one, or with the same one, keep the form's order.
func postedPageFields(form url.Values) pageFields {
	f := pageFields{Title: strings.TrimSpace(form.Get("title")), Subdomain: strings.TrimSpace(form.Get("subdomain")),
		Description: form.Get("description"), LogoURL: strings.TrimSpace(form.Get("logo_url")), CustomCSS: form.Get("custom_css"),
		Positions: map[int64]string{}}
	if vs := form["is_public"]; len(vs) > 0 {
		f.IsPublic = vs[len(vs)-1] == "true"
	}
	type ticked struct {
		id  int64
		pos int
	}
	var list []ticked
	for _, raw := range form["monitor_ids"] {
		id, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || id <= 0 || slices.ContainsFunc(list, func(t ticked) bool { return t.id == id }) {
			continue
		}
		pos := int(^uint(0) >> 1) // no position: after those with one
		if n, err := strconv.Atoi(strings.TrimSpace(form.Get("pos-" + raw))); err == nil {
			pos = n
		}
		list = append(list, ticked{id, pos})
	}
	slices.SortStableFunc(list, func(a, b ticked) int { return a.pos - b.pos })
	for _, t := range list {
		f.Order = append(f.Order, t.id)
	}
	for key, vs := range form {
		if raw, ok := strings.CutPrefix(key, "pos-"); ok && len(vs) > 0 {
			if id, err := strconv.ParseInt(raw, 10, 64); err == nil {
				f.Positions[id] = strings.TrimSpace(vs[0])
			}
		}
	}
	return f
}

// config sets the fields over c; the command validates the result.
func (f pageFields) config(c domain.StatusPageConfig) domain.StatusPageConfig {
	opt := func(s string) *string {
		if strings.TrimSpace(s) == "" {
			return nil
		}
		return &s
	}
	c.Title, c.Subdomain, c.IsPublic = f.Title, f.Subdomain, f.IsPublic
	c.Description, c.LogoURL, c.CustomCSS = opt(f.Description), opt(f.LogoURL), opt(f.CustomCSS)
	c.MonitorIDs = slices.Clone(f.Order)
	if c.MonitorIDs == nil {
		c.MonitorIDs = []int64{}
	}
	return c
}

// uiPageMonitor is one of the account's monitors on the form.
type uiPageMonitor struct {
	ID       int64
	Name     string
	On       bool
	Position string
}

type uiStatusPageForm struct {
	ID       int64 // 0 for a new page
	Action   string
	Heading  string
	Saved    string // the saved page's title
	Submit   string
	F        pageFields
	Monitors []uiPageMonitor
	// PreviewURL is the preview frame's address with the form's values.
	PreviewURL string
	Links      uiPageLinks // of the saved page
	Use        string
	AtLimit    bool
	MaxCSS     int
}

// accountMonitors lists the account's monitors by name with their states.
func (s *Server) accountMonitors(ctx context.Context, accountID int64) ([]projections.MonitorView, error) {
	list, err := s.deps.Queries.Monitors(ctx, accountID, projections.MonitorFilter{}, 0, 1000)
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(list, func(a, b projections.MonitorView) int {
		return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name))
	})
	return list, nil
}

func (s *Server) statusPageForm(r *http.Request, v *viewer, id int64, f pageFields, saved string) (uiStatusPageForm, error) {
	d := uiStatusPageForm{ID: id, F: f, Saved: saved, MaxCSS: domain.MaxCustomCSSBytes}
	if id == 0 {
		d.Action, d.Heading, d.Submit = "/status-pages", "New status page", "Create status page"
		pages, err := s.deps.Queries.StatusPages(r.Context(), v.AccountID)
		if err != nil {
			return d, err
		}
		d.Use, d.AtLimit = pagesUse(v.Plan, len(pages))
	} else {
		d.Action, d.Heading, d.Submit = "/status-pages/"+strconv.FormatInt(id, 10), "Edit status page "+saved, "Save changes"
	}
	monitors, err := s.accountMonitors(r.Context(), v.AccountID)
	if err != nil {
		return d, err
	}
	d.Monitors = formMonitors(f, monitors)
	d.PreviewURL = previewURL(f)
	return d, nil
}

// formMonitors lists the ticked monitors in the page's order, then the
// others by name.
func formMonitors(f pageFields, monitors []projections.MonitorView) []uiPageMonitor {
	names := map[int64]string{}
	for _, m := range monitors {
		names[m.ID] = m.Name
	}
	var out []uiPageMonitor
	for i, id := range f.Order {
		if name, ok := names[id]; ok {
			pos := f.Positions[id]
			if pos == "" {
				pos = strconv.Itoa(i + 1)
			}
			out = append(out, uiPageMonitor{ID: id, Name: name, On: true, Position: pos})
		}
	}
	for _, m := range monitors {
		if !slices.Contains(f.Order, m.ID) {
			out = append(out, uiPageMonitor{ID: m.ID, Name: m.Name, Position: f.Positions[m.ID]})
		}
	}
	return out
}

func (s *Server) renderStatusPageForm(w http.ResponseWriter, r *http.Request, v *viewer, status int, id int64, f pageFields, saved string, links uiPageLinks, errs map[string]string) error {
	d, err := s.statusPageForm(r, v, id, f, saved)
	if err != nil {
		return err
	}
	d.Links = links
	if len(errs) > 0 && errs[""] == "" {
		errs[""] = "The status page was not saved: correct the fields marked below."
	}
	return s.render(w, r, status, "statuspage_form", uiPage{Title: d.Heading, Nav: "status-pages", Viewer: v, Errors: errs, Data: d})
}

// pageRefused shows the form again with the command's refusal beside
// the fields it names; a subdomain taken (a conflict naming no field) is
// said beside the subdomain.
func (s *Server) pageRefused(w http.ResponseWriter, r *http.Request, v *viewer, id int64, f pageFields, saved string, links uiPageLinks, err error) error {
	errs, ok := formErrors(err)
	if !ok {
		return err
	}
	if msg, only := errs[""]; only && len(errs) == 1 && domain.ErrorCode(err) == domain.ErrConflict {
		errs = map[string]string{"subdomain": msg}
	}
	return s.renderStatusPageForm(w, r, v, statusOf(domain.ErrorCode(err)), id, f, saved, links, errs)
}

func (s *Server) uiNewStatusPage(w http.ResponseWriter, r *http.Request, v *viewer) error {
	if err := needEditor(v, "status pages"); err != nil {
		return err
	}
	return s.renderStatusPageForm(w, r, v, http.StatusOK, 0, pageFields{IsPublic: true, Positions: map[int64]string{}}, "", uiPageLinks{}, nil)
}

func (s *Server) uiCreateStatusPage(w http.ResponseWriter, r *http.Request, v *viewer) error {
	f := postedPageFields(r.PostForm)
	cfg := f.config(domain.StatusPageConfig{})
	id, pos, err := s.deps.CreateStatusPage.Handle(r.Context(), commands.CreateStatusPage{Actor: v.actor(r), Plan: v.Plan, Config: cfg})
	if err != nil {
		return s.pageRefused(w, r, v, 0, f, "", uiPageLinks{}, err)
	}
	s.settleUI(w, r, pos, "Status page created.")
	if sub, err := domain.NormalizeSubdomain(cfg.Subdomain); err == nil {
		s.invalidatePage(sub)
	}
	return redirect(w, r, "/status-pages/"+strconv.FormatInt(id, 10))
}

// pageOf is the path's page, if it is the viewer's account's.
func (s *Server) pageOf(r *http.Request, v *viewer) (projections.StatusPageView, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return projections.StatusPageView{}, err
	}
	return s.deps.Queries.StatusPage(r.Context(), v.AccountID, id)
}

func (s *Server) uiStatusPage(w http.ResponseWriter, r *http.Request, v *viewer) error {
	p, err := s.pageOf(r, v)
	if err != nil {
		return err
	}
	// A VIEWER gets the same page without the form (the template shows
	// the values instead); the POST refuses them anyway.
	return s.renderStatusPageForm(w, r, v, http.StatusOK, p.ID, pageFieldsOf(p.StatusPageConfig), p.Title, s.pageLinks(p.Subdomain), nil)
}

func (s *Server) uiUpdateStatusPage(w http.ResponseWriter, r *http.Request, v *viewer) error {
	p, err := s.pageOf(r, v)
	if err != nil {
		return err
	}
	links := s.pageLinks(p.Subdomain)
	f := postedPageFields(r.PostForm)
	pos, err := s.deps.UpdateStatusPage.Handle(r.Context(), commands.UpdateStatusPage{Actor: v.actor(r), StatusPageID: p.ID,
		Change: func(cur domain.StatusPageConfig) (domain.StatusPageConfig, error) { return f.config(cur), nil }})
	if err != nil {
		return s.pageRefused(w, r, v, p.ID, f, p.Title, links, err)
	}
	s.settleUI(w, r, pos, "Status page saved.")
	s.invalidatePage(p.Subdomain)
	if sub, err := domain.NormalizeSubdomain(f.Subdomain); err == nil {
		s.invalidatePage(sub)
	}
	return redirect(w, r, "/status-pages/"+strconv.FormatInt(p.ID, 10))
}

type uiStatusPageDelete struct {
	ID    int64
	Title string
	Sub   string
}

func (s *Server) uiDeleteStatusPagePage(w http.ResponseWriter, r *http.Request, v *viewer) error {
	if err := needEditor(v, "status pages"); err != nil {
		return err
	}
	p, err := s.pageOf(r, v)
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "statuspage_delete", uiPage{Title: "Delete " + p.Title, Nav: "status-pages", Viewer: v,
		Data: uiStatusPageDelete{ID: p.ID, Title: p.Title, Sub: p.Subdomain}})
}

func (s *Server) uiDeleteStatusPage(w http.ResponseWriter, r *http.Request, v *viewer) error {
	p, err := s.pageOf(r, v)
	if err != nil {
		return err
	}
	pos, err := s.deps.DeleteStatusPage.Handle(r.Context(), commands.DeleteStatusPage{Actor: v.actor(r), StatusPageID: p.ID})
	if err != nil {
		return err
	}
	s.settleUI(w, r, pos, "Deleted status page "+p.Title+".")
	s.invalidatePage(p.Subdomain)
	return redirect(w, r, "/status-pages")
}

// uiSubdomainState is what the subdomain check says.
type uiSubdomainState struct {
	State   string // available, taken, reserved, invalid, or "" before anything is typed
	Name    string
	Message string
}

// subdomainState decides nothing itself: the name's form is
// domain.NormalizeSubdomain's to judge, whether it is free the claim
// lookup's (SubdomainChecker).
func (s *Server) subdomainState(r *http.Request, v *viewer, raw string, pageID int64) (uiSubdomainState, error) {
	typed := strings.ToLower(strings.TrimSpace(raw))
	if typed == "" {
		return uiSubdomainState{}, nil
	}
	name, err := domain.NormalizeSubdomain(raw)
	switch {
	case err != nil && domain.IsReservedSubdomain(typed):
		return uiSubdomainState{State: "reserved", Name: typed, Message: typed + " is reserved; choose another."}, nil
	case err != nil:
		msg := domain.ErrorMessage(err)
		return uiSubdomainState{State: "invalid", Name: typed, Message: strings.ToUpper(msg[:1]) + msg[1:] + "."}, nil
	}
	check, ok := s.deps.CreateStatusPage.(SubdomainChecker)
	if !ok {
		return uiSubdomainState{State: "unknown", Name: name, Message: "Whether " + name + " is free is checked when you save."}, nil
	}
	switch err := check.Available(r.Context(), v.actor(r), name, pageID); domain.ErrorCode(err) {
	case "":
		return uiSubdomainState{State: "available", Name: name, Message: name + " is available."}, nil
	case domain.ErrConflict:
		return uiSubdomainState{State: "taken", Name: name, Message: name + " is taken; choose another."}, nil
	default:
		return uiSubdomainState{}, err
	}
}

func (s *Server) uiSubdomainCheck(w http.ResponseWriter, r *http.Request, v *viewer) error {
	q := r.URL.Query()
	var pageID int64
	if raw := q.Get("page"); raw != "" {
		p, err := strconv.ParseInt(raw, 10, 64)
		if err != nil {
			return badRequest("query parameter page must be a status page's id")
		}
		// Only the viewer's own page's name is free for it.
		if _, err := s.deps.Queries.StatusPage(r.Context(), v.AccountID, p); err != nil {
			return err
		}
		pageID = p
	}
	st, err := s.subdomainState(r, v, q.Get("subdomain"), pageID)
	if err != nil {
		return err
	}
	return s.renderPart(w, "statuspage_form", "spsubdomain", st)
}

// previewURL is the preview frame's address for the form's values, read
// back by postedPageFields: the ticked monitors in order.
func previewURL(f pageFields) string {
	q := url.Values{"title": {f.Title}, "subdomain": {f.Subdomain}, "description": {f.Description}, "logo_url": {f.LogoURL},
		"custom_css": {f.CustomCSS}, "is_public": {strconv.FormatBool(f.IsPublic)}}
	for _, id := range f.Order {
		q.Add("monitor_ids", strconv.FormatInt(id, 10))
	}
	return "/status-pages/preview/page?" + q.Encode()
}

// previewPage is the page the form's values would make, for the
// viewer's account: only its monitors can show, whatever ids are asked
// for (the query reads monitors of AccountID only). A logo URL the
// command would refuse is left out, as the subdomain when it is not one.
func previewPage(v *viewer, f pageFields) projections.StatusPageView {
	cfg := f.config(domain.StatusPageConfig{})
	if cfg.LogoURL != nil {
		if u, err := domain.ValidateLogoURL(*cfg.LogoURL); err == nil {
			cfg.LogoURL = &u
		} else {
			cfg.LogoURL = nil
		}
	}
	if sub, err := domain.NormalizeSubdomain(cfg.Subdomain); err == nil {
		cfg.Subdomain = sub
	} else {
		cfg.Subdomain = ""
	}
	return projections.StatusPageView{AccountID: v.AccountID, StatusPageConfig: cfg}
}

// uiStatusPagePreviewPage serves the public page as the form's values
// would make it, built as the public page is (the status site's
// RenderPreview), for the editor's frame. Its headers are the preview's
// own, replacing the dashboard's: the page's CSP, which allows no script
// and lets only this server frame it, and X-Frame-Options SAMEORIGIN.
func (s *Server) uiStatusPagePreviewPage(w http.ResponseWriter, r *http.Request, v *viewer) error {
	if s.deps.StatusSite == nil {
		return domain.Errorf(domain.ErrNotFound, "this server does not serve public status pages")
	}
	body, policy, err := s.deps.StatusSite.RenderPreview(r.Context(), previewPage(v, postedPageFields(r.URL.Query())))
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Security-Policy", policy)
	h.Set("X-Frame-Options", "SAMEORIGIN")
	h.Set("X-Robots-Tag", "noindex, nofollow")
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, err = w.Write(body)
	return err
}

// renderPart writes one template of a page's file, for htmx to swap in.
func (s *Server) renderPart(w http.ResponseWriter, page, part string, data any) error {
	t, ok := s.ui.pages[page]
	if !ok {
		return domain.Errorf(domain.ErrInternal, "no template %q", page)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, part, data); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(buf.Bytes())
	return err
}
