// Package statushtml serves public status pages: server-rendered HTML that
// works without JavaScript, its JSON, SVG badges and an Atom feed of
// incidents, at /status/{subdomain}, /api/public/status-pages/{subdomain}
// and on {subdomain}.<status domain>.
//
// Each page is built from the read models at most once per TTL (a few
// seconds) and kept rendered, compressed and hashed: a request for a
// cached page costs a map lookup and a write. A stale page is served while
// one request rebuilds it in the background, so readers never wait on the
// database once a page has been built.
//
// Security: html/template escapes everything users type; each HTML
// response carries a Content-Security-Policy with no script source at
// all, the page's one inline stylesheet allowed by its hash and images
// only from the logo's origin; custom_css goes through the sanitize
// package (no url(), no expression(), no "<").
package statushtml

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/medialuna/medialuna/domain"
	"github.com/medialuna/medialuna/projections"
)

// Reader reads what a public page shows.
type Reader interface {
	// PublicPage returns a page by subdomain with its monitors, daily
	// uptime, incidents, public updates and maintenance windows. Errors:
	// domain.ErrNotFound when no page has the subdomain.
	PublicPage(ctx context.Context, subdomain string, dailySince, incidentsSince, now time.Time) (projections.PublicPageData, error)
	// PublicPageOf returns the same for a page given whole, saved or not
	// (the editor's preview); only monitors of page.AccountID are shown.
	PublicPageOf(ctx context.Context, page projections.StatusPageView, dailySince, incidentsSince, now time.Time) (projections.PublicPageData, error)
}

// Config configures a Site.
type Config struct {
	Reader Reader
	Log    *slog.Logger
	Now    func() time.Time
	// BaseURL is the server's public URL (scheme and host); page URLs and
	// feed links start with it.
	BaseURL string
	// StatusDomain, when set, serves page "acme" at acme.<StatusDomain>
	// too. It may carry a port (status.example.com:8443), used in links.
	StatusDomain string
	// TTL is how long a built page is served before it is rebuilt
	// (default 5 s).
	TTL time.Duration
	// MaxEntries bounds the cache (default 10,000 pages).
	MaxEntries int
}

// Site serves the public pages. It implements httpapi.PublicSite.
type Site struct {
	cfg        Config
	domainHost string // StatusDomain without port, lower case
	scheme     string
	mu         sync.RWMutex
	entries    map[string]*entry
	notFound   variant
	builds     atomic.Int64
}

// entry is one subdomain's cache slot.
type entry struct {
	mu       sync.Mutex // held while building
	snap     atomic.Pointer[snapshot]
	building atomic.Bool
}

// snapshot is a built page with its rendered forms.
type snapshot struct {
	built    time.Time
	page     *Page // nil: no public page with this subdomain
	pathHTML variant
	hostHTML variant
	json     variant
	// badges caches rendered badges by what was asked for, up to
	// maxBadges per snapshot (labels are free text).
	badges  sync.Map
	nbadges atomic.Int64
}

const maxBadges = 256

// variant is one rendered response.
type variant struct {
	body, gz     []byte
	etag         string
	lastModified time.Time
	csp          string
	contentType  string
}

// New returns a Site.
func New(cfg Config) *Site {
	if cfg.TTL <= 0 {
		cfg.TTL = 5 * time.Second
	}
	if cfg.MaxEntries <= 0 {
		cfg.MaxEntries = 10000
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	s := &Site{cfg: cfg, entries: map[string]*entry{}, scheme: "http"}
	if i := strings.Index(cfg.BaseURL, "://"); i > 0 {
		s.scheme = cfg.BaseURL[:i]
	}
	s.cfg.StatusDomain = strings.ToLower(strings.Trim(cfg.StatusDomain, ". "))
	s.domainHost = hostOnly(s.cfg.StatusDomain)
	body, policy := renderNotFound()
	s.notFound = newVariant(body, "text/html; charset=utf-8", policy, time.Time{}, false)
	return s
}

// Builds counts page builds (for tests and benchmarks).
func (s *Site) Builds() int64 { return s.builds.Load() }

func hostOnly(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return strings.ToLower(h)
	}
	return strings.ToLower(hostport)
}

// hostSubdomain returns the page a Host header names under the status
// domain, or "".
func (s *Site) hostSubdomain(r *http.Request) string {
	if s.domainHost == "" {
		return ""
	}
	host := strings.TrimSuffix(hostOnly(r.Host), ".")
	sub, ok := strings.CutSuffix(host, "."+s.domainHost)
	if !ok || sub == "" || strings.Contains(sub, ".") {
		return ""
	}
	return sub
}

