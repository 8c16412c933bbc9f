package domain

import (
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"
)

// StatusPageStream names a status page's stream.
func StatusPageStream(id int64) string { return "statuspage-" + itoa(id) }

// SubdomainStream names the stream that claims a subdomain for one page,
// across every account: two pages racing for one name append to it with an
// expected version, so exactly one wins (like EmailStream).
func SubdomainStream(subdomain string) string { return "subdomain-" + subdomain }

// Status page limits.
const (
	MaxStatusPageMonitors = 200
	MaxCustomCSSBytes     = 20 << 10 // what the renderer's sanitiser reads
	maxLogoURLBytes       = 2048
)

// reservedSubdomains are refused as page names: they are, or look like,
// the service's own hosts, common infrastructure names, or names people
// could use to impersonate the operator.
var reservedSubdomains = []string{
	"about", "abuse", "account", "accounts", "admin", "administrator", "api", "app", "apps", "assets", "auth", "autoconfig",
	"autodiscover", "billing", "blog", "cdn", "dashboard", "demo", "dev", "developer", "developers", "dns", "docs", "download",
	"email", "feed", "feeds", "ftp", "git", "help", "host", "hostmaster", "imap", "info", "internal", "localhost", "login",
	"logout", "mail", "manage", "media", "medialuna", "media-luna", "mx", "news", "noc", "ns", "ns1", "ns2", "ns3", "ns4",
	"official", "ops", "pop", "pop3", "portal", "postmaster", "root", "security", "server", "signin", "signup", "smtp",
	"ssl", "stage", "staging", "static", "status", "statuspage", "support", "sysadmin", "system", "test", "uptime",
	"webmail", "webmaster", "www", "www1", "www2",
}

// IsReservedSubdomain reports whether name is kept for the service itself.
func IsReservedSubdomain(name string) bool { return slices.Contains(reservedSubdomains, name) }

// NormalizeSubdomain lower-cases and checks a page's subdomain: a DNS
// label (1-63 letters, digits and hyphens, neither first nor last a
// hyphen), not a reserved name, and not an IDNA "xn--" label or any other
// name with "--" in positions 3-4, which browsers show differently.
func NormalizeSubdomain(s string) (string, error) {
	name := strings.ToLower(strings.TrimSpace(s))
	bad := func(format string, args ...any) (string, error) {
		return "", Invalid("subdomain", "value_error", format, args...)
	}
	if name == "" || len(name) > 63 {
		return bad("subdomain must be 1 to 63 characters")
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return bad("subdomain may only hold letters a-z, digits and hyphens (a DNS label)")
		}
	}
	if name[0] == '-' || name[len(name)-1] == '-' {
		return bad("subdomain must not start or end with a hyphen")
	}
	if len(name) >= 4 && name[2:4] == "--" {
		return bad("subdomain must not have hyphens in both the third and fourth positions (reserved for internationalised names)")
	}
	if IsReservedSubdomain(name) {
		return bad("subdomain %q is reserved; choose another", name)
	}
	return name, nil
}

// ValidateLogoURL checks a logo address: an absolute http or https URL
// with a host, no credentials, no white space or control characters. Any
// other scheme (javascript:, data:, file:, ...) is refused.
func ValidateLogoURL(s string) (string, error) {
	bad := func(msg string) (string, error) { return "", Invalid("logo_url", "value_error.url", "%s", msg) }
	s = strings.TrimSpace(s)
	if len(s) > maxLogoURLBytes {
		return bad("logo_url must be at most 2048 characters")
	}
	if strings.ContainsFunc(s, func(r rune) bool {
		return r <= ' ' || r == 0x7f || r == '\\' || r == '"' || r == '\'' || r == '<' || r == '>'
	}) {
		return bad("logo_url must not contain spaces, quotes, angle brackets, backslashes or control characters")
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") {
		return bad("logo_url must be an http or https URL")
	}
	if u.Host == "" || u.Hostname() == "" || u.Opaque != "" {
		return bad("logo_url must be an absolute URL with a host, e.g. https://example.com/logo.png")
	}
	if u.User != nil {
		return bad("logo_url must not hold a user name or password")
	}
	return u.String(), nil
}

