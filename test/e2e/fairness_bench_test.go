package e2e

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/medialuna/medialuna/test/smtpcatcher"
	"github.com/medialuna/medialuna/test/testdb"
)

// BenchmarkHangingTargets is the mix of issue 10: one account has 200
// healthy HTTP monitors every 1 or 2 s against a loopback server, another
// has 80 HTTP monitors against a loopback port that accepts and never
// answers (timeout 30 s, every second: each holds a check nearly all the
// time). Over a 70 s window it reports, for the healthy
// monitors, the fraction of their due checks that were recorded
// (due-checks-made-%, the aim is ≥ 99) and how late they started
// (lateness p99 and max, the aim is p99 < 1 s), read from the event log.
// Then it deletes the hanging monitors and reports how long their checks
// in flight took to let go of the port and how many results they recorded
// afterwards (the aim: at once, none). "embedded" runs the checks in
// `medialuna serve`, "remote" in a `medialuna probe` process.
//
//	go test -run '^$' -bench HangingTargets -benchtime 1x ./test/e2e
func BenchmarkHangingTargets(b *testing.B) {
	for _, mode := range []string{"embedded", "remote"} {
		b.Run(mode, func(b *testing.B) {
			for range b.N {
				hangingTargetsOnce(b, mode == "remote")
			}
		})
	}
}

const (
	fairHealthy = 200
	fairHanging = 80
	fairWindow  = 70 * time.Second // a multiple of both intervals: each monitor has exactly window/interval slots in it
)

