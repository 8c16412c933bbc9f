package e2e

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

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
