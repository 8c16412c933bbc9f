package e2e

import (
	"fmt"
	"math"
	"math/rand/v2"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/medialuna/medialuna/test/smtpcatcher"
	"github.com/medialuna/medialuna/test/testdb"
)

// route is one endpoint as routes.go declares it.
type route struct{ method, path string }

// declaredRoutes reads every route from the API's route table, so a new
// endpoint is covered without touching this test.
func declaredRoutes(t *testing.T) []route {
	t.Helper()
	src, err := os.ReadFile("../../adapters/httpapi/routes.go")
	if err != nil {
		t.Fatal(err)
	}
	var out []route
	for _, m := range regexp.MustCompile(`s\.handle\("([A-Z]+)", "([^"]+)"`).FindAllStringSubmatch(string(src), -1) {
		out = append(out, route{m[1], m[2]})
	}
	if len(out) < 50 {
		t.Fatalf("found only %d routes in routes.go", len(out))
	}
	// Deletes last, so the resources the other routes are aimed at live
	// through most of the run.
	sort.SliceStable(out, func(i, j int) bool { return out[i].method != "DELETE" && out[j].method == "DELETE" })
	return out
}

// hostile is a generator of hostile request parts, seeded so a failure
// repeats.
type hostile struct{ rng *rand.Rand }

var hostileStrings = []string{"", " ", "a\x00b", "\x00", "\x1b[2J", "line\nbreak", "\r\nX-Injected: 1", "\ud7ff", "\ufffd", "💥",
	"' OR 1=1 --", `"; DROP TABLE events; --`, "<script>alert(1)</script>", "../../etc/passwd", "%00", "%", "\\", "\\u0000",
	"9223372036854775807", "-9223372036854775808", "99999999999999999999", "-1", "0", "1e308", "NaN", "null", "true",
	"2026-02-30T25:61:61Z", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "UTC", "Mars/Olympus", "HTTP", "down", "ADMIN",
	"https://example.com", "http://[::1]:1/", "http://169.254.169.254/", strings.Repeat("x", 5000)}

var hostileIDs = []string{"1", "2", "0", "-1", "9223372036854775807", "9223372036854775808", "99999999999999999999", "abc", "1.5",
	"%00", "%FF", "%20", "1%0a"}

var fieldNames = []string{"name", "type", "url", "check_interval", "timeout", "region_ids", "monitor_ids", "tag_ids", "request_headers",
	"request_body", "http_method", "port", "dns_record_type", "start_time", "end_time", "time_zone", "is_recurring", "recurrence_pattern",
	"recurrence_days", "channel_type", "webhook_url", "email_recipient", "conditions", "channel_ids", "consecutive_checks",
	"renotify_minutes", "title", "subdomain", "description", "custom_css", "logo_url", "message", "duration_minutes", "reason",
	"public", "email", "password", "account_name", "full_name", "token", "role", "scopes", "expires_at", "action", "color",
	"timezone", "plan", "success_url", "return_url", "depends_on", "results", "region_id", "code", "x\x00"}

var queryNames = []string{"skip", "limit", "hours", "days", "since", "until", "as_of", "status", "type", "tag", "search", "monitor_id",
	"incident_type", "format", "stream", "region_id", "account_id", "q"}

func (h hostile) pick(list []string) string { return list[h.rng.IntN(len(list))] }

// value is a random JSON value, nested at most depth deep.
func (h hostile) value(depth int) any {
	switch n := h.rng.IntN(10); {
	case n < 4:
		return h.pick(hostileStrings)
	case n < 6:
		return []int64{0, 1, -1, 1 << 62, -(1 << 62)}[h.rng.IntN(5)]
	case n == 6:
		return []any{nil, true, false, 1.5e300, math.Copysign(0, -1)}[h.rng.IntN(5)]
	case n == 7 && depth > 0:
		out := make([]any, h.rng.IntN(4))
		for i := range out {
			out[i] = h.value(depth - 1)
		}
		return out
	case n >= 8 && depth > 0:
		return h.object(depth - 1)
	}
	return h.pick(hostileStrings)
}