// Owns reports whether the site answers r.
func (s *Site) Owns(r *http.Request) bool {
	return s.hostSubdomain(r) != "" || strings.HasPrefix(r.URL.Path, "/status/") ||
		strings.HasPrefix(r.URL.Path, "/api/public/status-pages/")
}

// URL is a page's public address: on its own host when a status domain is
// set, else under /status/ on the server.
func (s *Site) URL(sub string) string {
	if s.cfg.StatusDomain != "" {
		return s.scheme + "://" + sub + "." + s.cfg.StatusDomain + "/"
	}
	return s.cfg.BaseURL + "/status/" + sub
}

// Invalidate drops a subdomain's cached page; the next request rebuilds it.
func (s *Site) Invalidate(sub string) {
	s.mu.Lock()
	delete(s.entries, sub)
	s.mu.Unlock()
}

// route is what a request asks for.
type route struct {
	sub       string
	kind      string // html, json, feed, badge, monitor-badge
	monitorID int64
	host      bool // on the page's own host
}

func (s *Site) parse(r *http.Request) (route, bool) {
	if sub := s.hostSubdomain(r); sub != "" {
		rt := route{sub: sub, host: true}
		switch p := r.URL.Path; {
		case p == "/" || p == "/index.html":
			rt.kind = "html"
		case p == "/index.json":
			rt.kind = "json"
		case p == "/feed.atom":
			rt.kind = "feed"
		case p == "/badge.svg":
			rt.kind = "badge"
		default:
			id, ok := monitorBadge(strings.TrimPrefix(p, "/"))
			if !ok {
				return rt, false
			}
			rt.kind, rt.monitorID = "monitor-badge", id
		}
		return rt, true
	}
	if rest, ok := strings.CutPrefix(r.URL.Path, "/api/public/status-pages/"); ok {
		if rest == "" || strings.Contains(rest, "/") {
			return route{}, false
		}
		return route{sub: rest, kind: "json"}, true
	}
	rest, _ := strings.CutPrefix(r.URL.Path, "/status/")
	sub, tail, _ := strings.Cut(rest, "/")
	rt := route{sub: sub}
	switch tail {
	case "":
		rt.kind = "html"
	case "feed.atom":
		rt.kind = "feed"
	case "badge.svg":
		rt.kind = "badge"
	default:
		id, ok := monitorBadge(tail)
		if !ok {
			return rt, false
		}
		rt.kind, rt.monitorID = "monitor-badge", id
	}
	return rt, sub != ""
}

// monitorBadge parses "monitors/{id}/badge.svg".
func monitorBadge(p string) (int64, bool) {
	rest, ok := strings.CutPrefix(p, "monitors/")
	if !ok {
		return 0, false
	}
	num, ok := strings.CutSuffix(rest, "/badge.svg")
	if !ok {
		return 0, false
	}
	id, err := strconv.ParseInt(num, 10, 64)
	return id, err == nil && id > 0
}

// ServeHTTP answers the site's requests.
func (s *Site) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	rt, ok := s.parse(r)
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.Set("Allow", "GET, HEAD")
		s.plainError(w, rt, http.StatusMethodNotAllowed, "method "+r.Method+" is not allowed here; status pages are read-only")
		return
	}
	if !ok {
		s.plainError(w, rt, http.StatusNotFound, "no such page")
		return
	}
	sub, err := domain.NormalizeSubdomain(rt.sub)
	if err != nil || sub != rt.sub {
		s.plainError(w, rt, http.StatusNotFound, "status page not found")
		return
	}
	snap, err := s.snapshot(r.Context(), sub)
	if err != nil {
		s.cfg.Log.Error("build status page", "subdomain", sub, "err", err)
		s.plainError(w, rt, http.StatusServiceUnavailable, "the status page cannot be built right now; try again in a moment")
		return
	}
	if snap.page == nil {
		s.plainError(w, rt, http.StatusNotFound, "status page not found")
		return
	}
	switch rt.kind {
	case "html":
		v := &snap.pathHTML
		if rt.host {
			v = &snap.hostHTML
		}
		h.Set("X-Frame-Options", "DENY")
		s.serve(w, r, v, http.StatusOK)
	case "json":
		h.Set("Access-Control-Allow-Origin", "*")
		s.serve(w, r, &snap.json, http.StatusOK)
	case "feed":
		s.serveFeed(w, r, snap, rt)
	case "badge", "monitor-badge":
		s.serveBadge(w, r, snap, rt)
	}
}

