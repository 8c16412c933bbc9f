package httpapi

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"math"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/medialuna/medialuna/domain"
)

// The dashboard is server-rendered HTML in this package, beside the JSON API,
// because both are the same adapter of the same dependency (net/http): one
// set of ports, one authentication of passwords and limits, one map from
// domain error codes to statuses (statusOf), one middleware. Its pages are
// html/template files embedded in the binary; htmx swaps fragments and its
// SSE extension refetches them when the log changes (ui_live.go). Pages read
// queries and run the same command handlers as the API; none decides
// anything a command does not.

//go:embed ui/templates/*.html
var uiTemplateFiles embed.FS

//go:embed ui/static
var uiStaticFiles embed.FS

// uiContentSecurityPolicy allows only this server's own scripts, styles,
// images and connections: no inline script or style element, no eval, no
// frames but its own (the status page preview), no form posting
// elsewhere. uPlot and htmx set element styles from script (the CSSOM),
// which style-src does not govern.
const uiContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; font-src 'self'; frame-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// ui holds the dashboard's parsed templates and its live feed.
type ui struct {
	pages   map[string]*template.Template
	static  http.Handler
	live    *liveHub
	csrfKey []byte
}

func newUI(s *Server) (*ui, error) {
	funcs := template.FuncMap{
		"ago":       func(t any) string { return uiAgo(t, s.deps.Now()) },
		"when":      uiWhen,
		"ms":        uiMillis,
		"pct":       uiPercent,
		"lower":     strings.ToLower,
		"join":      strings.Join,
		"add":       func(a, b int) int { return a + b },
		"query":     uiQuery,
		"hasInt":    uiHasInt,
		"statusTag": uiStatusTag,
		"bar":       uiCheckBar,
		"dict":      uiDict,
	}
	base, err := template.New("base").Funcs(funcs).ParseFS(uiTemplateFiles, "ui/templates/base.html", "ui/templates/parts.html")
	if err != nil {
		return nil, err
	}
	names, err := fs.Glob(uiTemplateFiles, "ui/templates/*.html")
	if err != nil {
		return nil, err
	}
	u := &ui{pages: map[string]*template.Template{}}
	for _, n := range names {
		name := strings.TrimSuffix(path.Base(n), ".html")
		if name == "base" || name == "parts" {
			continue
		}
		t, err := template.Must(base.Clone()).ParseFS(uiTemplateFiles, n)
		if err != nil {
			return nil, fmt.Errorf("template %s: %w", n, err)
		}
		u.pages[name] = t
	}
	static, err := fs.Sub(uiStaticFiles, "ui/static")
	if err != nil {
		return nil, err
	}
	u.static = http.StripPrefix("/static/", http.FileServerFS(static))
	u.csrfKey = derivedKey(s.deps.JWTSecret, "dashboard csrf")
	u.live = newLiveHub(s)
	return u, nil
}

// uiPaths are the dashboard's first path segments; everything else is the
// API's (Owns).
var uiPaths = map[string]bool{"": true, "login": true, "signup": true, "logout": true, "invite": true,
	"monitors": true, "incidents": true, "static": true, "live": true, "settings": true, "maintenance": true, "notifications": true,
	"status-pages": true, "operator": true}

// ownsUI reports whether a request is the dashboard's.
func ownsUI(r *http.Request) bool {
	first, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	return uiPaths[first]
}

// viewer is who is looking at a dashboard page.
type viewer struct {
	principal
	Email       string
	FullName    string
	AccountName string
	sessionHash string
}

// CanEdit says whether the page shows write actions; the server refuses
// them anyway for a VIEWER (uiAction's role check).
func (v *viewer) CanEdit() bool { return v.Role.Includes(domain.RoleEditor) }
func (v *viewer) IsAdmin() bool { return v.Role.Includes(domain.RoleAdmin) }
func (v *viewer) Name() string {
	if v.FullName != "" {
		return v.FullName
	}
	return v.Email
}

// uiPage is what every template receives.
type uiPage struct {
	Title  string
	Nav    string // the section the page belongs to, for the menu
	Sub    string // the page within the settings section, for its menu
	Viewer *viewer
	CSRF   string
	Flash  string
	// Errors are messages per form field (the 422 loc's last element);
	// the key "" is for the form as a whole.
	Errors map[string]string
	Data   any
	// LivePos is the live hub's position when the page was rendered: its
	// event stream catches up from there (uiLive's since).
	LivePos string
}