// StatusPageConfig is a status page as users set it; JSON names follow the
// reference, plus description and is_public.
type StatusPageConfig struct {
	Title       string  `json:"title"`
	Subdomain   string  `json:"subdomain"`
	Description *string `json:"description"`
	MonitorIDs  []int64 `json:"monitor_ids"`
	CustomCSS   *string `json:"custom_css"`
	LogoURL     *string `json:"logo_url"`
	// IsPublic false keeps the page out of public view (404), a draft.
	IsPublic bool `json:"is_public"`
}

// Validate checks and normalises a page. ownMonitor says whether a
// monitor belongs to the account. custom_css is stored as written (it is
// sanitised when the page is rendered, so a better sanitiser applies to
// old pages too) but bounded in size.
func (c *StatusPageConfig) Validate(ownMonitor func(int64) bool) error {
	var v Validation
	c.Title = strings.TrimSpace(c.Title)
	if err := validateName("title", c.Title, 200); err != nil {
		v.Add("title", "value_error", "%s", ErrorMessage(err))
	}
	if sub, err := NormalizeSubdomain(c.Subdomain); err != nil {
		v.Add("subdomain", "value_error", "%s", ErrorMessage(err))
	} else {
		c.Subdomain = sub
	}
	if c.Description != nil {
		d := strings.TrimSpace(*c.Description)
		switch {
		case d == "":
			c.Description = nil
		case utf8.RuneCountInString(d) > 2000:
			v.Add("description", "value_error", "description must be at most 2000 characters")
		default:
			c.Description = &d
		}
	}
	if c.CustomCSS != nil {
		switch {
		case strings.TrimSpace(*c.CustomCSS) == "":
			c.CustomCSS = nil
		case len(*c.CustomCSS) > MaxCustomCSSBytes:
			v.Add("custom_css", "value_error", "custom_css must be at most %d bytes", MaxCustomCSSBytes)
		case !utf8.ValidString(*c.CustomCSS):
			v.Add("custom_css", "value_error", "custom_css must be valid UTF-8")
		}
	}
	if c.LogoURL != nil {
		if strings.TrimSpace(*c.LogoURL) == "" {
			c.LogoURL = nil
		} else if u, err := ValidateLogoURL(*c.LogoURL); err != nil {
			v.Add("logo_url", "value_error.url", "%s", ErrorMessage(err))
		} else {
			c.LogoURL = &u
		}
	}
	c.MonitorIDs = dedupe(c.MonitorIDs)
	if len(c.MonitorIDs) > MaxStatusPageMonitors {
		v.Add("monitor_ids", "value_error", "a page shows at most %d monitors", MaxStatusPageMonitors)
	}
	for _, id := range c.MonitorIDs {
		if !ownMonitor(id) {
			v.Add("monitor_ids", "value_error", "monitor %d not found", id)
			break
		}
	}
	return v.Err()
}

// StatusPageCreated creates a page.
type StatusPageCreated struct {
	PageID    int64            `json:"page_id"`
	AccountID int64            `json:"account_id"`
	Config    StatusPageConfig `json:"config"`
}

// StatusPageUpdated records the page's whole new configuration.
type StatusPageUpdated struct {
	Config StatusPageConfig `json:"config"`
}

// StatusPageDeleted removes a page.
type StatusPageDeleted struct{}

// SubdomainClaimed gives a subdomain to a page (on subdomain-<name>).
type SubdomainClaimed struct {
	PageID int64 `json:"page_id"`
}

// SubdomainReleased frees a subdomain (its page was deleted or renamed).
type SubdomainReleased struct {
	PageID int64 `json:"page_id"`
}