// plainError answers an error in the form the route speaks: HTML pages
// get a small HTML page, the rest the API's {"detail": ...} JSON.
func (s *Site) plainError(w http.ResponseWriter, rt route, status int, detail string) {
	h := w.Header()
	h.Set("Cache-Control", "public, max-age="+strconv.Itoa(int(s.cfg.TTL.Seconds())))
	if rt.kind == "html" && status == http.StatusNotFound {
		h.Set("Content-Security-Policy", s.notFound.csp)
		h.Set("Content-Type", s.notFound.contentType)
		w.WriteHeader(status)
		w.Write(s.notFound.body)
		return
	}
	if status >= 500 {
		h.Set("Cache-Control", "no-store")
		h.Set("Retry-After", "5")
	}
	h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
	h.Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"detail": detail})
}

// newVariant hashes a body and, when compress is set and it is worth it,
// keeps a gzip copy.
func newVariant(body []byte, contentType, policy string, modified time.Time, compress bool) variant {
	sum := sha256.Sum256(body)
	v := variant{body: body, contentType: contentType, csp: policy, lastModified: modified,
		etag: `"` + base64.RawURLEncoding.EncodeToString(sum[:18]) + `"`}
	if compress && len(body) > 1024 {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		zw.Write(body)
		zw.Close()
		v.gz = buf.Bytes()
	}
	return v
}

// serve writes a cached variant, answering conditional requests with 304.
func (s *Site) serve(w http.ResponseWriter, r *http.Request, v *variant, status int) {
	h := w.Header()
	h.Set("Content-Type", v.contentType)
	if v.csp != "" {
		h.Set("Content-Security-Policy", v.csp)
	}
	h.Set("Cache-Control", "public, max-age="+strconv.Itoa(int(s.cfg.TTL.Seconds())))
	h.Set("ETag", v.etag)
	if !v.lastModified.IsZero() {
		h.Set("Last-Modified", v.lastModified.UTC().Format(http.TimeFormat))
	}
	if v.gz != nil {
		h.Set("Vary", "Accept-Encoding")
	}
	if notModified(r, v) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	body := v.body
	if v.gz != nil && acceptsGzip(r) {
		body = v.gz
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}

func notModified(r *http.Request, v *variant) bool {
	if inm := r.Header.Get("If-None-Match"); inm != "" {
		for _, tag := range strings.Split(inm, ",") {
			tag = strings.TrimPrefix(strings.TrimSpace(tag), "W/")
			if tag == v.etag || tag == "*" {
				return true
			}
		}
		return false
	}
	if ims := r.Header.Get("If-Modified-Since"); ims != "" && !v.lastModified.IsZero() {
		if t, err := http.ParseTime(ims); err == nil && !v.lastModified.Truncate(time.Second).After(t) {
			return true
		}
	}
	return false
}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(name), "gzip") {
			continue
		}
		if q, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			if v, err := strconv.ParseFloat(q, 64); err == nil && v == 0 {
				return false
			}
		}
		return true
	}
	return false
}

