package importfile

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/medialuna/medialuna/commands"
	"github.com/medialuna/medialuna/domain"
)

// want builds the entry expected over the defaults.
func want(line int, name string, change func(c *domain.MonitorConfig), tags []string, warnings ...string) commands.ImportEntry {
	c := domain.DefaultMonitorConfig()
	c.Name = name
	change(&c)
	return commands.ImportEntry{Name: name, Line: line, Config: c, Given: domain.MonitorGiven{Name: true, Type: true, URL: true}, Tags: tags, Warnings: warnings}
}

// TestGatusExample reads Gatus' own example configuration (testdata/NOTICE).
func TestGatusExample(t *testing.T) {
	data, err := os.ReadFile("testdata/gatus-config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	got, err := Parse(Gatus, data)
	if err != nil {
		t.Fatal(err)
	}
	http := func(url string, interval int, codes []int) func(c *domain.MonitorConfig) {
		return func(c *domain.MonitorConfig) {
			c.Type, c.URL, c.CheckInterval, c.ExpectedStatusCodes = domain.TypeHTTP, url, interval, codes
		}
	}
	wantEntries := []commands.ImportEntry{
		want(2, "front-end", func(c *domain.MonitorConfig) {
			http("https://twin.sh/health", 300, []int{200})(c)
			c.PerformanceThresholdMs = 150
		}, []string{"core"}, `condition "[BODY].status == UP" is not carried over`),
		want(11, "back-end", func(c *domain.MonitorConfig) {
			http("https://example.org/", 300, []int{200})(c)
			c.SSLExpiryReminder = 2
		}, []string{"core"}),
		want(19, "monitoring", http("https://example.org/", 300, []int{200}), []string{"internal"}),
		want(26, "nas", http("https://example.org/", 300, []int{200}), []string{"internal"}),
		want(33, "example-dns-query", func(c *domain.MonitorConfig) {
			c.Type, c.URL, c.CheckInterval, c.DNSRecordType, c.DNSResolver = domain.TypeDNS, "example.com", 300, "A", "8.8.8.8"
		}, nil, `condition "[BODY] == pat(*.*.*.*)" is not carried over`),
		want(43, "icmp-ping", func(c *domain.MonitorConfig) {
			c.Type, c.URL, c.CheckInterval = domain.TypePING, "example.org", 60
		}, nil),
		want(49, "check-domain-expiration", http("https://example.org/", 3600, nil), nil,
			`condition "[DOMAIN_EXPIRATION] > 720h" is not carried over`),
	}
	wantEntries[6].Config.ExpectedStatusCodes = []int{}
	if diff := cmp.Diff(wantEntries, got); diff != "" {
		t.Errorf("entries (-want +got):\n%s", diff)
	}
}

func TestGatusEndpoints(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		check      func(t *testing.T, e commands.ImportEntry)
	}{
		{"default interval, tcp", "endpoints:\n  - name: db\n    url: tcp://db.internal:5432\n", func(t *testing.T, e commands.ImportEntry) {
			if e.Config.Type != domain.TypeTCP || e.Config.URL != "db.internal:5432" || e.Config.CheckInterval != 60 || e.Refused != "" {
				t.Errorf("%+v", e)
			}
		}},
		{"ssh with credentials", "endpoints:\n  - name: s\n    url: ssh://example.org:2222\n    ssh:\n      username: u\n      password: p\n", func(t *testing.T, e commands.ImportEntry) {
			if e.Config.Type != domain.TypeSSH || e.Config.URL != "example.org:2222" || !hasWarning(e, "ssh credentials") {
				t.Errorf("%+v", e)
			}
			if strings.Contains(fmt.Sprint(e.Config), "p\"") {
				t.Errorf("the password travelled: %+v", e.Config)
			}
		}},
		{"starttls", "endpoints:\n  - name: mail\n    url: starttls://smtp.example.com:587\n", func(t *testing.T, e commands.ImportEntry) {
			if e.Config.Type != domain.TypeSMTP || e.Config.URL != "smtp.example.com:587" || !hasWarning(e, "certificate is not checked") {
				t.Errorf("%+v", e)
			}
		}},
		{"tls refused", "endpoints:\n  - name: t\n    url: tls://example.org:443\n", refused("TLS handshake")},
		{"grpc refused", "endpoints:\n  - name: g\n    url: grpc://example.org:50051\n", refused("gRPC")},
		{"ws refused", "endpoints:\n  - name: w\n    url: wss://example.org/ws\n", refused("WebSocket")},
		{"udp refused", "endpoints:\n  - name: u\n    url: udp://example.org:53\n", refused("UDP")},
		{"sctp refused", "endpoints:\n  - name: u\n    url: sctp://example.org:9\n", refused("SCTP")},
		{"no scheme", "endpoints:\n  - name: n\n    url: example.org\n", refused("names no protocol")},
		{"bad interval", "endpoints:\n  - name: n\n    url: https://example.org\n    interval: 5 minutes\n", refused(`interval "5 minutes"`)},
		{"not a mapping", "endpoints:\n  - name: [1, 2]\n    url: https://example.org\n", refused("cannot be read")},
		{"http details", `endpoints:
  - name: api
    url: https://api.example.com/v1
    method: post
    body: '{"q": 1}'
    headers:
      Authorization: Bearer x
    interval: 90s
    enabled: false
    client:
      insecure: true
      ignore-redirect: true
      timeout: 2500ms
      proxy-url: http://proxy
    alerts:
      - type: slack
    ui:
      hide-hostname: true
    graphql: true
    conditions:
      - "[STATUS] == any(200, 201)"
      - "[RESPONSE_TIME] <= 800"
      - "[CERTIFICATE_EXPIRATION] > 168h"
      - "[CONNECTED] == true"
`, func(t *testing.T, e commands.ImportEntry) {
			c := e.Config
			if c.HTTPMethod != "POST" || c.RequestBody != `{"q": 1}` || c.RequestHeaders["Authorization"] != "Bearer x" || c.CheckInterval != 90 ||
				!e.Paused || c.VerifySSL || c.FollowRedirects || c.Timeout != 3 || c.PerformanceThresholdMs != 800 || c.SSLExpiryReminder != 7 ||
				!cmp.Equal(c.ExpectedStatusCodes, []int{200, 201}) {
				t.Errorf("%+v", e)
			}
			for _, w := range []string{"client.proxy-url", "alerts", "graphql"} {
				if !hasWarning(e, w) {
					t.Errorf("no warning about %s: %q", w, e.Warnings)
				}
			}
			if hasWarning(e, "ui") && !hasWarning(e, "graphql") || len(e.Warnings) != 3 {
				t.Errorf("warnings: %q", e.Warnings)
			}
		}},
		{"status ranges", "endpoints:\n  - name: r\n    url: http://x.example\n    conditions:\n      - \"[STATUS] < 300\"\n      - \"[STATUS] != 204\"\n", func(t *testing.T, e commands.ImportEntry) {
			codes := e.Config.ExpectedStatusCodes
			if len(codes) != 99 || codes[0] != 200 || codes[98] != 299 || contains(codes, 204) {
				t.Errorf("codes %v", codes)
			}
		}},
		{"external endpoint", "external-endpoints:\n  - name: job\n    group: batch\n    token: secret\n    heartbeat:\n      interval: 30m\n", func(t *testing.T, e commands.ImportEntry) {
			if e.Config.Type != domain.TypePUSH || e.Config.CheckInterval != 1800 || e.Given.URL || !cmp.Equal(e.Tags, []string{"batch"}) || !hasWarning(e, "push URL") {
				t.Errorf("%+v", e)
			}
		}},
		{"environment variables", "endpoints:\n  - name: e\n    url: https://${HOST}/health\n", func(t *testing.T, e commands.ImportEntry) {
			if !hasWarning(e, "environment variables") {
				t.Errorf("%+v", e)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse(Gatus, []byte(tc.yaml))
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 {
				t.Fatalf("%d entries", len(got))
			}
			tc.check(t, got[0])
		})
	}
}

func refused(substr string) func(t *testing.T, e commands.ImportEntry) {
	return func(t *testing.T, e commands.ImportEntry) {
		t.Helper()
		if !strings.Contains(e.Refused, substr) {
			t.Errorf("refused %q, want it to say %q", e.Refused, substr)
		}
	}
}

func hasWarning(e commands.ImportEntry, substr string) bool {
	for _, w := range e.Warnings {
		if strings.Contains(w, substr) {
			return true
		}
	}
	return false
}

func contains(codes []int, c int) bool {
	for _, x := range codes {
		if x == c {
			return true
		}
	}
	return false
}

// TestUnreadableFiles: a file that does not parse is one ErrInvalid
// naming the line.
func TestUnreadableFiles(t *testing.T) {
	many := "name,type,url\n" + strings.Repeat("m,HTTP,https://example.com\n", commands.MaxImportEntries+1)
	for _, tc := range []struct {
		name   string
		format Format
		data   string
		msg    string
	}{
		{"yaml syntax", Gatus, "endpoints:\n  - name: a\n   url: b\n", "line 3"},
		{"yaml tab", Gatus, "endpoints:\n\t- name: a\n", "line 2"},
		{"yaml no endpoints", Gatus, "storage:\n  type: memory\n", "no endpoints"},
		{"yaml scalar", Gatus, "hello\n", "mapping"},
		{"yaml endpoints not a list", Gatus, "endpoints: 3\n", "line 1"},
		{"yaml empty", Gatus, "", "empty"},
		{"yaml empty list", Gatus, "endpoints: []\n", "no monitors"},
		{"json object", JSON, `{"name": "a"}`, "array of monitors"},
		{"json syntax", JSON, "[\n  {\"name\": \"a\"},\n  {\"name\": }\n]", "line 3"},
		{"json truncated", JSON, "[\n  {\"name\": \"a\"}", "ends before"},
		{"json trailing", JSON, "[]\n[]", "nothing may follow"},
		{"csv unknown column", CSV, "name,colour\na,b\n", `unknown column "colour"`},
		{"csv quote", CSV, "name,url\n\"a,b\n", "line"},
		{"csv empty", CSV, "", "empty"},
		{"csv too many", CSV, many, "at most 1000 monitors"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.format, []byte(tc.data))
			if domain.ErrorCode(err) != domain.ErrInvalid || !strings.Contains(domain.ErrorMessage(err), tc.msg) {
				t.Errorf("err %v, want ErrInvalid saying %q", err, tc.msg)
			}
		})
	}
}

