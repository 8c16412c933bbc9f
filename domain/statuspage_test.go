package domain_test

import (
	"strings"
	"testing"
	"time"

	"github.com/medialuna/medialuna/domain"
)

func TestNormalizeSubdomain(t *testing.T) {
	cases := []struct {
		in, want string
		ok       bool
	}{
		{"acme", "acme", true},
		{"  Acme-Corp ", "acme-corp", true},
		{"a", "a", true},
		{"9", "9", true},
		{"a1-b2-c3", "a1-b2-c3", true},
		{strings.Repeat("a", 63), strings.Repeat("a", 63), true},
		{strings.Repeat("a", 64), "", false},
		{"", "", false},
		{"   ", "", false},
		{"-acme", "", false},
		{"acme-", "", false},
		{"ac_me", "", false},
		{"ac.me", "", false},
		{"ac me", "", false},
		{"acmé", "", false},
		{"xn--bcher-kva", "", false}, // IDNA labels look like other names in browsers
		{"ab--cd", "", false},
		{"a--b", "a--b", true},
		{"<script>", "", false},
		{"www", "", false},
		{"API", "", false},
		{"admin", "", false},
		{"status", "", false},
		{"mail", "", false},
		{"app", "", false},
	}
	for _, c := range cases {
		got, err := domain.NormalizeSubdomain(c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("NormalizeSubdomain(%q) = %q, %v; want %q ok=%v", c.in, got, err, c.want, c.ok)
		}
		if err != nil && domain.ErrorCode(err) != domain.ErrInvalid {
			t.Errorf("NormalizeSubdomain(%q): code %s, want invalid", c.in, domain.ErrorCode(err))
		}
	}
}

func TestReservedSubdomainsAreValidLabels(t *testing.T) {
	// Every reserved name would otherwise pass: the list is not dead weight.
	for _, name := range []string{"www", "api", "admin", "app", "status", "mail", "smtp", "ns1", "billing", "login", "cdn", "media-luna"} {
		if !domain.IsReservedSubdomain(name) {
			t.Errorf("%q is not reserved", name)
		}
	}
	if domain.IsReservedSubdomain("acme") {
		t.Error("acme is reserved")
	}
}

func TestValidateLogoURL(t *testing.T) {
	cases := []struct {
		in string
		ok bool
	}{
		{"https://example.com/logo.png", true},
		{"http://example.com/logo.png", true},
		{"HTTPS://Example.com/a.svg?x=1", true},
		{"https://cdn.example.com:8443/l.png", true},
		{"javascript:alert(1)", false},
		{"JavaScript:alert(1)", false},
		{"data:image/png;base64,AAAA", false},
		{"data:text/html,<script>alert(1)</script>", false},
		{"vbscript:msgbox(1)", false},
		{"file:///etc/passwd", false},
		{"ftp://example.com/logo.png", false},
		{"//example.com/logo.png", false},
		{"/logo.png", false},
		{"logo.png", false},
		{"https:logo.png", false},
		{"https://", false},
		{"https://user:pass@example.com/logo.png", false},
		{"https://example.com/a b.png", false},
		{"https://example.com/\"onerror=\"alert(1)", false},
		{"https://example.com/<svg>", false},
		{"https://example.com/\x00.png", false},
		{"https://example.com/" + strings.Repeat("a", 2100), false},
	}
	for _, c := range cases {
		_, err := domain.ValidateLogoURL(c.in)
		if (err == nil) != c.ok {
			t.Errorf("ValidateLogoURL(%q) error %v; want ok=%v", c.in, err, c.ok)
		}
	}
}

func TestStatusPageConfigValidate(t *testing.T) {
	own := func(id int64) bool { return id == 1 || id == 2 }
	cfg := domain.StatusPageConfig{Title: "  Acme status ", Subdomain: "Acme", MonitorIDs: []int64{2, 1, 2},
		Description: ptr("  "), CustomCSS: ptr(""), LogoURL: ptr(""), IsPublic: true}
	if err := cfg.Validate(own); err != nil {
		t.Fatal(err)
	}
	if cfg.Title != "Acme status" || cfg.Subdomain != "acme" || len(cfg.MonitorIDs) != 2 || cfg.MonitorIDs[0] != 2 ||
		cfg.Description != nil || cfg.CustomCSS != nil || cfg.LogoURL != nil {
		t.Errorf("normalised = %+v", cfg)
	}

	bad := domain.StatusPageConfig{Title: "", Subdomain: "www", MonitorIDs: []int64{3}, LogoURL: ptr("javascript:alert(1)"),
		CustomCSS: ptr(strings.Repeat("a", domain.MaxCustomCSSBytes+1)), Description: ptr(strings.Repeat("d", 2001))}
	err := bad.Validate(own)
	e, ok := err.(*domain.Error)
	if !ok {
		t.Fatalf("err = %v", err)
	}
	fields := map[string]bool{}
	for _, f := range e.Fields {
		fields[f.Field] = true
	}
	for _, f := range []string{"title", "subdomain", "monitor_ids", "logo_url", "custom_css", "description"} {
		if !fields[f] {
			t.Errorf("no error for %s in %v", f, e.Fields)
		}
	}

	many := domain.StatusPageConfig{Title: "t", Subdomain: "many"}
	for i := range domain.MaxStatusPageMonitors + 1 {
		many.MonitorIDs = append(many.MonitorIDs, int64(i+1))
	}
	if err := many.Validate(func(int64) bool { return true }); err == nil {
		t.Error("a page with too many monitors was accepted")
	}
}

