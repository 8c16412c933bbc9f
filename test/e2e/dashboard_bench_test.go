package e2e

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/medialuna/medialuna/adapters/postgres"
	"github.com/medialuna/medialuna/domain"
	"github.com/medialuna/medialuna/test/smtpcatcher"
	"github.com/medialuna/medialuna/test/testdb"
)

// BenchmarkDashboardLiveFanOut measures what live updates cost the server:
// check results arrive at 333 per second (a remote probe's batches every
// 100 ms, spread over 1,000 monitors of one account) for 15 s, first with
// no dashboard connected, then with 100 connected to /live. The difference
// in the server process's CPU time, divided by the SSE events the 100
// clients received, is the CPU per event delivered.
//
//	go tool task bench -- -bench DashboardLiveFanOut ./test/e2e/
func BenchmarkDashboardLiveFanOut(b *testing.B) {
	const (
		token    = "bench-probe-token-0123456789"
		monitors = 1000
		perSec   = 333
		phase    = 15 * time.Second
		clients  = 100
	)
	s := startServer(b, testdb.New(b), smtpcatcher.Start(b), "MEDIALUNA_LOG_LEVEL=warn", "MEDIALUNA_EMBEDDED_PROBE=false",
		"MEDIALUNA_PROBE_TOKEN="+token)
	su := signup(b, s, "fanout@example.com", "Fan-out")
	unlimited(b, s, su.Account.ID)
	waitFor(b, func() bool {
		var acc struct {
			Plan string `json:"plan"`
		}
		s.expect(200, "GET", "/api/v1/account", su.AccessToken, nil).json(b, &acc)
		return acc.Plan == "ENTERPRISE"
	})
	var region struct {
		RegionID int64 `json:"region_id"`
	}
	s.expect(200, "POST", "/api/probe/register", token, map[string]any{"code": "bench", "name": "Bench"}).json(b, &region)
	ids := make([]int64, monitors)
	for i := range monitors {
		var m monitor
		s.expect(201, "POST", "/api/v1/monitors", su.AccessToken, map[string]any{"name": fmt.Sprintf("m%04d", i), "type": "HTTP",
			"url": fmt.Sprintf("http://127.0.0.1:9/%d", i), "check_interval": 60, "regions": []int64{region.RegionID}}).json(b, &m)
		ids[i] = m.ID
	}

	// The load: a batch of results every 100 ms, each monitor in turn.
	load := func(d time.Duration) {
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		next := 0
		for end := time.Now().Add(d); time.Now().Before(end); <-tick.C {
			now := time.Now().UTC()
			results := make([]map[string]any, perSec/10)
			for i := range results {
				results[i] = map[string]any{"monitor_id": ids[next%monitors], "scheduled_at": now.Add(time.Duration(next) * time.Microsecond),
					"checked_at": now, "outcome": map[string]any{"up": next%7 != 0, "response_time_ms": 20 + next%50}}
				next++
			}
			s.expect(200, "POST", "/api/probe/results", token, map[string]any{"region_id": region.RegionID, "results": results})
		}
	}
	load(3 * time.Second) // warm up: read models built, plans cached

	cpu0 := processCPU(b, s.cmd.Process.Pid)
	load(phase)
	cpuQuiet := processCPU(b, s.cmd.Process.Pid) - cpu0

	c := newFormClient(b, s)
	c.login("fanout@example.com", "correct horse battery")
	var delivered atomic.Int64
	var wg sync.WaitGroup
	streams := make([]*liveStream, clients)
	for i := range clients {
		streams[i] = openLive(b, c, "")
		if _, _, ok := streams[i].waitFor("hello", 10*time.Second); !ok {
			b.Fatal("no hello")
		}
	}
	for _, ls := range streams {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range ls.events {
				delivered.Add(1)
			}
		}()
	}
	cpu1 := processCPU(b, s.cmd.Process.Pid)
	start := delivered.Load()
	load(phase)
	time.Sleep(500 * time.Millisecond) // the last coalesced flush
	cpuLive := processCPU(b, s.cmd.Process.Pid) - cpu1
	events := delivered.Load() - start
	for _, ls := range streams {
		ls.cancel()
	}
	wg.Wait()
	if events == 0 {
		b.Fatal("the dashboards received no events")
	}
	extra := cpuLive - cpuQuiet
	b.ReportMetric(float64(cpuQuiet.Milliseconds())/phase.Seconds(), "cpu-ms/s-no-clients")
	b.ReportMetric(float64(cpuLive.Milliseconds())/phase.Seconds(), "cpu-ms/s-100-clients")
	b.ReportMetric(float64(events)/phase.Seconds(), "events/s-delivered")
	b.ReportMetric(float64(extra.Microseconds())/float64(events), "cpu-µs/event")
}

