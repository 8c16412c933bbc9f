package domain

import (
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// MonitorStream names a monitor's configuration stream.
func MonitorStream(id int64) string { return "monitor-" + itoa(id) }

// ChecksStream names the stream a region's check results go to (region 0:
// push heartbeats). Results are facts, not decisions, so they need no
// per-monitor concurrency guard; one stream per region keeps their index
// entries together, which halved PostgreSQL's work per check against one
// stream per monitor (10,000 streams written in random order). Read models
// are where a monitor's history is looked up.
func ChecksStream(regionID int64) string { return "checks-region-" + itoa(regionID) }

// MonitorConfig is everything a user sets on a monitor; JSON names follow
// the public API.
type MonitorConfig struct {
	Name                 string            `json:"name"`
	Type                 MonitorType       `json:"type"`
	URL                  string            `json:"url"`
	CheckInterval        int               `json:"check_interval"`
	Timeout              int               `json:"timeout"`
	RegionIDs            []int64           `json:"region_ids"`
	ConfirmFromLocations int               `json:"confirm_from_locations"`
	ExpectedStatusCodes  []int             `json:"expected_status_codes"`
	RequestHeaders       map[string]string `json:"request_headers"`
	RequestBody          string            `json:"request_body"`
	HTTPMethod           string            `json:"http_method"`
	FollowRedirects      bool              `json:"follow_redirects"`
	VerifySSL            bool              `json:"verify_ssl"`
	SSLExpiryReminder    int               `json:"ssl_expiry_reminder"`
	Port                 int               `json:"port"`
	DNSRecordType        string            `json:"dns_record_type"`
	DNSResolver          string            `json:"dns_resolver"`
	GracePeriod          int               `json:"grace_period"`
	TagIDs               []int64           `json:"tag_ids"`
	// PerformanceThresholdMs opens a PERFORMANCE incident when that many
	// consecutive successful checks (PerformanceConsecutiveChecks) take
	// longer; as many consecutive faster checks resolve it. 0: off.
	PerformanceThresholdMs       int `json:"performance_threshold_ms"`
	PerformanceConsecutiveChecks int `json:"performance_consecutive_checks"`
	// DependsOn names monitors this one needs (the database behind an
	// API, the uplink before a site): while one of them has a DOWN
	// incident open, this monitor's incidents open as usual but send no
	// notifications, so one outage pages once.
	DependsOn []int64 `json:"depends_on"`
}

// MaxDependencies caps depends_on.
const MaxDependencies = 20

// DependencyPath is a chain of monitors, each depending on the next.
type DependencyPath []int64

func (p DependencyPath) String() string {
	s := ""
	for i, id := range p {
		if i > 0 {
			s += " -> "
		}
		s += "monitor " + itoa(id)
	}
	return s
}

// DependencyCycle returns the cycle that giving monitor the dependencies
// dependsOn would close in graph (every other monitor's depends_on), or
// nil. Cycles are refused: monitors that depend on each other and fail
// together would hold back each other's notifications, and nobody would
// be told.
func DependencyCycle(monitor int64, dependsOn []int64, graph map[int64][]int64) DependencyPath {
	seen := map[int64]bool{}
	var walk func(id int64, path DependencyPath) DependencyPath
	walk = func(id int64, path DependencyPath) DependencyPath {
		path = append(path, id)
		if id == monitor {
			return path
		}
		if seen[id] {
			return nil
		}
		seen[id] = true
		for _, next := range graph[id] {
			if cycle := walk(next, slices.Clone(path)); cycle != nil {
				return cycle
			}
		}
		return nil
	}
	for _, dep := range dependsOn {
		if cycle := walk(dep, DependencyPath{monitor}); cycle != nil {
			return cycle
		}
	}
	return nil
}

// Defaults from the reference.
const (
	DefaultCheckInterval = 300
	DefaultTimeout       = 30
	MaxTimeout           = 120
	MaxCheckInterval     = 86400
	DefaultGracePeriod   = 60
)

// DefaultMonitorConfig is what a monitor has before the request's fields apply.
func DefaultMonitorConfig() MonitorConfig {
	return MonitorConfig{CheckInterval: DefaultCheckInterval, Timeout: DefaultTimeout, ConfirmFromLocations: 1,
		FollowRedirects: true, VerifySSL: true, GracePeriod: DefaultGracePeriod, RegionIDs: []int64{}, TagIDs: []int64{}, DependsOn: []int64{},
		PerformanceConsecutiveChecks: 3,
		ExpectedStatusCodes:          []int{}, RequestHeaders: map[string]string{}}
}

// MonitorGiven says which of a new monitor's required fields its creator
// gave (present in the request, whatever their value).
type MonitorGiven struct{ Name, Type, URL bool }

// NewMonitorConfig completes the config of a new monitor, given over
// DefaultMonitorConfig: name and type are required, and url unless the
// monitor is PUSH; a request body without a method makes the method POST
// (the reference). Errors: ErrInvalid naming each missing field. The rest
// is checked by Validate, against the account's facts.
func NewMonitorConfig(cfg MonitorConfig, given MonitorGiven) (MonitorConfig, error) {
	var v Validation
	if !given.Name {
		v.Add("name", "missing", "field required")
	}
	if !given.Type {
		v.Add("type", "missing", "field required")
	}
	cfg.Type = MonitorType(strings.ToUpper(string(cfg.Type)))
	if !given.URL && cfg.Type != TypePUSH {
		v.Add("url", "missing", "field required")
	}
	if err := v.Err(); err != nil {
		// Every failing field at once: what the given fields break on
		// their own joins the missing ones (the account's facts are
		// checked once all are there).
		probe := cfg
		v.Join(probe.Validate(MonitorRules{factsUnknown: true}))
		return cfg, v.Err()
	}
	// The reference's defaults, written into the monitor so that it
	// echoes what it checks: 200-299 and GET (POST with a body; HEAD for
	// a HEAD monitor).
	if cfg.Type == TypeHTTP || cfg.Type == TypeHEAD {
		if len(cfg.ExpectedStatusCodes) == 0 {
			cfg.ExpectedStatusCodes = DefaultStatusCodes()
		}
		switch {
		case cfg.HTTPMethod != "":
		case cfg.Type == TypeHEAD:
			cfg.HTTPMethod = "HEAD"
		case cfg.RequestBody != "":
			cfg.HTTPMethod = "POST"
		default:
			cfg.HTTPMethod = "GET"
		}
	}
	return cfg, nil
}

// Spec is what a probe needs to check this monitor.
func (c MonitorConfig) Spec() CheckSpec {
	s := CheckSpec{Type: c.Type, URL: c.URL, Port: c.Port, Timeout: time.Duration(c.Timeout) * time.Second,
		Method: c.HTTPMethod, Headers: c.RequestHeaders, Body: c.RequestBody, ExpectedStatusCodes: c.ExpectedStatusCodes,
		FollowRedirects: c.FollowRedirects, VerifySSL: c.VerifySSL, DNSRecordType: c.DNSRecordType, DNSResolver: c.DNSResolver}
	if c.Type == TypeHEAD {
		s.Method = "HEAD"
	}
	switch c.Type {
	case TypeTCP, TypeSMTP, TypeSSH:
		if host, _, ok := splitTarget(c.URL); ok {
			s.URL = host
		}
	}
	return s
}

// CheckTypeChange reports (as ErrInvalid) whether an update may give a
// monitor configured as c the type to, in any case. A monitor cannot
// become a PUSH monitor: its push token, the URL the user's service calls,
// is made only when the monitor is created.
func (c MonitorConfig) CheckTypeChange(to MonitorType) error {
	if MonitorType(strings.ToUpper(string(to))) == TypePUSH && c.Type != TypePUSH {
		return Invalid("type", "value_error", "a monitor cannot become a PUSH monitor; create a new one")
	}
	return nil
}

// MonitorRules are the facts outside the monitor that validation needs.
type MonitorRules struct {
	Limits PlanLimits
	// MinIntervalFloor, when positive, lowers the plan's minimum interval
	// (operators and tests that need checks every second or two).
	MinIntervalFloor int
	ActiveRegions    map[int64]bool // regions a monitor may use
	AccountTags      map[int64]bool // the account's tags
	AccountMonitors  map[int64]bool // the account's monitors
	MonitorID        int64          // the monitor's own id, once it has one
	// factsUnknown skips what needs the account's facts and plan (regions,
	// tags, dependencies, the plan's interval and region limits): the
	// checks a request's fields can fail on their own.
	factsUnknown bool
}

// Keeping returns the rules for updating a monitor configured as old. A
// downgrade keeps every monitor as it was: an update may keep the regions
// and the check interval the monitor already has, even past the current
// plan's limits, and is refused only for going further past them.
func (r MonitorRules) Keeping(old MonitorConfig) MonitorRules {
	if r.Limits.MaxRegions != Unlimited && len(old.RegionIDs) > r.Limits.MaxRegions {
		r.Limits.MaxRegions = len(old.RegionIDs)
	}
	if old.CheckInterval > 0 && old.CheckInterval < r.MinInterval() {
		r.MinIntervalFloor = old.CheckInterval
	}
	return r
}

// MinInterval is the smallest check_interval the rules allow.
func (r MonitorRules) MinInterval() int {
	return r.Limits.WithIntervalFloor(r.MinIntervalFloor).MinCheckIntervalSecs
}

var headerName = regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")

// Validate checks a whole configuration. Plan counts (regions) come back
// as ErrLimit; everything else as ErrInvalid with every failing field.
func (c *MonitorConfig) Validate(r MonitorRules) error {
	var v Validation
	c.Name = strings.TrimSpace(c.Name)
	if n := utf8.RuneCountInString(c.Name); n == 0 || n > 200 {
		v.Add("name", "value_error", "name must be 1 to 200 characters")
	}
	c.Type = MonitorType(strings.ToUpper(string(c.Type)))
	if !slices.Contains(MonitorTypes(), c.Type) {
		v.Add("type", "enum", "type must be one of HTTP, HEAD, TCP, DNS, SMTP, SSH, PING, PUSH")
	}
	c.URL = strings.TrimSpace(c.URL)
	switch c.Type {
	case TypeHTTP, TypeHEAD:
		u, err := url.Parse(c.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Hostname() == "" {
			v.Add("url", "value_error.url", "url must be an http:// or https:// URL such as https://example.com/health")
		}
	case TypeTCP, TypeSMTP, TypeSSH:
		// The url stays as given ("db.example.com:5432" is echoed so);
		// Spec takes the host from it, and the port when none is set.
		_, port, ok := splitTarget(c.URL)
		switch {
		case !ok:
			v.Add("url", "value_error", "url must be a host name or address such as db.example.com")
		case port != 0 && c.Port != 0 && port != c.Port:
			v.Add("port", "value_error", "port %d differs from the port in url (%d); give one of them", c.Port, port)
		case c.Port == 0:
			c.Port = port
		}
		if c.Port == 0 {
			switch c.Type {
			case TypeSMTP:
				c.Port = 25
			case TypeSSH:
				c.Port = 22
			default:
				v.Add("port", "missing", "port is required for TCP monitors")
			}
		}
	case TypeDNS, TypePING:
		host, _, ok := splitTarget(c.URL)
		if !ok {
			v.Add("url", "value_error", "url must be a host name or address such as example.com")
		} else {
			c.URL = host
		}
	case TypePUSH:
		// Push monitors are called by the user's service; url is optional,
		// and there is one source of results, so one confirmation.
		c.ConfirmFromLocations = 1
	}
	if c.Port < 0 || c.Port > 65535 {
		v.Add("port", "value_error", "port must be between 1 and 65535")
	}
	if c.Type == TypeDNS {
		if c.DNSRecordType == "" {
			c.DNSRecordType = "A"
		}
		c.DNSRecordType = strings.ToUpper(c.DNSRecordType)
		if !slices.Contains([]string{"A", "AAAA", "CNAME", "MX", "NS", "TXT"}, c.DNSRecordType) {
			v.Add("dns_record_type", "enum", "dns_record_type must be one of A, AAAA, CNAME, MX, NS, TXT")
		}
		if c.DNSResolver != "" {
			if _, _, err := net.SplitHostPort(c.DNSResolver); err != nil {
				c.DNSResolver = net.JoinHostPort(c.DNSResolver, "53")
			}
		}
	}
	if min := r.MinInterval(); c.CheckInterval < min && !r.factsUnknown {
		unit := "seconds"
		if min == 1 {
			unit = "second"
		}
		v.Add("check_interval", "value_error", "check_interval must be at least %d %s on the %s plan", min, unit, r.Limits.Plan)
	} else if c.CheckInterval > MaxCheckInterval {
		v.Add("check_interval", "value_error", "check_interval must be at most %d seconds", MaxCheckInterval)
	}
	if c.Timeout < 1 || c.Timeout > MaxTimeout {
		v.Add("timeout", "value_error", "timeout must be between 1 and %d seconds", MaxTimeout)
	}
	if c.HTTPMethod != "" {
		c.HTTPMethod = strings.ToUpper(c.HTTPMethod)
		if !slices.Contains([]string{"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"}, c.HTTPMethod) {
			v.Add("http_method", "enum", "http_method must be one of GET, POST, PUT, PATCH, DELETE, HEAD")
		}
	}
	for _, code := range c.ExpectedStatusCodes {
		if code < 100 || code > 599 {
			v.Add("expected_status_codes", "value_error", "expected_status_codes must be HTTP status codes (100-599); got %d", code)
			break
		}
	}
	for name, value := range c.RequestHeaders {
		if !headerName.MatchString(name) || strings.ContainsAny(value, "\r\n\x00") {
			v.Add("request_headers", "value_error", "request header %q is not a valid HTTP header", name)
			break
		}
	}
	if len(c.RequestBody) > 64<<10 {
		v.Add("request_body", "value_error", "request_body must be at most 64 KiB")
	}
	if c.SSLExpiryReminder < 0 || c.SSLExpiryReminder > 365 {
		v.Add("ssl_expiry_reminder", "value_error", "ssl_expiry_reminder must be between 0 and 365 days")
	}
	if c.PerformanceThresholdMs < 0 || c.PerformanceThresholdMs > MaxTimeout*1000 {
		v.Add("performance_threshold_ms", "value_error", "performance_threshold_ms must be between 0 (off) and %d", MaxTimeout*1000)
	}
	// No coercion: 0 is refused as -1 is (the default, 3, is set before a
	// request is read; upcast gives it to monitors from before the field).
	if c.PerformanceConsecutiveChecks < 1 || c.PerformanceConsecutiveChecks > 100 {
		v.Add("performance_consecutive_checks", "value_error", "performance_consecutive_checks must be between 1 and 100")
	}
	if c.GracePeriod < 0 || c.GracePeriod > MaxCheckInterval {
		v.Add("grace_period", "value_error", "grace_period must be between 0 and %d seconds", MaxCheckInterval)
	}
	c.RegionIDs = dedupe(c.RegionIDs)
	if r.factsUnknown {
		return v.Err()
	}
	if c.Type != TypePUSH && len(c.RegionIDs) == 0 {
		v.Add("region_ids", "value_error", "a monitor needs at least one probe region; see GET /api/regions/public")
	}
	for _, id := range c.RegionIDs {
		if !r.ActiveRegions[id] {
			v.Add("region_ids", "value_error", "region %d does not exist or is not active; see GET /api/regions/public", id)
			break
		}
	}
	if c.Type != TypePUSH && (c.ConfirmFromLocations < 1 || c.ConfirmFromLocations > max(len(c.RegionIDs), 1)) {
		v.Add("confirm_from_locations", "value_error", "confirm_from_locations must be between 1 and the number of regions (%d)", max(len(c.RegionIDs), 1))
	}
	c.TagIDs = dedupe(c.TagIDs)
	for _, id := range c.TagIDs {
		if !r.AccountTags[id] {
			v.Add("tag_ids", "value_error", "tag %d not found", id)
			break
		}
	}
	c.DependsOn = dedupe(c.DependsOn)
	if len(c.DependsOn) > MaxDependencies {
		v.Add("depends_on", "value_error", "depends_on may name at most %d monitors", MaxDependencies)
	}
	for _, id := range c.DependsOn {
		if id == r.MonitorID && id != 0 {
			v.Add("depends_on", "value_error", "a monitor cannot depend on itself")
			break
		}
		if !r.AccountMonitors[id] {
			v.Add("depends_on", "value_error", "monitor %d not found", id)
			break
		}
	}
	if err := v.Err(); err != nil {
		return err
	}
	if !WithinLimit(r.Limits.MaxRegions, len(c.RegionIDs)-1) {
		return Errorf(ErrLimit, "plan %s allows %d regions per monitor", r.Limits.Plan, r.Limits.MaxRegions)
	}
	return nil
}

// splitTarget accepts "host", "host:port", "[v6]:port" or "scheme://host:port".
func splitTarget(s string) (host string, port int, ok bool) {
	if strings.Contains(s, "://") {
		u, err := url.Parse(s)
		if err != nil {
			return "", 0, false
		}
		s = u.Host
	}
	if h, p, err := net.SplitHostPort(s); err == nil {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return "", 0, false
		}
		s, port = h, n
	}
	s = strings.Trim(s, "[]")
	if s == "" || len(s) > 253 || strings.ContainsAny(s, " /?#@\\") {
		return "", 0, false
	}
	return s, port, true
}

func dedupe(ids []int64) []int64 {
	out := []int64{}
	for _, id := range ids {
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

// MonitorCreated starts a monitor.
type MonitorCreated struct {
	MonitorID int64         `json:"monitor_id"`
	AccountID int64         `json:"account_id"`
	Config    MonitorConfig `json:"config"`
	PushToken string        `json:"push_token,omitempty"`
}

// MonitorUpdated records the whole new configuration.
type MonitorUpdated struct {
	Config MonitorConfig `json:"config"`
}

// MonitorPaused stops checks; its open incidents resolve.
type MonitorPaused struct{}

// MonitorResumed restarts checks.
type MonitorResumed struct{}

// MonitorDeleted removes the monitor from every read model. Its events stay
// in the log (the audit trail), but no read model shows them again.
type MonitorDeleted struct{}

// CheckRecorded is one check's result from one region. RegionID 0 is a
// push monitor's heartbeat (or its absence).
type CheckRecorded struct {
	MonitorID   int64     `json:"monitor_id"`
	RegionID    int64     `json:"region_id"`
	ScheduledAt time.Time `json:"scheduled_at"`
	CheckedAt   time.Time `json:"checked_at"`
	// InMaintenance says a maintenance window covered the monitor when the
	// check ran: decided once, when the result is recorded, so every reader
	// (incidents, uptime, notifications) agrees, on replays too.
	InMaintenance bool `json:"in_maintenance,omitempty"`
	CheckOutcome
}

func (MonitorCreated) EventType() string { return EvMonitorCreated }
func (MonitorCreated) EventVersion() int { return 1 }
func (MonitorUpdated) EventType() string { return EvMonitorUpdated }
func (MonitorUpdated) EventVersion() int { return 1 }
func (MonitorPaused) EventType() string  { return EvMonitorPaused }
func (MonitorPaused) EventVersion() int  { return 1 }
func (MonitorResumed) EventType() string { return EvMonitorResumed }
func (MonitorResumed) EventVersion() int { return 1 }
func (MonitorDeleted) EventType() string { return EvMonitorDeleted }
func (MonitorDeleted) EventVersion() int { return 1 }
func (CheckRecorded) EventType() string  { return EvCheckRecorded }
func (CheckRecorded) EventVersion() int  { return 1 }

// Monitor is the monitor aggregate.
type Monitor struct {
	ID        int64
	AccountID int64
	Config    MonitorConfig
	Paused    bool
	Deleted   bool
	PushToken string
}

// Apply folds one event into the monitor.
func (m *Monitor) Apply(e Event) {
	switch e := e.(type) {
	case *MonitorCreated:
		m.ID, m.AccountID, m.Config, m.PushToken = e.MonitorID, e.AccountID, e.Config, e.PushToken
		m.Config.upcast()
	case *MonitorUpdated:
		m.Config = e.Config
		m.Config.upcast()
	case *MonitorPaused:
		m.Paused = true
	case *MonitorResumed:
		m.Paused = false
	case *MonitorDeleted:
		m.Deleted = true
	}
}

// upcast fills what events from before a field existed leave out: a
// monitor configured before performance_consecutive_checks has its
// default, so an update that does not name it is not refused for it.
func (c *MonitorConfig) upcast() {
	if c.PerformanceConsecutiveChecks == 0 {
		c.PerformanceConsecutiveChecks = DefaultMonitorConfig().PerformanceConsecutiveChecks
	}
}

// Exists reports whether the monitor was created and not deleted.
func (m *Monitor) Exists() bool { return m.ID != 0 && !m.Deleted }

// Owner is the account the monitor belongs to.
func (m *Monitor) Owner() int64 { return m.AccountID }

// Pause decides a pause; pausing a paused monitor changes nothing.
func (m *Monitor) Pause() []Event {
	if m.Paused {
		return nil
	}
	return []Event{&MonitorPaused{}}
}

// Resume decides a resume.
func (m *Monitor) Resume() []Event {
	if !m.Paused {
		return nil
	}
	return []Event{&MonitorResumed{}}
}

// Status is a monitor's current state as the API shows it.
type Status string

const (
	StatusUp      Status = "up"
	StatusDown    Status = "down"
	StatusPaused  Status = "paused"
	StatusPending Status = "pending"
)

// RegionResult is the latest result from one region.
type RegionResult struct {
	RegionID  int64
	Up        bool
	CheckedAt time.Time
}

// FreshResults drops results from regions that stopped reporting: a
// region's latest result counts only while it is within three intervals
// and a minute of the newest one, so a dead probe's last "up" cannot hide
// an outage the other regions confirm (nor its last "down" keep one open).
func FreshResults(results []RegionResult, interval int) []RegionResult {
	var newest time.Time
	for _, r := range results {
		if r.CheckedAt.After(newest) {
			newest = r.CheckedAt
		}
	}
	cutoff := newest.Add(-time.Duration(3*max(interval, 1)+60) * time.Second)
	out := results[:0:0]
	for _, r := range results {
		if !r.CheckedAt.Before(cutoff) {
			out = append(out, r)
		}
	}
	return out
}

// MonitorStatus decides a monitor's status from each region's latest
// (fresh) result: down when at least confirm regions currently fail, or
// every reporting region when fewer than confirm report (a dead probe must
// not hide an outage); up once any result is in and fewer fail; pending
// before the first result.
func MonitorStatus(paused bool, confirm int, latest []RegionResult) Status {
	if paused {
		return StatusPaused
	}
	if len(latest) == 0 {
		return StatusPending
	}
	failing := 0
	for _, r := range latest {
		if !r.Up {
			failing++
		}
	}
	if failing >= min(max(confirm, 1), len(latest)) {
		return StatusDown
	}
	return StatusUp
}