func TestSubdomainClaimFold(t *testing.T) {
	var c domain.SubdomainClaim
	c.Apply(&domain.SubdomainClaimed{PageID: 4})
	if c.PageID != 4 {
		t.Fatal(c)
	}
	c.Apply(&domain.SubdomainReleased{PageID: 9}) // not the holder: ignored
	if c.PageID != 4 {
		t.Fatal(c)
	}
	c.Apply(&domain.SubdomainReleased{PageID: 4})
	if c.PageID != 0 {
		t.Fatal(c)
	}

	holder := &domain.StatusPage{}
	if domain.ClaimIsStale(holder, "acme") {
		t.Error("a page still being created lost its claim")
	}
	holder.Apply(&domain.StatusPageCreated{PageID: 4, AccountID: 1, Config: domain.StatusPageConfig{Subdomain: "acme"}})
	if domain.ClaimIsStale(holder, "acme") {
		t.Error("live claim is stale")
	}
	holder.Apply(&domain.StatusPageUpdated{Config: domain.StatusPageConfig{Subdomain: "other"}})
	if !domain.ClaimIsStale(holder, "acme") {
		t.Error("renamed page still holds the old name")
	}
	holder.Apply(&domain.StatusPageUpdated{Config: domain.StatusPageConfig{Subdomain: "acme"}})
	holder.Apply(&domain.StatusPageDeleted{})
	if !domain.ClaimIsStale(holder, "acme") {
		t.Error("deleted page still holds its name")
	}
}

func TestPageStates(t *testing.T) {
	comp := []struct {
		status      string
		maint, slow bool
		want        string
	}{
		{"up", false, false, domain.PageOperational},
		{"up", false, true, domain.PageDegraded},
		{"down", false, false, domain.PageDown},
		{"down", true, false, domain.PageMaintenance},
		{"up", true, true, domain.PageMaintenance},
		{"pending", false, false, domain.PageUnknown},
		{"paused", false, false, domain.PageUnknown},
	}
	for _, c := range comp {
		if got := domain.ComponentState(c.status, c.maint, c.slow); got != c.want {
			t.Errorf("ComponentState(%s, %v, %v) = %s, want %s", c.status, c.maint, c.slow, got, c.want)
		}
	}
	o, d, g, m, u := domain.PageOperational, domain.PageDown, domain.PageDegraded, domain.PageMaintenance, domain.PageUnknown
	overall := []struct {
		in   []string
		want string
	}{
		{nil, domain.PageOperational},
		{[]string{o, o}, domain.PageOperational},
		{[]string{u}, domain.PageOperational},
		{[]string{o, d}, domain.PagePartialOutage},
		{[]string{d, d}, domain.PageMajorOutage},
		{[]string{d, u}, domain.PageMajorOutage},
		{[]string{d, m}, domain.PageMajorOutage},
		{[]string{o, g}, domain.PageDegraded},
		{[]string{o, g, d}, domain.PagePartialOutage},
		{[]string{o, m}, domain.PageMaintenance},
		{[]string{g, m}, domain.PageDegraded},
	}
	for _, c := range overall {
		if got := domain.OverallState(c.in); got != c.want {
			t.Errorf("OverallState(%v) = %s, want %s", c.in, got, c.want)
		}
	}
	if domain.StateText(domain.PageOperational) != "All systems operational" || domain.StateText(domain.PageMajorOutage) != "Major outage" {
		t.Error("state texts")
	}
}

// TestOccurrencesAgreeWithInEffect: a moment is inside a listed occurrence
// exactly when InEffect says the window is in effect.
func TestOccurrencesAgreeWithInEffect(t *testing.T) {
	madrid := mustZone(t, "Europe/Madrid")
	at := func(s string) time.Time {
		v, err := time.ParseInLocation("2006-01-02 15:04", s, madrid)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	cfgs := map[string]domain.MaintenanceConfig{
		"one-off": {StartTime: at("2026-03-10 10:00"), EndTime: at("2026-03-10 12:00"), IsActive: true},
		"daily across midnight and DST": {StartTime: at("2026-03-20 23:00"), EndTime: at("2026-03-21 01:30"), IsActive: true,
			IsRecurring: true, RecurrencePattern: ptr("daily")},
		"weekly mon wed": {StartTime: at("2026-03-02 02:00"), EndTime: at("2026-03-02 04:00"), IsActive: true, IsRecurring: true,
			RecurrencePattern: ptr("weekly"), RecurrenceDays: ptr("1,3"), RecurrenceEndDate: ptr(at("2026-04-15 00:00"))},
		"monthly on the 31st": {StartTime: at("2026-01-31 09:00"), EndTime: at("2026-01-31 10:00"), IsActive: true, IsRecurring: true,
			RecurrencePattern: ptr("monthly")},
		"disabled": {StartTime: at("2026-03-10 10:00"), EndTime: at("2026-03-10 12:00")},
	}
	from, to := at("2026-02-25 00:00"), at("2026-05-05 00:00")
	for name, cfg := range cfgs {
		occ := cfg.Occurrences(from, to, madrid)
		inside := func(ti time.Time) bool {
			for _, o := range occ {
				if !ti.Before(o.Start) && ti.Before(o.End) {
					return true
				}
			}
			return false
		}
		for ti := from; ti.Before(to); ti = ti.Add(15 * time.Minute) {
			if got, want := inside(ti), cfg.InEffect(ti, madrid); got != want {
				t.Fatalf("%s at %s: in an occurrence %v, InEffect %v (occurrences %v)", name, ti, got, want, occ)
			}
		}
		for i := 1; i < len(occ); i++ {
			if !occ[i-1].Start.Before(occ[i].Start) {
				t.Errorf("%s: occurrences out of order: %v", name, occ)
			}
		}
		if name != "disabled" && len(occ) == 0 {
			t.Errorf("%s: no occurrences", name)
		}
	}
}
