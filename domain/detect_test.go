package domain_test

import (
	"strings"
	"testing"
	"time"

	"github.com/medialuna/medialuna/domain"
)

// detectorStep is one event fed to the detector's decisions and what it
// must decide.
type detectorStep struct {
	check  *domain.CheckRecorded // or
	update *domain.MonitorConfig
	pause  bool
	delete bool
	resume bool
	live   *bool // default true
	want   []string
}

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func result(region int64, sec int, up bool) *domain.CheckRecorded {
	c := &domain.CheckRecorded{MonitorID: 1, RegionID: region, CheckedAt: t0.Add(time.Duration(sec) * time.Second)}
	c.Up = up
	if !up {
		c.Error = "connection refused"
	}
	return c
}

func slow(sec int, ms float64) *domain.CheckRecorded {
	c := result(1, sec, true)
	c.ResponseTimeMs = ms
	return c
}

func inMaintenance(c *domain.CheckRecorded) *domain.CheckRecorded { c.InMaintenance = true; return c }

func withCert(c *domain.CheckRecorded, expires time.Time) *domain.CheckRecorded {
	c.CertExpiresAt = &expires
	return c
}

// describe is a decision in a few words: "open DOWN: message" or
// "resolve DOWN recovered".
func describe(d domain.IncidentDecision) string {
	if d.Open {
		return "open " + string(d.Type) + ": " + d.Message
	}
	return "resolve " + string(d.Type) + " " + d.Reason
}

