package importfile

import (
	"fmt"
	"math"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/medialuna/medialuna/commands"
	"github.com/medialuna/medialuna/domain"
)

// Gatus' documented defaults (README, "Endpoints").
const gatusDefaultInterval = 60 * time.Second

// gatusConfig is the part of a Gatus configuration that describes what to
// monitor; the rest (storage, alerting, ui, web, ...) is Gatus' own.
type gatusConfig struct {
	Endpoints         []yaml.Node `yaml:"endpoints"`
	ExternalEndpoints []yaml.Node `yaml:"external-endpoints"`
}

type gatusEndpoint struct {
	Enabled    *bool             `yaml:"enabled"`
	Name       string            `yaml:"name"`
	Group      string            `yaml:"group"`
	URL        string            `yaml:"url"`
	Method     string            `yaml:"method"`
	Conditions []string          `yaml:"conditions"`
	Interval   string            `yaml:"interval"`
	Body       string            `yaml:"body"`
	Headers    map[string]string `yaml:"headers"`
	DNS        *struct {
		QueryType string `yaml:"query-type"`
		QueryName string `yaml:"query-name"`
	} `yaml:"dns"`
	SSH    map[string]yaml.Node `yaml:"ssh"`
	Client *struct {
		Insecure       bool                 `yaml:"insecure"`
		IgnoreRedirect bool                 `yaml:"ignore-redirect"`
		Timeout        string               `yaml:"timeout"`
		Other          map[string]yaml.Node `yaml:",inline"`
	} `yaml:"client"`
	Alerts    []yaml.Node `yaml:"alerts"`
	Heartbeat *struct {
		Interval string `yaml:"interval"`
	} `yaml:"heartbeat"` // external endpoints
	Token string `yaml:"token"` // external endpoints
	// Everything else (ui, graphql, maintenance-windows, ...): warned of.
	Other map[string]yaml.Node `yaml:",inline"`
}

// gatusIgnored are endpoint keys that only change Gatus' own page.
var gatusIgnored = map[string]bool{"ui": true, "extra-labels": true}

func parseGatus(data []byte) ([]commands.ImportEntry, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		line, msg := yamlError(err)
		return nil, fileError(Gatus, problemLine(data, line), msg)
	}
	if len(root.Content) == 0 {
		return nil, fileError(Gatus, 0, "the file is empty")
	}
	doc := root.Content[0]
	if doc.Kind != yaml.MappingNode {
		return nil, fileError(Gatus, doc.Line, "a Gatus configuration is a mapping with an endpoints: list")
	}
	var cfg gatusConfig
	if err := doc.Decode(&cfg); err != nil {
		line, msg := yamlError(err)
		return nil, fileError(Gatus, line, msg)
	}
	if cfg.Endpoints == nil && cfg.ExternalEndpoints == nil {
		return nil, fileError(Gatus, doc.Line, "no endpoints: list (Gatus' monitors are under endpoints:)")
	}
	var out []commands.ImportEntry
	for _, n := range cfg.Endpoints {
		out = append(out, gatusEntry(&n, false))
	}
	for _, n := range cfg.ExternalEndpoints {
		out = append(out, gatusEntry(&n, true))
	}
	return out, nil
}

var yamlLine = regexp.MustCompile(`line (\d+): `)

// yamlError splits a YAML library error into its line and message.
func yamlError(err error) (int, string) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	msg = strings.TrimPrefix(msg, "unmarshal errors:\n")
	msg = strings.TrimSpace(msg)
	line := 0
	if m := yamlLine.FindStringSubmatchIndex(msg); m != nil {
		line, _ = strconv.Atoi(msg[m[2]:m[3]])
		msg = msg[:m[0]] + msg[m[1]:]
	}
	return line, strings.TrimSpace(msg)
}