func hangingTargetsOnce(b *testing.B, remote bool) {
	const token = "probe-secret-for-bench"
	env := []string{"MEDIALUNA_MIN_CHECK_INTERVAL=1", "MEDIALUNA_LOG_LEVEL=warn"}
	if remote {
		env = append(env, "MEDIALUNA_EMBEDDED_PROBE=false", "MEDIALUNA_PROBE_TOKEN="+token)
	}
	s := startServer(b, testdb.New(b), smtpcatcher.Start(b), env...)
	var regionIDs []int64
	if remote {
		startProbe(b, s, "bench-remote", token)
		var regions []struct {
			ID int64 `json:"id"`
		}
		waitFor(b, func() bool {
			s.expect(200, "GET", "/api/regions/public", "", nil).json(b, &regions)
			return len(regions) == 1
		})
		regionIDs = []int64{regions[0].ID}
	}

	tg := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer tg.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	// The hanging port reads each request and never answers; it notes
	// when each monitor's connection (by its URL path) is let go.
	var open atomic.Int64
	var mu sync.Mutex
	closedAt := map[string]time.Time{}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			open.Add(1)
			go func() {
				var path string
				buf := make([]byte, 4096)
				for {
					n, err := c.Read(buf)
					if f := strings.Fields(string(buf[:n])); path == "" && len(f) > 1 {
						path = f[1]
					}
					if err != nil {
						break
					}
				}
				c.Close()
				mu.Lock()
				closedAt[path] = time.Now()
				mu.Unlock()
				open.Add(-1)
			}()
		}
	}()

	// Monitors are created through the API; their ids come from the read
	// model, because on a busy machine a create may answer 404 when the
	// read model did not catch up in time (the monitor exists all the same).
	create := func(jwt string, body map[string]any) {
		if regionIDs != nil {
			body["region_ids"] = regionIDs
		}
		if r := s.call("POST", "/api/v1/monitors", jwt, body); r.Status != 201 && r.Status != 404 {
			b.Fatalf("create monitor: %d %s", r.Status, r.Body)
		}
	}
	ids := func(accountID int64, want int) (out []int64, interval map[int64]int) {
		var rows []struct {
			ID       int64 `db:"id"`
			Interval int   `db:"check_interval"`
		}
		deadline := time.Now().Add(30 * time.Second)
		for len(rows) < want && time.Now().Before(deadline) {
			rows = nil
			if err := s.DB.Select(&rows, `SELECT id, check_interval FROM monitors WHERE account_id = $1 ORDER BY id`, accountID); err != nil {
				b.Fatal(err)
			}
			time.Sleep(50 * time.Millisecond)
		}
		if len(rows) != want {
			b.Fatalf("account %d has %d monitors, want %d", accountID, len(rows), want)
		}
		interval = map[int64]int{}
		for _, r := range rows {
			out = append(out, r.ID)
			interval[r.ID] = r.Interval
		}
		return out, interval
	}
	bad := signup(b, s, "hanging@example.com", "Hanging")
	unlimited(b, s, bad.Account.ID)
	for i := range fairHanging {
		create(bad.AccessToken, map[string]any{"name": fmt.Sprint("hang", i), "type": "HTTP",
			"url": fmt.Sprintf("http://%s/%d", ln.Addr(), i), "check_interval": 1, "timeout": 30})
	}
	good := signup(b, s, "healthy@example.com", "Healthy")
	unlimited(b, s, good.Account.ID)
	for i := range fairHealthy {
		create(good.AccessToken, map[string]any{"name": fmt.Sprint("ok", i), "type": "HTTP",
			"url": fmt.Sprintf("%s/%d", tg.URL, i), "check_interval": 1 + i%2, "timeout": 30})
	}
	hangingIDs, _ := ids(bad.Account.ID, fairHanging)
	hangingPath := map[int64]string{}
	for _, id := range hangingIDs {
		var u string
		if err := s.DB.Get(&u, `SELECT url FROM monitors WHERE id = $1`, id); err != nil {
			b.Fatal(err)
		}
		hangingPath[id] = u[strings.LastIndex(u, "/"):]
	}
	healthyIDs, interval := ids(good.Account.ID, fairHealthy)
	// Warm up: every monitor is scheduled, every hanging check is waiting.
	deadline := time.Now().Add(40 * time.Second)
	for open.Load() < fairHanging && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if n := open.Load(); n != fairHanging {
		// Not fatal: the measurement shows what this costs the others.
		b.Logf("only %d of the %d hanging checks in flight after the warm-up: checks share a bounded pool", n, fairHanging)
	}
	time.Sleep(2 * time.Second)

	b.ResetTimer()
	from := time.Now().UTC().Truncate(time.Second).Add(time.Second)
	to := from.Add(fairWindow)
	// Sample the hanging checks in flight through the window: each one is
	// out for 30 s, then back within a second, its next slot.
	var samples, inFlight int64
	for time.Now().Before(to) {
		samples++
		inFlight += open.Load()
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(3 * time.Second) // the last results' flush
	b.StopTimer()

	var rows []struct {
		MonitorID int64   `db:"monitor_id"`
		LateMs    float64 `db:"late_ms"`
	}
	if err := s.DB.Select(&rows, `SELECT monitor_id,
			extract(epoch FROM checked_at - scheduled_at) * 1000 - response_time_ms AS late_ms
		FROM check_events WHERE scheduled_at >= $1 AND scheduled_at < $2 AND monitor_id = ANY($3)`, from, to, pqInt64s(healthyIDs)); err != nil {
		b.Fatal(err)
	}
	var due int
	for _, id := range healthyIDs {
		due += int(fairWindow / (time.Duration(interval[id]) * time.Second))
	}
	late := make([]float64, len(rows))
	for i, r := range rows {
		late[i] = max(r.LateMs, 0)
	}
	sort.Float64s(late)
	pct := func(p float64) float64 {
		if len(late) == 0 {
			return -1
		}
		return late[min(int(p*float64(len(late))), len(late)-1)]
	}
	made := 100 * float64(len(rows)) / float64(due)
	b.ReportMetric(made, "due-checks-made-%")
	b.ReportMetric(pct(0.5), "lateness-p50-ms")
	b.ReportMetric(pct(0.99), "lateness-p99-ms")
	b.ReportMetric(pct(1), "lateness-max-ms")
	b.ReportMetric(float64(inFlight)/float64(samples), "hanging-in-flight")
	b.Logf("healthy monitors: %d of %d due checks recorded (%.2f%%), start lateness p50 %.1f ms, p99 %.1f ms, max %.1f ms; hanging checks in flight: %.1f on average",
		len(rows), due, made, pct(0.5), pct(0.99), pct(1), float64(inFlight)/float64(samples))

	// Deleting the hanging monitors lets go of their checks at once, and
	// the cancelled checks record nothing.
	deletedAt := map[int64]time.Time{}
	for _, id := range hangingIDs {
		if r := s.call("DELETE", "/api/v1/monitors/"+itoa(id), bad.AccessToken, nil); r.Status != 204 {
			b.Fatalf("delete monitor: %d %s", r.Status, r.Body)
		}
		deletedAt[id] = time.Now()
	}
	last := time.Now()
	for open.Load() > 0 && time.Since(last) < 40*time.Second {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(2 * time.Second) // a result of a check that was not cancelled would be recorded by now
	var freed []float64
	var after int
	mu.Lock()
	for _, id := range hangingIDs {
		freed = append(freed, max(float64(closedAt[hangingPath[id]].Sub(deletedAt[id]).Milliseconds()), 0)) // 0: it was between checks
		var n int
		if err := s.DB.Get(&n, `SELECT count(*) FROM check_events
			WHERE checked_at > $1 AND monitor_id = $2`, deletedAt[id], id); err != nil {
			b.Fatal(err)
		}
		after += n
	}
	mu.Unlock()
	sort.Float64s(freed)
	b.ReportMetric(freed[len(freed)/2], "freed-after-delete-p50-ms")
	b.ReportMetric(freed[len(freed)-1], "freed-after-delete-max-ms")
	b.ReportMetric(float64(after), "results-after-delete")
	b.Logf("hanging monitors deleted one by one: each one's check let go of the port p50 %.0f ms, max %.0f ms after its DELETE answered; %d results recorded after their DELETE",
		freed[len(freed)/2], freed[len(freed)-1], after)
}
