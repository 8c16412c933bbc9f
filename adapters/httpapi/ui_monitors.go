package httpapi

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/medialuna/medialuna/commands"
	"github.com/medialuna/medialuna/domain"
	"github.com/medialuna/medialuna/projections"
)

// uiMonitorRoutes registers the monitors list, bulk actions and the monitor form.
func (s *Server) uiMonitorRoutes() {
	s.uiRoute("GET", "/monitors", domain.RoleViewer, s.uiMonitors)
	s.uiRoute("POST", "/monitors/bulk", domain.RoleEditor, s.uiBulkMonitors)
	s.uiMonitorFormRoutes()
}

// uiMonitorsPerPage is the list's page size.
const uiMonitorsPerPage = 100

// uiSorts are the list's orders, as the sort select offers them.
var uiSorts = []struct{ Value, Label string }{
	{"status", "Status (down first)"},
	{"name", "Name"},
	{"uptime", "24 h uptime (lowest first)"},
	{"response", "Response time (slowest first)"},
}

var uiMonitorStatuses = []string{"up", "down", "paused", "pending"}

type uiMonitorsData struct {
	Page     projections.DashboardPage
	Query    url.Values // the filters as given, for links that keep them
	Back     string     // the list's address with its filters, for after a bulk action
	Search   string
	Status   string
	Type     string
	Tag      string // the tag filtered by, as the account names it
	Sort     string
	Sorts    []struct{ Value, Label string }
	Statuses []string
	Types    []domain.MonitorType
	Tags     []projections.TagRow
	PageNum  int
	Pages    int
	First    int // the 1-based position of the page's first row
	Last     int
	PrevURL  string
	NextURL  string
	Bulk     []struct{ Value, Label string }
}

// uiBulkWords are what the bulk form calls an action of
// commands.MonitorStateActions and what its flash says once done.
func uiBulkWords(action string) (label, done string) {
	switch action {
	case "pause":
		return "Pause", "Paused"
	case "resume":
		return "Resume", "Resumed"
	case "add_tags":
		return "Add tag", "Tagged"
	case "remove_tags":
		return "Remove tag", "Untagged"
	case "delete":
		return "Delete…", "Deleted"
	}
	return action, action
}

// uiMonitors is the monitors list: filtered, ordered and paged by the
// query, so a page of 100 reads the same with 10,000 monitors as with 10.
func (s *Server) uiMonitors(w http.ResponseWriter, r *http.Request, v *viewer) error {
	q := r.URL.Query()
	d := uiMonitorsData{Search: strings.TrimSpace(q.Get("q")), Status: q.Get("status"), Type: strings.ToUpper(q.Get("type")), Sort: q.Get("sort"),
		Sorts: uiSorts, Statuses: uiMonitorStatuses, Types: domain.MonitorTypes(), PageNum: 1}
	for _, field := range []string{"q", "tag"} {
		if problem, _ := domain.CheckText(q.Get(field), domain.SingleLine); problem != "" {
			return badRequest("query parameter %s %s", field, problem)
		}
	}
	if d.Status != "" && !slices.Contains(uiMonitorStatuses, d.Status) {
		d.Status = ""
	}
	if d.Type != "" && !slices.Contains(d.Types, domain.MonitorType(d.Type)) {
		d.Type = ""
	}
	if !slices.ContainsFunc(uiSorts, func(o struct{ Value, Label string }) bool { return o.Value == d.Sort }) {
		d.Sort = "status"
	}
	if n, err := strconv.Atoi(q.Get("page")); err == nil && n > 1 && n < 1_000_000 {
		d.PageNum = n
	}
	var err error
	if d.Tags, err = s.deps.Queries.Tags(r.Context(), v.AccountID); err != nil {
		return err
	}
	// A tag is named in the query, as in the API's list; a name the
	// account has no tag of matches nothing.
	filter := projections.DashboardFilter{Search: d.Search, Status: d.Status, Type: d.Type, Sort: d.Sort, Now: s.deps.Now()}
	if name := strings.TrimSpace(q.Get("tag")); name != "" {
		d.Tag, filter.TagID = name, -1
		for _, tag := range d.Tags {
			if strings.EqualFold(tag.Name, name) {
				d.Tag, filter.TagID = tag.Name, tag.ID
				break
			}
		}
	}
	// The query as understood, without what it had wrong: what the live
	// refresh, the pager and a bulk action's return keep.
	d.Query = url.Values{}
	for k, val := range map[string]string{"q": d.Search, "status": d.Status, "type": d.Type, "sort": d.Sort, "tag": d.Tag} {
		if val != "" && !(k == "sort" && val == "status") {
			d.Query.Set(k, val)
		}
	}
	skip := (d.PageNum - 1) * uiMonitorsPerPage
	d.Page, err = s.deps.Queries.DashboardMonitors(r.Context(), v.AccountID, filter, skip, uiMonitorsPerPage)
	if err != nil {
		return err
	}
	d.Pages = max(1, (d.Page.Total+uiMonitorsPerPage-1)/uiMonitorsPerPage)
	// A page past the end (an old link, or monitors deleted since) shows
	// the last page rather than saying that nothing matches.
	if d.PageNum > d.Pages {
		d.PageNum = d.Pages
		skip = (d.PageNum - 1) * uiMonitorsPerPage
		if d.Page, err = s.deps.Queries.DashboardMonitors(r.Context(), v.AccountID, filter, skip, uiMonitorsPerPage); err != nil {
			return err
		}
		d.Pages = max(1, (d.Page.Total+uiMonitorsPerPage-1)/uiMonitorsPerPage)
		d.PageNum = min(d.PageNum, d.Pages)
	}
	if len(d.Page.Rows) > 0 {
		d.First, d.Last = skip+1, skip+len(d.Page.Rows)
	}
	if d.PageNum > 1 {
		d.PrevURL = "/monitors" + uiQuery(d.Query, "page", pageParam(d.PageNum-1))
	}
	if d.PageNum < d.Pages {
		d.NextURL = "/monitors" + uiQuery(d.Query, "page", strconv.Itoa(d.PageNum+1))
	}
	if d.PageNum > 1 {
		d.Query.Set("page", strconv.Itoa(d.PageNum))
	}
	d.Back = "/monitors"
	if len(d.Query) > 0 {
		d.Back += "?" + d.Query.Encode()
	}
	for _, action := range commands.MonitorStateActions() {
		label, _ := uiBulkWords(action)
		d.Bulk = append(d.Bulk, struct{ Value, Label string }{action, label})
	}
	return s.render(w, r, http.StatusOK, "monitors", uiPage{Title: "Monitors", Nav: "monitors", Viewer: v, Data: d})
}