// problemLine finds the line a syntax error is on. The YAML library names
// the line where the enclosing block starts ("line 1: did not find
// expected '-' indicator" for a mis-indented line 3); the first line at
// which a prefix of the file stops parsing is where the problem is.
func problemLine(data []byte, reported int) int {
	lines := strings.SplitAfter(string(data), "\n")
	fails := func(k int) bool {
		var n yaml.Node
		return yaml.Unmarshal([]byte(strings.Join(lines[:k], "")), &n) != nil
	}
	lo, hi := max(reported, 1), len(lines)
	if lo > hi || !fails(hi) {
		return reported
	}
	for lo < hi {
		mid := (lo + hi) / 2
		if fails(mid) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo
}

// gatusEntry turns one endpoint (external: an external-endpoints entry,
// which its service pushes to) into an entry.
func gatusEntry(n *yaml.Node, external bool) commands.ImportEntry {
	e := commands.ImportEntry{Line: n.Line, Config: domain.DefaultMonitorConfig()}
	var ep gatusEndpoint
	if err := n.Decode(&ep); err != nil {
		// Keep the name for the report when it reads.
		var named struct {
			Name string `yaml:"name"`
		}
		_ = n.Decode(&named)
		e.Name = named.Name
		_, msg := yamlError(err)
		e.Refused = "the endpoint cannot be read: " + msg
		return e
	}
	c := &e.Config
	e.Name, c.Name = ep.Name, ep.Name
	e.Given = domain.MonitorGiven{Name: ep.Name != "", Type: true, URL: true}
	warn := func(format string, args ...any) { e.Warnings = append(e.Warnings, fmt.Sprintf(format, args...)) }
	if ep.Group != "" {
		e.Tags = []string{ep.Group}
	}
	if ep.Enabled != nil && !*ep.Enabled {
		e.Paused = true
	}
	if len(ep.Alerts) > 0 {
		warn("alerts are not carried over: set up notification channels and rules instead")
	}
	for _, k := range sortedKeys(ep.Other) {
		if !gatusIgnored[k] {
			warn("%s is not carried over", k)
		}
	}

	if external {
		c.Type = domain.TypePUSH
		e.Given.URL = false
		interval := time.Duration(0)
		if ep.Heartbeat != nil && ep.Heartbeat.Interval != "" {
			d, err := time.ParseDuration(ep.Heartbeat.Interval)
			if err != nil || d <= 0 {
				e.Refused = fmt.Sprintf("heartbeat.interval %q is not a duration such as 30s, 5m or 1h", ep.Heartbeat.Interval)
				return e
			}
			interval = d
		}
		if interval > 0 {
			c.CheckInterval = seconds(interval)
		} else {
			warn("no heartbeat.interval: the push monitor expects a heartbeat every %d seconds (the default)", c.CheckInterval)
		}
		warn("an external endpoint becomes a PUSH monitor: its service must push to the monitor's push URL instead of Gatus' API")
		return e
	}

	interval := gatusDefaultInterval
	if ep.Interval != "" {
		d, err := time.ParseDuration(ep.Interval)
		if err != nil || d <= 0 {
			e.Refused = fmt.Sprintf("interval %q is not a duration such as 30s, 5m or 1h", ep.Interval)
			return e
		}
		interval = d
	}
	c.CheckInterval = seconds(interval)
	if ep.Client != nil {
		c.VerifySSL = !ep.Client.Insecure
		c.FollowRedirects = !ep.Client.IgnoreRedirect
		if ep.Client.Timeout != "" {
			d, err := time.ParseDuration(ep.Client.Timeout)
			if err != nil || d <= 0 {
				e.Refused = fmt.Sprintf("client.timeout %q is not a duration such as 10s", ep.Client.Timeout)
				return e
			}
			c.Timeout = seconds(d)
		}
		for _, k := range sortedKeys(ep.Client.Other) {
			warn("client.%s is not carried over", k)
		}
	}
	if strings.Contains(ep.URL, "${") || strings.Contains(ep.Body, "${") {
		warn("${...} environment variables are taken literally: Gatus substitutes them when it starts, an import cannot")
	}

	if refused := gatusTarget(&e, ep, warn); refused != "" {
		e.Refused = refused
		return e
	}
	gatusConditions(&e, ep.Conditions, warn)
	return e
}

// gatusTarget sets the type and target from the endpoint's url (and dns),
// or returns why the endpoint cannot be a monitor.
func gatusTarget(e *commands.ImportEntry, ep gatusEndpoint, warn func(string, ...any)) string {
	c := &e.Config
	raw := strings.TrimSpace(ep.URL)
	if raw == "" {
		e.Given.URL = false
	}
	if ep.DNS != nil {
		// Gatus: url is the resolver, dns: the query.
		c.Type = domain.TypeDNS
		c.URL = strings.TrimSpace(ep.DNS.QueryName)
		e.Given.URL = c.URL != ""
		c.DNSRecordType = strings.ToUpper(strings.TrimSpace(ep.DNS.QueryType))
		resolver := raw
		if u, err := url.Parse(raw); err == nil && u.Scheme != "" && u.Host != "" {
			resolver = u.Host // udp://8.8.8.8:53
		}
		c.DNSResolver = resolver
		return ""
	}
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		if raw == "" {
			return ""
		}
		return fmt.Sprintf("url %q names no protocol Media Luna can check (http://, https://, tcp://, icmp://, ssh://, starttls://; or a dns: query)", raw)
	}
	scheme = strings.ToLower(scheme)
	hostPort := strings.TrimSuffix(strings.SplitN(rest, "/", 2)[0], "/")
	httpOnly := func() {
		if ep.Method != "" || ep.Body != "" || len(ep.Headers) > 0 {
			warn("method, body and headers only apply to HTTP endpoints and are not carried over")
		}
	}
	switch scheme {
	case "http", "https":
		c.Type = domain.TypeHTTP
		c.URL = raw
		c.HTTPMethod = strings.ToUpper(ep.Method)
		c.RequestBody = ep.Body
		if len(ep.Headers) > 0 {
			c.RequestHeaders = ep.Headers
		}
	case "tcp":
		c.Type, c.URL = domain.TypeTCP, hostPort
		httpOnly()
	case "icmp":
		c.Type, c.URL = domain.TypePING, hostPort
		httpOnly()
	case "ssh":
		c.Type, c.URL = domain.TypeSSH, hostPort
		if len(ep.SSH) > 0 {
			warn("ssh credentials are not carried over: Media Luna's SSH check reads the server's banner and does not log in")
		}
		httpOnly()
	case "starttls":
		c.Type, c.URL = domain.TypeSMTP, hostPort
		warn("starttls:// becomes an SMTP check: it reads the greeting and the EHLO reply but does not start TLS, so the certificate is not checked")
		httpOnly()
	case "tls":
		return "tls:// endpoints need a TLS handshake, which no Media Luna check makes; a TCP monitor of " + hostPort + " would check only that the port accepts connections"
	case "grpc", "grpcs":
		return "gRPC endpoints cannot be imported: Media Luna has no gRPC health check"
	case "ws", "wss":
		return "WebSocket endpoints cannot be imported: Media Luna has no WebSocket check"
	case "udp":
		return "UDP endpoints cannot be imported: Media Luna has no UDP check"
	case "sctp":
		return "SCTP endpoints cannot be imported: Media Luna has no SCTP check"
	default:
		return fmt.Sprintf("%s:// endpoints cannot be imported: Media Luna has no check for them", scheme)
	}
	return ""
}

