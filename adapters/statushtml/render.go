package statushtml

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"html/template"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/medialuna/medialuna/adapters/statushtml/sanitize"
)

// baseCSS is the page's own stylesheet: small, inline (one request per
// page), mobile first. A page's custom_css follows it, sanitised.
const baseCSS = `:root{--ok:#1f9d55;--warn:#d69e2e;--bad:#e53e3e;--maint:#3182ce;--none:#cbd5e0;--fg:#1a202c;--muted:#5a6474;--bg:#f7f8fa;--card:#fff;--line:#e2e8f0}
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg);overflow-wrap:anywhere}
header,main,footer{max-width:52rem;margin:0 auto;padding:0 1rem}
header{padding-top:1.5rem;display:flex;flex-wrap:wrap;align-items:center;gap:.75rem}
header img{max-height:3rem;max-width:12rem}
h1{font-size:1.5rem;margin:0}
h2{font-size:1.125rem;margin:1.75rem 0 .5rem}
h3{font-size:1rem;margin:0}
.desc{flex-basis:100%;margin:0;color:var(--muted)}
.banner{margin-top:1.25rem;padding:1rem 1.25rem;border-radius:.5rem;color:#fff;background:var(--ok)}
.banner h2{margin:0;font-size:1.25rem}
.banner p{margin:.25rem 0 0;opacity:.9;font-size:.875rem}
.s-degraded .banner{background:var(--warn)}
.s-partial_outage .banner,.s-major_outage .banner{background:var(--bad)}
.s-maintenance .banner{background:var(--maint)}
.card{background:var(--card);border:1px solid var(--line);border-radius:.5rem;padding:1rem;margin-bottom:.75rem}
.monitors{list-style:none;margin:0;padding:0}
.monitors>li{padding:.75rem 1rem;border-bottom:1px solid var(--line)}
.monitors>li:last-child{border-bottom:0}
.row{display:flex;justify-content:space-between;gap:1rem;align-items:baseline}
.name{font-weight:600;overflow-wrap:anywhere}
.state{font-size:.875rem;white-space:nowrap;color:var(--ok)}
.st-degraded .state{color:var(--warn)}
.st-down .state{color:var(--bad)}
.st-maintenance .state{color:var(--maint)}
.st-unknown .state{color:var(--muted)}
.bars{display:grid;grid-template-columns:repeat(90,1fr);gap:1px;height:2rem;margin:.5rem 0 .25rem}
.bars i{display:block;border-radius:1px;background:var(--none)}
.bars .g{background:var(--ok)}
.bars .y{background:#9acd32}
.bars .o{background:var(--warn)}
.bars .r{background:var(--bad)}
.bars .m{background:var(--maint)}
.legend{display:flex;justify-content:space-between;font-size:.75rem;color:var(--muted)}
.l30{display:none}
.meta{color:var(--muted);font-size:.875rem;margin:.25rem 0 0}
.updates{list-style:none;margin:.5rem 0 0;padding:0}
.updates li{margin-top:.5rem;overflow-wrap:anywhere;white-space:pre-line}
.updates time{display:block;font-size:.75rem;color:var(--muted)}
.tag{display:inline-block;font-size:.75rem;font-weight:600;padding:0 .4rem;border-radius:.25rem;color:#fff;background:var(--bad);vertical-align:middle}
.tag.ACKNOWLEDGED{background:var(--warn)}
.tag.RESOLVED{background:var(--ok)}
.tag.maint{background:var(--maint)}
footer{padding:2rem 1rem;font-size:.875rem;color:var(--muted)}
a{color:inherit}
@media (max-width:40rem){.bars{grid-template-columns:repeat(30,1fr)}.bars i:nth-child(-n+60){display:none}.l90{display:none}.l30{display:inline}h1{font-size:1.25rem}}
@media (prefers-color-scheme:dark){:root{--fg:#e2e8f0;--muted:#a0aec0;--bg:#111418;--card:#1a1f26;--line:#2d3440;--none:#3a4250}}`

// pageCSS is what goes inside the page's <style>: the base stylesheet
// and the sanitised custom CSS. The sanitiser already guarantees no "<";
// it is removed again here so that no sanitiser bug can ever close the
// element.
func pageCSS(custom string) string {
	css := baseCSS
	if c := strings.TrimSpace(sanitize.CSS(custom)); c != "" {
		css += "\n/* custom_css */\n" + c
	}
	return strings.ReplaceAll(css, "<", "")
}

