package domain_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/medialuna/medialuna/domain"
)

func TestNewMonitorConfig(t *testing.T) {
	all := domain.MonitorGiven{Name: true, Type: true, URL: true}
	cases := []struct {
		name       string
		cfg        func(*domain.MonitorConfig)
		given      domain.MonitorGiven
		missing    []string // fields reported missing, in order
		wantMethod string
		wantType   domain.MonitorType
		wantCodes  string // FormatStatusCodes of the codes; "" for none
	}{
		{name: "nothing given", given: domain.MonitorGiven{}, missing: []string{"name", "type", "url"}},
		{name: "no url for HTTP", cfg: func(c *domain.MonitorConfig) { c.Type, c.Name = "http", "web" }, given: domain.MonitorGiven{Name: true, Type: true},
			missing: []string{"url"}},
		{name: "no url for PUSH, lower case", cfg: func(c *domain.MonitorConfig) { c.Type = "push" }, given: domain.MonitorGiven{Name: true, Type: true},
			wantType: domain.TypePUSH},
		{name: "no name", cfg: func(c *domain.MonitorConfig) { c.Type, c.URL = "TCP", "db.internal:5432" }, given: domain.MonitorGiven{Type: true, URL: true},
			missing: []string{"name"}},
		{name: "a body sets the method to POST", cfg: func(c *domain.MonitorConfig) { c.Type = "HTTP"; c.RequestBody = "{}" }, given: all,
			wantMethod: "POST", wantType: domain.TypeHTTP, wantCodes: "200-299"},
		{name: "a body keeps a method given", cfg: func(c *domain.MonitorConfig) { c.Type = "HTTP"; c.RequestBody = "{}"; c.HTTPMethod = "PUT" }, given: all,
			wantMethod: "PUT", wantType: domain.TypeHTTP, wantCodes: "200-299"},
		{name: "no body, no method: GET, said", cfg: func(c *domain.MonitorConfig) { c.Type = "HTTP" }, given: all, wantMethod: "GET",
			wantType: domain.TypeHTTP, wantCodes: "200-299"},
		{name: "a HEAD monitor's method", cfg: func(c *domain.MonitorConfig) { c.Type = "HEAD" }, given: all, wantMethod: "HEAD",
			wantType: domain.TypeHEAD, wantCodes: "200-299"},
		{name: "codes given are kept", cfg: func(c *domain.MonitorConfig) { c.Type = "HTTP"; c.ExpectedStatusCodes = []int{204} }, given: all,
			wantMethod: "GET", wantType: domain.TypeHTTP, wantCodes: "204"},
		{name: "no method or codes for TCP", cfg: func(c *domain.MonitorConfig) { c.Type = "TCP" }, given: all, wantType: domain.TypeTCP},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := domain.DefaultMonitorConfig()
			if tc.cfg != nil {
				tc.cfg(&cfg)
			}
			got, err := domain.NewMonitorConfig(cfg, tc.given)
			if len(tc.missing) > 0 {
				var e *domain.Error
				if !errors.As(err, &e) || e.Code != domain.ErrInvalid {
					t.Fatalf("err = %v, want ErrInvalid", err)
				}
				var fields []string
				for _, f := range e.Fields {
					if f.Type != "missing" {
						t.Errorf("field %s: type %q, want missing", f.Field, f.Type)
					}
					fields = append(fields, f.Field)
				}
				if len(fields) != len(tc.missing) {
					t.Fatalf("missing fields %v, want %v", fields, tc.missing)
				}
				for i := range fields {
					if fields[i] != tc.missing[i] {
						t.Fatalf("missing fields %v, want %v", fields, tc.missing)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.HTTPMethod != tc.wantMethod {
				t.Errorf("method %q, want %q", got.HTTPMethod, tc.wantMethod)
			}
			if got.Type != tc.wantType {
				t.Errorf("type %q, want %q", got.Type, tc.wantType)
			}
			codes := ""
			if len(got.ExpectedStatusCodes) > 0 {
				codes = domain.FormatStatusCodes(got.ExpectedStatusCodes)
			}
			if codes != tc.wantCodes {
				t.Errorf("codes %q, want %q", codes, tc.wantCodes)
			}
		})
	}
}

func TestCheckTypeChange(t *testing.T) {
	cases := []struct {
		from, to domain.MonitorType
		refused  bool
	}{
		{from: domain.TypeHTTP, to: domain.TypeHTTP},
		{from: domain.TypeHTTP, to: domain.TypeTCP},
		{from: domain.TypeHTTP, to: domain.TypePUSH, refused: true},
		{from: domain.TypePING, to: "push", refused: true}, // the request's case does not matter
		{from: domain.TypePUSH, to: domain.TypePUSH},
		{from: domain.TypePUSH, to: "push"},
		{from: domain.TypePUSH, to: domain.TypeHTTP}, // not refused here: Validate asks for what HTTP needs
	}
	for _, tc := range cases {
		t.Run(string(tc.from)+" to "+string(tc.to), func(t *testing.T) {
			err := domain.MonitorConfig{Type: tc.from}.CheckTypeChange(tc.to)
			if tc.refused != (err != nil) {
				t.Fatalf("err = %v, want refused %v", err, tc.refused)
			}
			if err != nil && domain.ErrorCode(err) != domain.ErrInvalid {
				t.Errorf("code %s, want ErrInvalid", domain.ErrorCode(err))
			}
		})
	}
}

// TestNoSilentCoercion: a zero performance_consecutive_checks is refused
// as a negative one is; a monitor from before the field existed gets its
// default when its events are folded, so its updates are not refused.
func TestNoSilentCoercion(t *testing.T) {
	cfg := domain.DefaultMonitorConfig()
	cfg.Name, cfg.Type, cfg.URL, cfg.RegionIDs = "web", domain.TypeHTTP, "https://example.com", []int64{1}
	cfg.PerformanceConsecutiveChecks = 0
	limits, _ := domain.LimitsOf(domain.PlanPro)
	err := cfg.Validate(domain.MonitorRules{Limits: limits, ActiveRegions: map[int64]bool{1: true}})
	var de *domain.Error
	if !errors.As(err, &de) || len(de.Fields) == 0 || de.Fields[0].Field != "performance_consecutive_checks" {
		t.Errorf("0 consecutive checks: %v", err)
	}
	var m domain.Monitor
	old := cfg
	m.Apply(&domain.MonitorCreated{MonitorID: 1, AccountID: 1, Config: old})
	if m.Config.PerformanceConsecutiveChecks != 3 {
		t.Errorf("a monitor from before the field: %d", m.Config.PerformanceConsecutiveChecks)
	}
}

// TestNewMonitorConfigReportsEveryFieldAtOnce: a body missing a field and
// breaking another's rule hears of both in one refusal, the missing one
// first; what needs the account's facts (regions, tags) waits until the
// body is whole.
func TestNewMonitorConfigReportsEveryFieldAtOnce(t *testing.T) {
	cfg := domain.DefaultMonitorConfig()
	cfg.Type, cfg.URL, cfg.Timeout, cfg.TagIDs = "HTTP", "ftp://example.com", 0, []int64{99}
	_, err := domain.NewMonitorConfig(cfg, domain.MonitorGiven{Type: true, URL: true})
	var de *domain.Error
	if !errors.As(err, &de) {
		t.Fatalf("err = %v", err)
	}
	var got []string
	for _, f := range de.Fields {
		got = append(got, f.Field+":"+f.Type)
	}
	want := []string{"name:missing", "url:value_error.url", "timeout:value_error"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("fields %v, want %v", got, want)
	}
}