// processCPU is the user and system CPU time a process has used, from
// /proc (Linux), at the kernel's clock-tick resolution (10 ms).
func processCPU(tb testing.TB, pid int) time.Duration {
	tb.Helper()
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		tb.Fatal(err)
	}
	// Fields after the command name, which is in parentheses and may hold spaces.
	fields := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+2:]))
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	const ticksPerSecond = 100 // USER_HZ on Linux
	return time.Duration(utime+stime) * time.Second / ticksPerSecond
}

// BenchmarkDashboardPages measures the dashboard's heaviest pages with
// 10,000 monitors in one account, each with 90 days of hourly rollups
// (21.6 million rows) and its last 30 raw results: the monitors list (100
// rows a page, default order and filtered and sorted ways), a monitor's
// page, its chart data for 24 hours and 90 days, its edit form, the
// overview and the incidents list. Each case is 200
// sequential requests from one signed-in client on loopback to the real
// binary; the figures are round-trip times, p50 and p99.
//
//	go tool task bench -- -bench DashboardPages -benchtime 1x -timeout 60m ./test/e2e/
//
// The monitors are MonitorCreated events appended straight to the log
// (10,000 API calls would measure the API, not the pages), the monitors
// projector builds them, and the rollups, raw results and live states are
// written straight into the read models, as BenchmarkPublicStatusPage does.
// The embedded probe is off: the figures are the pages' own cost.
func BenchmarkDashboardPages(b *testing.B) {
	const monitors = 10000
	s := startServer(b, testdb.New(b), smtpcatcher.Start(b), "MEDIALUNA_LOG_LEVEL=warn", "MEDIALUNA_EMBEDDED_PROBE=false")
	su := signup(b, s, "pages@example.com", "Pages")
	unlimited(b, s, su.Account.ID)
	var tags []int64
	for i := range 10 {
		var tag struct {
			ID int64 `json:"id"`
		}
		s.expect(201, "POST", "/api/tags", su.AccessToken, map[string]any{"name": fmt.Sprintf("team-%d", i), "color": "#336699"}).json(b, &tag)
		tags = append(tags, tag.ID)
	}
	seedMonitors(b, s, su.Account.ID, su.User.ID, monitors, tags)
	waitFor(b, func() bool {
		var n int
		s.DB.Get(&n, `SELECT count(*) FROM monitors WHERE account_id = $1`, su.Account.ID)
		return n == monitors
	})
	seedResults(b, s)

	c := newFormClient(b, s)
	c.login("pages@example.com", "correct horse battery")
	var some int64
	s.DB.Get(&some, `SELECT id FROM monitors WHERE account_id = $1 ORDER BY id LIMIT 1 OFFSET 4321`, su.Account.ID)
	cases := []struct{ name, path string }{
		{"overview", "/"},
		{"list-default", "/monitors"},
		{"list-search-uptime", "/monitors?q=svc-12&sort=uptime"},
		{"list-down-response", "/monitors?status=down&sort=response"},
		{"list-tag-name-page3", "/monitors?tag=team-3&sort=name&page=3"},
		{"list-all-uptime-page50", "/monitors?sort=uptime&page=50"},
		{"detail", "/monitors/" + itoa(some)},
		{"chart-24h", "/monitors/" + itoa(some) + "/chart.json?range=24h"},
		{"chart-90d", "/monitors/" + itoa(some) + "/chart.json?range=90d"},
		{"form-edit", "/monitors/" + itoa(some) + "/edit"},
		{"incidents", "/incidents"},
	}
	for _, tc := range cases {
		if status, body, _ := c.get(tc.path); status != 200 {
			b.Fatalf("%s: %d\n%.500s", tc.path, status, body)
		}
	}
	b.ResetTimer()
	for _, tc := range cases {
		var took []time.Duration
		for range 200 {
			start := time.Now()
			if status, _, _ := c.get(tc.path); status != 200 {
				b.Fatalf("%s: %d", tc.path, status)
			}
			took = append(took, time.Since(start))
		}
		slices.Sort(took)
		b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, tc.name+"-p50-ms")
		b.ReportMetric(float64(took[len(took)*99/100].Microseconds())/1000, tc.name+"-p99-ms")
	}
}