// styleHash is the CSP source that allows exactly this stylesheet.
func styleHash(css string) string {
	sum := sha256.Sum256([]byte(css))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

var originRE = regexp.MustCompile(`^https?://[a-z0-9.\-]+(:[0-9]{1,5})?$|^https?://\[[0-9a-f:.]+\](:[0-9]{1,5})?$`)

// logoOrigin is the CSP source of a logo URL, or "" when the URL cannot
// be expressed safely as one (then the logo is not shown).
func logoOrigin(logo *string) string {
	if logo == nil {
		return ""
	}
	u, err := url.Parse(*logo)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return ""
	}
	origin := u.Scheme + "://" + strings.ToLower(u.Host)
	if !originRE.MatchString(origin) {
		return ""
	}
	return origin
}

// csp is the Content-Security-Policy of an HTML page: nothing may load or
// run but this page's one stylesheet (by hash) and its logo (by origin).
// No script source is allowed at all.
func csp(style, logo string) string {
	return framedCSP(style, logo, "'none'")
}

// framedCSP is csp with the frame-ancestors source given: 'self' for the
// editor's preview, which the dashboard frames.
func framedCSP(style, logo, ancestors string) string {
	img := "'none'"
	if logo != "" {
		img = logo
	}
	return "default-src 'none'; style-src " + style + "; img-src " + img +
		"; base-uri 'none'; form-action 'none'; frame-ancestors " + ancestors
}

// links are the addresses a rendered page points at: path-based under
// /status/{subdomain}/, or at the root of the page's own host.
type links struct {
	Home, Feed, Badge, JSON string
}

func pathLinks(sub string) links {
	base := "/status/" + sub
	return links{Home: base, Feed: base + "/feed.atom", Badge: base + "/badge.svg", JSON: "/api/public/status-pages/" + sub}
}

func hostLinks() links {
	return links{Home: "/", Feed: "/feed.atom", Badge: "/badge.svg", JSON: "/index.json"}
}

type pageData struct {
	*Page
	CSS     template.CSS
	Logo    string
	Links   links
	Updated string
	// Preview marks the editor's preview: not to be indexed.
	Preview bool
}

// barClass is the colour class of a day's bar.
func barClass(d Day) string {
	switch {
	case d.UptimePct == nil && d.MaintenanceChecks > 0:
		return "m"
	case d.UptimePct == nil:
		return "n"
	case *d.UptimePct >= 99.9:
		return "g"
	case *d.UptimePct >= 99:
		return "y"
	case *d.UptimePct >= 95:
		return "o"
	}
	return "r"
}

func barTitle(d Day) string {
	switch {
	case d.UptimePct != nil:
		return d.Date + ": " + strconv.FormatFloat(*d.UptimePct, 'f', -1, 64) + "% uptime"
	case d.MaintenanceChecks > 0:
		return d.Date + ": maintenance"
	}
	return d.Date + ": no data"
}

func when(t time.Time) string { return t.UTC().Format("Jan 2, 15:04 UTC") }

func percent(p *float64) string {
	if p == nil {
		return "no data"
	}
	return strconv.FormatFloat(*p, 'f', 2, 64) + "%"
}

var funcs = template.FuncMap{
	"barClass": barClass, "barTitle": barTitle, "when": when, "percent": percent, "stateWord": stateWord,
	"iso": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
}