// uiHandler is a dashboard page: it returns an error instead of writing one.
type uiHandler func(w http.ResponseWriter, r *http.Request, v *viewer) error

// uiRoute registers a page. Pages that need no sign-in get a nil viewer;
// the others redirect to the login page when nobody is signed in. Unsafe
// methods need the CSRF token and, when role is set, that role: a VIEWER's
// forged POST gets 403 whatever the page showed.
func (s *Server) uiRoute(method, path string, role domain.Role, h uiHandler) {
	s.router.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
		uiSecurityHeaders(w)
		v, err := s.uiViewer(r)
		if err != nil && domain.ErrorCode(err) != domain.ErrUnauthorized {
			s.uiError(w, r, nil, err)
			return
		}
		if v == nil && role != "" {
			s.uiSignInAgain(w, r)
			return
		}
		if method != http.MethodGet {
			// The token first: a forged request is refused as forged,
			// whatever it carries; then every value's text, once.
			if err := s.checkCSRF(r, v); err != nil {
				s.uiError(w, r, v, err)
				return
			}
			if err := parseUIForm(r); err != nil {
				s.uiError(w, r, v, err)
				return
			}
		}
		if v != nil && role != "" && !v.Role.Includes(role) {
			s.uiError(w, r, v, domain.Errorf(domain.ErrForbidden, "this needs role %s or higher; you are %s", role, v.Role))
			return
		}
		if v != nil && method != http.MethodGet {
			// Writes count against the account's plan as the API's do.
			if err := s.uiRateLimit(r, v); err != nil {
				s.uiError(w, r, v, err)
				return
			}
		}
		if err := h(w, r, v); err != nil {
			s.uiError(w, r, v, err)
		}
	}).Methods(method)
}

// uiSignInAgain sends a request without a session to the login page: a
// page load by redirect; an htmx request (a live refresh, a filter) by
// telling htmx to load the login page in full, since swapping the login
// form into a fragment would break the page; a form post with a 401 page.
func (s *Server) uiSignInAgain(w http.ResponseWriter, r *http.Request) {
	login := "/login?next=" + url.QueryEscape(r.URL.RequestURI())
	switch {
	case r.Header.Get("HX-Request") == "true":
		if ref, err := url.Parse(r.Header.Get("HX-Current-URL")); err == nil && ref.Path != "" {
			login = "/login?next=" + url.QueryEscape(ref.RequestURI())
		}
		w.Header().Set("HX-Redirect", login)
		w.WriteHeader(http.StatusUnauthorized)
	case r.Method == http.MethodGet:
		http.Redirect(w, r, login, http.StatusSeeOther)
	default:
		s.uiError(w, r, nil, domain.Errorf(domain.ErrUnauthorized, "your session has ended; sign in again"))
	}
}

// uiRateLimit counts a dashboard write against the account's requests per
// minute, in the same windows as the API's requests.
func (s *Server) uiRateLimit(r *http.Request, v *viewer) error {
	limits, _ := domain.LimitsOf(v.Plan)
	if limits.RequestsPerMinute == domain.Unlimited {
		return nil
	}
	count, reset, err := s.deps.RateLimiter.Take(r.Context(), v.AccountID)
	if err != nil {
		s.deps.Log.Warn("rate limiter unavailable", "err", err)
		return nil
	}
	if count > limits.RequestsPerMinute {
		retry := max(int(reset.Sub(s.deps.Now()).Seconds()+0.999), 1)
		return &requestError{status: http.StatusTooManyRequests, detail: "Your account has made more than " +
			strconv.Itoa(limits.RequestsPerMinute) + " requests this minute, its plan's limit; try again in " + strconv.Itoa(retry) + " s."}
	}
	return nil
}

func uiSecurityHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", uiContentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
}

func (s *Server) uiRoutes() {
	r := s.router
	r.PathPrefix("/static/").Methods("GET").Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", uiContentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		// Vendored files carry their version in their name; ours change
		// with the binary, so they are revalidated.
		// Files only: no directory listings.
		if strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r)
			return
		}
		if strings.HasPrefix(r.URL.Path, "/static/vendor/") {
			h.Set("Cache-Control", "public, max-age=86400")
		} else {
			h.Set("Cache-Control", "no-cache")
		}
		s.ui.static.ServeHTTP(w, r)
	}))
	s.uiAuthRoutes()
	s.uiRoute("GET", "/", domain.RoleViewer, s.uiOverview)
	s.uiRoute("GET", "/live", domain.RoleViewer, s.uiLive)
	s.uiMonitorRoutes()
	s.uiMonitorDetailRoutes()
	s.uiIncidentRoutes()
	s.uiAuditRoutes()
	s.uiMaintenanceRoutes()
	s.uiNotificationRoutes()
	s.uiStatusPageRoutes()
	s.uiAccountRoutes()
	s.uiTeamRoutes()
	s.uiAPIKeyRoutes()
	s.uiProfileRoutes()
	s.uiOperatorRoutes()
	s.uiRoute("GET", "/settings", domain.RoleViewer, func(w http.ResponseWriter, r *http.Request, _ *viewer) error {
		http.Redirect(w, r, "/settings/profile", http.StatusSeeOther)
		return nil
	})
}