// gatusCondition is "[PLACEHOLDER]suffix op value".
var gatusCondition = regexp.MustCompile(`^\[([A-Z_]+)\](\S*)\s*(==|!=|<=|>=|<|>)\s*(.*?)\s*$`)

// gatusConditions carries the conditions Media Luna checks too, and warns
// of the rest by name.
func gatusConditions(e *commands.ImportEntry, conditions []string, warn func(string, ...any)) {
	c := &e.Config
	var allowed []int // status codes [STATUS] conditions leave; nil: no such condition
	statusSeen := false
	for _, cond := range conditions {
		m := gatusCondition.FindStringSubmatch(strings.TrimSpace(cond))
		if m == nil || m[2] != "" {
			warn("condition %q is not carried over", cond)
			continue
		}
		placeholder, op, value := m[1], m[3], m[4]
		ok := false
		switch placeholder {
		case "STATUS":
			if c.Type != domain.TypeHTTP {
				break
			}
			codes, good := statusCodes(op, value)
			if good {
				ok = true
				if !statusSeen {
					statusSeen, allowed = true, codes
				} else {
					allowed = slices.DeleteFunc(allowed, func(code int) bool { return !slices.Contains(codes, code) })
				}
			}
		case "RESPONSE_TIME":
			n, err := strconv.Atoi(value)
			if err == nil && n > 0 && (op == "<" || op == "<=") {
				ok = true
				c.PerformanceThresholdMs = n
			}
		case "CERTIFICATE_EXPIRATION":
			if d, good := gatusDuration(value); good && (op == ">" || op == ">=") && c.Type == domain.TypeHTTP {
				ok = true
				c.SSLExpiryReminder = int(math.Ceil(d.Hours() / 24))
			}
		case "CONNECTED":
			// Every check fails when it cannot connect.
			ok = op == "==" && value == "true"
		case "DNS_RCODE":
			// A DNS check fails on an answer that is not NOERROR.
			ok = op == "==" && value == "NOERROR" && c.Type == domain.TypeDNS
		}
		if !ok {
			warn("condition %q is not carried over", cond)
		}
	}
	if statusSeen {
		if len(allowed) == 0 {
			warn("the [STATUS] conditions accept no status code; the monitor expects any 2xx")
		} else {
			c.ExpectedStatusCodes = allowed
		}
	}
}

// statusCodes are the final HTTP statuses (200-599; 1xx are not final
// answers) that "[STATUS] op value" accepts.
func statusCodes(op, value string) ([]int, bool) {
	var listed []int
	if inner, ok := strings.CutPrefix(value, "any("); ok && strings.HasSuffix(inner, ")") {
		if op != "==" && op != "!=" {
			return nil, false
		}
		for _, part := range strings.Split(strings.TrimSuffix(inner, ")"), ",") {
			n, err := strconv.Atoi(strings.TrimSpace(part))
			if err != nil {
				return nil, false
			}
			listed = append(listed, n)
		}
	} else {
		n, err := strconv.Atoi(value)
		if err != nil {
			return nil, false
		}
		listed = []int{n}
	}
	var out []int
	for code := 200; code <= 599; code++ {
		n := listed[0]
		var keep bool
		switch op {
		case "==":
			keep = slices.Contains(listed, code)
		case "!=":
			keep = !slices.Contains(listed, code)
		case "<":
			keep = code < n
		case "<=":
			keep = code <= n
		case ">":
			keep = code > n
		case ">=":
			keep = code >= n
		}
		if keep {
			out = append(out, code)
		}
	}
	if op == "==" && len(out) < len(listed) {
		// == 700, == 101: a code no final answer has.
		out = listed
	}
	return out, true
}

// gatusDuration reads a Gatus duration value: a Go duration (48h) or a
// number of milliseconds.
func gatusDuration(s string) (time.Duration, bool) {
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return d, true
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && n > 0 {
		return time.Duration(n) * time.Millisecond, true
	}
	return 0, false
}

// seconds rounds a duration up to whole seconds.
func seconds(d time.Duration) int {
	return int(math.Ceil(d.Seconds()))
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