var pageTemplate = template.Must(template.New("page").Funcs(funcs).Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
{{with .Description}}<meta name="description" content="{{.}}">
{{end}}<meta name="referrer" content="no-referrer">
{{if .Preview}}<meta name="robots" content="noindex, nofollow">
{{end}}<link rel="alternate" type="application/atom+xml" title="{{.Title}} incidents" href="{{.Links.Feed}}">
<style>{{.CSS}}</style>
</head>
<body class="s-{{.Status}}">
<header>
{{if .Logo}}<img src="{{.Logo}}" alt="{{.Title}} logo">{{end}}
<h1>{{.Title}}</h1>
{{with .Description}}<p class="desc">{{.}}</p>{{end}}
</header>
<main>
<section class="banner" id="overall" data-status="{{.Status}}">
<h2>{{.StatusText}}</h2>
<p>Updated {{.Updated}}{{with .UptimePct}} · {{percent $.UptimePct}} uptime over 90 days{{end}}</p>
</section>
{{if .Incidents}}<section id="incidents">
<h2>Current incidents</h2>
{{range .Incidents}}<article class="card incident" data-incident="{{.ID}}">
<h3><span class="tag {{.Status}}">{{.StatusText}}</span> {{.Title}}: {{.MonitorName}}</h3>
<p class="meta">Since <time datetime="{{iso .StartedAt}}">{{when .StartedAt}}</time></p>
{{if .Updates}}<ol class="updates">{{range .Updates}}<li><time datetime="{{iso .CreatedAt}}">{{when .CreatedAt}}</time>{{.Message}}</li>{{end}}</ol>{{end}}
</article>
{{end}}</section>
{{end}}{{if .Maintenance}}<section id="maintenance">
<h2>Maintenance</h2>
{{range .Maintenance}}<article class="card maintenance" data-maintenance="{{.ID}}">
<h3><span class="tag maint">{{if .InProgress}}In progress{{else}}Scheduled{{end}}</span> {{.Name}}</h3>
<p class="meta"><time datetime="{{iso .StartsAt}}">{{when .StartsAt}}</time> to <time datetime="{{iso .EndsAt}}">{{when .EndsAt}}</time>{{with .Recurrence}}, repeats {{.}}{{end}}</p>
{{with .Description}}<p>{{.}}</p>{{end}}
</article>
{{end}}</section>
{{end}}<section id="monitors">
<h2>Systems</h2>
<ul class="card monitors">
{{range .Monitors}}<li class="monitor st-{{.Status}}" data-monitor="{{.ID}}" data-status="{{.Status}}">
<div class="row"><span class="name">{{.Name}}</span><span class="state">{{stateWord .Status}}</span></div>
<div class="bars" role="img" aria-label="Daily uptime over 90 days: {{percent .UptimePct}}">{{range .Daily}}<i class="{{barClass .}}" title="{{barTitle .}}"></i>{{end}}</div>
<div class="legend"><span class="l90">90 days ago</span><span class="l30">30 days ago</span><span>{{if .UptimePct}}{{percent .UptimePct}} uptime{{else}}no data yet{{end}}</span><span>Today</span></div>
</li>
{{else}}<li>No systems on this page yet.</li>
{{end}}</ul>
</section>
{{if .RecentIncidents}}<section id="history">
<h2>Resolved in the last 7 days</h2>
{{range .RecentIncidents}}<article class="card incident" data-incident="{{.ID}}">
<h3><span class="tag {{.Status}}">{{.StatusText}}</span> {{.Title}}: {{.MonitorName}}</h3>
<p class="meta"><time datetime="{{iso .StartedAt}}">{{when .StartedAt}}</time>{{with .ResolvedAt}} to <time datetime="{{iso .}}">{{when .}}</time>{{end}}</p>
{{if .Updates}}<ol class="updates">{{range .Updates}}<li><time datetime="{{iso .CreatedAt}}">{{when .CreatedAt}}</time>{{.Message}}</li>{{end}}</ol>{{end}}
</article>
{{end}}</section>
{{end}}</main>
<footer><a href="{{.Links.Feed}}">Incident feed (Atom)</a> · <a href="{{.Links.Badge}}">Status badge</a> · <a href="{{.Links.JSON}}">JSON</a> · Powered by Media Luna</footer>
</body>
</html>
`))

// renderPage renders a page's HTML and the CSP that goes with it.
func renderPage(p *Page, l links) (body []byte, policy string, err error) {
	return render(p, l, false)
}

// renderPreview renders a page as renderPage does, marked noindex and
// allowed to be framed by the server's own pages.
func renderPreview(p *Page, l links) (body []byte, policy string, err error) {
	return render(p, l, true)
}

func render(p *Page, l links, preview bool) (body []byte, policy string, err error) {
	css := pageCSS(p.customCSS)
	logo := logoOrigin(p.LogoURL)
	d := pageData{Page: p, CSS: template.CSS(css), Links: l, Updated: when(p.GeneratedAt), Preview: preview}
	if logo != "" {
		d.Logo = *p.LogoURL
	}
	var buf bytes.Buffer
	if err := pageTemplate.Execute(&buf, d); err != nil {
		return nil, "", err
	}
	ancestors := "'none'"
	if preview {
		ancestors = "'self'"
	}
	return buf.Bytes(), framedCSP(styleHash(css), logo, ancestors), nil
}

var notFoundCSS = `body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;color:#1a202c}`

var notFoundTemplate = template.Must(template.New("404").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Status page not found</title><style>{{.}}</style></head>
<body><h1>Status page not found</h1><p>There is no public status page here.</p></body></html>
`))

func renderNotFound() ([]byte, string) {
	var buf bytes.Buffer
	notFoundTemplate.Execute(&buf, template.CSS(notFoundCSS))
	return buf.Bytes(), csp(styleHash(notFoundCSS), "")
}