func (h hostile) object(depth int) map[string]any {
	out := map[string]any{}
	for range h.rng.IntN(6) + 1 {
		out[h.pick(fieldNames)] = h.value(depth)
	}
	return out
}

// body is a random request body: mostly objects of plausible fields with
// hostile values, sometimes not JSON at all.
func (h hostile) body() any {
	switch h.rng.IntN(12) {
	case 0:
		return ""
	case 1:
		return []string{"null", "[]", "{", `{"name":`, `"x"`, "{}{}", "\xff\xfe", `{"name":"\ud800"}`}[h.rng.IntN(8)]
	case 2:
		return h.value(3)
	}
	return h.object(3)
}

func (h hostile) query() string {
	if h.rng.IntN(3) == 0 {
		return ""
	}
	v := url.Values{}
	for range h.rng.IntN(3) + 1 {
		v.Add(h.pick(queryNames), h.pick(hostileStrings))
	}
	q := "?" + v.Encode()
	if h.rng.IntN(5) == 0 {
		q += "&" + []string{"%zz", "a=%00", "skip=%FF", ";", "limit=1&limit=2"}[h.rng.IntN(5)]
	}
	return q
}

func (h hostile) path(p string) string {
	return regexp.MustCompile(`\{[a-z_]+\}`).ReplaceAllStringFunc(p, func(string) string { return h.pick(hostileIDs) })
}

// TestHostileRequestsNeverFailTheServer sends random and hostile bodies,
// path values and query strings to every route: no answer is a 5xx (501,
// "not enabled on this server", aside), and no request answered with a 4xx
// appended an event.
func TestHostileRequestsNeverFailTheServer(t *testing.T) {
	db := testdb.New(t)
	s := startServer(t, db, smtpcatcher.Start(t))
	owner := signup(t, s, "prop@example.com", "Property Team")
	unlimited(t, s, owner.Account.ID)
	tok := owner.AccessToken
	// Something for the ids 1 and 2 to find.
	s.expect(201, "POST", "/api/v1/monitors", tok, map[string]any{"name": "m", "type": "TCP", "url": "127.0.0.1:1", "check_interval": 300})
	s.expect(201, "POST", "/api/tags", tok, map[string]any{"name": "t"})
	s.expect(201, "POST", "/api/notification-channels", tok, map[string]any{"name": "c", "channel_type": "EMAIL", "email_recipient": "c@example.com"})

	h := hostile{rng: rand.New(rand.NewPCG(20261202, 10))}
	const perRoute = 25
	var failures []string
	requests := 0
	for _, rt := range declaredRoutes(t) {
		for i := range perRoute {
			path := h.path(rt.path) + h.query()
			var body any
			if rt.method != "GET" && i%5 != 4 {
				body = h.body()
			}
			auth := tok
			if i%7 == 6 {
				auth = ""
			}
			r, appended := s.tracedCall(t, rt.method, path, auth, body)
			requests++
			switch {
			case r.Status >= 500 && r.Status != 501:
				failures = append(failures, fmt.Sprintf("%s %s → %d %s (body %.200v)", rt.method, path, r.Status, r.Body, body))
			case r.Status >= 400 && appended > 0:
				failures = append(failures, fmt.Sprintf("%s %s → %d but appended %d events (body %.200v)", rt.method, path, r.Status, appended, body))
			}
		}
	}
	t.Logf("%d hostile requests", requests)
	if len(failures) > 0 {
		t.Errorf("%d of %d requests broke a rule:\n%s", len(failures), requests, strings.Join(failures, "\n"))
	}
	if resp := s.call("GET", "/healthz", "", nil); resp.Status != 200 {
		t.Errorf("healthz after the run: %d", resp.Status)
	}
}