func TestDetectorDecisions(t *testing.T) {
	no := false
	base := domain.MonitorConfig{Name: "API", CheckInterval: 60, RegionIDs: []int64{1, 2, 3}, ConfirmFromLocations: 1}
	with := func(f func(*domain.MonitorConfig)) domain.MonitorConfig { c := base; f(&c); return c }
	cases := []struct {
		name   string
		config domain.MonitorConfig
		steps  []detectorStep
	}{
		{"one region down opens DOWN with its error, up again resolves it", base, []detectorStep{
			{check: result(1, 0, true)},
			{check: result(1, 60, false), want: []string{"open DOWN: API is down: connection refused"}},
			{check: result(1, 120, false)},
			{check: result(1, 180, true), want: []string{"resolve DOWN recovered"}},
		}},
		{"confirm_from_locations 2: one failing region is not enough, two are (their common error once)", with(func(c *domain.MonitorConfig) { c.ConfirmFromLocations = 2 }), []detectorStep{
			{check: result(2, 0, true)},
			{check: result(3, 1, true)},
			{check: result(1, 2, false)},
			{check: result(2, 60, false), want: []string{"open DOWN: API is down: connection refused"}},
			{check: result(1, 61, true), want: []string{"resolve DOWN recovered"}},
		}},
		{"fewer regions reporting than confirm_from_locations: all of them failing is down", with(func(c *domain.MonitorConfig) { c.ConfirmFromLocations = 3 }), []detectorStep{
			{check: result(1, 0, false), want: []string{"open DOWN: API is down: connection refused"}},
		}},
		{"a region the monitor does not check from is not counted", with(func(c *domain.MonitorConfig) { c.RegionIDs = []int64{1} }), []detectorStep{
			{check: result(1, 0, true)},
			{check: result(9, 1, false)},
		}},
		{"flapping: each transition opens or resolves, once", base, []detectorStep{
			{check: result(1, 0, false), want: []string{"open DOWN: API is down: connection refused"}},
			{check: result(1, 60, true), want: []string{"resolve DOWN recovered"}},
			{check: result(1, 120, false), want: []string{"open DOWN: API is down: connection refused"}},
			{check: result(1, 180, false)},
			{check: result(1, 240, true), want: []string{"resolve DOWN recovered"}},
		}},
		{"a result older than a region's latest does not replace it", base, []detectorStep{
			{check: result(1, 60, true)},
			{check: result(1, 0, false)},
		}},
		{"maintenance opens nothing, and the next failure after it does", base, []detectorStep{
			{check: inMaintenance(result(1, 0, false))},
			{check: inMaintenance(result(1, 60, false))},
			{check: result(1, 120, false), want: []string{"open DOWN: API is down: connection refused"}},
			{check: inMaintenance(result(1, 180, true)), want: []string{"resolve DOWN recovered"}},
		}},
		{"history only updates the state: the first live failure of an old outage opens it", base, []detectorStep{
			{check: result(1, 0, false), live: &no},
			{check: result(1, 60, false), want: []string{"open DOWN: API is down: connection refused"}},
		}},
		{"PERFORMANCE after 3 slow checks in a row, resolved after 3 fast ones", with(func(c *domain.MonitorConfig) {
			c.PerformanceThresholdMs, c.PerformanceConsecutiveChecks = 500, 3
		}), []detectorStep{
			{check: slow(0, 900)},
			{check: slow(60, 900)},
			{check: slow(120, 100)}, // the streak starts again
			{check: slow(180, 900)},
			{check: slow(240, 900)},
			{check: slow(300, 901), want: []string{"open PERFORMANCE: API is slow: 3 consecutive checks over 500 ms (last 901 ms)"}},
			{check: result(1, 360, false), want: []string{"open DOWN: API is down: connection refused"}}, // a failure is no fast check
			{check: slow(420, 100), want: []string{"resolve DOWN recovered"}},
			{check: slow(480, 100)},
			{check: slow(540, 100), want: []string{"resolve PERFORMANCE performance_recovered"}},
		}},
		{"PERFORMANCE opens nothing in maintenance", with(func(c *domain.MonitorConfig) {
			c.PerformanceThresholdMs, c.PerformanceConsecutiveChecks = 500, 1
		}), []detectorStep{
			{check: inMaintenance(slow(0, 900))},
			{check: slow(60, 900), want: []string{"open PERFORMANCE: API is slow: 2 consecutive checks over 500 ms (last 900 ms)"}},
		}},
		{"turning the threshold off resolves PERFORMANCE", with(func(c *domain.MonitorConfig) {
			c.PerformanceThresholdMs, c.PerformanceConsecutiveChecks = 500, 1
		}), []detectorStep{
			{check: slow(0, 900), want: []string{"open PERFORMANCE: API is slow: 1 consecutive checks over 500 ms (last 900 ms)"}},
			{update: &base, want: []string{"resolve PERFORMANCE threshold_removed"}},
			{check: slow(60, 900)},
		}},
		{"SSL_EXPIRY within ssl_expiry_reminder days, resolved on renewal", with(func(c *domain.MonitorConfig) { c.SSLExpiryReminder = 14 }), []detectorStep{
			{check: withCert(result(1, 0, true), t0.Add(30*24*time.Hour))},
			{check: withCert(result(1, 60, true), t0.Add(10*24*time.Hour)),
				want: []string{"open SSL_EXPIRY: The TLS certificate of API expires on 2026-03-11 12:00 UTC (in 9 days)"}},
			{check: withCert(result(1, 120, true), t0.Add(10*24*time.Hour))},
			{check: withCert(result(1, 180, true), t0.Add(90*24*time.Hour)), want: []string{"resolve SSL_EXPIRY certificate_renewed"}},
			{check: withCert(result(1, 240, true), t0.Add(-time.Hour)),
				want: []string{"open SSL_EXPIRY: The TLS certificate of API expired on 2026-03-01 11:00 UTC"}},
		}},
		{"SSL_EXPIRY opens nothing in maintenance or without a reminder", base, []detectorStep{
			{check: withCert(result(1, 0, true), t0)},
		}},
		{"pause resolves everything and ignores results until resumed", base, []detectorStep{
			{check: result(1, 0, false), want: []string{"open DOWN: API is down: connection refused"}},
			{pause: true, want: []string{"resolve DOWN monitor_paused", "resolve SSL_EXPIRY monitor_paused", "resolve PERFORMANCE monitor_paused"}},
			{check: result(1, 60, false)},
			{resume: true},
			{check: result(1, 120, false), want: []string{"open DOWN: API is down: connection refused"}},
		}},
		{"delete resolves everything", base, []detectorStep{
			{delete: true, want: []string{"resolve DOWN monitor_deleted", "resolve SSL_EXPIRY monitor_deleted", "resolve PERFORMANCE monitor_deleted"}},
		}},
		{"a region that stopped reporting does not hide an outage", with(func(c *domain.MonitorConfig) { c.ConfirmFromLocations = 2 }), []detectorStep{
			{check: result(2, 0, true)},
			{check: result(3, 0, true)},
			{check: result(1, 3600, false), want: []string{"open DOWN: API is down: connection refused"}},
		}},
		{"the errors of the failing regions, in region order", with(func(c *domain.MonitorConfig) { c.ConfirmFromLocations = 2 }), []detectorStep{
			{check: result(3, 0, true)},
			{check: result(1, 0, false)},
			{check: func() *domain.CheckRecorded { c := result(2, 1, false); c.Error = "timeout"; return c }(),
				want: []string{"open DOWN: API is down: connection refused; timeout"}},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := domain.NewDetectorMonitor(7, 1, c.config)
			for i, s := range c.steps {
				live := s.live == nil || *s.live
				var got []domain.IncidentDecision
				switch {
				case s.check != nil:
					got = m.Check(s.check, live)
				case s.update != nil:
					got = m.Reconfigure(*s.update, live)
				case s.pause, s.delete:
					got = m.Stop(s.delete)
				case s.resume:
					m.Resume()
				}
				var desc []string
				for _, d := range got {
					desc = append(desc, describe(d))
					if d.Open && s.check != nil && !d.StartedAt.Equal(s.check.CheckedAt) {
						t.Errorf("step %d: opened at %s, want the check's time", i, d.StartedAt)
					}
				}
				if strings.Join(desc, " | ") != strings.Join(s.want, " | ") {
					t.Fatalf("step %d: decided %q, want %q", i, desc, s.want)
				}
			}
		})
	}
}