// pageParam is the page query value; page 1 is the list without one.
func pageParam(n int) string {
	if n <= 1 {
		return ""
	}
	return strconv.Itoa(n)
}

// listBack is where a form posted from the list goes back to: the list
// with the filters it had, never another site or page.
func listBack(r *http.Request) string {
	back := r.PostFormValue("back")
	u, err := url.Parse(back)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Path != "/monitors" {
		return "/monitors"
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil || len(q) == 0 {
		return "/monitors"
	}
	return "/monitors?" + q.Encode()
}

// uiNamedMonitor is a monitor a confirmation page names.
type uiNamedMonitor struct {
	ID   int64
	Name string
}

// uiDeleteData is the delete confirmation page's.
type uiDeleteData struct {
	Monitors []uiNamedMonitor
	Action   string // where the confirmation posts
	Back     string
	Bulk     bool
}

// uiBulkMonitors runs one action over the selected monitors, each through
// SetMonitorState as the API's bulk endpoint does; deleting asks first on
// a page of its own.
func (s *Server) uiBulkMonitors(w http.ResponseWriter, r *http.Request, v *viewer) error {
	if err := parseUIForm(r); err != nil {
		return err
	}
	back := listBack(r)
	action := r.PostFormValue("action")
	if !commands.IsMonitorStateAction(action) {
		return badRequest("choose an action: pause, resume, delete, add tag or remove tag")
	}
	var ids []int64
	for _, raw := range r.PostForm["id"] {
		id, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || id <= 0 {
			return badRequest("a selected monitor id is not a number")
		}
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	if len(ids) > 1000 {
		return badRequest("at most 1000 monitors at a time")
	}
	if len(ids) == 0 {
		setFlash(w, "Select one or more monitors first.")
		return redirect(w, r, back)
	}
	var tagIDs []int64
	if strings.HasSuffix(action, "_tags") {
		id, err := strconv.ParseInt(r.PostFormValue("tag_id"), 10, 64)
		if err != nil || id <= 0 {
			setFlash(w, "Choose the tag to add or remove.")
			return redirect(w, r, back)
		}
		tagIDs = []int64{id}
	}
	names, err := s.deps.Queries.MonitorNames(r.Context(), v.AccountID, ids)
	if err != nil {
		return err
	}
	if action == "delete" && r.PostFormValue("confirm") != "yes" {
		d := uiDeleteData{Action: "/monitors/bulk", Back: back, Bulk: true}
		for _, id := range ids {
			if name, ok := names[id]; ok {
				d.Monitors = append(d.Monitors, uiNamedMonitor{id, name})
			}
		}
		if len(d.Monitors) == 0 {
			return domain.Errorf(domain.ErrNotFound, "none of the selected monitors exists")
		}
		return s.render(w, r, http.StatusOK, "monitor_delete", uiPage{Title: "Delete monitors", Nav: "monitors", Viewer: v, Data: d})
	}
	var last domain.Position
	done, missing, failed := 0, 0, []string{}
	for _, id := range ids {
		pos, err := s.deps.SetMonitorState.Handle(r.Context(), commands.SetMonitorState{Actor: v.actor(r), MonitorID: id, Action: action, TagIDs: tagIDs})
		switch domain.ErrorCode(err) {
		case "":
			done++
			if last.Less(pos) {
				last = pos
			}
		case domain.ErrNotFound:
			missing++
		case domain.ErrInvalid:
			// The same for every monitor (an unknown tag): say it once.
			if done == 0 {
				setFlash(w, domain.ErrorMessage(err))
				return redirect(w, r, back)
			}
			failed = append(failed, domain.ErrorMessage(err))
		default:
			if domain.ErrorCode(err) == domain.ErrInternal {
				return err
			}
			failed = append(failed, fmt.Sprintf("%s: %s", names[id], domain.ErrorMessage(err)))
		}
	}
	msg := bulkDone(action, done)
	if missing > 0 {
		msg += fmt.Sprintf(" %d no longer exist.", missing)
	}
	if len(failed) > 0 {
		msg += " Not done: " + strings.Join(failed, "; ") + "."
	}
	s.settleUI(w, r, last, msg)
	return redirect(w, r, back)
}

// bulkDone says what a bulk action did, as the flash shows it.
func bulkDone(action string, n int) string {
	_, verb := uiBulkWords(action)
	return fmt.Sprintf("%s %s.", verb, plural(n, "monitor"))
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}