// render writes a page with status.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, p uiPage) error {
	t, ok := s.ui.pages[name]
	if !ok {
		return fmt.Errorf("no template %q", name)
	}
	if p.CSRF == "" {
		p.CSRF = s.csrfToken(w, r, p.Viewer)
	}
	// A fragment for htmx (the part a live update or a filter swaps), or
	// the whole page; htmx restoring a page from history (the Back button)
	// needs the whole page.
	root := "base"
	if r.Header.Get("HX-Request") == "true" && r.Header.Get("HX-Boosted") != "true" &&
		r.Header.Get("HX-History-Restore-Request") != "true" && t.Lookup("fragment") != nil {
		root = "fragment"
	}
	if root == "base" {
		// Only a whole page shows the flash: a fragment refreshed in
		// another tab must not take it.
		if p.Flash == "" {
			p.Flash = takeFlash(w, r)
		}
		p.LivePos = formatLivePos(s.ui.live.current())
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, root, p); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, err := w.Write(buf.Bytes())
	return err
}

// uiError shows an error page, or sends the login page for a missing
// session. A 422 on a form is shown by the form's own handler (formErrors).
func (s *Server) uiError(w http.ResponseWriter, r *http.Request, v *viewer, err error) {
	var reqErr *requestError
	status, msg := 0, ""
	switch {
	case errors.As(err, &reqErr):
		status, msg = reqErr.status, reqErr.detail
	default:
		status, msg = statusOf(domain.ErrorCode(err)), domain.ErrorMessage(err)
	}
	if status == http.StatusInternalServerError || status == http.StatusBadGateway {
		s.deps.Log.Error("page failed", "method", r.Method, "path", logPath(r), "err", err, "request_id", requestID(r))
		msg = "Something went wrong on our side. The error is in the server's log under request id " + requestID(r) + "."
	}
	if status == http.StatusUnauthorized && r.Method == http.MethodGet {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	if rerr := s.render(w, r, status, "error", uiPage{Title: http.StatusText(status), Viewer: v, Data: msg}); rerr != nil {
		http.Error(w, msg, status)
	}
}

// formErrors turns a command's refusal into messages next to the fields
// it names, the last element of the API's 422 loc; other errors stay
// errors. The second result is false when err is not about the input.
func formErrors(err error) (map[string]string, bool) {
	var domErr *domain.Error
	if !errors.As(err, &domErr) || (domErr.Code != domain.ErrInvalid && domErr.Code != domain.ErrLimit && domErr.Code != domain.ErrConflict) {
		var textErr *bodyTextError
		if errors.As(err, &textErr) {
			out := map[string]string{}
			for _, it := range textErr.items {
				field := ""
				if len(it.Loc) > 1 {
					field = fmt.Sprint(it.Loc[len(it.Loc)-1])
				}
				out[field] = it.Msg
			}
			return out, true
		}
		return nil, false
	}
	out := map[string]string{}
	for _, f := range domErr.Fields {
		out[f.Field] = f.Message
	}
	if len(domErr.Fields) == 0 {
		out[""] = domErr.Message
	}
	return out, true
}

// settleUI waits for the read models to show a write before the page that
// follows reads them; when they lag, the flash says so instead of the next
// page silently missing the change.
func (s *Server) settleUI(w http.ResponseWriter, r *http.Request, pos domain.Position, done string) {
	if err := s.visible(r, pos); err != nil {
		done += " It is recorded, but may take a moment to show."
	}
	setFlash(w, done)
}

// redirect sends the browser on after a successful POST. htmx follows
// HX-Redirect; a plain form follows the 303.
func redirect(w http.ResponseWriter, r *http.Request, to string) error {
	if r.Header.Get("HX-Request") == "true" {
		w.Header().Set("HX-Redirect", to)
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
	return nil
}

// parseUIForm parses a posted form (the middleware bounds its size) and
// checks every field name and value with domain.CheckText.
func parseUIForm(r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return &requestError{status: http.StatusBadRequest, detail: "the form could not be read: " + err.Error()}
	}
	for field, values := range r.PostForm {
		if problem, _ := domain.CheckText(field, domain.SingleLine); problem != "" {
			return domain.Invalid("", "value_error", "a form field name %s", problem)
		}
		for _, v := range values {
			kind := domain.SingleLine
			if uiProseFields[field] {
				kind = domain.MultiLine
			}
			if problem, _ := domain.CheckText(v, kind); problem != "" {
				return domain.Invalid(field, "value_error", "%s", problem)
			}
		}
	}
	return nil
}

// uiProseFields may hold line breaks.
var uiProseFields = map[string]bool{"message": true, "request_body": true, "request_headers": true, "description": true, "reason": true,
	"custom_css": true, "headers": true, "template": true}

// Template helpers.

func uiAgo(t any, now time.Time) string {
	var at time.Time
	switch v := t.(type) {
	case time.Time:
		at = v
	case *time.Time:
		if v == nil {
			return "never"
		}
		at = *v
	default:
		return ""
	}
	if at.IsZero() {
		return "never"
	}
	d := now.Sub(at)
	future := d < 0
	if future {
		d = -d
	}
	var s string
	switch {
	case d < 5*time.Second:
		return "just now"
	case d < time.Minute:
		s = strconv.Itoa(int(d.Seconds())) + " s"
	case d < time.Hour:
		s = strconv.Itoa(int(d.Minutes())) + " min"
	case d < 48*time.Hour:
		s = strconv.Itoa(int(d.Hours())) + " h"
	default:
		s = strconv.Itoa(int(d.Hours()/24)) + " days"
	}
	if future {
		return "in " + s
	}
	return s + " ago"
}

func uiWhen(t any) string {
	switch v := t.(type) {
	case time.Time:
		if v.IsZero() {
			return ""
		}
		return v.UTC().Format("2006-01-02 15:04:05 UTC")
	case *time.Time:
		if v == nil {
			return ""
		}
		return v.UTC().Format("2006-01-02 15:04:05 UTC")
	}
	return ""
}

func uiMillis(v any) string {
	var f float64
	switch x := v.(type) {
	case float64:
		f = x
	case *float64:
		if x == nil {
			return "–"
		}
		f = *x
	default:
		return "–"
	}
	if f >= 1000 {
		return strconv.FormatFloat(f/1000, 'f', 2, 64) + " s"
	}
	return strconv.FormatFloat(math.Round(f), 'f', 0, 64) + " ms"
}

func uiPercent(v any) string {
	switch x := v.(type) {
	case float64:
		return strconv.FormatFloat(x, 'f', 2, 64) + "%"
	case *float64:
		if x == nil {
			return "–"
		}
		return strconv.FormatFloat(*x, 'f', 2, 64) + "%"
	}
	return "–"
}

// uiQuery returns the current query with key set to value (a pager link,
// a sort header), as "?a=b&...".
func uiQuery(q url.Values, kv ...string) string {
	out := url.Values{}
	for k, vs := range q {
		out[k] = append([]string(nil), vs...)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			out.Del(kv[i])
		} else {
			out.Set(kv[i], kv[i+1])
		}
	}
	return "?" + out.Encode()
}

func uiHasInt(list []int64, v int64) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// uiStatusTag names a monitor or incident status for people.
func uiStatusTag(status string) string {
	switch status {
	case "up":
		return "Up"
	case "down":
		return "Down"
	case "paused":
		return "Paused"
	case "pending":
		return "Pending"
	case "degraded":
		return "Degraded"
	case "ongoing":
		return "Ongoing"
	case "acknowledged":
		return "Acknowledged"
	case "resolved":
		return "Resolved"
	}
	return status
}

// uiCheckBar turns a monitor's recent results ('u' up, 'd' down, 'm' in
// maintenance; oldest first) into the cells of its bar.
func uiCheckBar(recent string) []string {
	out := make([]string, 0, len(recent))
	for _, c := range recent {
		switch c {
		case 'u':
			out = append(out, "up")
		case 'd':
			out = append(out, "down")
		default:
			out = append(out, "maint")
		}
	}
	return out
}

// uiDict builds a map for a sub-template's arguments.
func uiDict(kv ...any) map[string]any {
	m := map[string]any{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[fmt.Sprint(kv[i])] = kv[i+1]
	}
	return m
}