func TestJSONList(t *testing.T) {
	got, err := Parse(JSON, []byte(`[
  {"name": "site", "type": "HTTP", "url": "https://example.com", "check_interval": 600, "tags": ["web", "prod"]},
  {"name": "bad", "type": "HTTP", "url": "https://example.com", "timeout": "long"},
  {"type": "TCP", "url": "db:5432"},
  "nope"
]`))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 {
		t.Fatalf("%d entries", len(got))
	}
	w := want(2, "site", func(c *domain.MonitorConfig) {
		c.Type, c.URL, c.CheckInterval = domain.TypeHTTP, "https://example.com", 600
	}, []string{"web", "prod"})
	if diff := cmp.Diff(w, got[0]); diff != "" {
		t.Errorf("entry 0 (-want +got):\n%s", diff)
	}
	if got[1].Refused != `field "timeout" must be of type number` || got[1].Line != 3 {
		t.Errorf("entry 1: %+v", got[1])
	}
	if got[2].Given.Name || !got[2].Given.URL || got[2].Refused != "" {
		t.Errorf("entry 2: %+v", got[2])
	}
	if got[3].Refused == "" {
		t.Errorf("entry 3: %+v", got[3])
	}
}

func TestCSVList(t *testing.T) {
	got, err := Parse(CSV, []byte("\xef\xbb\xbfName,type,url,check_interval,timeout,http_method,expected_status_codes,tags\n"+
		"site,HTTP,https://example.com,600,10,HEAD,200;204,web; prod\n"+
		"\n"+
		"db,TCP,db.internal:5432,,,,,\n"+
		"bad,HTTP,https://x.example,often,,,,\n"+
		",HTTP,https://noname.example\n"+
		"a,b,c,d,e,f,g,h,i\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 5 {
		t.Fatalf("%d entries: %+v", len(got), got)
	}
	w := want(2, "site", func(c *domain.MonitorConfig) {
		c.Type, c.URL, c.CheckInterval, c.Timeout, c.HTTPMethod, c.ExpectedStatusCodes = domain.TypeHTTP, "https://example.com", 600, 10, "HEAD", []int{200, 204}
	}, []string{"web", "prod"})
	if diff := cmp.Diff(w, got[0]); diff != "" {
		t.Errorf("entry 0 (-want +got):\n%s", diff)
	}
	if got[1].Line != 4 || got[1].Config.CheckInterval != domain.DefaultCheckInterval || got[1].Tags != nil {
		t.Errorf("entry 1: %+v", got[1])
	}
	if !strings.Contains(got[2].Refused, `check_interval must be a whole number, got "often"`) {
		t.Errorf("entry 2: %+v", got[2])
	}
	if got[3].Given.Name {
		t.Errorf("entry 3: %+v", got[3])
	}
	if !strings.Contains(got[4].Refused, "9 cells for 8 columns") {
		t.Errorf("entry 4: %+v", got[4])
	}
}

func TestFormats(t *testing.T) {
	for ct, f := range map[string]Format{"application/yaml": Gatus, "text/yaml; charset=utf-8": Gatus, "text/csv": CSV, "application/json": JSON} {
		if got, ok := FormatOfContentType(ct); !ok || got != f {
			t.Errorf("%s: %v %v", ct, got, ok)
		}
	}
	if _, ok := FormatOfContentType("text/plain"); ok {
		t.Error("text/plain has a format")
	}
	if _, err := ParseFormat("toml"); domain.ErrorCode(err) != domain.ErrInvalid {
		t.Errorf("toml: %v", err)
	}
	if f, ok := FormatOfFileName("config.YML"); !ok || f != Gatus {
		t.Errorf("config.YML: %v", f)
	}
}

// TestJSONText: what Go's decoder would quietly turn into U+FFFD refuses
// the entry, as the API's text check refuses such a body.
func TestJSONText(t *testing.T) {
	for _, tc := range []struct {
		raw     string
		refused bool
	}{
		{`{"name": "caf\u00e9 \ud83d\ude00 \\ud800 \\\u00e9"}`, false}, // a pair; an escaped backslash then text
		{`{"name": "\ud800"}`, true},
		{`{"name": "\udc00x"}`, true},
		{`{"name": "\ud800\u0041"}`, true},
		{"{\"name\": \"\xff\"}", true},
	} {
		got, err := Parse(JSON, []byte("["+tc.raw+"]"))
		if err != nil {
			t.Fatalf("%s: %v", tc.raw, err)
		}
		if (got[0].Refused != "") != tc.refused {
			t.Errorf("%s: refused %q, want refused %v", tc.raw, got[0].Refused, tc.refused)
		}
	}
}