// snapshot returns the subdomain's built page: the cached one while it is
// fresh; a stale one, up to twice the TTL old, while a background build
// replaces it; otherwise it builds one (once, however many requests wait).
// The bound matters after a quiet spell: the first visitor at the start of
// an outage must not get an hours-old "all systems operational".
func (s *Site) snapshot(ctx context.Context, sub string) (*snapshot, error) {
	e := s.entry(sub)
	now := s.cfg.Now()
	if snap := e.snap.Load(); snap != nil && now.Sub(snap.built) < 2*s.cfg.TTL {
		if now.Sub(snap.built) < s.cfg.TTL {
			return snap, nil
		}
		if e.building.CompareAndSwap(false, true) {
			go func() {
				defer e.building.Store(false)
				bctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				e.mu.Lock()
				defer e.mu.Unlock()
				if _, err := s.build(bctx, e, sub, snap); err != nil {
					s.cfg.Log.Warn("rebuild status page; serving the previous one", "subdomain", sub, "err", err)
				}
			}()
		}
		return snap, nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	prev := e.snap.Load()
	if prev != nil && s.cfg.Now().Sub(prev.built) < s.cfg.TTL {
		return prev, nil // built while this request waited
	}
	snap, err := s.build(ctx, e, sub, prev)
	if err != nil && prev != nil {
		// The database is away: the last page built, which says when it
		// was updated, beats an error.
		s.cfg.Log.Warn("build status page; serving the last one", "subdomain", sub, "built", prev.built, "err", err)
		return prev, nil
	}
	return snap, err
}

func (s *Site) entry(sub string) *entry {
	s.mu.RLock()
	e := s.entries[sub]
	s.mu.RUnlock()
	if e != nil {
		return e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if e = s.entries[sub]; e != nil {
		return e
	}
	if len(s.entries) >= s.cfg.MaxEntries {
		// Forget pages nobody asked for lately (and, at worst, everything:
		// a flood of made-up names must not grow memory without bound).
		cut := s.cfg.Now().Add(-2 * s.cfg.TTL)
		for k, old := range s.entries {
			if snap := old.snap.Load(); snap == nil || snap.built.Before(cut) {
				delete(s.entries, k)
			}
		}
		if len(s.entries) >= s.cfg.MaxEntries {
			s.entries = map[string]*entry{}
		}
	}
	e = &entry{}
	s.entries[sub] = e
	return e
}

// build reads and renders a page, and stores it in e. prev, when given,
// keeps Last-Modified for variants whose bytes did not change.
func (s *Site) build(ctx context.Context, e *entry, sub string, prev *snapshot) (*snapshot, error) {
	s.builds.Add(1)
	now := s.cfg.Now().UTC()
	dailySince, incidentsSince := since(now)
	data, err := s.cfg.Reader.PublicPage(ctx, sub, dailySince, incidentsSince, now)
	snap := &snapshot{built: s.cfg.Now()}
	switch {
	case domain.ErrorCode(err) == domain.ErrNotFound:
		e.snap.Store(snap)
		return snap, nil
	case err != nil:
		return nil, err
	case !data.Page.IsPublic:
		e.snap.Store(snap)
		return snap, nil
	}
	snap.page = buildPage(data, now, zone)
	pathBody, pathCSP, err := renderPage(snap.page, pathLinks(sub))
	if err != nil {
		return nil, err
	}
	hostBody, hostCSP, err := renderPage(snap.page, hostLinks())
	if err != nil {
		return nil, err
	}
	jsonBody, err := json.Marshal(snap.page)
	if err != nil {
		return nil, err
	}
	modified := func(body []byte, old *variant) time.Time {
		if prev != nil && prev.page != nil && bytes.Equal(body, old.body) {
			return old.lastModified
		}
		return now
	}
	var pp, ph, pj variant
	if prev != nil {
		pp, ph, pj = prev.pathHTML, prev.hostHTML, prev.json
	}
	snap.pathHTML = newVariant(pathBody, "text/html; charset=utf-8", pathCSP, modified(pathBody, &pp), true)
	snap.hostHTML = newVariant(hostBody, "text/html; charset=utf-8", hostCSP, modified(hostBody, &ph), true)
	snap.json = newVariant(jsonBody, "application/json", "default-src 'none'; frame-ancestors 'none'", modified(jsonBody, &pj), true)
	e.snap.Store(snap)
	return snap, nil
}

// since is how far back a page built at now reads: daily uptime from the
// first of its historyDays (a UTC midnight), incidents from feedHistory ago.
func since(now time.Time) (dailySince, incidentsSince time.Time) {
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	return today.AddDate(0, 0, -(historyDays - 1)), now.Add(-feedHistory)
}

// RenderPreview renders a page that need not be saved, nor public (the
// status page editor's live preview): read over the same history and built
// by the same code as the public page, from the site's clock, with its
// path links. The body differs from the public page's only by a robots
// noindex; its Content-Security-Policy only by frame-ancestors 'self', so
// that the dashboard may frame it. Nothing is cached.
func (s *Site) RenderPreview(ctx context.Context, page projections.StatusPageView) (body []byte, policy string, err error) {
	now := s.cfg.Now().UTC()
	dailySince, incidentsSince := since(now)
	data, err := s.cfg.Reader.PublicPageOf(ctx, page, dailySince, incidentsSince, now)
	if err != nil {
		return nil, "", err
	}
	return renderPreview(buildPage(data, now, zone), pathLinks(page.Subdomain))
}

// zone loads a window's time zone, UTC when unknown (validation refused
// unknown names when the window was saved).
func zone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		return time.UTC
	}
	return loc
}