func (StatusPageCreated) EventType() string { return EvStatusPageCreated }
func (StatusPageCreated) EventVersion() int { return 1 }
func (StatusPageUpdated) EventType() string { return EvStatusPageUpdated }
func (StatusPageUpdated) EventVersion() int { return 1 }
func (StatusPageDeleted) EventType() string { return EvStatusPageDeleted }
func (StatusPageDeleted) EventVersion() int { return 1 }
func (SubdomainClaimed) EventType() string  { return EvSubdomainClaimed }
func (SubdomainClaimed) EventVersion() int  { return 1 }
func (SubdomainReleased) EventType() string { return EvSubdomainReleased }
func (SubdomainReleased) EventVersion() int { return 1 }

// StatusPage is the page aggregate.
type StatusPage struct {
	ID        int64
	AccountID int64
	Config    StatusPageConfig
	Deleted   bool
}

// Apply folds one event.
func (p *StatusPage) Apply(e Event) {
	switch e := e.(type) {
	case *StatusPageCreated:
		p.ID, p.AccountID, p.Config = e.PageID, e.AccountID, e.Config
	case *StatusPageUpdated:
		p.Config = e.Config
	case *StatusPageDeleted:
		p.Deleted = true
	}
}

// Exists reports whether the page was created and not deleted.
func (p *StatusPage) Exists() bool { return p.ID != 0 && !p.Deleted }

// Owner is the account the page belongs to.
func (p *StatusPage) Owner() int64 { return p.AccountID }

// SubdomainClaim folds a subdomain's claim stream.
type SubdomainClaim struct {
	PageID int64 // the page holding it, 0 when free
}

// Apply folds one event.
func (c *SubdomainClaim) Apply(e Event) {
	switch e := e.(type) {
	case *SubdomainClaimed:
		c.PageID = e.PageID
	case *SubdomainReleased:
		if c.PageID == e.PageID {
			c.PageID = 0
		}
	}
}

// ClaimIsStale reports whether a claim's page no longer uses the name: the
// page was deleted or renamed and the release never made it to the log (a
// crash between the two appends). A page that does not exist yet is still
// being created, so its claim is not stale.
func ClaimIsStale(holder *StatusPage, subdomain string) bool {
	return holder.ID != 0 && (holder.Deleted || holder.Config.Subdomain != subdomain)
}

// Public states of a monitor on a status page and of the page as a whole.
const (
	PageOperational   = "operational"
	PageDegraded      = "degraded"
	PagePartialOutage = "partial_outage"
	PageMajorOutage   = "major_outage"
	PageMaintenance   = "maintenance"
	PageUnknown       = "unknown" // not checked yet, or paused
	PageDown          = "down"    // a component's outage; the page says partial or major
)

// ComponentState is what a page shows for one monitor: a monitor inside a
// maintenance window is under maintenance whatever its checks say; else a
// down monitor is down; an up monitor with an open PERFORMANCE incident is
// degraded; pending and paused monitors are unknown.
func ComponentState(monitorStatus string, inMaintenance, slow bool) string {
	switch {
	case inMaintenance:
		return PageMaintenance
	case monitorStatus == "down":
		return PageDown
	case monitorStatus == "up" && slow:
		return PageDegraded
	case monitorStatus == "up":
		return PageOperational
	}
	return PageUnknown
}

// OverallState folds the components' states into the page's: every
// checked component down is a major outage, some down a partial outage,
// then degraded, then maintenance; otherwise operational (also for an
// empty page or one whose monitors are all unknown).
func OverallState(components []string) string {
	down, known := 0, 0
	has := map[string]bool{}
	for _, c := range components {
		has[c] = true
		if c == PageDown {
			down++
		}
		if c != PageUnknown && c != PageMaintenance {
			known++
		}
	}
	switch {
	case down > 0 && down == known:
		return PageMajorOutage
	case down > 0:
		return PagePartialOutage
	case has[PageDegraded]:
		return PageDegraded
	case has[PageMaintenance]:
		return PageMaintenance
	}
	return PageOperational
}

// StateText is the sentence a page shows for its overall state.
func StateText(state string) string {
	switch state {
	case PageMajorOutage:
		return "Major outage"
	case PagePartialOutage:
		return "Partial outage"
	case PageDegraded:
		return "Degraded performance"
	case PageMaintenance:
		return "Under maintenance"
	}
	return "All systems operational"
}