// seedMonitors appends MonitorCreated events for n HTTP monitors of the
// account, named svc-00000…, each with one of the tags, in batches.
func seedMonitors(b *testing.B, s *server, accountID, userID int64, n int, tags []int64) {
	b.Helper()
	store := postgres.NewEventStore(s.DB.DB, s.DB.URL, slog.New(slog.DiscardHandler))
	var region int64
	s.DB.Get(&region, `SELECT min(id) FROM regions`)
	if region == 0 {
		region = 1
	}
	meta := domain.Metadata{ActorType: domain.ActorUser, ActorID: userID, AccountID: accountID, OccurredAt: time.Now().UTC()}
	const base = 1_000_000 // far above the ids the server hands out
	for start := 0; start < n; start += 1000 {
		var batch []domain.StreamEvent
		for i := start; i < min(start+1000, n); i++ {
			cfg := domain.DefaultMonitorConfig()
			cfg.Name = fmt.Sprintf("svc-%05d", i)
			cfg.Type = domain.TypeHTTP
			cfg.URL = fmt.Sprintf("https://svc-%05d.example.com/health", i)
			cfg.CheckInterval = 60
			cfg.RegionIDs = []int64{region}
			cfg.TagIDs = []int64{tags[i%len(tags)]}
			id := int64(base + i)
			data, err := domain.Encode(&domain.MonitorCreated{MonitorID: id, AccountID: accountID, Config: cfg}, meta, uuid.NewString())
			if err != nil {
				b.Fatal(err)
			}
			batch = append(batch, domain.StreamEvent{Stream: domain.MonitorStream(id), Event: data})
		}
		if _, err := store.AppendBatch(context.Background(), batch); err != nil {
			b.Fatal(err)
		}
	}
}

// seedResults gives every monitor 90 days of hourly rollups, its last 30
// raw results (one a minute) and a live state: 3% down, the rest up.
func seedResults(b *testing.B, s *server) {
	b.Helper()
	for _, q := range []string{
		`INSERT INTO check_rollups (monitor_id, region_id, hour, checks, up_checks, maint_checks, maint_up, rt_sum, rt_min, rt_max, rt_histogram)
		 SELECT m.id, 1, h, 60, 60 - (CASE WHEN random() < 0.02 THEN 5 ELSE 0 END), 0, 0, 60 * 40, 20, 90,
			array_fill(0, ARRAY[20]) || ARRAY[10, 30, 15, 5] || array_fill(0, ARRAY[48])
		 FROM monitors m, generate_series(date_trunc('hour', now()) - interval '90 days', date_trunc('hour', now()) - interval '1 hour', interval '1 hour') AS h
		 ORDER BY m.id, h`,
		`INSERT INTO check_results (monitor_id, region_id, checked_at, up, response_time_ms, status_code)
		 SELECT m.id, 1, now() - g * interval '1 minute', NOT (m.id % 33 = 0 AND g < 5), 20 + random() * 80, 200
		 FROM monitors m, generate_series(0, 29) AS g`,
		// What the metrics projection keeps from those rollups for the
		// uptime order (the rollups were written around it).
		`INSERT INTO monitor_uptime (monitor_id, window_end, uptime_24h)
		 SELECT monitor_id, now(), round(100.0 * sum(up_checks) / sum(checks), 2)::float8
		 FROM check_rollups WHERE hour >= date_trunc('hour', now() - interval '24 hours') GROUP BY monitor_id`,
		`UPDATE monitor_state SET status = CASE WHEN monitor_id % 33 = 0 THEN 'down' ELSE 'up' END,
			last_checked_at = now(), last_response_time_ms = 20 + random() * 80`,
		`ANALYZE`,
	} {
		if _, err := s.DB.Exec(q); err != nil {
			b.Fatalf("%v\n%s", err, q)
		}
	}
}
